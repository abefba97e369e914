// Central projections: each line's orders with state and quantities, and foldBatch, which folds a pushed batch into every central projection.
import { and, eq, inArray, sql } from 'drizzle-orm'
import type { StoredEvent } from '../edge/store/event-log.ts'
import type { CloudOrm } from './database.ts'
import * as schema from './schema.ts'
import { foldAsBuilt } from './projections/as-built.ts'
import { foldCalendars } from './projections/calendars.ts'
import { parseCentral, touchesAsBuilt, touchesCalendars, touchesOee } from './projections/central-event.ts'
import { foldOee } from './projections/oee-fold.ts'

type OrderRow = typeof schema.orders.$inferInsert

const orderEventTypes = new Set([
  'OrderCreated',
  'OrderQuantityChanged',
  'OrderReleased',
  'OrderDispatched',
  'OrderHeld',
  'OrderHoldReleased',
  'OrderCancelled',
  'OrderCompleted',
  'OrderClosed',
  'OperationStarted',
])

/** Folds one event into its order; the same transitions as the gateway's own projection (edge/store/projections.ts). */
function applyToOrder(rows: Map<string, OrderRow>, gatewayId: string, e: StoredEvent): void {
  const d = JSON.parse(e.data) as Record<string, unknown>
  const at = { updatedSeq: e.seq, updatedAt: e.occurredAt }
  if (e.type === 'OrderCreated') {
    const before = rows.get(String(d.id))
    rows.set(String(d.id), {
      gatewayId,
      orderId: String(d.id),
      lineId: String(d.lineId),
      productId: String(d.productId),
      quantity: Number(d.quantity),
      state: before?.state ?? 'created',
      good: before?.good ?? 0,
      scrap: before?.scrap ?? 0,
      ...at,
    })
    return
  }
  const row = rows.get(String(d.orderId))
  // An order the cloud never saw created (it predates the log) is left out rather than guessed.
  if (!row) return
  Object.assign(row, at)
  switch (e.type) {
    case 'OrderQuantityChanged':
      row.quantity = Number(d.to)
      break
    case 'OrderReleased':
      row.state = 'released'
      break
    case 'OrderDispatched':
      row.state = 'dispatched'
      break
    case 'OperationStarted':
      if (row.state === 'dispatched') row.state = 'in_progress'
      break
    case 'OrderHeld':
      row.state = 'held'
      break
    case 'OrderHoldReleased':
      row.state = String(d.to)
      break
    case 'OrderCancelled':
      row.state = 'cancelled'
      break
    case 'OrderCompleted':
      row.state = 'completed'
      row.good = Number(d.good)
      row.scrap = Number(d.scrap)
      break
    case 'OrderClosed':
      row.state = 'closed'
      break
  }
}

/**
 * Every central projection of one pushed batch, in the batch's own transaction: what ingest calls.
 * A new projection joins here.
 */
export async function foldBatch(orm: CloudOrm, gatewayId: string, batch: StoredEvent[]): Promise<void> {
  await foldOrders(orm, gatewayId, batch)
  const central = parseCentral(batch)
  // Most batches hold neither (definitions, order releases): then these folds cost no statement at all.
  // OEE first: it stores the orders' operations, which tell as-built which operation completes a unit.
  if (central.some(touchesOee)) await foldOee(orm, gatewayId, central)
  if (central.some(touchesCalendars)) await foldCalendars(orm, gatewayId, central)
  if (central.some(touchesAsBuilt)) {
    const [g] = await orm.select({ lineId: schema.gateways.lineId }).from(schema.gateways).where(eq(schema.gateways.id, gatewayId))
    await foldAsBuilt(orm, gatewayId, g?.lineId ?? null, central)
  }
}

/** Reads the orders a batch touches, folds the batch into them, writes them back: a few statements per batch, not one per event. */
export async function foldOrders(orm: CloudOrm, gatewayId: string, batch: StoredEvent[]): Promise<void> {
  const relevant = batch.filter((e) => orderEventTypes.has(e.type))
  if (relevant.length === 0) return
  const ids = new Set<string>()
  for (const e of relevant) {
    const d = JSON.parse(e.data) as { id?: unknown; orderId?: unknown }
    ids.add(String(e.type === 'OrderCreated' ? d.id : d.orderId))
  }
  const o = schema.orders
  const existing = await orm.select().from(o).where(and(eq(o.gatewayId, gatewayId), inArray(o.orderId, [...ids])))
  const rows = new Map<string, OrderRow>(existing.map((r) => [r.orderId, { ...r }]))
  for (const e of relevant) applyToOrder(rows, gatewayId, e)
  // Every row here was named by an event of the batch; orders never created stay out of the map.
  const changed = [...rows.values()]
  if (changed.length === 0) return
  await orm
    .insert(o)
    .values(changed)
    .onConflictDoUpdate({
      target: [o.gatewayId, o.orderId],
      set: {
        lineId: sql`excluded.line_id`,
        productId: sql`excluded.product_id`,
        state: sql`excluded.state`,
        quantity: sql`excluded.quantity`,
        good: sql`excluded.good`,
        scrap: sql`excluded.scrap`,
        updatedSeq: sql`excluded.updated_seq`,
        updatedAt: sql`excluded.updated_at`,
      },
    })
}

export interface LineWip {
  gatewayId: string
  lineId: string
  /** Orders released and not yet finished: released, dispatched, in progress or held. */
  openOrders: number
  openQuantity: number
  byState: Record<string, number>
}

const openStates = new Set(['released', 'dispatched', 'in_progress', 'held'])

/** WIP per line across every gateway, from the central orders. */
export async function wipByLine(orm: CloudOrm): Promise<LineWip[]> {
  const o = schema.orders
  const rows = await orm
    .select({ gatewayId: o.gatewayId, lineId: o.lineId, state: o.state, count: sql<number>`count(*)::int`, quantity: sql<number>`sum(${o.quantity})::float8` })
    .from(o)
    .groupBy(o.gatewayId, o.lineId, o.state)
    .orderBy(o.gatewayId, o.lineId, o.state)
  const lines = new Map<string, LineWip>()
  for (const r of rows) {
    const key = `${r.gatewayId}\u0000${r.lineId}`
    let line = lines.get(key)
    if (!line) lines.set(key, (line = { gatewayId: r.gatewayId, lineId: r.lineId, openOrders: 0, openQuantity: 0, byState: {} }))
    line.byState[r.state] = r.count
    if (openStates.has(r.state)) {
      line.openOrders += r.count
      line.openQuantity += r.quantity
    }
  }
  return [...lines.values()]
}
