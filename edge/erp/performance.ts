// The as-built of an order or one of its operations as ProductionPerformance (V0401–V06xx) or OperationsPerformance (V0700+).
import type { OrderOperation } from '../core/model.ts'
import type { OrderAsBuilt } from './as-built.ts'
import { performanceNoun, type Version } from './b2mml.ts'
import type { ErpOrder, SegmentRef } from './records.ts'
import { opt, x, type XmlNode } from './xml-write.ts'

export type Scope = { kind: 'order' } | { kind: 'segment'; opSeq: number }

export interface PerformanceInput {
  asBuilt: OrderAsBuilt
  erp: ErpOrder | undefined
  version: Version
  scope: Scope
  /** The B2MML lot a Takt lot that was a sublot belongs to. */
  lotOfSublot(lotId: string): string | undefined
}

const num = (n: number) => String(Number(n.toPrecision(12)))

function quantity(value: number, uom: string, key: string | null): XmlNode {
  return x('Quantity', x('QuantityString', num(value)), x('DataType', 'double'), x('UnitOfMeasure', uom), key && x('Key', key))
}

function dataValue(value: string, dataType: string, uom: string | null, key: string | null): XmlNode {
  return x('Value', x('ValueString', value), x('DataType', dataType), uom && x('UnitOfMeasure', uom), key && x('Key', key))
}

const seconds = (from: string, to: string | null) => (to === null ? 0 : Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000))

const segmentState = (op: OrderOperation) => (op.state === 'completed' ? 'Completed' : op.state === 'in_progress' ? 'Running' : 'Ready')

/** Who and what did the work: per operator and per work center, the quantity processed and the time taken. */
function resourceActuals(input: PerformanceInput, op: OrderOperation, uom: string) {
  const runs = input.asBuilt.runs.filter((r) => r.opSeq === op.seq)
  const tally = (key: (r: (typeof runs)[number]) => string) => {
    const out = new Map<string, { qty: number; s: number }>()
    for (const r of runs) {
      const t = out.get(key(r)) ?? { qty: 0, s: 0 }
      t.qty += r.quantity
      t.s += seconds(r.startedAt, r.endedAt)
      out.set(key(r), t)
    }
    return [...out]
  }
  const amounts = (t: { qty: number; s: number }) => [quantity(t.qty, uom, 'Processed'), quantity(t.s, 's', 'Duration')]
  return {
    personnel: tally((r) => r.operatorId).map(([id, t]) => x('PersonnelActual', x('PersonID', id), amounts(t))),
    equipment: tally((r) => r.workCenterId).map(([id, t]) => x('EquipmentActual', x('EquipmentID', id), amounts(t))),
  }
}

/** Material consumed (per lot, sublot or sub-assembly unit) and, on the last operation, the product made. */
function materialActuals(input: PerformanceInput, op: OrderOperation, last: boolean): XmlNode[] {
  const { asBuilt } = input
  const totals = new Map<string, { kind: 'unit' | 'lot'; id: string; materialId: string; qty: number }>()
  for (const b of asBuilt.bookings) {
    if (b.opSeq !== op.seq) continue
    const key = `${b.consumedKind}\n${b.consumedId}\n${b.materialId}`
    const t = totals.get(key) ?? { kind: b.consumedKind, id: b.consumedId, materialId: b.materialId, qty: 0 }
    t.qty += b.quantity
    totals.set(key, t)
  }
  const consumed = [...totals.values()].map((t) => {
    const parent = t.kind === 'lot' ? input.lotOfSublot(t.id) : undefined
    const lot = t.kind === 'lot' ? (parent ?? t.id) : null
    const sublot = t.kind === 'unit' ? t.id : parent !== undefined ? t.id : null
    return x('MaterialActual', x('MaterialDefinitionID', t.materialId), opt('MaterialLotID', lot), opt('MaterialSubLotID', sublot), x('MaterialUse', 'Consumed'), quantity(t.qty, asBuilt.uomOf(t.materialId), null))
  })
  if (!last || op.qtyGood <= 0) return consumed
  const { order } = asBuilt
  const produced = x(
    'MaterialActual',
    x('MaterialDefinitionID', order.productId),
    !order.serialized && x('MaterialLotID', order.outputLot),
    order.serialized && asBuilt.goodUnits.map((s) => x('MaterialSubLotID', s)),
    x('MaterialUse', 'Produced'),
    quantity(op.qtyGood, asBuilt.uomOf(order.productId), null),
  )
  return [...consumed, produced]
}

/** Measurements, and the good and scrap counts (scrap per reason), as data values. */
function dataActuals(input: PerformanceInput, op: OrderOperation, uom: string, element: string): XmlNode[] {
  const runs = input.asBuilt.runs.filter((r) => r.opSeq === op.seq)
  const measured = input.asBuilt.measurements
    .filter((m) => m.opSeq === op.seq)
    .map((m) => x(element, x('ID', m.name), dataValue(num(m.value), 'double', m.unit, m.unitSerial ?? m.runId)))
  const reasons = new Map<string, number>()
  for (const r of runs) for (const s of r.scrapReasons) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + s.quantity)
  const counts = [
    x(element, x('ID', 'GoodQuantity'), dataValue(num(op.qtyGood), 'double', uom, null)),
    x(element, x('ID', 'ScrapQuantity'), dataValue(num(op.qtyScrap), 'double', uom, null), [...reasons].map(([reason, q]) => dataValue(num(q), 'double', uom, reason))),
  ]
  return [...measured, ...counts]
}

