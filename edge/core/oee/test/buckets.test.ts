// The bucket aggregate: covering ranges, deltas for in-order and late changes, roll-ups, and OEE equal to the raw result.
import t from 'tap'
import type { MachineState } from '../../model.ts'
import { applyDelta, bucketsFrom, computeOeeFromBuckets, countDelta, coverRange, edgeRanges, rollUp, timelineDeltas, type OeeBucket } from '../buckets.ts'
import { computeOee, timeKey } from '../oee.ts'
import { contextFor, timeline, type StateChange } from '../timeline.ts'
import { at, count, dayInput, MIN, oneShift, state } from './fixture.ts'

const H = 60 * MIN
const c = (time: string, s: MachineState, reason: string | null = null): StateChange => state(time, s, reason)

t.test('covering a range with buckets and raw edges', async (t) => {
  const day = at('00:00')
  t.same(coverRange(day, day + 24 * H), { buckets: [{ unit: 24 * H, start: day }], edges: [] }, 'a whole UTC day')
  const shift = coverRange(at('06:00'), at('14:00'))
  t.same(shift.buckets.map((b) => b.unit / MIN), [60, 60, 60, 60, 60, 60, 60, 60])
  t.same(coverRange(at('06:07'), at('08:31')).buckets.map((b) => b.unit / MIN), [1, 1, 1, 1, 1, 1, 1, 1, 15, 15, 15, 60, 15, 15, 1], '06:07 … 06:15, quarters, an hour, quarters, 08:30')
  const odd = coverRange(at('06:00') + 250, at('06:03') + 500)
  t.same(odd.edges, [{ from: at('06:00') + 250, to: at('06:01') }, { from: at('06:03'), to: at('06:03') + 500 }], 'sub-minute edges come from raw data')
  t.same(odd.buckets, [{ unit: MIN, start: at('06:01') }, { unit: MIN, start: at('06:02') }])
  t.same(coverRange(at('06:00') + 10, at('06:00') + 20), { buckets: [], edges: [{ from: at('06:00') + 10, to: at('06:00') + 20 }] }, 'inside one minute')
  t.same(coverRange(at('06:00') + 10, at('06:01') + 20).edges, [{ from: at('06:00') + 10, to: at('06:01') + 20 }], 'no whole minute inside: one raw edge')
  t.same(coverRange(5, 5), { buckets: [], edges: [] })
  t.same(edgeRanges([{ from: at('06:00'), to: at('07:00') }, { from: at('08:00') + 1, to: at('09:00') }]), [{ from: at('08:00') + 1, to: at('08:01') }])
})

t.test('buckets built at once hold settled time per minute', async (t) => {
  const intervals = timeline([c('06:00', 'running'), c('06:00:30', 'down', 'failure.drive'), c('06:02:15', 'running'), c('06:03', 'down')])
  const map = bucketsFrom(intervals, [count('06:01:10', 5, 1, 2)], 60_000)
  const run = timeKey('running', null, false)
  const drive = timeKey('down', 'failure.drive', false)
  t.same(map.get(at('06:00')), { ms: { [run]: 30_000, [drive]: 30_000 }, stops: { [drive]: 1 }, counts: {} })
  t.same(map.get(at('06:01'))?.counts, { [JSON.stringify([2, null, null, null])]: [5, 1] })
  t.same(map.get(at('06:02'))?.ms, { [drive]: 15_000, [run]: 45_000 })
  t.equal(map.get(at('06:03')), undefined, 'the stop going on is not settled: not in a bucket')
})

t.test('applying and rolling up deltas', async (t) => {
  const k = timeKey('running', null, false)
  const a: OeeBucket = { ms: { [k]: 10 }, stops: {}, counts: { x: [1, 0] } }
  t.same(applyDelta(undefined, a), a)
  t.same(applyDelta(a, { ms: { [k]: 5 }, stops: { s: 1 }, counts: { x: [2, 1] } }), { ms: { [k]: 15 }, stops: { s: 1 }, counts: { x: [3, 1] } })
  t.equal(applyDelta(a, { ms: { [k]: -10 }, stops: {}, counts: { x: [-1, 0] } }), undefined, 'nothing left: the bucket can go')
  const deltas = [0, 1, 14, 15, 59, 60].map((m) => ({ unit: MIN, start: at('06:00') + m * MIN, ms: { [k]: 1 }, stops: {}, counts: {} }))
  t.same(rollUp(deltas, 15 * MIN).map((d) => [(d.start - at('06:00')) / MIN, d.ms[k]]), [[0, 3], [15, 1], [45, 1], [60, 1]])
  t.same(rollUp(deltas, H).map((d) => [(d.start - at('06:00')) / MIN, d.unit, d.ms[k]]), [[0, H, 5], [60, H, 1]])
  t.same(countDelta(count('06:00:59', 3, 1, null, { orderId: 'O1' })), { unit: MIN, start: at('06:00'), ms: {}, stops: {}, counts: { [JSON.stringify([null, null, 'O1', null])]: [3, 1] } })
})

