// OEE rules on both sides: no value instead of NaN, >100 % shown and flagged, micro-stops, planned stops, mixed products.
import t from 'tap'
import { computeOee, oeeTotals, resolveCycleTime } from '../oee.ts'
import { formatPercent } from '../result.ts'
import { at, count, dayInput, MIN, oneShift, state, tree } from './fixture.ts'

const shift = oneShift('06:00', '14:00', [{ start: '10:00', end: '10:30' }])
const running = [state('06:00', 'running')]

t.test('no planned time: no value, never NaN', async (t) => {
  const r = computeOee({ ...dayInput({ calendar: shift, changes: running, counts: [count('07:00', 10, 0, 1)] }), periods: [] })
  t.same([r.plannedMs, r.availability, r.performance, r.quality, r.oee], [0, null, null, null, null])
  t.same(r.why, { availability: 'no_planned_time', performance: 'no_run_time', quality: 'no_counts', oee: 'no_planned_time' }, 'a count outside planned time is not counted')
  t.equal(formatPercent(r.oee), '—')
  t.notOk(JSON.stringify(r).includes('NaN'))
})

t.test('planned time, nothing made', async (t) => {
  const r = computeOee(dayInput({ calendar: shift, changes: running, counts: [], until: '14:00' }))
  t.same([r.availability, r.performance, r.quality, r.oee], [1, 0, null, 0], 'ran the whole shift at zero speed: OEE 0, quality has no value')
  t.equal(r.why.quality, 'no_counts')
  const noData = computeOee(dayInput({ calendar: shift, changes: [], counts: [], until: '14:00' }))
  t.same([noData.availability, noData.oee], [0, 0])
  t.same(noData.losses.availability.byReason.map((l) => [l.loss, l.ms]), [['no_data', 450 * MIN]], 'time the state was not known is a loss of its own')
})

t.test('counts but no run time', async (t) => {
  const r = computeOee(dayInput({ calendar: shift, changes: [state('06:00', 'down')], counts: [count('07:00', 10, 0, 60)], until: '14:00' }))
  t.same([r.availability, r.performance, r.why.performance], [0, null, 'no_run_time'])
  t.equal(r.oee, 600 / (450 * 60), 'OEE still follows from fully productive time')
})

t.test('performance over 100 % is shown and flagged, never clipped', async (t) => {
  const fast = computeOee(dayInput({ calendar: shift, changes: running, counts: [count('07:00', 30_000, 0, 1)], until: '14:00' }))
  t.equal(fast.performance, 30_000 / (450 * 60))
  t.equal(fast.performanceOver100, true)
  t.ok(fast.losses.performance.speedLossMs! < 0, 'a negative speed loss says the ideal cycle time is wrong')
  const exact = computeOee(dayInput({ calendar: shift, changes: running, counts: [count('07:00', 27_000, 0, 1)], until: '14:00' }))
  t.same([exact.performance, exact.performanceOver100], [1, false], 'exactly 100 % is not over')
})

t.test('ideal cycle time: the routing’s, else the work center’s rated speed, else none', async (t) => {
  t.equal(resolveCycleTime(2, 5), 2)
  t.equal(resolveCycleTime(null, 5), 5)
  t.equal(resolveCycleTime(0, 5), 5, 'zero is no ideal cycle time')
  t.equal(resolveCycleTime(-1, 5), 5)
  t.equal(resolveCycleTime(Number.NaN, null), null)
  const rated = computeOee(dayInput({ calendar: shift, changes: running, counts: [count('07:00', 100, 0, null)], ratedS: 60, until: '14:00' }))
  t.equal(rated.idealMs, 6_000_000)
  const none = computeOee(dayInput({ calendar: shift, changes: running, counts: [count('07:00', 90, 10, null), count('08:00', 10, 0, 2)], until: '14:00' }))
  t.same([none.performance, none.why.performance, none.oee, none.why.oee, none.idealMs], [null, 'no_ideal_cycle_time', null, 'no_ideal_cycle_time', null])
  t.equal(none.quality, 100 / 110, 'quality is still good / total')
  t.equal(none.availability, 1)
  t.equal(none.losses.quality.byReason[0]!.ms, null, 'scrap time unknown without an ideal cycle time')
})

