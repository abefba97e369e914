// The performance export of an executed order contains exactly its as-built: segments, material consumed and produced, people, equipment, data values.
import t from 'tap'
import type { XmlElement } from '../../edge/erp/xml.ts'
import { at, erpGateway, fixture, kids, loadPasteLine, textAt } from './helpers.ts'

const gw = await erpGateway(t)
await loadPasteLine(gw)
for (const name of ['v0600-schedule.xml', 'v0700-equipment.xml', 'v0700-material.xml', 'v0700-personnel.xml', 'v0700-schedule.xml']) {
  const r = await gw.post(fixture(name))
  if (r.status !== 200) throw new Error(`${name}: ${r.text}`)
}
const call = gw.call

async function ok(method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const r = await call(method, path, body)
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}

async function run(orderId: string, seq: number, start: Record<string, unknown>, complete: Record<string, unknown>): Promise<string> {
  const { runId } = await ok('POST', `/api/v1/orders/${orderId}/operations/${seq}/start`, start)
  await ok('POST', `/api/v1/runs/${runId}/complete`, complete)
  return runId as string
}

// PO-100: the mix in two runs (a sublot, its lot and the hardener booked), the fill with scrap.
await ok('POST', '/api/v1/orders/PO-100/release')
await ok('POST', '/api/v1/orders/PO-100/dispatch')
const mixA = await run('PO-100', 10, { quantity: 60, operatorId: 'olga' }, { good: 60, consumptions: [{ lot: 'RESIN-0001-A', quantity: 100 }, { lot: 'RESIN-0001', quantity: 20 }, { lot: 'HARD-0001', quantity: 30 }], measurements: [{ name: 'viscosity', value: 5, unit: 'Pa.s' }] })
const mixB = await run('PO-100', 10, { quantity: 40, operatorId: 'olga' }, { good: 40, consumptions: [{ lot: 'RESIN-0001', quantity: 80 }, { lot: 'HARD-0001', quantity: 20 }], measurements: [{ name: 'viscosity', value: 6.25, unit: 'Pa.s' }] })
await run('PO-100', 20, { quantity: 100, operatorId: 'leo' }, { good: 98, scrap: 2, scrapReasons: [{ reason: 'SPILL', quantity: 2 }] })

const children = (el: XmlElement | undefined) => (el ? el.children : [])
const names = (el: XmlElement | undefined) => children(el).map((c) => c.name)
const quantities = (el: XmlElement) => kids(el, 'Quantity').map((q) => [textAt(q, 'Key') ?? null, Number(textAt(q, 'QuantityString')), textAt(q, 'UnitOfMeasure')])

