// The read port core decides against: the line's current state, as the store's projections hold it.
import type {
  Bom,
  Equipment,
  MachineState,
  Material,
  MaterialLot,
  Order,
  OrderOperation,
  Person,
  Routing,
  Run,
  Unit,
} from './model.ts'

export interface LineView {
  equipment(id: string): Equipment | undefined
  material(id: string): Material | undefined
  bom(id: string, version: string): Bom | undefined
  routing(id: string, version: string): Routing | undefined
  person(id: string): Person | undefined
  lot(id: string): MaterialLot | undefined
  order(id: string): Order | undefined
  operations(orderId: string): OrderOperation[]
  unit(serial: string): Unit | undefined
  run(id: string): Run | undefined
  /** The latest run of one operation on one unit. */
  unitRun(orderId: string, opSeq: number, serial: string): Run | undefined
  /** Material consumed so far on a run, per material. */
  consumedOnRun(runId: string): Map<string, number>
  /** Names of the measurements taken so far on a run. */
  measuredOnRun(runId: string): Set<string>
  /** The run in progress at a work center (the latest started, if several). */
  runningRunAt(workCenterId: string): Run | undefined
  /** A work center's current machine state, when one was ever reported. */
  workCenterState(workCenterId: string): MachineState | undefined
  /** Serials of an order's units that are on hold. */
  heldUnits(orderId: string): string[]
  /** Orders with an unfinished operation at a work center. */
  dispatchableAt(workCenterId: string): string[]
}

/** What a decision needs besides the state: time, ids and who acts. */
export interface DecisionContext {
  now: Date
  nextId(): string
}
