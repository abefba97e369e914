// A V0600 SyncProductionSchedule for the paste line, built per test: requests with chosen quantity, durations and state (written to B2MML-V0600-ProductionSchedule.xsd).
export interface PasteRequest {
  id: string
  quantity: number
  /** Mix segment: duration in seconds (default setup 600 + 36 s per kg), work center. */
  mixS?: number
  mixWorkCenter?: string
  /** Fill segment duration in seconds (default 30 s per kg). */
  fillS?: number
  state?: string
}

const duration = (s: number) => `PT${s}S`

export function pasteRequest(r: PasteRequest): string {
  const q = r.quantity
  return `
      <ProductionRequest>
        <ID>${r.id}</ID>
        <ProductProductionRuleID>RT-PASTE</ProductProductionRuleID>
        <HierarchyScope><EquipmentID>L1</EquipmentID><EquipmentElementLevel>ProductionLine</EquipmentElementLevel></HierarchyScope>
        <SegmentRequirement>
          <ID>0010</ID>
          <ProcessSegmentID>MIX</ProcessSegmentID>
          <Description>Mix resin and hardener</Description>
          <Duration>${duration(r.mixS ?? 600 + 36 * q)}</Duration>
          <ProductionParameter><Parameter><ID>SetupTime</ID><Value><ValueString>PT10M</ValueString></Value></Parameter></ProductionParameter>
          <ProductionParameter><Parameter><ID>viscosity</ID>
            <Value><ValueString>1</ValueString><UnitOfMeasure>Pa.s</UnitOfMeasure><Key>LowerLimit</Key></Value>
            <Value><ValueString>10</ValueString><UnitOfMeasure>Pa.s</UnitOfMeasure><Key>UpperLimit</Key></Value>
          </Parameter></ProductionParameter>
          <PersonnelRequirement><PersonnelClassID>MIXER</PersonnelClassID></PersonnelRequirement>
          <EquipmentRequirement><EquipmentID>${r.mixWorkCenter ?? 'WC-MIX'}</EquipmentID></EquipmentRequirement>
          <MaterialConsumedRequirement><MaterialDefinitionID>RESIN</MaterialDefinitionID><Quantity><QuantityString>${2 * q}</QuantityString><UnitOfMeasure>kg</UnitOfMeasure></Quantity></MaterialConsumedRequirement>
          <MaterialConsumedRequirement><MaterialDefinitionID>HARDENER</MaterialDefinitionID><Quantity><QuantityString>${0.5 * q}</QuantityString><UnitOfMeasure>kg</UnitOfMeasure></Quantity></MaterialConsumedRequirement>
        </SegmentRequirement>
        <SegmentRequirement>
          <ID>0020</ID>
          <ProcessSegmentID>FILL</ProcessSegmentID>
          <Description>Fill into drums</Description>
          <Duration>${duration(r.fillS ?? 30 * q)}</Duration>
          <EquipmentRequirement><EquipmentID>WC-FILL</EquipmentID></EquipmentRequirement>
          <MaterialProducedRequirement><MaterialDefinitionID>PASTE</MaterialDefinitionID><Quantity><QuantityString>${q}</QuantityString><UnitOfMeasure>kg</UnitOfMeasure></Quantity></MaterialProducedRequirement>
        </SegmentRequirement>${r.state ? `\n        <RequestState>${r.state}</RequestState>` : ''}
      </ProductionRequest>`
}

export function pasteSchedule(requests: PasteRequest[], bodId = 'SCHED-T'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<SyncProductionSchedule xmlns="http://www.mesa.org/xml/B2MML-V0600" releaseID="V0600">
  <ApplicationArea>
    <Sender><LogicalID>SAP-ERP-PRD</LogicalID></Sender>
    <CreationDateTime>2026-03-01T05:10:00Z</CreationDateTime>
    <BODID>${bodId}</BODID>
  </ApplicationArea>
  <DataArea>
    <Sync/>
    <ProductionSchedule>
      <ID>WEEK-T</ID>${requests.map(pasteRequest).join('')}
    </ProductionSchedule>
  </DataArea>
</SyncProductionSchedule>
`
}