t.test('PO-100 (V0600): SyncProductionPerformance with exactly its as-built', async (t) => {
  const r = await gw.get('/api/v1/erp/performance/orders/PO-100')
  t.equal(r.status, 200, r.text.slice(0, 300))
  t.equal(r.xml!.name, 'SyncProductionPerformance', 'the family the order came in: V0600')
  t.equal(r.xml!.ns, 'http://www.mesa.org/xml/B2MML-V0600')
  const perf = at(r.xml, 'DataArea', 'ProductionPerformance')!
  t.same(names(perf), ['ID', 'HierarchyScope', 'PublishedDate', 'ProductionScheduleID', 'StartTime', 'EndTime', 'ProductionResponse', 'PerformanceState'], 'elements in the schema order')
  t.equal(textAt(perf, 'ProductionScheduleID'), 'WEEK-10')
  const response = at(perf, 'ProductionResponse')!
  t.equal(textAt(response, 'ProductionRequestID'), 'PO-100')
  t.equal(textAt(response, 'ResponseState'), 'Completed')

  const order = await ok('GET', '/api/v1/orders/PO-100')
  const asBuilt = await ok('GET', '/api/v1/as-built/lots/PASTE-L100')
  const segments = kids(response, 'SegmentResponse')
  t.same(segments.map((s) => [textAt(s, 'ID'), textAt(s, 'ProcessSegmentID'), textAt(s, 'SegmentState')]), [['0010', 'MIX', 'Completed'], ['0020', 'FILL', 'Completed']], 'segment IDs as ERP sent them')
  t.same(segments.map((s) => [textAt(s, 'ActualStartTime'), textAt(s, 'ActualEndTime')]), order.operations.map((o: Record<string, string>) => [o.startedAt, o.completedAt]))
  t.equal(textAt(perf, 'EndTime'), textAt(response, 'EndTime'))

  // Material actuals: every booking of the as-built, summed per lot (a sublot under its lot), and the product on the last segment.
  const materials = segments.map((s) =>
    kids(s, 'MaterialActual').map((m) => [textAt(m, 'MaterialUse'), textAt(m, 'MaterialDefinitionID'), textAt(m, 'MaterialLotID') ?? null, textAt(m, 'MaterialSubLotID') ?? null, ...quantities(m)[0]!.slice(1)]),
  )
  const edges = asBuilt.consumed as Array<{ opSeq: number; consumedId: string; materialId: string; quantity: number }>
  const summed = new Map<string, number>()
  for (const e of edges) summed.set(`${e.opSeq} ${e.consumedId} ${e.materialId}`, (summed.get(`${e.opSeq} ${e.consumedId} ${e.materialId}`) ?? 0) + e.quantity)
  t.same([...summed], [['10 RESIN-0001-A RESIN', 100], ['10 RESIN-0001 RESIN', 100], ['10 HARD-0001 HARDENER', 50]], 'the as-built the export must match')
  t.same(materials, [
    [
      ['Consumed', 'RESIN', 'RESIN-0001', 'RESIN-0001-A', 100, 'kg'],
      ['Consumed', 'RESIN', 'RESIN-0001', null, 100, 'kg'],
      ['Consumed', 'HARDENER', 'HARD-0001', null, 50, 'kg'],
    ],
    [['Produced', 'PASTE', 'PASTE-L100', null, 98, 'kg']],
  ])

  // People and equipment: who and what processed how much, and for how long (the runs' own times).
  const runs = asBuilt.runs as Array<{ opSeq: number; operatorId: string; workCenterId: string; quantity: number; startedAt: string; endedAt: string }>
  const seconds = (op: number) => runs.filter((x) => x.opSeq === op).reduce((s, x) => s + (Date.parse(x.endedAt) - Date.parse(x.startedAt)) / 1000, 0)
  const actual = (s: XmlElement, kind: string, id: string) => kids(s, kind).map((a) => [textAt(a, id), ...quantities(a)])
  t.same(actual(segments[0]!, 'PersonnelActual', 'PersonID'), [['olga', ['Processed', 100, 'kg'], ['Duration', Number(seconds(10).toPrecision(12)), 's']]])
  t.same(actual(segments[1]!, 'PersonnelActual', 'PersonID'), [['leo', ['Processed', 100, 'kg'], ['Duration', Number(seconds(20).toPrecision(12)), 's']]])
  t.same(actual(segments[0]!, 'EquipmentActual', 'EquipmentID').map((a) => a.slice(0, 2)), [['WC-MIX', ['Processed', 100, 'kg']]])
  t.same(actual(segments[1]!, 'EquipmentActual', 'EquipmentID').map((a) => a.slice(0, 2)), [['WC-FILL', ['Processed', 100, 'kg']]])

  // Data values: each measurement keyed by its run, then good and scrap (scrap per reason).
  const data = (s: XmlElement) => kids(s, 'ProductionData').map((d) => [textAt(d, 'ID'), ...kids(d, 'Value').map((v) => [textAt(v, 'ValueString'), textAt(v, 'UnitOfMeasure'), textAt(v, 'Key') ?? null])])
  t.same(asBuilt.measurements.map((m: { runId: string; value: number }) => [m.runId, m.value]), [[mixA, 5], [mixB, 6.25]])
  t.same(data(segments[0]!), [
    ['viscosity', ['5', 'Pa.s', mixA]],
    ['viscosity', ['6.25', 'Pa.s', mixB]],
    ['GoodQuantity', ['100', 'kg', null]],
    ['ScrapQuantity', ['0', 'kg', null]],
  ])
  t.same(data(segments[1]!), [
    ['GoodQuantity', ['98', 'kg', null]],
    ['ScrapQuantity', ['2', 'kg', null], ['2', 'kg', 'SPILL']],
  ])
  t.same(names(segments[0]), ['ID', 'ProcessSegmentID', 'Description', 'ActualStartTime', 'ActualEndTime', 'ProductionData', 'ProductionData', 'ProductionData', 'ProductionData', 'PersonnelActual', 'EquipmentActual', 'MaterialActual', 'MaterialActual', 'MaterialActual', 'SegmentState'], 'nothing more than the as-built, in the schema order')
})

