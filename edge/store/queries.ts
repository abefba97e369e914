// Read models for people and integrations: dispatch lists, WIP, genealogy traces, as-built records.
import type { Equipment, Order } from '../core/model.ts'
import { wipOf, type WipEntry } from '../core/wip.ts'
import type { Sqlite } from './database.ts'
import { equipmentFromRow, operationFromRow, orderFromRow, runFromRow } from './line-view.ts'
import { onDispatchList } from './schema.ts'

type Row = Record<string, unknown>

export interface GenealogyEdge {
  depth: number
  producedKind: string
  producedId: string
  consumedKind: string
  consumedId: string
  materialId: string
  quantity: number
  orderId: string
  opSeq: number
  runId: string
  at: string
}

const edgeColumns = 'c.event_seq, c.produced_kind, c.produced_id, c.consumed_kind, c.consumed_id, c.material_id, c.quantity, c.order_id, c.op_seq, c.run_id, c.at'

function edgeFromRow(r: Row): GenealogyEdge {
  return {
    depth: Number(r.depth),
    producedKind: String(r.produced_kind),
    producedId: String(r.produced_id),
    consumedKind: String(r.consumed_kind),
    consumedId: String(r.consumed_id),
    materialId: String(r.material_id),
    quantity: Number(r.quantity),
    orderId: String(r.order_id),
    opSeq: Number(r.op_seq),
    runId: String(r.run_id),
    at: String(r.at),
  }
}

export class LineQueries {
  readonly #s: Sqlite
  readonly #dispatch
  readonly #ranked
  readonly #backward
  readonly #forward
  readonly #openOrders
  readonly #ops
  readonly #runTimes
  readonly #workCenters