t.test('micro-stops: shorter than the threshold costs performance, not availability', async (t) => {
  const changes = [...running, state('07:00', 'down', 'small_stop.jam'), state('07:04:59', 'running'), state('08:00', 'down', 'small_stop.jam'), state('08:05', 'running')]
  const r = computeOee(dayInput({ calendar: shift, changes, counts: [count('09:00', 100, 0, 60)], until: '14:00' }))
  t.equal(r.runMs, 450 * MIN - 5 * MIN, 'the 4:59 stop stays in run time; the 5:00 one does not')
  t.equal(r.losses.performance.smallStopsMs, 4 * MIN + 59_000)
  t.equal(r.losses.performance.smallStops, 1)
  t.same(r.losses.performance.smallStopsByReason.map((l) => [l.code, l.stops]), [['small_stop.jam', 1]])
  t.same(r.losses.availability.byReason.map((l) => [l.code, l.loss, l.ms]), [['small_stop.jam', 'breakdown', 5 * MIN]], 'a jam at the threshold is an unplanned stop')
  t.equal(r.losses.performance.speedLossMs! + r.losses.performance.smallStopsMs, r.losses.performance.ms!, 'small stops and speed loss make the performance loss')
  const only = (ms: number) => computeOee({ ...dayInput({ calendar: shift, changes, counts: [], until: '14:00' }), microStopThresholdMs: ms }).losses.performance.smallStops
  t.same([only(0), only(299_000), only(299_001), only(300_001)], [0, 0, 1, 2], 'the threshold is configurable')
  const idle = computeOee(dayInput({ calendar: shift, changes: [...running, state('07:00', 'idle'), state('07:01', 'running')], counts: [], until: '14:00' }))
  t.equal(idle.losses.performance.smallStopsMs, 0, 'only down stops can be small stops')
})

t.test('planned stops inside a shift are not planned production time', async (t) => {
  const changes = [...running, state('07:00', 'planned_stop'), state('08:00', 'running'), state('11:00', 'planned_stop', 'setup.changeover'), state('11:20', 'running'), state('12:00', 'down', 'planned.no_orders'), state('12:30', 'running')]
  const r = computeOee(dayInput({ calendar: shift, changes, counts: [], until: '14:00' }))
  t.equal(r.scheduledMs, 450 * MIN)
  t.equal(r.plannedMs, 450 * MIN - 90 * MIN, 'planned_stop without reason and a stop classified no orders are taken out')
  t.same(r.losses.planned.byReason.map((l) => [l.code, l.name, l.ms / MIN, l.planned]), [[null, 'Unclassified: planned stop', 60, true], ['planned.no_orders', 'No orders', 30, true]])
  t.same(r.losses.availability.byReason.map((l) => [l.code, l.loss, l.ms / MIN]), [['setup.changeover', 'setup', 20]], 'a planned stop for a changeover is an availability loss')
  t.equal(r.availability, (360 - 20) / 360)
})

t.test('events crossing a break are split; a stop counts once, where it starts in planned time', async (t) => {
  const changes = [...running, state('09:50', 'down', 'failure.drive'), state('10:40', 'running')]
  const r = computeOee(dayInput({ calendar: shift, changes, counts: [], until: '14:00' }))
  t.same(r.losses.availability.byReason.map((l) => [l.code, l.ms / MIN, l.stops]), [['failure.drive', 20, 1]], '10 minutes before the break, 10 after')
  const inBreak = computeOee(dayInput({ calendar: shift, changes: [...running, state('10:10', 'down', 'failure.drive'), state('10:40', 'running')], counts: [], until: '14:00' }))
  t.same(inBreak.losses.availability.byReason.map((l) => [l.code, l.ms / MIN, l.stops]), [['failure.drive', 10, 0]], 'started in the break: its time counts, the stop is not counted')
})

t.test('counts belong to the period they fall in: [from, to)', async (t) => {
  const r = computeOee(dayInput({ calendar: shift, changes: running, counts: [count('06:00', 1, 0, 1), count('10:00', 2, 0, 1), count('10:15', 4, 0, 1), count('10:30', 8, 0, 1), count('14:00', 16, 0, 1)], until: '14:00' }))
  t.equal(r.counts.total, 1 + 8, 'at a period’s start: in; at its end, in the break or after: out')
})

