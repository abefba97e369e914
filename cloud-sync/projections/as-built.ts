// Central as-built: consumptions, output lots and serialized units of every line, folded per batch with a few statements.
import { and, eq, inArray, sql } from 'drizzle-orm'
import type { CloudOrm } from '../database.ts'
import * as schema from '../schema.ts'
import { inChunks, type CentralEvent } from './central-event.ts'

type UnitRow = typeof schema.centralUnits.$inferInsert
type LotRow = typeof schema.centralLots.$inferInsert

/**
 * Consumptions are appended, output lots summed, units read once, folded in the batch's order
 * and written back: the same transitions as the gateway's own projection (edge/store/projections.ts).
 */
export async function foldAsBuilt(orm: CloudOrm, gatewayId: string, lineId: string | null, events: readonly CentralEvent[]): Promise<void> {
  const consumptions: (typeof schema.centralConsumptions.$inferInsert)[] = []
  const lots = new Map<string, LotRow>()
  const serials = new Set<string>()
  const completedOrders = new Set<string>()
  for (const e of events) {
    switch (e.type) {
      case 'MaterialConsumed': {
        const d = e.data
        consumptions.push({ gatewayId, eventId: e.id, seq: e.seq, lineId, orderId: d.orderId, opSeq: d.opSeq, runId: d.runId, producedKind: d.producedKind, producedId: d.producedId, consumedKind: d.consumedKind, consumedId: d.consumedId, materialId: d.materialId, quantity: d.quantity, at: e.occurredAt })
        if (d.consumedKind === 'unit') serials.add(d.consumedId)
        break
      }
      case 'OutputLotProduced': {
        const d = e.data
        const lot = lots.get(d.lotId)
        if (lot) lot.quantity += d.quantity
        else lots.set(d.lotId, { gatewayId, lotId: d.lotId, lineId, orderId: d.orderId, materialId: d.materialId, quantity: d.quantity })
        break
      }
      case 'OrderReleased':
        for (const s of e.data.serials) serials.add(s)
        break
      case 'OperationCompleted':
        if (e.data.unitSerial !== null) {
          serials.add(e.data.unitSerial)
          completedOrders.add(e.data.orderId)
        }
        break
      case 'UnitHeld':
      case 'UnitHoldReleased':
        serials.add(e.data.serial)
        break
    }
  }
  const c = schema.centralConsumptions
  // A consumption is its event: a rebuild over rows already there changes nothing.
  await inChunks(consumptions, 1000, (rows) => orm.insert(c).values(rows).onConflictDoNothing())
  if (lots.size > 0) {
    const l = schema.centralLots
    await orm
      .insert(l)
      .values([...lots.values()])
      .onConflictDoUpdate({ target: [l.gatewayId, l.lotId], set: { quantity: sql`${l.quantity} + excluded.quantity` } })
  }
  if (serials.size > 0) await foldUnits(orm, gatewayId, lineId, events, [...serials], [...completedOrders])
}

async function foldUnits(orm: CloudOrm, gatewayId: string, lineId: string | null, events: readonly CentralEvent[], serials: string[], completedOrders: string[]): Promise<void> {
  const u = schema.centralUnits
  const units = new Map<string, UnitRow>()
  await inChunks(serials, 5000, async (slice) => {
    for (const r of await orm.select().from(u).where(and(eq(u.gatewayId, gatewayId), inArray(u.serial, slice)))) units.set(r.serial, { ...r })
  })
  // A unit is completed by the order's last operation; the operations were folded before this (projection.ts).
  const lastOp = new Map<string, number>()
  if (completedOrders.length > 0) {
    const o = schema.centralOperations
    const rows = await orm
      .select({ orderId: o.orderId, last: sql<number>`max(${o.opSeq})::int` })
      .from(o)
      .where(and(eq(o.gatewayId, gatewayId), inArray(o.orderId, completedOrders)))
      .groupBy(o.orderId)
    for (const r of rows) lastOp.set(r.orderId, r.last)
  }
  const touched = new Set<string>()
  const set = (serial: string, seq: number, change: Partial<UnitRow>) => {
    const unit = units.get(serial)
    // A unit the cloud never saw released (it predates the log) is left out rather than guessed.
    if (!unit) return
    Object.assign(unit, change, { updatedSeq: seq })
    touched.add(serial)
  }
  for (const e of events) {
    switch (e.type) {
      case 'OrderReleased':
        for (const serial of e.data.serials) {
          units.set(serial, { gatewayId, serial, lineId, orderId: e.data.orderId, state: 'in_process', held: false, holdReason: null, updatedSeq: e.seq })
          touched.add(serial)
        }
        break
      case 'OperationCompleted': {
        const d = e.data
        if (d.unitSerial === null) break
        if (d.scrap > 0) set(d.unitSerial, e.seq, { state: 'scrapped' })
        else if (lastOp.get(d.orderId) === d.opSeq) set(d.unitSerial, e.seq, { state: 'completed' })
        break
      }
      case 'MaterialConsumed':
        if (e.data.consumedKind === 'unit') set(e.data.consumedId, e.seq, { state: 'consumed' })
        break
      case 'UnitHeld':
        set(e.data.serial, e.seq, { held: true, holdReason: e.data.reason })
        break
      case 'UnitHoldReleased':
        set(e.data.serial, e.seq, { held: false, holdReason: null })
        break
    }
  }
  const rows = [...touched].map((s) => units.get(s)!)
  await inChunks(rows, 1000, (slice) =>
    orm
      .insert(u)
      .values(slice)
      .onConflictDoUpdate({
        target: [u.gatewayId, u.serial],
        set: { lineId: sql`excluded.line_id`, orderId: sql`excluded.order_id`, state: sql`excluded.state`, held: sql`excluded.held`, holdReason: sql`excluded.hold_reason`, updatedSeq: sql`excluded.updated_seq` },
      }),
  )
}
