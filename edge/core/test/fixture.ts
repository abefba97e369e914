// A small line for core tests: one site/area/line with three work centers, a serialized and a lot-based product.
import type { Decision } from '../decision.ts'
import type { EventBody, NewEvent } from '../events.ts'
import type { Bom, Equipment, Material, MaterialLot, Order, OrderOperation, Person, Routing, Run, Unit } from '../model.ts'
import type { OrderRequest } from '../orders.ts'
import type { Rejection } from '../rejection.ts'
import { MemoryView } from './memory-view.ts'

export const NOW = '2025-06-02T08:00:00.000Z'

export const equipment: Equipment[] = [
  { id: 'S1', level: 'site', name: 'Plant', parentId: null, ratedCycleTimeS: null },
  { id: 'A1', level: 'area', name: 'Assembly hall', parentId: 'S1', ratedCycleTimeS: null },
  { id: 'L1', level: 'line', name: 'Line 1', parentId: 'A1', ratedCycleTimeS: null },
  { id: 'L2', level: 'line', name: 'Line 2', parentId: 'A1', ratedCycleTimeS: null },
  { id: 'WC-CUT', level: 'work_center', name: 'Saw', parentId: 'L1', ratedCycleTimeS: 30 },
  { id: 'WC-ASM', level: 'work_center', name: 'Assembly', parentId: 'L1', ratedCycleTimeS: null },
  { id: 'WC-TST', level: 'work_center', name: 'Leak test', parentId: 'L1', ratedCycleTimeS: null },
  { id: 'WC-OTHER', level: 'work_center', name: 'Press', parentId: 'L2', ratedCycleTimeS: null },
]

const mat = (id: string, uom: string, serialized = false): Material => ({ id, name: id, uom, serialized })
export const materials: Material[] = [
  mat('FG-WIDGET', 'ea', true),
  mat('FG-PASTE', 'kg'),
  mat('RM-STEEL', 'kg'),
  mat('RM-STEEL-ALT', 'kg'),
  mat('RM-BOLT', 'ea'),
  mat('RM-RESIN', 'kg'),
]

export const widgetBom: Bom = {
  id: 'B-W',
  version: '1',
  productId: 'FG-WIDGET',
  items: [
    { materialId: 'RM-STEEL', quantityPer: 2, alternates: ['RM-STEEL-ALT'] },
    { materialId: 'RM-BOLT', quantityPer: 4, alternates: [] },
  ],
}

export const pasteBom: Bom = { id: 'B-P', version: '1', productId: 'FG-PASTE', items: [{ materialId: 'RM-RESIN', quantityPer: 0.5, alternates: [] }] }

const op = (seq: number, name: string, workCenterId: string, more: Partial<Routing['operations'][number]> = {}): Routing['operations'][number] => ({
  seq,
  name,
  workCenterId,
  setupTimeS: 0,
  idealCycleTimeS: null,
  components: [],
  measurements: [],
  qualification: null,
  allowOverlap: false,
  instructions: '',
  ...more,
})

export const widgetRouting: Routing = {
  id: 'R-W',
  version: '1',
  productId: 'FG-WIDGET',
  operations: [
    op(10, 'Cut', 'WC-CUT', { components: [{ materialId: 'RM-STEEL', quantityPer: 2 }], qualification: 'CUT' }),
    op(20, 'Assemble', 'WC-ASM', {
      components: [{ materialId: 'RM-BOLT', quantityPer: 4 }],
      measurements: [
        { name: 'torque', unit: 'Nm', lower: 10, upper: 12 },
        { name: 'gap', unit: 'mm', lower: 0.1, upper: 0.3 },
      ],
    }),
    op(30, 'Leak test', 'WC-TST', { measurements: [{ name: 'leak', unit: 'mbar', lower: null, upper: 5 }] }),
  ],
}

export const pasteRouting: Routing = {
  id: 'R-P',
  version: '1',
  productId: 'FG-PASTE',
  operations: [
    op(10, 'Mix', 'WC-CUT', { components: [{ materialId: 'RM-RESIN', quantityPer: 0.5 }], measurements: [{ name: 'viscosity', unit: 'Pa.s', lower: 2, upper: 4 }] }),
    op(20, 'Fill', 'WC-ASM'),
  ],
}

export const people: Person[] = [
  { id: 'P-ANNA', name: 'Anna', roles: ['operator'], qualifications: [{ code: 'CUT', expiresAt: '2030-01-01T00:00:00.000Z' }], active: true },
  { id: 'P-BEN', name: 'Ben', roles: ['operator'], qualifications: [], active: true },
  { id: 'P-CARL', name: 'Carl', roles: ['operator'], qualifications: [{ code: 'CUT', expiresAt: '2020-01-01T00:00:00.000Z' }], active: true },
  { id: 'P-DORA', name: 'Dora', roles: ['operator'], qualifications: [{ code: 'CUT', expiresAt: null }], active: false },
]

