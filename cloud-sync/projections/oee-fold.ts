// Central OEE folded per batch: operations, runs, machine states and counts of every work center, and their buckets.
import { and, eq, gte, inArray, sql } from 'drizzle-orm'
import { countDelta, type BucketDelta } from '../../edge/core/oee/buckets.ts'
import { defaultReasons } from '../../edge/core/oee/default-reasons.ts'
import type { ReasonCode } from '../../edge/core/oee/reasons.ts'
import type { StateChange } from '../../edge/core/oee/timeline.ts'
import { defaultMicroStopThresholdMs } from '../../edge/store/oee-timeline.ts'
import type { CloudOrm } from '../database.ts'
import * as schema from '../schema.ts'
import { inChunks, rowsOf, type CentralEvent } from './central-event.ts'
import { applyBucketDeltas, readContexts, rebuildWorkCenterBuckets, timelineDifference } from './oee-buckets.ts'
import { opKey, OeeBatch, type CountRow, type Operation, type Run, type WorkCenter } from './oee-batch.ts'

/** A gateway's reason tree as the cloud holds it: its own once defined, the shipped one before. */
export async function reasonsOf(orm: CloudOrm, gatewayId: string): Promise<ReasonCode[]> {
  const [row] = await orm.select({ reasons: schema.centralReasonCodes.reasons }).from(schema.centralReasonCodes).where(eq(schema.centralReasonCodes.gatewayId, gatewayId))
  return row ? (JSON.parse(row.reasons) as ReasonCode[]) : [...defaultReasons]
}

/** What the batch refers to, read once: runs, the operations of its orders, work centers, the reason tree. */
async function readReferenced(orm: CloudOrm, gatewayId: string, events: readonly CentralEvent[]) {
  const runIds = new Set<string>()
  const orderIds = new Set<string>()
  for (const e of events) {
    if (e.type === 'MachineCounted') {
      if (e.data.runId !== null) runIds.add(e.data.runId)
      if (e.data.orderId !== null) orderIds.add(e.data.orderId)
    } else if (e.type === 'OperationCompleted') {
      runIds.add(e.data.runId)
      orderIds.add(e.data.orderId)
    } else if (e.type === 'OperationPaused' || e.type === 'OperationResumed') runIds.add(e.data.runId)
    else if (e.type === 'OperationStarted') orderIds.add(e.data.orderId)
  }
  const runs = new Map<string, Run>()
  const operations = new Map<string, Operation>()
  const r = schema.centralRuns
  await inChunks([...runIds], 5000, async (ids) => {
    for (const row of await orm.select().from(r).where(and(eq(r.gatewayId, gatewayId), inArray(r.runId, ids)))) runs.set(row.runId, row)
  })
  for (const run of runs.values()) orderIds.add(run.orderId)
  const o = schema.centralOperations
  await inChunks([...orderIds], 5000, async (ids) => {
    for (const row of await orm.select().from(o).where(and(eq(o.gatewayId, gatewayId), inArray(o.orderId, ids)))) operations.set(opKey(row.orderId, row.opSeq), row)
  })
  const products = new Map<string, string>()
  const ord = schema.orders
  await inChunks([...orderIds], 5000, async (ids) => {
    for (const row of await orm.select({ orderId: ord.orderId, productId: ord.productId }).from(ord).where(and(eq(ord.gatewayId, gatewayId), inArray(ord.orderId, ids)))) products.set(row.orderId, row.productId)
  })
  const w = schema.centralWorkCenters
  const workCenters = new Map<string, WorkCenter>()
  for (const row of await orm.select().from(w).where(eq(w.gatewayId, gatewayId))) workCenters.set(row.workCenterId, row)
  // Where operators' actions are the timeline: the open runs at those work centers and their last state.
  const operated = new Set<string>()
  for (const e of events) if (e.type === 'OperationStarted') operated.add(e.data.workCenterId)
  for (const run of runs.values()) operated.add(run.workCenterId)
  for (const id of [...operated]) if (workCenters.get(id)?.machineReports) operated.delete(id)
  const lastState = new Map<string, { at: number; state: string }>()
  if (operated.size > 0) {
    const ids = [...operated]
    for (const row of await orm.select().from(r).where(and(eq(r.gatewayId, gatewayId), inArray(r.workCenterId, ids), inArray(r.state, ['running', 'paused'])))) if (!runs.has(row.runId)) runs.set(row.runId, row)
    const last = await rowsOf<{ workCenterId: string; at: number; state: string }>(
      orm,
      sql`SELECT DISTINCT ON (work_center_id) work_center_id AS "workCenterId", at_ms::float8 AS at, state FROM central_state_changes
          WHERE gateway_id = ${gatewayId} AND work_center_id IN (${sql.join(ids.map((id) => sql`${id}`), sql`, `)}) ORDER BY work_center_id, at_ms DESC, seq DESC`,
    )
    for (const row of last) lastState.set(row.workCenterId, row)
  }
  return { runs, operations, products, workCenters, lastState, reasons: await reasonsOf(orm, gatewayId) }
}

