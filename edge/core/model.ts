// The shop floor's nouns in ISA-95 words: equipment, materials, BOMs, routings, people, lots, orders, runs.

export type EquipmentLevel = 'site' | 'area' | 'line' | 'work_center'

export interface Equipment {
  id: string
  level: EquipmentLevel
  name: string
  parentId: string | null
  /** Rated speed of a work center, seconds per unit; the fallback when a routing has no ideal cycle time. */
  ratedCycleTimeS: number | null
}

export interface Material {
  id: string
  name: string
  uom: string
  /** Units of this material carry serial numbers and are traced one by one. */
  serialized: boolean
}

export interface BomItem {
  materialId: string
  quantityPer: number
  /** Materials approved to replace this one. */
  alternates: string[]
}

export interface Bom {
  id: string
  version: string
  productId: string
  items: BomItem[]
}

export interface MeasurementSpec {
  name: string
  unit: string
  lower: number | null
  upper: number | null
}

export interface ComponentRequirement {
  materialId: string
  quantityPer: number
}

export interface RoutingOperation {
  seq: number
  name: string
  workCenterId: string
  setupTimeS: number
  idealCycleTimeS: number | null
  components: ComponentRequirement[]
  measurements: MeasurementSpec[]
  qualification: string | null
  /** This operation may start on a unit or quantity while its predecessor is still running on it. */
  allowOverlap: boolean
  instructions: string
}

export interface Routing {
  id: string
  version: string
  productId: string
  operations: RoutingOperation[]
}

export interface Qualification {
  code: string
  expiresAt: string | null
}

export type Role = 'operator' | 'lead' | 'quality' | 'maintenance' | 'admin' | 'integration'
export const roles: readonly Role[] = ['operator', 'lead', 'quality', 'maintenance', 'admin', 'integration']

export interface Person {
  id: string
  name: string
  roles: Role[]
  qualifications: Qualification[]
  active: boolean
}

export type LotStatus = 'released' | 'quarantined' | 'rejected'

export interface MaterialLot {
  id: string
  materialId: string
  status: LotStatus
  expiresAt: string | null
  quantity: number
  /** The order whose output this lot is, for lots made on this line. */
  producedByOrder: string | null
}

export type OrderState =
  | 'created'
  | 'released'
  | 'dispatched'
  | 'in_progress'
  | 'held'
  | 'completed'
  | 'closed'
  | 'cancelled'

/** An order's operation: a copy of the routing operation taken when the order was created, plus progress. */
export interface OrderOperation extends RoutingOperation {
  /** Approved alternates per component material, copied from the BOM. */
  alternates: Record<string, string[]>
  state: 'pending' | 'in_progress' | 'completed'
  qtyStarted: number
  qtyGood: number
  qtyScrap: number
  startedAt: string | null
  completedAt: string | null
}

export interface Order {
  id: string
  productId: string
  quantity: number
  serialized: boolean
  serials: string[]
  bomId: string
  bomVersion: string
  routingId: string
  routingVersion: string
  lineId: string
  priority: number
  dueAt: string | null
  plannedStartAt: string | null
  state: OrderState
  heldFrom: OrderState | null
  outputLot: string
  createdAt: string
}

/** A unit's place in its life; a hold is kept apart, so the view reports 'held' while one is on. */
export type UnitState = 'in_process' | 'held' | 'completed' | 'scrapped' | 'consumed'

export interface Unit {
  serial: string
  orderId: string
  state: UnitState
}

export type RunState = 'running' | 'paused' | 'completed'

/** One execution of an operation: for a unit, or for a quantity of a lot-based order. */
export interface Run {
  id: string
  orderId: string
  opSeq: number
  unitSerial: string | null
  quantity: number
  workCenterId: string
  operatorId: string
  state: RunState
  startedAt: string
  endedAt: string | null
  good: number
  scrap: number
}

export interface ScrapEntry {
  reason: string
  quantity: number
}

/** A work center's state, as machine signals or operators report it (PackML / OPC 40001 states map onto these). */
export type MachineState = 'running' | 'idle' | 'planned_stop' | 'down' | 'setup' | 'starved' | 'blocked'
