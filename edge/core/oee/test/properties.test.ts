// Properties on seeded random timelines: A × P × Q identity, the loss tree, buckets = raw, late arrivals = in order.
import { isDeepStrictEqual } from 'node:util'
import t from 'tap'
import { applyDelta, bucketsFrom, bucketUnits, computeOeeFromBuckets, countDelta, edgeIntervals, edgeRanges, rollUp, tailIntervals, timelineDeltas, type BucketOeeInput, type OeeBucket } from '../buckets.ts'
import { plannedPeriods } from '../calendar.ts'
import { oeeByOrder, oeeByShift, type OrderWindow } from '../grouping.ts'
import { computeOee, type OeeInput } from '../oee.ts'
import { contextFor, contextForRange, sortChanges, timeline, type Classification, type StateChange, type TimelineEdit } from '../timeline.ts'
import { tree } from './fixture.ts'
import { random, randomCalendar, randomTimeline, type Random } from './generator.ts'

const DAY = 86_400_000
// Around both 2026 DST changes of Europe and the US, and an ordinary week.
const starts = ['2026-03-06T00:00:00Z', '2026-03-27T00:00:00Z', '2026-10-23T00:00:00Z', '2026-10-30T00:00:00Z', '2026-06-08T00:00:00Z'].map(Date.parse)
const SEEDS = 40

interface Case {
  raw: OeeInput
  changes: StateChange[]
  classifications: Classification[]
  until: number
  r: Random
}

function randomCase(seed: number, products: readonly (number | null)[]): Case {
  const r = random(seed)
  const from = r.pick(starts)
  const span = 3 * DAY
  const tl = randomTimeline(r, from, span, products)
  const until = Math.max(from + span, ...tl.changes.map((c) => c.at)) + r.int(1, 3_600_000)
  // Half the queries run up to now (the unsettled tail counts), half end earlier at an odd millisecond.
  const end = r.chance(0.5) ? until : from + 2 * DAY + r.int(0, DAY)
  const periods = plannedPeriods(randomCalendar(r, from), from, Math.min(end, until))
  const raw: OeeInput = {
    periods,
    intervals: timeline(tl.changes, tl.classifications, until),
    counts: tl.counts,
    workCenterRatedCycleTimeS: r.chance(0.8) ? 3 : null,
    microStopThresholdMs: r.pick([0, 30_000, 120_000, 300_000]),
    reasons: tree,
  }
  return { raw, changes: tl.changes, classifications: tl.classifications, until, r }
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b))

t.test('A × P × Q = good count × ideal cycle time / planned production time (one product)', async (t) => {
  let checked = 0
  for (let seed = 1; seed <= SEEDS; seed++) {
    const { raw } = randomCase(seed, [2.5])
    const r = computeOee(raw)
    if (r.availability === null || r.performance === null || r.quality === null) continue
    checked++
    t.ok(close(r.availability * r.performance * r.quality, (r.counts.good * 2.5 * 1000) / r.plannedMs), `seed ${seed}`)
    t.equal(r.quality, r.counts.good / r.counts.total, `seed ${seed}: quality is exactly good / total`)
    t.ok(close(r.oee!, (r.counts.good * 2500) / r.plannedMs), `seed ${seed}: OEE`)
  }
  t.ok(checked > SEEDS / 2, `${checked} timelines had all three factors`)
})

t.test('A × P × Q = fully productive time / planned production time (mixed products, some at the rated speed)', async (t) => {
  for (let seed = 101; seed <= 100 + SEEDS; seed++) {
    const { raw } = randomCase(seed, [1, 2.5, 0.7, null])
    const r = computeOee(raw)
    if (r.availability === null || r.performance === null || r.quality === null || r.fullyProductiveMs === null) continue
    t.ok(close(r.availability * r.performance * r.quality, r.fullyProductiveMs / r.plannedMs), `seed ${seed}`)
    t.ok(r.quality <= 1 && r.availability <= 1, `seed ${seed}: quality and availability never above 1`)
  }
})

t.test('the loss tree adds up', async (t) => {
  for (let seed = 201; seed <= 200 + SEEDS; seed++) {
    const { raw } = randomCase(seed, [1, 2.5])
    const r = computeOee(raw)
    const sum = (list: { ms: number }[]) => list.reduce((s, l) => s + l.ms, 0)
    t.equal(r.scheduledMs, r.plannedMs + r.losses.planned.ms, `seed ${seed}: scheduled = planned + planned stops`)
    t.equal(r.plannedMs, r.runMs + r.losses.availability.ms, `seed ${seed}: planned = run + availability losses`)
    t.equal(r.losses.availability.ms, sum(r.losses.availability.byReason), `seed ${seed}: availability by reason`)
    t.equal(r.losses.performance.smallStopsMs, sum(r.losses.performance.smallStopsByReason), `seed ${seed}: small stops by reason`)
    if (r.idealMs !== null) t.ok(close(r.losses.performance.ms! + r.idealMs, r.runMs), `seed ${seed}: run = ideal + performance loss`)
    if (r.fullyProductiveMs !== null) t.ok(close(r.losses.quality.ms! + r.fullyProductiveMs, r.idealMs!), `seed ${seed}: ideal = fully productive + quality loss`)
    t.equal(r.counts.reject, r.losses.quality.byReason.reduce((s, l) => s + l.count, 0), `seed ${seed}: rejects by reason`)
  }
})