/**
 * Folds one batch: the events in log order against what they refer to (OeeBatch), then a handful
 * of writes. A work center's state changes in the batch change its buckets by the difference of its
 * timeline context without and with them; a new micro-stop threshold, or a machine's first state
 * over stored operator-entered ones, or an operator's downtime classification rebuilds the work
 * center's buckets.
 */
export async function foldOee(orm: CloudOrm, gatewayId: string, events: readonly CentralEvent[]): Promise<void> {
  if (events.length === 0) return
  const referenced = await readReferenced(orm, gatewayId, events)
  const batch = new OeeBatch(referenced)
  for (const e of events) batch.fold(e)
  await writeDefinitions(orm, gatewayId, { ...batch, runs: referenced.runs, workCenters: referenced.workCenters })
  // Operator-entered states already stored from the machine's first state on: removed, and the work center's buckets rebuilt.
  for (const [workCenterId, from] of batch.supersededFrom) {
    const c = schema.centralStateChanges
    const gone = await orm
      .delete(c)
      .where(and(eq(c.gatewayId, gatewayId), eq(c.workCenterId, workCenterId), gte(c.atMs, from)))
      .returning({ id: c.eventId })
    if (gone.length > 0) batch.rebuild.add(workCenterId)
  }
  const cl = schema.centralClassifications
  await inChunks(batch.classifications, 1000, (rows) =>
    orm
      .insert(cl)
      .values(rows.map((c) => ({ gatewayId, seq: c.seq, idx: c.idx, workCenterId: c.workCenterId, fromMs: c.from, toMs: c.to, reason: c.reason })))
      .onConflictDoNothing(),
  )
  await foldTimeline(orm, gatewayId, batch.changes, batch.counts, referenced.workCenters, batch.rebuild)
}

async function writeDefinitions(
  orm: CloudOrm,
  gatewayId: string,
  w: { newOperations: Map<string, Operation & { orderId: string; opSeq: number }>; runs: Map<string, Run>; touchedRuns: Set<string>; workCenters: Map<string, WorkCenter>; touchedWorkCenters: Set<string>; newReasons: ReasonCode[] | null },
): Promise<void> {
  const o = schema.centralOperations
  await inChunks([...w.newOperations.values()], 1000, (rows) =>
    orm
      .insert(o)
      .values(rows.map((r) => ({ gatewayId, ...r })))
      .onConflictDoUpdate({ target: [o.gatewayId, o.orderId, o.opSeq], set: { workCenterId: sql`excluded.work_center_id`, productId: sql`excluded.product_id`, idealCycleTimeS: sql`excluded.ideal_cycle_time_s` } }),
  )
  const r = schema.centralRuns
  await inChunks([...w.touchedRuns], 1000, (ids) =>
    orm
      .insert(r)
      .values(ids.map((runId) => ({ gatewayId, runId, ...w.runs.get(runId)! })))
      .onConflictDoUpdate({ target: [r.gatewayId, r.runId], set: { state: sql`excluded.state`, machineCounted: sql`excluded.machine_counted` } }),
  )
  const wc = schema.centralWorkCenters
  await inChunks([...w.touchedWorkCenters], 1000, (ids) =>
    orm
      .insert(wc)
      .values(ids.map((workCenterId) => ({ gatewayId, workCenterId, ...w.workCenters.get(workCenterId)! })))
      .onConflictDoUpdate({ target: [wc.gatewayId, wc.workCenterId], set: { ratedCycleTimeS: sql`excluded.rated_cycle_time_s`, microStopThresholdMs: sql`excluded.micro_stop_threshold_ms`, machineReports: sql`excluded.machine_reports`, parentId: sql`excluded.parent_id` } }),
  )
  if (w.newReasons) {
    const rc = schema.centralReasonCodes
    await orm
      .insert(rc)
      .values({ gatewayId, reasons: JSON.stringify(w.newReasons) })
      .onConflictDoUpdate({ target: rc.gatewayId, set: { reasons: sql`excluded.reasons` } })
  }
}