const lot = (id: string, materialId: string, quantity: number, more: Partial<MaterialLot> = {}): MaterialLot => ({
  id,
  materialId,
  status: 'released',
  expiresAt: '2030-01-01T00:00:00.000Z',
  quantity,
  producedByOrder: null,
  ...more,
})
export const lots: MaterialLot[] = [
  lot('LOT-STEEL', 'RM-STEEL', 10),
  lot('LOT-ALT', 'RM-STEEL-ALT', 5),
  lot('LOT-QUAR', 'RM-STEEL', 10, { status: 'quarantined' }),
  lot('LOT-REJ', 'RM-STEEL', 10, { status: 'rejected' }),
  lot('LOT-OLD', 'RM-STEEL', 10, { expiresAt: '2024-12-31T00:00:00.000Z' }),
  lot('LOT-NOW', 'RM-STEEL', 10, { expiresAt: NOW }),
  lot('LOT-BOLT', 'RM-BOLT', 100, { expiresAt: null }),
  lot('LOT-RESIN', 'RM-RESIN', 80),
]

/** The order's copy of a routing, with the BOM's alternates, all pending. */
export function plannedOperations(routing: Routing, bom: Bom): OrderOperation[] {
  return routing.operations.map((o) => {
    const alternates: Record<string, string[]> = {}
    for (const c of o.components) alternates[c.materialId] = bom.items.find((i) => i.materialId === c.materialId)?.alternates ?? []
    return { ...o, alternates, state: 'pending', qtyStarted: 0, qtyGood: 0, qtyScrap: 0, startedAt: null, completedAt: null }
  })
}

/** Operations with progress set directly, by sequence number. */
export function withProgress(ops: OrderOperation[], progress: Record<number, Partial<OrderOperation>>): OrderOperation[] {
  return ops.map((o) => ({ ...o, ...progress[o.seq] }))
}

/** What ERP sends for the widget order W1; `pasteRequest` for the lot-based paste order P1. */
export const widgetRequest = (more: Partial<OrderRequest> = {}): OrderRequest => ({
  id: 'W1',
  productId: 'FG-WIDGET',
  quantity: 2,
  serials: [],
  bomId: 'B-W',
  bomVersion: '1',
  routingId: 'R-W',
  routingVersion: '1',
  lineId: 'L1',
  priority: 5,
  dueAt: '2025-06-10T00:00:00.000Z',
  plannedStartAt: null,
  ...more,
})

export const pasteRequest = (more: Partial<OrderRequest> = {}): OrderRequest =>
  widgetRequest({ id: 'P1', productId: 'FG-PASTE', quantity: 100, bomId: 'B-P', routingId: 'R-P', ...more })

/** The widget order W1 as the store holds it: ERP's request plus its execution state. */
export function widgetOrder(more: Partial<Order> = {}): Order {
  return {
    ...widgetRequest(),
    serialized: true,
    serials: ['W1-0001', 'W1-0002'],
    state: 'dispatched',
    heldFrom: null,
    outputLot: 'W1-OUT',
    createdAt: '2025-06-01T00:00:00.000Z',
    ...more,
  }
}

export function pasteOrder(more: Partial<Order> = {}): Order {
  return widgetOrder({ id: 'P1', productId: 'FG-PASTE', quantity: 100, serialized: false, serials: [], bomId: 'B-P', routingId: 'R-P', outputLot: 'P1-OUT', ...more })
}

export const unit = (serial: string, state: Unit['state'] = 'in_process', orderId = 'W1'): Unit => ({ serial, orderId, state })

export function run(id: string, more: Partial<Run> = {}): Run {
  return {
    id,
    orderId: 'W1',
    opSeq: 10,
    unitSerial: 'W1-0001',
    quantity: 1,
    workCenterId: 'WC-CUT',
    operatorId: 'P-ANNA',
    state: 'running',
    startedAt: '2025-06-02T07:00:00.000Z',
    endedAt: null,
    good: 0,
    scrap: 0,
    ...more,
  }
}

/** The line's master data, with no orders. */
export function masterView(): MemoryView {
  return new MemoryView({ equipment, materials, boms: [widgetBom, pasteBom], routings: [widgetRouting, pasteRouting], people, lots })
}

/** The refusal of a decision, failing loudly when it was accepted. */
export function refusal<R>(d: Decision<R>): { rejection: Rejection; record: NewEvent[] } {
  if (d.ok) throw new Error(`expected a refusal, got events ${d.events.map((e) => e.type).join(', ')}`)
  return { rejection: d.rejection, record: d.record }
}

/** The events and result of a decision, failing loudly when it was refused. */
export function accepted<R>(d: Decision<R>): { events: NewEvent[]; result: R } {
  if (!d.ok) throw new Error(`expected acceptance, got ${d.rejection.code}: ${d.rejection.message}`)
  return { events: d.events, result: d.result }
}

export const types = (events: NewEvent[]) => events.map((e) => e.type)

/** The data of the one event of a type, narrowed. */
type DataByType = { [E in EventBody as E['type']]: E['data'] }

export function dataOf<T extends EventBody['type']>(events: NewEvent[], type: T): DataByType[T] {
  const found = events.filter((e) => e.type === type)
  const [first, ...rest] = found
  if (!first || rest.length > 0) throw new Error(`expected one ${type}, found ${found.length}`)
  return first.data as DataByType[T]
}
