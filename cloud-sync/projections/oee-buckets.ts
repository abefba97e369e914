// The central OEE bucket store: state-timeline contexts read for a batch, bucket deltas applied with one read and one write per batch.
import { and, eq, sql } from 'drizzle-orm'
import { canonicalJson } from '../../edge/core/canonical-json.ts'
import type { MachineState } from '../../edge/core/model.ts'
import { applyDelta, bucketsFrom, bucketUnits, rollUp, type BucketDelta, type OeeBucket } from '../../edge/core/oee/buckets.ts'
import type { ProductionCount } from '../../edge/core/oee/oee.ts'
import { timeline, type Classification, type StateChange, type TimelineContext } from '../../edge/core/oee/timeline.ts'
import { MINUTE_MS } from '../../edge/core/oee/zone.ts'
import type { CloudOrm } from '../database.ts'
import * as schema from '../schema.ts'
import { inChunks, rowsOf } from './central-event.ts'

export interface ContextSpan {
  workCenterId: string
  t1: number
  t2: number
}

interface ChangeRow {
  workCenterId: string
  at: number
  seq: number
  state: string
  reason: string | null
}

const toChange = (r: ChangeRow): StateChange => ({ at: r.at, seq: r.seq, state: r.state as MachineState, reason: r.reason })

interface ClassificationRow {
  workCenterId: string
  from: number
  to: number | null
  reason: string
}

const toClassification = (r: ClassificationRow): Classification => ({ from: r.from, to: r.to, reason: r.reason })

/**
 * contextForRange (edge/core/oee/timeline.ts) for several work centers in two statements: the stored
 * changes from the last running change at or before t1 through the first running change after t2,
 * and the operators' classifications, in log order, that overlap that span.
 */
export async function readContexts(orm: CloudOrm, gatewayId: string, spans: readonly ContextSpan[]): Promise<Map<string, TimelineContext>> {
  const out = new Map<string, TimelineContext>(spans.map((s) => [s.workCenterId, { changes: [], classifications: [] }]))
  if (spans.length === 0) return out
  const values = sql.join(
    spans.map((s) => sql`(${s.workCenterId}::text, ${s.t1}::bigint, ${s.t2}::bigint)`),
    sql`, `,
  )
  const lo = sql`COALESCE((SELECT max(r.at_ms) FROM central_state_changes r WHERE r.gateway_id = ${gatewayId} AND r.work_center_id = s.wc AND r.state = 'running' AND r.at_ms <= s.t1), -9223372036854775807)`
  const hi = sql`COALESCE((SELECT min(r.at_ms) FROM central_state_changes r WHERE r.gateway_id = ${gatewayId} AND r.work_center_id = s.wc AND r.state = 'running' AND r.at_ms > s.t2), 9223372036854775807)`
  const rows = await rowsOf<ChangeRow>(
    orm,
    sql`SELECT c.work_center_id AS "workCenterId", c.at_ms::float8 AS at, c.seq::float8 AS seq, c.state, c.reason
        FROM central_state_changes c JOIN (VALUES ${values}) AS s(wc, t1, t2) ON c.gateway_id = ${gatewayId} AND c.work_center_id = s.wc
        WHERE c.at_ms >= ${lo} AND c.at_ms <= ${hi}
        ORDER BY c.work_center_id, c.at_ms, c.seq`,
  )
  for (const r of rows) out.get(r.workCenterId)!.changes.push(toChange(r))
  const classified = await rowsOf<ClassificationRow>(
    orm,
    sql`SELECT k.work_center_id AS "workCenterId", k.from_ms::float8 AS "from", k.to_ms::float8 AS "to", k.reason
        FROM central_classifications k JOIN (VALUES ${values}) AS s(wc, t1, t2) ON k.gateway_id = ${gatewayId} AND k.work_center_id = s.wc
        WHERE k.from_ms <= ${hi} AND (k.to_ms IS NULL OR k.to_ms >= ${lo})
        ORDER BY k.work_center_id, k.seq, k.idx`,
  )
  for (const r of classified) out.get(r.workCenterId)!.classifications.push(toClassification(r))
  return out
}

function negate(b: OeeBucket | undefined): OeeBucket {
  const out: OeeBucket = { ms: {}, stops: {}, counts: {} }
  if (!b) return out
  for (const k in b.ms) out.ms[k] = -b.ms[k]!
  for (const k in b.stops) out.stops[k] = -b.stops[k]!
  for (const k in b.counts) out.counts[k] = [-b.counts[k]![0], -b.counts[k]![1]]
  return out
}

/**
 * The minute deltas from the timeline of a context to the timeline of the same context with the
 * batch's changes in it: timelineDeltas for many edits at once, since the untouched parts cancel out.
 */
export function timelineDifference(before: readonly StateChange[], after: readonly StateChange[], microStopThresholdMs: number, classifications: readonly Classification[] = []): BucketDelta[] {
  const old = bucketsFrom(timeline(before, classifications), [], microStopThresholdMs)
  const next = bucketsFrom(timeline(after, classifications), [], microStopThresholdMs)
  const out: BucketDelta[] = []
  for (const start of [...new Set([...old.keys(), ...next.keys()])].sort((a, b) => a - b)) {
    const d = applyDelta(next.get(start), negate(old.get(start)))
    if (d) out.push({ unit: MINUTE_MS, start, ...d })
  }
  return out
}

interface BucketRow {
  workCenterId: string
  unit: number
  start: number
  ms: string
  stops: string
  counts: string
}

const keyOf = (wc: string, unit: number, start: number) => `${wc}\u0000${unit}\u0000${start}`
const columns = (b: OeeBucket) => ({ ms: canonicalJson(b.ms), stops: canonicalJson(b.stops), counts: canonicalJson(b.counts) })
const keyTuples = (keys: readonly { workCenterId: string; unit: number; start: number }[]) =>
  sql.join(
    keys.map((k) => sql`(${k.workCenterId}::text, ${k.unit}::bigint, ${k.start}::bigint)`),
    sql`, `,
  )