function replay(changes: StateChange[], thresholdMs: number): Map<number, OeeBucket> {
  const map = new Map<number, OeeBucket>()
  const seen: StateChange[] = []
  for (const change of changes) {
    const edit = { kind: 'state' as const, change }
    for (const d of timelineDeltas(contextFor(seen, [], edit), edit, thresholdMs)) {
      const next = applyDelta(map.get(d.start), d)
      if (next) map.set(d.start, next)
      else map.delete(d.start)
    }
    seen.push(change)
  }
  return map
}

t.test('deltas as changes arrive, in order and late', async (t) => {
  const inOrder = [c('06:00', 'running'), c('06:10', 'down'), c('06:12', 'running'), c('06:20', 'setup'), c('06:45', 'running'), c('07:00', 'idle')]
  const bulk = bucketsFrom(timeline(inOrder), [], 5 * MIN)
  t.same(replay(inOrder, 5 * MIN), bulk, 'in order')
  t.same(replay([inOrder[5]!, inOrder[0]!, inOrder[3]!, inOrder[1]!, inOrder[4]!, inOrder[2]!], 5 * MIN), bulk, 'late, in any order')
  const first = timelineDeltas({ changes: [], classifications: [] }, { kind: 'state', change: inOrder[0]! }, 5 * MIN)
  t.same(first, [], 'the first change settles nothing yet')
  const small = timeKey('down', null, true)
  const shortStop = replay(inOrder.slice(0, 3), 5 * MIN)
  t.equal(shortStop.get(at('06:10'))?.ms[small], 60_000, 'the 2-minute stop is small once it has ended')
  const late = replay([...inOrder.slice(0, 3), c('06:11', 'down', 'failure.drive')], 5 * MIN)
  t.equal(late.get(at('06:11'))?.ms[timeKey('down', 'failure.drive', true)], 60_000, 'a late reason change restates the minute')
})

t.test('OEE over buckets equals OEE over raw intervals', async (t) => {
  const calendar = oneShift('06:00', '14:00', [{ start: '10:00', end: '10:30' }])
  calendar.plannedDowntime = [{ from: `${'2026-06-08'}T12:00:00.750Z`, to: '2026-06-08T12:20:30.250Z', reason: 'PM' }]
  const changes = [c('05:50', 'running'), c('07:00', 'down', 'failure.drive'), c('07:03', 'running'), c('09:59:40', 'planned_stop'), c('10:31', 'running'), c('12:10', 'down'), c('12:25', 'running'), c('13:58:30', 'down')]
  const counts = [count('06:30', 100, 2, 2), count('12:00:00.500', 7, 0, 2), count('12:00:01', 9, 1, null), count('13:00', 50, 0, 3, { scrapReason: 'reject.visual' })]
  const raw = dayInput({ calendar, changes, counts, until: '13:59:10', ratedS: 4 })
  const minutes = bucketsFrom(timeline(changes), counts, raw.microStopThresholdMs)
  const store = new Map<string, OeeBucket>()
  for (const unit of [24 * H, H, 15 * MIN, MIN]) {
    const deltas = rollUp([...minutes].map(([start, b]) => ({ unit: MIN, start, ...b })), unit)
    for (const d of deltas) store.set(`${unit}/${d.start}`, { ms: d.ms, stops: d.stops, counts: d.counts })
  }
  const fromBuckets = computeOeeFromBuckets({ ...raw, bucket: (unit, start) => store.get(`${unit}/${start}`) })
  t.same(fromBuckets, computeOee(raw))
  t.equal(fromBuckets.losses.performance.smallStops, 2, 'the 3-minute stop, and the one going on for 40 s so far')
})
