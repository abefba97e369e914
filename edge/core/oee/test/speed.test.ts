// Speed: OEE with its loss tree over a year of one-second state changes, from buckets, in well under a second.
import { isDeepStrictEqual } from 'node:util'
import t from 'tap'
import type { MachineState } from '../../model.ts'
import { applyDelta, bucketsFrom, bucketUnits, computeOeeFromBuckets, rollUp, timelineDeltas, type OeeBucket } from '../buckets.ts'
import { plannedPeriods, type ShiftCalendar } from '../calendar.ts'
import { oeeByShift } from '../grouping.ts'
import { computeOee, type ProductionCount } from '../oee.ts'
import { contextFor, timeline, type StateChange } from '../timeline.ts'
import { tree } from './fixture.ts'
import { random } from './generator.ts'

const DAY = 86_400_000
const YEAR_START = Date.parse('2026-01-01T00:00:00Z')
const states: MachineState[] = ['running', 'running', 'running', 'running', 'down', 'idle', 'starved', 'setup']
const reasons = [null, 'failure.drive', 'small_stop.jam', 'flow.starved', 'setup.changeover']

/** One day of a state change every second, and a count every ten. */
function oneDay(seed: number): { changes: StateChange[]; counts: ProductionCount[] } {
  const r = random(seed)
  const changes: StateChange[] = []
  const counts: ProductionCount[] = []
  for (let s = 0; s < 86_400; s++) {
    const state = r.pick(states)
    changes.push({ at: YEAR_START + s * 1000, state, reason: state === 'running' ? null : r.pick(reasons), seq: s })
    if (s % 10 === 0) counts.push({ at: YEAR_START + s * 1000 + 500, good: r.int(0, 5), reject: r.int(0, 1), idealCycleTimeS: r.pick([1.5, 2, null]), orderId: `O${Math.floor(s / 28_800)}`, productId: 'P' })
  }
  return { changes, counts }
}

const calendar: ShiftCalendar = {
  id: 'berlin',
  timeZone: 'Europe/Berlin',
  shifts: [
    { name: 'early', days: [1, 2, 3, 4, 5, 6], start: '06:00', end: '14:00', breaks: [{ start: '09:00', end: '09:15' }, { start: '11:30', end: '12:00' }] },
    { name: 'late', days: [1, 2, 3, 4, 5, 6], start: '14:00', end: '22:00', breaks: [{ start: '18:00', end: '18:30' }] },
    { name: 'night', days: [1, 2, 3, 4, 5, 7], start: '22:00', end: '06:00', breaks: [{ start: '02:00', end: '02:30' }] },
  ],
  holidays: ['2026-01-01', '2026-12-25', '2026-12-26'],
  plannedDowntime: [{ from: '2026-01-02T10:00:07.250Z', to: '2026-01-02T10:40:00Z', reason: 'planned maintenance' }],
}

t.test('a year of one-second state changes, from buckets', async (t) => {
  const day = oneDay(7)
  const threshold = 120_000
  const minutes = bucketsFrom(timeline(day.changes), day.counts, threshold)
  const deltas = [...minutes].map(([start, b]) => ({ unit: 60_000, start, ...b }))
  const store = new Map<string, OeeBucket>()
  for (const unit of bucketUnits) for (const d of rollUp(deltas, unit)) store.set(`${unit}/${d.start}`, d)
  // Every day of the year holds the same buckets as the one real day: the store is read by time of day.
  const bucket = (unit: number, start: number) => store.get(`${unit}/${YEAR_START + ((start - YEAR_START) % DAY)}`)
  // Raw data for the edges: the planned downtime's odd start falls on 2 January, a copy of the day shifted by a day.
  const shifted = { changes: day.changes.map((c) => ({ ...c, at: c.at + DAY })), counts: day.counts.map((c) => ({ ...c, at: c.at + DAY })) }
  const intervals = timeline([...day.changes, ...shifted.changes])
  const settings = { workCenterRatedCycleTimeS: 2, microStopThresholdMs: threshold, reasons: tree }

  // CPU time of this process, not wall time: the test machines are shared, and a busy neighbour must not fail it.
  const cpu = process.cpuUsage()
  const started = performance.now()
  const periods = plannedPeriods(calendar, YEAR_START, YEAR_START + 365 * DAY)
  const year = computeOeeFromBuckets({ ...settings, periods, bucket, intervals, counts: [...day.counts, ...shifted.counts] })
  const wall = performance.now() - started
  const used = process.cpuUsage(cpu)
  const cpuMs = (used.user + used.system) / 1000
  t.comment(`a year: ${periods.length} planned periods, OEE ${(year.oee! * 100).toFixed(2)} %, ${year.losses.availability.byReason.length} stop reasons, in ${cpuMs.toFixed(0)} ms CPU (${wall.toFixed(0)} ms wall)`)
  t.ok(cpuMs < 1000, `under 1 s of CPU, calendar included (${cpuMs.toFixed(0)} ms)`)
  t.ok(year.plannedMs > 300 * 20 * 3_600_000, 'about 300 days of three shifts')

  const perShift = performance.now()
  const shifts = oeeByShift({ ...settings, periods, bucket, intervals, counts: [...day.counts, ...shifted.counts] })
  t.comment(`OEE of all ${shifts.length} shifts of the year in ${(performance.now() - perShift).toFixed(0)} ms`)

  // The two days the raw data covers: buckets and raw intervals agree to the last bit.
  const twoDays = plannedPeriods(calendar, YEAR_START, YEAR_START + 2 * DAY)
  const all = { ...settings, periods: twoDays, intervals, counts: [...day.counts, ...shifted.counts] }
  t.same(computeOeeFromBuckets({ ...all, bucket }), computeOee(all))
})

t.test('the projection keeps up: one state change’s bucket update', async (t) => {
  const day = oneDay(8)
  const seen: StateChange[] = []
  const buckets = new Map<number, OeeBucket>()
  const n = 20_000
  const started = performance.now()
  for (const change of day.changes.slice(0, n)) {
    const edit = { kind: 'state' as const, change }
    // In order, the context is the tail of the log since the last running change.
    let lo = seen.length - 1
    while (lo > 0 && seen[lo]!.state !== 'running') lo--
    for (const d of timelineDeltas(contextFor(seen.slice(Math.max(lo, 0)), [], edit), edit, 120_000)) {
      const next = applyDelta(buckets.get(d.start), d)
      if (next) buckets.set(d.start, next)
      else buckets.delete(d.start)
    }
    seen.push(change)
  }
  const perChange = ((performance.now() - started) * 1000) / n
  t.comment(`${perChange.toFixed(1)} µs a state change`)
  t.ok(perChange < 1000, 'far below one state change a second')
  t.ok(isDeepStrictEqual(buckets, bucketsFrom(timeline(seen), [], 120_000)), 'and gives the buckets of a rebuild')
})