t.test('mixed products: quality weighs each unit by its ideal cycle time', async (t) => {
  // 100 units of a 1 s product (10 rejected) and 100 of a 9 s product (none rejected).
  const r = computeOee(dayInput({ calendar: shift, changes: running, counts: [count('07:00', 90, 10, 1), count('08:00', 100, 0, 9)], until: '14:00' }))
  t.equal(r.idealMs, 1_000_000)
  t.equal(r.fullyProductiveMs, 990_000)
  t.equal(r.quality, 0.99, 'good ideal time / total ideal time, not 190 / 200')
  t.equal(r.counts.good / r.counts.total, 0.95, 'the plain yield is in the counts')
  t.ok(Math.abs(r.availability! * r.performance! * r.quality! - r.oee!) < 1e-15, 'A × P × Q = fully productive time / planned time')
  t.equal(r.oee, 990_000 / (450 * MIN))
  const one = computeOee(dayInput({ calendar: shift, changes: running, counts: [count('07:00', 90, 10, 7), count('08:00', 100, 0, 7)], until: '14:00' }))
  t.equal(one.quality, 190 / 200, 'two products with one ideal cycle time: good / total')
})

t.test('scrap and rework by reason', async (t) => {
  const counts = [count('07:00', 90, 6, 2, { scrapReason: 'startup.warmup' }), count('08:00', 100, 3, 2, { scrapReason: 'reject.rework' }), count('09:00', 100, 1, 2), count('09:30', 50, 2, 4, { scrapReason: 'reject.rework' })]
  const r = computeOee(dayInput({ calendar: shift, changes: running, counts, until: '14:00' }))
  t.same(
    r.losses.quality.byReason.map((l) => [l.code, l.loss, l.count, l.ms]),
    [
      ['startup.warmup', 'startup_reject', 6, 12_000],
      ['reject.rework', 'production_reject', 5, 14_000],
      [null, 'production_reject', 1, 2_000],
    ],
  )
  t.equal(r.losses.quality.ms, r.losses.quality.byReason.reduce((s, l) => s + l.ms!, 0))
})

t.test('the loss tree adds up to planned production time', async (t) => {
  const changes = [...running, state('06:30', 'down', 'failure.drive'), state('06:50', 'running'), state('07:00', 'down'), state('07:01', 'running'), state('08:00', 'idle'), state('08:45', 'running')]
  const r = computeOee(dayInput({ calendar: shift, changes, counts: [count('09:00', 3000, 30, 5)], until: '12:00' }))
  t.equal(r.runMs + r.losses.availability.ms, r.plannedMs)
  t.equal(r.idealMs! + r.losses.performance.ms!, r.runMs)
  t.equal(r.fullyProductiveMs! + r.losses.quality.ms!, r.idealMs)
  t.equal(r.losses.availability.byReason.find((l) => l.loss === 'no_data'), undefined)
  t.same(r.losses.availability.byReason.map((l) => l.name), ['Unclassified: idle', 'Drive fault'])
})

t.test('counts of one order or product only', async (t) => {
  const counts = [count('07:00', 10, 0, 1, { orderId: 'A', productId: 'X' }), count('08:00', 20, 0, 1, { orderId: 'B', productId: 'X' }), count('09:00', 40, 0, 1, { orderId: 'C', productId: 'Y' })]
  const base = dayInput({ calendar: shift, changes: running, counts, until: '14:00' })
  t.equal(computeOee({ ...base, only: { orderId: 'B' } }).counts.total, 20)
  t.equal(computeOee({ ...base, only: { productId: 'X' } }).counts.total, 30)
  t.equal(computeOee(base).counts.total, 70)
})

t.test('unsorted input gives the same sums', async (t) => {
  const base = dayInput({ calendar: shift, changes: [...running, state('07:00', 'down'), state('08:00', 'running')], counts: [count('09:00', 1, 0, 1), count('07:30', 2, 0, 1)], until: '14:00' })
  t.same(computeOee({ ...base, intervals: [...base.intervals].reverse(), counts: [...base.counts].reverse() }), computeOee(base))
  t.equal(oeeTotals(base).scheduledMs, 450 * MIN)
  t.equal(at('14:00') - at('06:00'), 480 * MIN)
  t.ok(tree.get('failure.drive'))
})
