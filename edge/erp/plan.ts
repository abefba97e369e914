// What a B2MML document asks Takt to do, read from the XML but not yet decided: definitions and order requests with where each came from.
import type { Equipment, EquipmentLevel, Material, MaterialLot, MeasurementSpec, Person } from '../core/model.ts'
import type { At } from './read.ts'

export interface Item<T> {
  at: At
  value: T
}

/** A lot or sublot as Takt defines it; a sublot's material may come from its lot, already on the line. */
export interface LotItem {
  at: At
  value: Omit<MaterialLot, 'producedByOrder' | 'materialId'> & { materialId: string | null }
  /** For a B2MML sublot: the lot it belongs to. */
  parentLotId: string | null
}

/** Where a B2MML WorkCenter whose level follows from its parent is placed: a line under an area, a work center under a line; elsewhere nowhere. */
export function levelUnder(parent: { level: EquipmentLevel } | undefined): EquipmentLevel | null {
  return parent?.level === 'area' ? 'line' : parent?.level === 'line' ? 'work_center' : null
}

/** Why a WorkCenter could not be placed by its parent. */
export const unplaceableWorkCenter = (parentId: string | null) =>
  `Takt places a WorkCenter by its parent (a line under an area, a work center under a line); '${parentId ?? 'none'}' is neither.`

/** Equipment whose Takt level is known, or (ISA-95 "WorkCenter") follows from its parent: a line under an area, a work center under a line. */
export interface EquipmentItem {
  at: At
  value: Omit<Equipment, 'level'> & { level: EquipmentLevel | 'by-parent' }
  /** Definition order: parents before children. */
  rank: number
}

export interface MaterialNeed {
  at: At
  materialId: string
  quantity: number
  /** Produced only: the output lot and serial numbers ERP assigned. */
  lotId: string | null
  serials: string[]
}

export interface SegmentPlan {
  at: At
  segmentId: string
  processSegmentId: string | null
  operationsDefinitionId: string | null
  operationsSegmentId: string | null
  name: string
  instructions: string
  workCenterId: string
  workCenterAt: At
  setupS: number
  durationS: number | null
  consumed: MaterialNeed[]
  produced: MaterialNeed[]
  measurements: MeasurementSpec[]
  qualification: string | null
  earliestStart: string | null
  latestEnd: string | null
}

export interface RequestPlan {
  at: At
  orderId: string
  scheduleId: string | null
  /** ERP's routing reference (ProductProductionRuleID / OperationsDefinitionID), used in the derived routing id. */
  routingKey: string | null
  priority: number
  startTime: string | null
  endTime: string | null
  lineId: string | null
  lineAt: At
  cancelled: boolean
  segments: SegmentPlan[]
}

export interface IntakePlan {
  equipment: EquipmentItem[]
  materials: Array<Item<Material>>
  people: Array<Item<Person>>
  lots: LotItem[]
  requests: RequestPlan[]
  /** What the document carried that Takt does not keep, counted per kind, for the confirmation. */
  ignored: Map<string, number>
}

export function emptyPlan(): IntakePlan {
  return { equipment: [], materials: [], people: [], lots: [], requests: [], ignored: new Map() }
}

export function ignore(plan: IntakePlan, what: string): void {
  plan.ignored.set(what, (plan.ignored.get(what) ?? 0) + 1)
}
