// An in-memory LineView for core unit tests: plain Maps filled from a fixture, states set directly.
import type { DecisionContext, LineView } from '../line-view.ts'
import type { Bom, Equipment, MachineState, Material, MaterialLot, Order, OrderOperation, Person, Routing, Run, Unit } from '../model.ts'

export interface ViewFixture {
  equipment?: Equipment[]
  materials?: Material[]
  boms?: Bom[]
  routings?: Routing[]
  people?: Person[]
  lots?: MaterialLot[]
  orders?: { order: Order; operations: OrderOperation[] }[]
  units?: Unit[]
  runs?: Run[]
}

const versioned = (id: string, version: string) => `${id}@${version}`

export class MemoryView implements LineView {
  readonly #equipment = new Map<string, Equipment>()
  readonly #materials = new Map<string, Material>()
  readonly #boms = new Map<string, Bom>()
  readonly #routings = new Map<string, Routing>()
  readonly #people = new Map<string, Person>()
  readonly #lots = new Map<string, MaterialLot>()
  readonly #orders = new Map<string, Order>()
  readonly #operations = new Map<string, OrderOperation[]>()
  readonly #units = new Map<string, Unit>()
  readonly #runs = new Map<string, Run>()
  readonly #consumed = new Map<string, Map<string, number>>()
  readonly #measured = new Map<string, Set<string>>()
  readonly #dispatch = new Map<string, string[]>()

  constructor(fixture: ViewFixture = {}) {
    for (const e of fixture.equipment ?? []) this.putEquipment(e)
    for (const m of fixture.materials ?? []) this.putMaterial(m)
    for (const b of fixture.boms ?? []) this.putBom(b)
    for (const r of fixture.routings ?? []) this.putRouting(r)
    for (const p of fixture.people ?? []) this.putPerson(p)
    for (const l of fixture.lots ?? []) this.putLot(l)
    for (const o of fixture.orders ?? []) this.putOrder(o.order, o.operations)
    for (const u of fixture.units ?? []) this.putUnit(u)
    for (const r of fixture.runs ?? []) this.putRun(r)
  }

  putEquipment(e: Equipment): this {
    this.#equipment.set(e.id, e)
    return this
  }

  putMaterial(m: Material): this {
    this.#materials.set(m.id, m)
    return this
  }

  putBom(b: Bom): this {
    this.#boms.set(versioned(b.id, b.version), b)
    return this
  }

  putRouting(r: Routing): this {
    this.#routings.set(versioned(r.id, r.version), r)
    return this
  }

  putPerson(p: Person): this {
    this.#people.set(p.id, p)
    return this
  }

  putLot(l: MaterialLot): this {
    this.#lots.set(l.id, l)
    return this
  }

  putOrder(order: Order, operations: OrderOperation[]): this {
    this.#orders.set(order.id, order)
    this.#operations.set(order.id, operations)
    return this
  }

  putUnit(u: Unit): this {
    this.#units.set(u.serial, u)
    return this
  }

  putRun(r: Run): this {
    this.#runs.set(r.id, r)
    return this
  }

  /** Book material already consumed on a run (by earlier commands). */
  putConsumed(runId: string, materialId: string, quantity: number): this {
    const m = this.#consumed.get(runId) ?? new Map<string, number>()
    m.set(materialId, (m.get(materialId) ?? 0) + quantity)
    this.#consumed.set(runId, m)
    return this
  }

  /** Record that a measurement was already taken on a run. */
  putMeasured(runId: string, name: string): this {
    const s = this.#measured.get(runId) ?? new Set<string>()
    s.add(name)
    this.#measured.set(runId, s)
    return this
  }

  putDispatchList(workCenterId: string, orderIds: string[]): this {
    this.#dispatch.set(workCenterId, orderIds)
    return this
  }

  equipment(id: string): Equipment | undefined {
    return this.#equipment.get(id)
  }
  material(id: string): Material | undefined {
    return this.#materials.get(id)
  }
  bom(id: string, version: string): Bom | undefined {
    return this.#boms.get(versioned(id, version))
  }
  routing(id: string, version: string): Routing | undefined {
    return this.#routings.get(versioned(id, version))
  }
  person(id: string): Person | undefined {
    return this.#people.get(id)
  }
  lot(id: string): MaterialLot | undefined {
    return this.#lots.get(id)
  }
  order(id: string): Order | undefined {
    return this.#orders.get(id)
  }
  operations(orderId: string): OrderOperation[] {
    return this.#operations.get(orderId) ?? []
  }
  unit(serial: string): Unit | undefined {
    return this.#units.get(serial)
  }
  run(id: string): Run | undefined {
    return this.#runs.get(id)
  }
  unitRun(orderId: string, opSeq: number, serial: string): Run | undefined {
    const runs = [...this.#runs.values()].filter((r) => r.orderId === orderId && r.opSeq === opSeq && r.unitSerial === serial)
    return runs.at(-1)
  }
  // Copies, so a caller that adds to the result cannot change the view.
  consumedOnRun(runId: string): Map<string, number> {
    return new Map(this.#consumed.get(runId) ?? [])
  }
  measuredOnRun(runId: string): Set<string> {
    return new Set(this.#measured.get(runId) ?? [])
  }
  readonly #wcStates = new Map<string, MachineState>()

  putWorkCenterState(workCenterId: string, state: MachineState): this {
    this.#wcStates.set(workCenterId, state)
    return this
  }

  runningRunAt(workCenterId: string): Run | undefined {
    return [...this.#runs.values()].filter((r) => r.workCenterId === workCenterId && r.state === 'running').at(-1)
  }

  workCenterState(workCenterId: string): MachineState | undefined {
    return this.#wcStates.get(workCenterId)
  }

  heldUnits(orderId: string): string[] {
    return [...this.#units.values()].filter((u) => u.orderId === orderId && u.state === 'held').map((u) => u.serial)
  }

  dispatchableAt(workCenterId: string): string[] {
    return [...(this.#dispatch.get(workCenterId) ?? [])]
  }
}

/** A context whose ids count up from a prefix and whose clock stands still. */
export function fixedContext(now: string, prefix = 'id'): DecisionContext {
  let n = 0
  return {
    now: new Date(now),
    nextId: () => `${prefix}-${++n}`,
  }
}