/** Adds minute deltas per work center to every bucket unit: one read of the rows touched, one upsert, one delete of rows left empty. */
export async function applyBucketDeltas(orm: CloudOrm, gatewayId: string, minuteDeltas: ReadonlyMap<string, readonly BucketDelta[]>): Promise<void> {
  const wanted = new Map<string, { workCenterId: string; unit: number; start: number; delta: BucketDelta }>()
  for (const [workCenterId, minutes] of minuteDeltas) {
    if (minutes.length === 0) continue
    for (const unit of bucketUnits) for (const d of rollUp(minutes, unit)) wanted.set(keyOf(workCenterId, unit, d.start), { workCenterId, unit, start: d.start, delta: d })
  }
  if (wanted.size === 0) return
  const keys = [...wanted.values()]
  const stored = new Map<string, OeeBucket>()
  await inChunks(keys, 2000, async (slice) => {
    const rows = await rowsOf<BucketRow>(
      orm,
      sql`SELECT work_center_id AS "workCenterId", unit::float8 AS unit, start::float8 AS start, ms, stops, counts FROM central_oee_buckets
          WHERE gateway_id = ${gatewayId} AND (work_center_id, unit, start) IN (${keyTuples(slice)})`,
    )
    for (const r of rows) stored.set(keyOf(r.workCenterId, r.unit, r.start), { ms: JSON.parse(r.ms), stops: JSON.parse(r.stops), counts: JSON.parse(r.counts) })
  })
  const upserts: (typeof schema.centralOeeBuckets.$inferInsert)[] = []
  const emptied: typeof keys = []
  for (const [key, k] of wanted) {
    const next = applyDelta(stored.get(key), k.delta)
    if (next) upserts.push({ gatewayId, workCenterId: k.workCenterId, unit: k.unit, start: k.start, ...columns(next) })
    else if (stored.has(key)) emptied.push(k)
  }
  const b = schema.centralOeeBuckets
  await inChunks(upserts, 1000, (rows) =>
    orm
      .insert(b)
      .values(rows)
      .onConflictDoUpdate({ target: [b.gatewayId, b.workCenterId, b.unit, b.start], set: { ms: sql`excluded.ms`, stops: sql`excluded.stops`, counts: sql`excluded.counts` } }),
  )
  await inChunks(emptied, 2000, (slice) => orm.execute(sql`DELETE FROM central_oee_buckets WHERE gateway_id = ${gatewayId} AND (work_center_id, unit, start) IN (${keyTuples(slice)})`))
}

interface CountRow {
  at: number
  good: number
  reject: number
  idealCycleTimeS: number | null
  productId: string | null
  orderId: string | null
  scrapReason: string | null
}

export function toCount(r: CountRow): ProductionCount {
  const c: ProductionCount = { at: r.at, good: r.good, reject: r.reject, idealCycleTimeS: r.idealCycleTimeS }
  if (r.productId !== null) c.productId = r.productId
  if (r.orderId !== null) c.orderId = r.orderId
  if (r.scrapReason !== null) c.scrapReason = r.scrapReason
  return c
}

/** Counts of a work center in [from, to) (all of them without a range). */
export async function readCounts(orm: CloudOrm, gatewayId: string, workCenterId: string, range?: { from: number; to: number }): Promise<ProductionCount[]> {
  const within = range ? sql`AND at_ms >= ${range.from}::bigint AND at_ms < ${range.to}::bigint` : sql``
  const rows = await rowsOf<CountRow>(
    orm,
    sql`SELECT at_ms::float8 AS at, good, reject, ideal_cycle_time_s AS "idealCycleTimeS", product_id AS "productId", order_id AS "orderId", scrap_reason AS "scrapReason"
        FROM central_counts WHERE gateway_id = ${gatewayId} AND work_center_id = ${workCenterId} ${within} ORDER BY at_ms, event_id, idx`,
  )
  return rows.map(toCount)
}

/** A work center's buckets anew from its whole timeline, classifications and counts: when its micro-stop threshold, baked into the buckets, changes, or an operator classifies downtime. */
export async function rebuildWorkCenterBuckets(orm: CloudOrm, gatewayId: string, workCenterId: string, microStopThresholdMs: number): Promise<void> {
  const b = schema.centralOeeBuckets
  await orm.delete(b).where(and(eq(b.gatewayId, gatewayId), eq(b.workCenterId, workCenterId)))
  const changes = await rowsOf<ChangeRow>(
    orm,
    sql`SELECT work_center_id AS "workCenterId", at_ms::float8 AS at, seq::float8 AS seq, state, reason FROM central_state_changes WHERE gateway_id = ${gatewayId} AND work_center_id = ${workCenterId} ORDER BY at_ms, seq`,
  )
  const classified = await rowsOf<ClassificationRow>(
    orm,
    sql`SELECT work_center_id AS "workCenterId", from_ms::float8 AS "from", to_ms::float8 AS "to", reason FROM central_classifications WHERE gateway_id = ${gatewayId} AND work_center_id = ${workCenterId} ORDER BY seq, idx`,
  )
  const minutes = bucketsFrom(timeline(changes.map(toChange), classified.map(toClassification)), await readCounts(orm, gatewayId, workCenterId), microStopThresholdMs)
  const deltas = [...minutes].sort(([x], [y]) => x - y).map(([start, bucket]) => ({ unit: MINUTE_MS, start, ...bucket }))
  await applyBucketDeltas(orm, gatewayId, new Map([[workCenterId, deltas]]))
}
