// Rebuilding every central projection from the stored events alone, batch by batch through the same fold the push uses.
import { and, asc, eq, gt, or, sql } from 'drizzle-orm'
import type { CloudOrm } from '../database.ts'
import { foldBatch } from '../projection.ts'
import * as schema from '../schema.ts'

/** The projection tables, emptied before a rebuild; `events` and `gateways` are the source and stay. */
export const projectionTables = ['orders', 'central_consumptions', 'central_units', 'central_lots', 'central_operations', 'central_runs', 'central_work_centers', 'central_reason_codes', 'central_state_changes', 'central_counts', 'central_oee_buckets', 'central_calendars', 'central_calendar_assignments', 'central_classifications'] as const

/**
 * Empties the projections and folds each gateway's log again in its order (epoch, seq), in batches
 * of `batchSize` as a push would bring them, in one transaction: readers see the old rows or the new.
 */
export async function rebuildCentralProjections(orm: CloudOrm, batchSize = 2000): Promise<{ events: number }> {
  return orm.transaction(async (tx) => {
    const db = tx as unknown as CloudOrm
    await db.execute(sql.raw(`TRUNCATE ${projectionTables.join(', ')}`))
    const e = schema.events
    let total = 0
    for (const { id } of await db.select({ id: schema.gateways.id }).from(schema.gateways).orderBy(asc(schema.gateways.id))) {
      let after = { epoch: 0, seq: 0 }
      for (;;) {
        const rows = await db
          .select()
          .from(e)
          .where(and(eq(e.gatewayId, id), or(gt(e.epoch, after.epoch), and(eq(e.epoch, after.epoch), gt(e.seq, after.seq)))))
          .orderBy(asc(e.epoch), asc(e.seq))
          .limit(batchSize)
        if (rows.length === 0) break
        await foldBatch(db, id, rows.map(({ gatewayId: _g, epoch: _e, ...event }) => event))
        total += rows.length
        const last = rows.at(-1)!
        after = { epoch: last.epoch, seq: last.seq }
      }
    }
    return { events: total }
  })
}
