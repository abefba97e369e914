// An order's as-built as the performance export needs it: operations, runs, material booked, measurements, units — read from the projections.
import type { Order, OrderOperation, Run, ScrapEntry } from '../core/model.ts'
import type { Sqlite } from '../store/database.ts'
import { runFromRow, sqliteLineView } from '../store/line-view.ts'

export interface Booking {
  runId: string
  opSeq: number
  consumedKind: 'unit' | 'lot'
  consumedId: string
  materialId: string
  quantity: number
}

export interface Measured {
  runId: string
  opSeq: number
  unitSerial: string | null
  name: string
  value: number
  unit: string
}

export interface OrderAsBuilt {
  order: Order
  operations: OrderOperation[]
  runs: Array<Run & { scrapReasons: ScrapEntry[] }>
  bookings: Booking[]
  measurements: Measured[]
  /** Serials of the order's units that came out good (completed, or since built into something else). */
  goodUnits: string[]
  completedAt: string | null
  uomOf(materialId: string): string
}

type Row = Record<string, unknown>

export class AsBuiltReader {
  readonly #view
  readonly #runs
  readonly #bookings
  readonly #measurements
  readonly #units
  readonly #completed
  readonly #uom

  constructor(sqlite: Sqlite) {
    this.#view = sqliteLineView(sqlite)
    this.#runs = sqlite.prepare('SELECT * FROM runs WHERE order_id = ? ORDER BY start_seq')
    // Through runs: consumptions and measurements are indexed by run, not by order.
    this.#bookings = sqlite.prepare(
      'SELECT c.run_id, c.op_seq, c.consumed_kind, c.consumed_id, c.material_id, c.quantity FROM runs r JOIN consumptions c ON c.run_id = r.id WHERE r.order_id = ? ORDER BY c.event_seq',
    )
    this.#measurements = sqlite.prepare(
      'SELECT m.run_id, m.op_seq, m.unit_serial, m.name, m.value, m.unit FROM runs r JOIN measurements m ON m.run_id = r.id WHERE r.order_id = ? ORDER BY m.event_seq',
    )
    this.#units = sqlite.prepare(`SELECT serial FROM units WHERE order_id = ? AND state IN ('completed', 'consumed') ORDER BY serial`)
    this.#completed = sqlite.prepare(`SELECT occurred_at FROM events WHERE subject = ? AND type = 'OrderCompleted' ORDER BY seq DESC LIMIT 1`)
    this.#uom = sqlite.prepare('SELECT uom FROM materials WHERE id = ?')
  }

  read(orderId: string): OrderAsBuilt | undefined {
    const order = this.#view.order(orderId)
    if (!order) return undefined
    const uoms = new Map<string, string>()
    return {
      order: { ...order, serials: order.serials },
      operations: this.#view.operations(orderId),
      runs: (this.#runs.all(orderId) as Row[]).map((r) => ({ ...runFromRow(r), scrapReasons: JSON.parse(String(r.scrap_reasons)) as ScrapEntry[] })),
      bookings: (this.#bookings.all(orderId) as Row[]).map((r) => ({
        runId: String(r.run_id),
        opSeq: Number(r.op_seq),
        consumedKind: r.consumed_kind as 'unit' | 'lot',
        consumedId: String(r.consumed_id),
        materialId: String(r.material_id),
        quantity: Number(r.quantity),
      })),
      measurements: (this.#measurements.all(orderId) as Row[]).map((r) => ({
        runId: String(r.run_id),
        opSeq: Number(r.op_seq),
        unitSerial: (r.unit_serial as string | null) ?? null,
        name: String(r.name),
        value: Number(r.value),
        unit: String(r.unit),
      })),
      goodUnits: (this.#units.all(orderId) as Row[]).map((r) => String(r.serial)),
      completedAt: ((this.#completed.get(`order/${orderId}`) as Row | undefined)?.occurred_at as string | undefined) ?? null,
      uomOf: (materialId) => {
        let uom = uoms.get(materialId)
        if (uom === undefined) {
          uom = ((this.#uom.get(materialId) as Row | undefined)?.uom as string | undefined) ?? 'ea'
          uoms.set(materialId, uom)
        }
        return uom
      },
    }
  }
}
