// The incremental OEE aggregate: per-minute buckets (rolled up to coarser ones) a projection keeps as changes arrive.
import { emptyTotals, addCountLine, addCounts, addIntervals, countMatches, resolveCycleTime, timeKey, type OeeSettings, type OeeTotals, type ProductionCount } from './oee.ts'
import { totalMs, type Range } from './ranges.ts'
import { oeeFromTotals, type OeeResult } from './result.ts'
import { isSmallStop, timeline, type StateInterval, type TimelineContext, type TimelineEdit } from './timeline.ts'
import { MINUTE_MS } from './zone.ts'

/** Bucket sizes, coarsest first; every bucket starts on a multiple of its size in UTC epoch ms. */
export const bucketUnits: readonly number[] = [86_400_000, 3_600_000, 900_000, MINUTE_MS]

/**
 * What a bucket holds: settled time and counts inside [start, start + unit). Time lines are keyed
 * JSON [state, reason, small stop], count lines JSON [ideal cycle time s | null, product | null,
 * order | null, scrap reason | null]. The micro-stop threshold is baked into the time lines: a
 * projection serves one threshold, and changing it means rebuilding the buckets from the event log.
 */
export interface OeeBucket {
  ms: Record<string, number>
  /** Stops starting in the bucket. */
  stops: Record<string, number>
  /** [good, reject]. */
  counts: Record<string, [number, number]>
}

/** A change to add to one bucket (and, rolled up, to the coarser buckets holding it). */
export interface BucketDelta extends OeeBucket {
  unit: number
  start: number
}

function floorTo(ms: number, unit: number): number {
  return ms - (((ms % unit) + unit) % unit)
}

function bucketIn(map: Map<number, OeeBucket>, start: number): OeeBucket {
  let b = map.get(start)
  if (!b) {
    b = { ms: {}, stops: {}, counts: {} }
    map.set(start, b)
  }
  return b
}

function addInterval(map: Map<number, OeeBucket>, iv: StateInterval, microStopThresholdMs: number, sign: number): void {
  const key = timeKey(iv.state, iv.reason, isSmallStop(iv, microStopThresholdMs))
  for (let m = floorTo(iv.from, MINUTE_MS); m < iv.to; m += MINUTE_MS) {
    const b = bucketIn(map, m)
    b.ms[key] = (b.ms[key] ?? 0) + sign * (Math.min(iv.to, m + MINUTE_MS) - Math.max(iv.from, m))
  }
  if (iv.stopStart) {
    const b = bucketIn(map, floorTo(iv.from, MINUTE_MS))
    b.stops[key] = (b.stops[key] ?? 0) + sign
  }
}

export function countKey(c: Pick<ProductionCount, 'idealCycleTimeS' | 'productId' | 'orderId' | 'scrapReason'>): string {
  return JSON.stringify([c.idealCycleTimeS ?? null, c.productId ?? null, c.orderId ?? null, c.scrapReason ?? null])
}

function addCount(map: Map<number, OeeBucket>, c: ProductionCount): void {
  const b = bucketIn(map, floorTo(c.at, MINUTE_MS))
  const key = countKey(c)
  const line = b.counts[key] ?? [0, 0]
  b.counts[key] = [line[0] + c.good, line[1] + c.reject]
}

/** Minute buckets built at once from a timeline's settled intervals and the counts (a projection rebuilt from the log). */
export function bucketsFrom(intervals: readonly StateInterval[], counts: readonly ProductionCount[], microStopThresholdMs: number): Map<number, OeeBucket> {
  const map = new Map<number, OeeBucket>()
  for (const iv of intervals) if (iv.settled) addInterval(map, iv, microStopThresholdMs, 1)
  for (const c of counts) addCount(map, c)
  // The same normal form as applyDelta's: no zero lines, no empty buckets.
  for (const [start, b] of map) {
    const clean = dropZeros(b)
    if (isEmpty(clean)) map.delete(start)
    else map.set(start, clean)
  }
  return map
}

function isEmpty(b: OeeBucket): boolean {
  return Object.keys(b.ms).length === 0 && Object.keys(b.stops).length === 0 && Object.keys(b.counts).length === 0
}