function segmentResponse(input: PerformanceInput, op: OrderOperation, ref: SegmentRef | undefined, last: boolean): XmlNode {
  const uom = input.asBuilt.uomOf(input.asBuilt.order.productId)
  const { personnel, equipment } = resourceActuals(input, op, uom)
  const materials = materialActuals(input, op, last)
  const id = x('ID', ref?.segmentId ?? String(op.seq))
  const times = [opt('ActualStartTime', op.startedAt), opt('ActualEndTime', op.completedAt)]
  if (input.version.family === 'production') {
    const data = dataActuals(input, op, uom, 'ProductionData')
    return x('SegmentResponse', id, opt('ProcessSegmentID', ref?.processSegmentId), x('Description', op.name), times, data, personnel, equipment, materials, x('SegmentState', segmentState(op)))
  }
  const data = dataActuals(input, op, uom, 'SegmentData')
  return x(
    'SegmentResponse',
    id,
    x('Description', op.name),
    x('OperationsType', 'Production'),
    opt('ProcessSegmentID', ref?.processSegmentId),
    times,
    opt('OperationsDefinitionID', ref?.operationsDefinitionId),
    opt('OperationsSegmentID', ref?.operationsSegmentId),
    x('SegmentState', segmentState(op)),
    data,
    personnel,
    equipment,
    materials,
  )
}

const lineScope = (lineId: string) => x('HierarchyScope', x('EquipmentID', lineId), x('EquipmentElementLevel', 'ProductionLine'))

/** The performance noun: one response (the order) with the segment responses in scope. */
export function performanceOf(input: PerformanceInput, publishedAt: string): XmlNode {
  const { asBuilt, erp, scope } = input
  const { order, operations } = asBuilt
  const inScope = scope.kind === 'order' ? operations : operations.filter((o) => o.seq === scope.opSeq)
  const segments = inScope.map((op) => segmentResponse(input, op, erp?.segments.find((s) => s.seq === op.seq), op.seq === operations.at(-1)?.seq))
  const done = scope.kind === 'order' ? order.state === 'completed' || order.state === 'closed' : inScope.every((o) => o.state === 'completed')
  const state = done ? 'Completed' : 'Running'
  const start = inScope.map((o) => o.startedAt).filter((t): t is string => t !== null).sort()[0] ?? null
  const end = scope.kind === 'order' ? asBuilt.completedAt : (inScope[0]?.completedAt ?? null)
  const id = scope.kind === 'order' ? order.id : `${order.id}-${erp?.segments.find((s) => s.seq === scope.opSeq)?.segmentId ?? scope.opSeq}`
  const noun = performanceNoun[input.version.family]
  if (input.version.family === 'production') {
    const response = x('ProductionResponse', x('ID', order.id), x('ProductionRequestID', order.id), lineScope(order.lineId), opt('StartTime', start), opt('EndTime', end), segments, x('ResponseState', state))
    return x(noun, x('ID', id), lineScope(order.lineId), x('PublishedDate', publishedAt), opt('ProductionScheduleID', erp?.scheduleId), opt('StartTime', start), opt('EndTime', end), response, x('PerformanceState', state))
  }
  const response = x('OperationsResponse', x('ID', order.id), opt('StartTime', start), opt('EndTime', end), lineScope(order.lineId), x('OperationsType', 'Production'), x('OperationsRequestID', order.id), x('ResponseState', state), segments)
  // OperationsPerformanceType spells its end time "Endtime" (B2MML-OperationsPerformance.xsd); a valid document follows it.
  return x(noun, x('ID', id), x('PublishedDate', publishedAt), opt('StartTime', start), opt('Endtime', end), lineScope(order.lineId), x('OperationsType', 'Production'), opt('OperationsScheduleID', erp?.scheduleId), x('PerformanceState', state), response)
}

/** Whether the scope's as-built is final: a completed (or closed) order, or a completed operation. */
export function performanceReady(asBuilt: OrderAsBuilt, scope: Scope): { ready: true } | { ready: false; reason: string } {
  const { order, operations } = asBuilt
  if (scope.kind === 'order') {
    return order.state === 'completed' || order.state === 'closed' ? { ready: true } : { ready: false, reason: `Order '${order.id}' is ${order.state}; its performance is sent once it is completed.` }
  }
  const op = operations.find((o) => o.seq === scope.opSeq)
  if (!op) return { ready: false, reason: `Order '${order.id}' has no operation ${scope.opSeq}.` }
  return op.state === 'completed' ? { ready: true } : { ready: false, reason: `Operation ${op.seq} of order '${order.id}' is ${op.state}; its performance is sent once it is completed.` }
}