async function foldTimeline(orm: CloudOrm, gatewayId: string, changes: (StateChange & { eventId: string; workCenterId: string })[], counts: CountRow[], workCenters: Map<string, WorkCenter>, rebuild: Set<string>): Promise<void> {
  const threshold = (id: string) => workCenters.get(id)?.microStopThresholdMs ?? defaultMicroStopThresholdMs
  const byWorkCenter = new Map<string, StateChange[]>()
  for (const c of changes) {
    if (rebuild.has(c.workCenterId)) continue
    const list = byWorkCenter.get(c.workCenterId) ?? []
    list.push(c)
    byWorkCenter.set(c.workCenterId, list)
  }
  // The contexts are read before the batch's changes are stored: the timeline without them.
  const spans = [...byWorkCenter].map(([workCenterId, list]) => ({ workCenterId, t1: Math.min(...list.map((c) => c.at)), t2: Math.max(...list.map((c) => c.at)) }))
  const contexts = await readContexts(orm, gatewayId, spans)
  // The two tables a busy line fills fastest: one INSERT from column arrays each (unnest), as ingest stores the events.
  const column = <T, V>(rows: readonly T[], pick: (row: T) => V) => sql.param(rows.map(pick))
  if (changes.length > 0) {
    await orm.execute(sql`
      INSERT INTO central_state_changes (gateway_id, event_id, seq, work_center_id, at_ms, state, reason)
      SELECT ${gatewayId}, * FROM unnest(${column(changes, (c) => c.eventId)}::text[], ${column(changes, (c) => c.seq!)}::bigint[], ${column(changes, (c) => c.workCenterId)}::text[],
        ${column(changes, (c) => c.at)}::bigint[], ${column(changes, (c) => c.state)}::text[], ${column(changes, (c) => c.reason ?? null)}::text[])
      ON CONFLICT DO NOTHING`)
  }
  if (counts.length > 0) {
    await orm.execute(sql`
      INSERT INTO central_counts (gateway_id, event_id, idx, work_center_id, at_ms, good, reject, ideal_cycle_time_s, product_id, order_id, scrap_reason)
      SELECT ${gatewayId}, * FROM unnest(${column(counts, (c) => c.eventId)}::text[], ${column(counts, (c) => c.idx)}::int[], ${column(counts, (c) => c.workCenterId)}::text[],
        ${column(counts, (c) => c.at)}::bigint[], ${column(counts, (c) => c.good)}::float8[], ${column(counts, (c) => c.reject)}::float8[],
        ${column(counts, (c) => c.idealCycleTimeS)}::float8[], ${column(counts, (c) => c.productId ?? null)}::text[], ${column(counts, (c) => c.orderId ?? null)}::text[],
        ${column(counts, (c) => c.scrapReason ?? null)}::text[])
      ON CONFLICT DO NOTHING`)
  }
  const deltas = new Map<string, BucketDelta[]>()
  for (const [workCenterId, list] of byWorkCenter) {
    const before = contexts.get(workCenterId) ?? { changes: [], classifications: [] }
    deltas.set(workCenterId, timelineDifference(before.changes, [...before.changes, ...list], threshold(workCenterId), before.classifications))
  }
  for (const c of counts) {
    if (rebuild.has(c.workCenterId)) continue
    const list = deltas.get(c.workCenterId) ?? []
    list.push(countDelta(c))
    deltas.set(c.workCenterId, list)
  }
  await applyBucketDeltas(orm, gatewayId, deltas)
  for (const workCenterId of rebuild) await rebuildWorkCenterBuckets(orm, gatewayId, workCenterId, threshold(workCenterId))
}