t.test('one completed operation: its segment only; an operation or order not done yet: 409; an unknown order: 404', async (t) => {
  const r = await gw.get('/api/v1/erp/performance/orders/PO-100/segments/10')
  t.equal(r.status, 200)
  const perf = at(r.xml, 'DataArea', 'ProductionPerformance')!
  t.equal(textAt(perf, 'ID'), 'PO-100-0010')
  t.same(kids(at(perf, 'ProductionResponse'), 'SegmentResponse').map((s) => textAt(s, 'ID')), ['0010'])
  t.equal(kids(kids(at(perf, 'ProductionResponse'), 'SegmentResponse')[0], 'MaterialActual').length, 3, 'not the last operation: nothing produced on it')
  const notDone = await gw.get('/api/v1/erp/performance/orders/PO-101')
  t.equal(notDone.status, 409)
  t.equal(notDone.json!.code, 'performance_not_ready')
  t.match(notDone.json!.detail, /Order 'PO-101' is created; its performance is sent once it is completed/)
  t.equal((await gw.get('/api/v1/erp/performance/orders/PO-101/segments/10')).status, 409)
  t.equal((await gw.get('/api/v1/erp/performance/orders/PO-100/segments/30')).json!.detail, "Order 'PO-100' has no operation 30.")
  t.equal((await gw.get('/api/v1/erp/performance/orders/NOPE')).status, 404)
  t.equal((await gw.get('/api/v1/erp/performance/orders/PO-100?version=V0300')).status, 422)
})