  constructor(sqlite: Sqlite) {
    this.#s = sqlite
    const columns = `o.id AS orderId, o.product_id AS productId, o.state AS orderState, o.priority, o.due_at AS dueAt, o.quantity,
              op.seq AS opSeq, op.name AS operation, op.state AS operationState, op.qty_started AS qtyStarted, op.qty_good AS qtyGood, op.qty_scrap AS qtyScrap`
    const open = onDispatchList
    // The lead's explicit sequence first (few rows), then the rest in one walk of order_operations_dispatch.
    this.#ranked = sqlite.prepare(
      `SELECT ${columns}, r.rank FROM dispatch_ranks r
       CROSS JOIN order_operations op ON op.order_id = r.order_id AND op.work_center_id = r.work_center_id
       CROSS JOIN orders o ON o.id = op.order_id
       WHERE r.work_center_id = ? AND ${open}
       ORDER BY r.rank, op.seq LIMIT ?`,
    )
    this.#dispatch = sqlite.prepare(
      `SELECT ${columns}, NULL AS rank FROM order_operations op INDEXED BY order_operations_dispatch
       CROSS JOIN orders o ON o.id = op.order_id
       WHERE op.work_center_id = ? AND ${open}
         AND NOT EXISTS (SELECT 1 FROM dispatch_ranks r WHERE r.work_center_id = op.work_center_id AND r.order_id = op.order_id)
       ORDER BY op.order_priority, op.order_due_key, op.seq, op.order_id
       LIMIT ?`,
    )
    this.#backward = sqlite.prepare(
      `WITH RECURSIVE edges(event_seq, produced_kind, produced_id, consumed_kind, consumed_id, material_id, quantity, order_id, op_seq, run_id, at, depth) AS (
         SELECT ${edgeColumns}, 1 FROM consumptions c WHERE c.produced_kind = ? AND c.produced_id = ?
         UNION
         SELECT ${edgeColumns}, e.depth + 1 FROM consumptions c JOIN edges e ON c.produced_kind = e.consumed_kind AND c.produced_id = e.consumed_id
         WHERE e.depth < ?
       ) SELECT * FROM edges ORDER BY depth, event_seq`,
    )
    this.#forward = sqlite.prepare(
      `WITH RECURSIVE edges(event_seq, produced_kind, produced_id, consumed_kind, consumed_id, material_id, quantity, order_id, op_seq, run_id, at, depth) AS (
         SELECT ${edgeColumns}, 1 FROM consumptions c WHERE c.consumed_kind = ? AND c.consumed_id = ?
         UNION
         SELECT ${edgeColumns}, e.depth + 1 FROM consumptions c JOIN edges e ON c.consumed_kind = e.produced_kind AND c.consumed_id = e.produced_id
         WHERE e.depth < ?
       ) SELECT * FROM edges ORDER BY depth, event_seq`,
    )
    this.#openOrders = sqlite.prepare(`SELECT * FROM orders WHERE state IN ('created', 'released', 'dispatched', 'in_progress', 'held') ORDER BY priority, due_at IS NULL, due_at, id`)
    this.#ops = sqlite.prepare('SELECT * FROM order_operations WHERE order_id = ? ORDER BY position')
    this.#runTimes = sqlite.prepare('SELECT op_seq, actual_s, quantity FROM run_times WHERE order_id = ?')
    this.#workCenters = sqlite.prepare(`SELECT * FROM equipment WHERE level = 'work_center'`)
  }

  /** A work center's dispatch list: the lead's sequence, then priority, due date (none last) and routing sequence. */
  dispatchList(workCenterId: string, limit = 200) {
    type Entry = Row & { orderId: string; rank: number | null }
    const ranked = this.#ranked.all(workCenterId, limit) as Entry[]
    if (ranked.length >= limit) return ranked
    return ranked.concat(this.#dispatch.all(workCenterId, limit - ranked.length) as Entry[])
  }

  /** Everything that went into a unit or lot, recursively through sub-assemblies. */
  traceBackward(kind: 'unit' | 'lot', id: string, maxDepth = 64): GenealogyEdge[] {
    return (this.#backward.all(kind, id, maxDepth) as Row[]).map(edgeFromRow)
  }

  /** Everything a lot or unit went into, and the orders that used it. */
  traceForward(kind: 'unit' | 'lot', id: string, maxDepth = 64): { edges: GenealogyEdge[]; orders: string[]; units: string[] } {
    const edges = (this.#forward.all(kind, id, maxDepth) as Row[]).map(edgeFromRow)
    const orders = [...new Set(edges.map((e) => e.orderId))]
    const units = [...new Set(edges.filter((e) => e.producedKind === 'unit').map((e) => e.producedId))]
    return { edges, orders, units }
  }

  workCenters(): Map<string, Equipment> {
    const rows = this.#workCenters.all() as Row[]
    return new Map(rows.map((r) => [String(r.id), equipmentFromRow(r)]))
  }

  wip(now: Date): WipEntry[] {
    const wcs = this.workCenters()
    return (this.#openOrders.all() as Row[]).map((r) => this.#wipOf(orderFromRow(r), wcs, now))
  }

  wipOfOrder(order: Order, now: Date): WipEntry {
    return this.#wipOf(order, this.workCenters(), now)
  }

  #wipOf(order: Order, wcs: Map<string, Equipment>, now: Date): WipEntry {
    const ops = (this.#ops.all(order.id) as Row[]).map(operationFromRow)
    let actualS = 0
    let standardS = 0
    for (const r of this.#runTimes.all(order.id) as Array<{ op_seq: number; actual_s: number; quantity: number }>) {
      const op = ops.find((o) => o.seq === r.op_seq)
      const ct = op?.idealCycleTimeS ?? (op ? wcs.get(op.workCenterId)?.ratedCycleTimeS : null) ?? 0
      if (ct === 0) continue
      actualS += r.actual_s
      standardS += ct * r.quantity
    }
    return wipOf(order, ops, { actualS, standardS }, wcs, now)
  }

  /** The as-built record of a unit, or of the output lot of a lot-based order. */
  asBuilt(kind: 'unit' | 'lot', id: string) {
    const s = this.#s
    let runsSql: string
    let measurementsSql: string
    let producedBy: string | null
    if (kind === 'unit') {
      const unit = s.prepare('SELECT * FROM units WHERE serial = ?').get(id) as Row | undefined
      if (!unit) return undefined
      producedBy = String(unit.order_id)
      runsSql = 'SELECT * FROM runs WHERE unit_serial = ? ORDER BY start_seq'
      measurementsSql = 'SELECT * FROM measurements WHERE unit_serial = ? ORDER BY event_seq'
    } else {
      const lot = s.prepare('SELECT * FROM lots WHERE id = ?').get(id) as Row | undefined
      const order = s.prepare('SELECT id FROM orders WHERE output_lot = ?').get(id) as Row | undefined
      if (!lot && !order) return undefined
      producedBy = order ? String(order.id) : lot?.produced_by_order ? String(lot.produced_by_order) : null
      runsSql = `SELECT * FROM runs WHERE order_id = ? ORDER BY start_seq`
      measurementsSql = `SELECT * FROM measurements WHERE order_id = ? ORDER BY event_seq`
    }
    const key = kind === 'unit' ? id : (producedBy ?? '')
    const runs = (s.prepare(runsSql).all(key) as Row[]).map((r) => ({ ...runFromRow(r), scrapReasons: JSON.parse(String(r.scrap_reasons)) }))
    const consumed = (s.prepare(`SELECT ${edgeColumns}, 1 AS depth FROM consumptions c WHERE c.produced_kind = ? AND c.produced_id = ? ORDER BY c.event_seq`).all(kind, id) as Row[]).map(edgeFromRow)
    const measured = (s.prepare(measurementsSql).all(key) as Row[]).map((r) => ({
      runId: String(r.run_id),
      opSeq: Number(r.op_seq),
      name: String(r.name),
      value: Number(r.value),
      unit: String(r.unit),
      lower: r.lower === null ? null : Number(r.lower),
      upper: r.upper === null ? null : Number(r.upper),
      withinLimits: r.within_limits === 1,
      at: String(r.at),
    }))
    return { kind, id, producedByOrder: producedBy, runs, consumed, measurements: measured }
  }
}