function dropZeros(b: OeeBucket): OeeBucket {
  const keep = <V>(rec: Record<string, V>, zero: (v: V) => boolean) => Object.fromEntries(Object.entries(rec).filter(([, v]) => !zero(v)))
  return { ms: keep(b.ms, (v) => v === 0), stops: keep(b.stops, (v) => v === 0), counts: keep(b.counts, ([g, r]) => g === 0 && r === 0) }
}

function deltasOf(map: Map<number, OeeBucket>): BucketDelta[] {
  const out: BucketDelta[] = []
  for (const [start, b] of [...map.entries()].sort(([a], [c]) => a - c)) {
    const clean = dropZeros(b)
    if (!isEmpty(clean)) out.push({ unit: MINUTE_MS, start, ...clean })
  }
  return out
}

/**
 * The minute-bucket changes an edit makes: a state change (in order or late) or an operator
 * classification. `context` is the timeline around the edit without it (contextFor tells what to
 * read); the timeline of the context is rebuilt with and without the edit and the settled parts
 * compared, so intervals the edit does not reach cancel out exactly.
 */
export function timelineDeltas(context: TimelineContext, edit: TimelineEdit, microStopThresholdMs: number): BucketDelta[] {
  const changes = edit.kind === 'state' ? [...context.changes, edit.change] : context.changes
  const classifications = edit.kind === 'classification' ? [...context.classifications, edit.classification] : context.classifications
  const map = new Map<number, OeeBucket>()
  for (const iv of timeline(context.changes, context.classifications)) if (iv.settled) addInterval(map, iv, microStopThresholdMs, -1)
  for (const iv of timeline(changes, classifications)) if (iv.settled) addInterval(map, iv, microStopThresholdMs, 1)
  return deltasOf(map)
}

/** The minute-bucket change a count makes (late or not; a correction is a count with negative units). */
export function countDelta(count: ProductionCount): BucketDelta {
  const map = new Map<number, OeeBucket>()
  addCount(map, count)
  const [start, b] = [...map.entries()][0]!
  return { unit: MINUTE_MS, start, ...b }
}

/** A bucket with a delta added; undefined when nothing is left (the row can go). */
export function applyDelta(bucket: OeeBucket | undefined, delta: OeeBucket): OeeBucket | undefined {
  const next: OeeBucket = { ms: { ...bucket?.ms }, stops: { ...bucket?.stops }, counts: { ...bucket?.counts } }
  for (const [k, v] of Object.entries(delta.ms)) next.ms[k] = (next.ms[k] ?? 0) + v
  for (const [k, v] of Object.entries(delta.stops)) next.stops[k] = (next.stops[k] ?? 0) + v
  for (const [k, [g, r]] of Object.entries(delta.counts)) {
    const line = next.counts[k] ?? [0, 0]
    next.counts[k] = [line[0] + g, line[1] + r]
  }
  const clean = dropZeros(next)
  return isEmpty(clean) ? undefined : clean
}

/** Minute deltas summed into deltas for buckets of a coarser unit, one per bucket touched. */
export function rollUp(deltas: readonly BucketDelta[], unit: number): BucketDelta[] {
  const map = new Map<number, OeeBucket>()
  for (const d of deltas) {
    const b = bucketIn(map, floorTo(d.start, unit))
    for (const k in d.ms) b.ms[k] = (b.ms[k] ?? 0) + d.ms[k]!
    for (const k in d.stops) b.stops[k] = (b.stops[k] ?? 0) + d.stops[k]!
    for (const k in d.counts) {
      const [g, r] = d.counts[k]!
      const line = b.counts[k]
      b.counts[k] = line ? [line[0] + g, line[1] + r] : [g, r]
    }
  }
  return deltasOf(map).map((d) => ({ ...d, unit }))
}

/**
 * How a range is read: the fewest whole buckets over its whole minutes, and the sub-minute edges
 * that must come from raw intervals and counts. Shifts, breaks and DST changes fall on whole
 * minutes (every zone's offsets are whole minutes since 1975, see zone.test.ts); planned downtime
 * instants, order windows and "now" need not, and a pre-1972 Liberian shift did not.
 */
export function coverRange(from: number, to: number): { buckets: { unit: number; start: number }[]; edges: Range[] } {
  const a = Math.ceil(from / MINUTE_MS) * MINUTE_MS
  const b = floorTo(to, MINUTE_MS)
  if (a >= b) return { buckets: [], edges: to > from ? [{ from, to }] : [] }
  const edges: Range[] = []
  if (from < a) edges.push({ from, to: a })
  const buckets: { unit: number; start: number }[] = []
  for (let p = a; p < b; ) {
    const unit = bucketUnits.find((u) => p % u === 0 && p + u <= b) ?? MINUTE_MS
    buckets.push({ unit, start: p })
    p += unit
  }
  if (b < to) edges.push({ from: b, to })
  return { buckets, edges }
}