t.test('WO-7001 (V0700+): OperationsPerformance with serials produced and a sublot consumed; ?version asks for another family', async (t) => {
  await ok('POST', '/api/v1/orders/WO-7001/release')
  await ok('POST', '/api/v1/orders/WO-7001/dispatch')
  for (const unit of ['SN-7001-1', 'SN-7001-2', 'SN-7001-3', 'SN-7001-4']) {
    await run('WO-7001', 10, { unit, operatorId: 'ana' }, { good: 1, consumptions: [{ lot: 'STEEL-0001', quantity: 0.5 }], measurements: [{ name: 'thickness', value: 2.05, unit: 'mm' }] })
  }
  for (const unit of ['SN-7001-1', 'SN-7001-2', 'SN-7001-3']) {
    await run('WO-7001', 20, { unit, operatorId: 'ana' }, { good: 1, consumptions: [{ lot: 'BOLT-0001-BOX7', quantity: 4 }], measurements: [{ name: 'torque', value: 25, unit: 'Nm' }] })
  }
  await run('WO-7001', 20, { unit: 'SN-7001-4', operatorId: 'ana' }, { good: 0, scrap: 1, scrapReasons: [{ reason: 'CRACK', quantity: 1 }], measurements: [{ name: 'torque', value: 24, unit: 'Nm' }] })
  const r = await gw.get('/api/v1/erp/performance/orders/WO-7001')
  t.equal(r.status, 200, r.text.slice(0, 300))
  t.equal(r.xml!.name, 'SyncOperationsPerformance')
  const perf = at(r.xml, 'DataArea', 'OperationsPerformance')!
  t.same(names(perf), ['ID', 'PublishedDate', 'StartTime', 'Endtime', 'HierarchyScope', 'OperationsType', 'OperationsScheduleID', 'PerformanceState', 'OperationsResponse'])
  const segments = kids(at(perf, 'OperationsResponse'), 'SegmentResponse')
  t.same(segments.map((s) => [textAt(s, 'ID'), textAt(s, 'OperationsSegmentID'), kids(s, 'SegmentData').filter((d) => textAt(d, 'ID') === (textAt(s, 'ID') === '10' ? 'thickness' : 'torque')).map((d) => textAt(d, 'Value', 'Key'))]), [
    ['10', 'RT-BRK-10', ['SN-7001-1', 'SN-7001-2', 'SN-7001-3', 'SN-7001-4']],
    ['20', 'RT-BRK-20', ['SN-7001-1', 'SN-7001-2', 'SN-7001-3', 'SN-7001-4']],
  ], 'a measurement per unit, keyed by serial')
  const produced = kids(segments[1], 'MaterialActual').find((m) => textAt(m, 'MaterialUse') === 'Produced')!
  t.same(kids(produced, 'MaterialSubLotID').map((s) => s.text), ['SN-7001-1', 'SN-7001-2', 'SN-7001-3'], 'the good units, not the scrapped one')
  t.equal(textAt(produced, 'Quantity', 'QuantityString'), '3')
  const bolts = kids(segments[1], 'MaterialActual').find((m) => textAt(m, 'MaterialDefinitionID') === 'BOLT')!
  t.same([textAt(bolts, 'MaterialLotID'), textAt(bolts, 'MaterialSubLotID'), textAt(bolts, 'Quantity', 'QuantityString')], ['BOLT-0001', 'BOLT-0001-BOX7', '12'])
  t.same(kids(kids(segments[1], 'SegmentData').find((d) => textAt(d, 'ID') === 'ScrapQuantity'), 'Value').map((v) => [textAt(v, 'ValueString'), textAt(v, 'Key') ?? null]), [['1', null], ['1', 'CRACK']])

  const other = await gw.get('/api/v1/erp/performance/orders/WO-7001?version=V0600')
  t.equal(other.xml!.name, 'SyncProductionPerformance')
  t.equal(other.xml!.ns, 'http://www.mesa.org/xml/B2MML-V0600')
})

const getPerformance = (ids: string[]) => `<?xml version="1.0" encoding="UTF-8"?>
<GetProductionPerformance xmlns="http://www.mesa.org/xml/B2MML-V0600" releaseID="V0600">
  <ApplicationArea><Sender><LogicalID>SAP-ERP-PRD</LogicalID></Sender><CreationDateTime>2026-03-03T12:00:00Z</CreationDateTime><BODID>GET-1</BODID></ApplicationArea>
  <DataArea>
    <Get><Expression>ProductionResponse/ProductionRequestID</Expression></Get>
    <ProductionPerformance>${ids.map((id) => `\n      <ProductionResponse><ProductionRequestID>${id}</ProductionRequestID></ProductionResponse>`).join('')}
    </ProductionPerformance>
  </DataArea>
</GetProductionPerformance>`

t.test('GetProductionPerformance is answered by ShowProductionPerformance; asking for an order not done is refused with the reason', async (t) => {
  const r = await gw.post(getPerformance(['PO-100']))
  t.equal(r.status, 200, r.text.slice(0, 300))
  t.equal(r.xml!.name, 'ShowProductionPerformance')
  t.equal(textAt(r.xml, 'DataArea', 'Show', 'OriginalApplicationArea', 'BODID'), 'GET-1')
  t.equal(textAt(r.xml, 'DataArea', 'ProductionPerformance', 'ProductionResponse', 'ProductionRequestID'), 'PO-100')
  const refused = await gw.post(getPerformance(['PO-100', 'PO-101']), { accept: 'application/json' })
  t.equal(refused.status, 409)
  t.equal(refused.json!.errors.length, 1)
  t.match(refused.json!.errors[0], { code: 'performance_not_ready', path: '/GetProductionPerformance/DataArea/ProductionPerformance/ProductionResponse[2]', line: 8 })
})