function projection(changes: readonly StateChange[], classifications: readonly Classification[], counts: OeeInput['counts'], thresholdMs: number): Map<string, OeeBucket> {
  const minutes = bucketsFrom(timeline(changes, classifications), counts, thresholdMs)
  const store = new Map<string, OeeBucket>()
  const deltas = [...minutes].map(([start, b]) => ({ unit: 60_000, start, ...b }))
  for (const unit of bucketUnits) for (const d of rollUp(deltas, unit)) store.set(`${unit}/${d.start}`, { ms: d.ms, stops: d.stops, counts: d.counts })
  return store
}

function bucketInput(c: Case): BucketOeeInput {
  const store = projection(c.changes, c.classifications, c.raw.counts, c.raw.microStopThresholdMs)
  return { ...c.raw, bucket: (unit, start) => store.get(`${unit}/${start}`) }
}

t.test('OEE over buckets is exactly OEE over raw intervals', async (t) => {
  for (let seed = 301; seed <= 300 + SEEDS; seed++) {
    const c = randomCase(seed, [1, 2.5, null])
    t.same(computeOeeFromBuckets(bucketInput(c)), computeOee(c.raw), `seed ${seed}`)
  }
})

t.test('buckets plus only the raw data the store would read: the edges’ and the tail’s contexts', async (t) => {
  for (let seed = 351; seed <= 350 + SEEDS; seed++) {
    const c = randomCase(seed, [1, 2.5, null])
    const edges = edgeRanges(c.raw.periods)
    const intervals = [
      ...edges.flatMap((e) => edgeIntervals(contextForRange(c.changes, c.classifications, e.from, e.to), e)),
      ...tailIntervals(contextForRange(c.changes, c.classifications, c.until, c.until), c.until),
    ]
    const counts = c.raw.counts.filter((x) => edges.some((e) => x.at >= e.from && x.at < e.to))
    const tailMs = intervals.filter((iv) => !iv.settled).reduce((sum, iv) => sum + iv.to - iv.from, 0)
    t.same(computeOeeFromBuckets({ ...bucketInput(c), intervals, counts }), computeOee(c.raw), `seed ${seed}: ${edges.length} edges, ${intervals.length} raw intervals, tail ${tailMs} ms`)
  }
})

t.test('per shift and per order, buckets and raw agree', async (t) => {
  for (let seed = 401; seed <= 400 + SEEDS / 4; seed++) {
    const c = randomCase(seed, [1, 2.5])
    const b = bucketInput(c)
    t.same(oeeByShift({ ...b, periods: plannedPeriodsOf(c) }), oeeByShift({ ...c.raw, periods: plannedPeriodsOf(c) }), `seed ${seed}: by shift`)
    const windows = orderWindows(c)
    t.same(oeeByOrder(b, windows), oeeByOrder(c.raw, windows), `seed ${seed}: by order`)
  }
})

function plannedPeriodsOf(c: Case) {
  return c.raw.periods as ReturnType<typeof plannedPeriods>
}

// Orders ran in the thirds of the span the generator books counts to, at odd milliseconds.
function orderWindows(c: Case): OrderWindow[] {
  const orders = [...new Set(c.raw.counts.map((x) => x.orderId!))]
  return orders.map((orderId) => {
    const own = c.raw.counts.filter((x) => x.orderId === orderId)
    return { orderId, productId: own[0]!.productId!, from: own[0]!.at - 1234, to: own.at(-1)!.at + 4321 }
  })
}

t.test('late arrivals: applying each edit’s deltas in any order builds the buckets of the log in order', async (t) => {
  for (let seed = 501; seed <= 500 + SEEDS; seed++) {
    const c = randomCase(seed, [1, 2])
    const threshold = c.raw.microStopThresholdMs
    // State changes arrive shuffled; classifications keep their log order but land anywhere between them.
    const edits: TimelineEdit[] = c.r.shuffle(c.changes).map((change) => ({ kind: 'state', change }))
    for (const classification of c.classifications) edits.splice(c.r.int(0, edits.length), 0, { kind: 'classification', classification })
    const orderedCls = edits.flatMap((e) => (e.kind === 'classification' ? [e.classification] : []))
    const seen: StateChange[] = []
    const seenCls: Classification[] = []
    const buckets = new Map<number, OeeBucket>()
    const apply = (d: { start: number } & OeeBucket) => {
      const next = applyDelta(buckets.get(d.start), d)
      if (next) buckets.set(d.start, next)
      else buckets.delete(d.start)
    }
    for (const edit of edits) {
      for (const d of timelineDeltas(contextFor(seen, seenCls, edit), edit, threshold)) apply(d)
      if (edit.kind === 'state') seen.push(edit.change)
      else seenCls.push(edit.classification)
    }
    for (const count of c.r.shuffle(c.raw.counts)) apply(countDelta(count))
    const bulk = bucketsFrom(timeline(c.changes, orderedCls), c.raw.counts, threshold)
    // tap's deep compare of thousands of buckets is slow: compare first, and let it print a diff only when they differ.
    if (isDeepStrictEqual(buckets, bulk)) t.pass(`seed ${seed}: ${edits.length} edits, ${bulk.size} buckets`)
    else t.same(buckets, bulk, `seed ${seed}: ${edits.length} edits`)
    t.same(timeline(c.r.shuffle(c.changes), orderedCls, c.until), timeline(sortChanges(c.changes), orderedCls, c.until), `seed ${seed}: the timeline itself`)
  }
})