/** The sub-minute edges of the periods, for which the caller reads raw intervals and counts. */
export function edgeRanges(periods: readonly Range[]): Range[] {
  return periods.flatMap((p) => coverRange(p.from, p.to).edges)
}

/**
 * The raw intervals an edge needs: the settled part, inside the edge, of the timeline of the edge's
 * context (contextForRange(changes, classifications, edge.from, edge.to)). A piece cut at the edge's
 * start does not start a stop there. Edges are disjoint, so their pieces never count twice.
 */
export function edgeIntervals(context: TimelineContext, edge: Range): StateInterval[] {
  const out: StateInterval[] = []
  for (const iv of timeline(context.changes, context.classifications)) {
    if (!iv.settled || iv.to <= edge.from || iv.from >= edge.to) continue
    const from = Math.max(iv.from, edge.from)
    out.push({ ...iv, from, to: Math.min(iv.to, edge.to), stopStart: iv.stopStart && from === iv.from })
  }
  return out
}

/** The raw intervals not in buckets yet: the unsettled tail up to now, from the context of now (contextForRange(…, now, now)). */
export function tailIntervals(context: TimelineContext, now: number): StateInterval[] {
  return timeline(context.changes, context.classifications, now).filter((iv) => !iv.settled)
}

export interface BucketOeeInput extends OeeSettings {
  /** The projection's buckets, any unit of bucketUnits. */
  bucket(unit: number, start: number): OeeBucket | undefined
  /**
   * Raw intervals: edgeIntervals for each of edgeRanges(periods) and tailIntervals (or the whole
   * timeline up to now). Settled ones are used only on edges, unsettled ones wherever they fall.
   */
  intervals: readonly StateInterval[]
  /** Counts covering at least the edges; used only there. */
  counts: readonly ProductionCount[]
}

type CountLine = { skip: true } | { skip: false; ct: number | null; scrap: string | null }

function addBucket(totals: OeeTotals, bucket: OeeBucket | undefined, settings: OeeSettings, lines: Map<string, CountLine>): void {
  if (!bucket) return
  for (const k in bucket.ms) totals.time.set(k, (totals.time.get(k) ?? 0) + bucket.ms[k]!)
  for (const k in bucket.stops) totals.stops.set(k, (totals.stops.get(k) ?? 0) + bucket.stops[k]!)
  for (const k in bucket.counts) {
    let line = lines.get(k)
    if (!line) {
      const [ct, productId, orderId, scrap] = JSON.parse(k) as [number | null, string | null, string | null, string | null]
      line = countMatches(settings.only, productId, orderId) ? { skip: false, ct: resolveCycleTime(ct, settings.workCenterRatedCycleTimeS), scrap } : { skip: true }
      lines.set(k, line)
    }
    if (line.skip) continue
    const [g, r] = bucket.counts[k]!
    addCountLine(totals, line.ct, line.scrap, g, r)
  }
}

/** The same sums as oeeTotals, from buckets plus raw data on the edges and the unsettled tail. */
export function oeeTotalsFromBuckets(input: BucketOeeInput): OeeTotals {
  const totals = emptyTotals()
  totals.scheduledMs = totalMs(input.periods)
  const edges: Range[] = []
  const lines = new Map<string, CountLine>()
  for (const p of input.periods) {
    const cover = coverRange(p.from, p.to)
    edges.push(...cover.edges)
    for (const b of cover.buckets) addBucket(totals, input.bucket(b.unit, b.start), input, lines)
  }
  addIntervals(totals, input.intervals, edges, input.microStopThresholdMs, 'settled')
  addIntervals(totals, input.intervals, input.periods, input.microStopThresholdMs, 'unsettled')
  addCounts(totals, input.counts, edges, input.only, input.workCenterRatedCycleTimeS)
  return totals
}

/** computeOee over buckets: exactly the result computeOee gives over the raw timeline. */
export function computeOeeFromBuckets(input: BucketOeeInput): OeeResult {
  return oeeFromTotals(oeeTotalsFromBuckets(input), input.reasons)
}
