// The line as one document's decisions see it: the store's state with the definitions decided earlier in the same document laid over it.
import type { NewEvent } from '../core/events.ts'
import type { LineView } from '../core/line-view.ts'
import type { Bom, Equipment, Material, MaterialLot, Person, Routing } from '../core/model.ts'

/**
 * Core decides each definition against a LineView; the store projects events only after the
 * whole document's decide function returns. So that a routing can name a material defined
 * three elements earlier in the same document, accepted definition events are absorbed here.
 * Reads of the store are remembered for the document: inside its transaction they cannot change.
 */
export class DocumentView implements LineView {
  readonly #base: LineView
  readonly #equipment = new Map<string, Equipment | undefined>()
  readonly #materials = new Map<string, Material | undefined>()
  readonly #boms = new Map<string, Bom | undefined>()
  readonly #routings = new Map<string, Routing | undefined>()
  readonly #people = new Map<string, Person | undefined>()
  readonly #lots = new Map<string, MaterialLot | undefined>()

  constructor(base: LineView) {
    this.#base = base
  }

  #cached<T>(map: Map<string, T | undefined>, key: string, read: () => T | undefined): T | undefined {
    if (map.has(key)) return map.get(key)
    const value = read()
    map.set(key, value)
    return value
  }

  equipment = (id: string) => this.#cached(this.#equipment, id, () => this.#base.equipment(id))
  material = (id: string) => this.#cached(this.#materials, id, () => this.#base.material(id))
  bom = (id: string, version: string) => this.#cached(this.#boms, `${id}\n${version}`, () => this.#base.bom(id, version))
  routing = (id: string, version: string) => this.#cached(this.#routings, `${id}\n${version}`, () => this.#base.routing(id, version))
  person = (id: string) => this.#cached(this.#people, id, () => this.#base.person(id))
  lot = (id: string) => this.#cached(this.#lots, id, () => this.#base.lot(id))

  order = (id: string) => this.#base.order(id)
  operations = (orderId: string) => this.#base.operations(orderId)
  unit = (serial: string) => this.#base.unit(serial)
  run = (id: string) => this.#base.run(id)
  unitRun = (orderId: string, opSeq: number, serial: string) => this.#base.unitRun(orderId, opSeq, serial)
  consumedOnRun = (runId: string) => this.#base.consumedOnRun(runId)
  measuredOnRun = (runId: string) => this.#base.measuredOnRun(runId)
  runningRunAt = (workCenterId: string) => this.#base.runningRunAt(workCenterId)
  workCenterState = (workCenterId: string) => this.#base.workCenterState(workCenterId)
  heldUnits = (orderId: string) => this.#base.heldUnits(orderId)
  dispatchableAt = (workCenterId: string) => this.#base.dispatchableAt(workCenterId)

  /** Lays accepted definition events over the store's state, as their projections will. */
  absorb(events: NewEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'EquipmentDefined':
          this.#equipment.set(e.data.id, e.data)
          break
        case 'MaterialDefined':
          this.#materials.set(e.data.id, e.data)
          break
        case 'BomDefined':
          this.#boms.set(`${e.data.id}\n${e.data.version}`, e.data)
          break
        case 'RoutingDefined':
          this.#routings.set(`${e.data.id}\n${e.data.version}`, e.data)
          break
        case 'PersonDefined':
          this.#people.set(e.data.id, e.data)
          break
        case 'LotDefined': {
          const before = this.lot(e.data.id)
          this.#lots.set(e.data.id, { ...e.data, producedByOrder: before?.producedByOrder ?? null })
          break
        }
      }
    }
  }
}
