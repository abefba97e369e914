// OEE by shift, production day, order and product, and a line's OEE — each a slice of the same sums.
import t from 'tap'
import { plannedPeriods, type ShiftCalendar } from '../calendar.ts'
import { lineOee, oeeByDay, oeeByOrder, oeeByProduct, oeeByShift, totalsOf } from '../grouping.ts'
import { computeOee, type OeeInput, type ProductionCount } from '../oee.ts'
import { timeline, type StateChange } from '../timeline.ts'
import { tree } from './fixture.ts'

const H = 3_600_000
const MIN = 60_000
const berlin: ShiftCalendar = {
  id: 'berlin',
  timeZone: 'Europe/Berlin',
  shifts: [
    { name: 'late', days: [6], start: '14:00', end: '22:00', breaks: [] },
    { name: 'night', days: [6], start: '22:00', end: '06:00', breaks: [] },
    { name: 'early', days: [7], start: '06:00', end: '14:00', breaks: [] },
  ],
  holidays: [],
  plannedDowntime: [],
}
// Saturday 24 October 2026 14:00 CEST to Sunday 14:00 CET: the clocks go back in the night shift.
const from = Date.parse('2026-10-24T12:00:00Z')
const to = Date.parse('2026-10-25T13:00:00Z')
const change = (iso: string, state: StateChange['state'], reason: string | null = null): StateChange => ({ at: Date.parse(iso), state, reason })
const changes = [
  change('2026-10-24T12:00:00Z', 'running'),
  // A stop from 21:30 CEST to 23:30 CEST crosses the shift change.
  change('2026-10-24T19:30:00Z', 'down', 'failure.drive'),
  change('2026-10-24T21:30:00Z', 'running'),
  // A stop around the DST change: 02:30 CEST to 02:30 CET is one hour.
  change('2026-10-25T00:30:00Z', 'down', 'failure.sensor'),
  change('2026-10-25T01:30:00Z', 'running'),
  // Midnight local (22:00 UTC) lies inside the night shift: nothing happens there, and the night is still one shift.
]
const counts: ProductionCount[] = [
  { at: Date.parse('2026-10-24T13:00:00Z'), good: 1000, reject: 10, idealCycleTimeS: 10, orderId: 'A', productId: 'X' },
  { at: Date.parse('2026-10-24T23:00:00Z'), good: 1500, reject: 20, idealCycleTimeS: 10, orderId: 'A', productId: 'X' },
  { at: Date.parse('2026-10-25T08:00:00Z'), good: 2000, reject: 0, idealCycleTimeS: 5, orderId: 'B', productId: 'Y', scrapReason: 'reject.visual' },
]
const input: OeeInput & { periods: ReturnType<typeof plannedPeriods> } = {
  periods: plannedPeriods(berlin, from, to),
  intervals: timeline(changes, [], to),
  counts,
  workCenterRatedCycleTimeS: null,
  microStopThresholdMs: 5 * MIN,
  reasons: tree,
}

t.test('by shift: the night the clocks go back is 9 hours, and each shift keeps its part of a stop', async (t) => {
  const shifts = oeeByShift(input)
  t.same(shifts.map((s) => [s.date, s.shift, s.oee.plannedMs / H]), [['2026-10-24', 'late', 8], ['2026-10-24', 'night', 9], ['2026-10-25', 'early', 8]], '06:00–14:00 CET on Sunday')
  t.same(shifts.map((s) => s.oee.losses.availability.byReason.map((l) => [l.code, l.ms / MIN, l.stops])), [
    [['failure.drive', 30, 1]],
    [['failure.drive', 90, 0], ['failure.sensor', 60, 1]],
    [],
  ], 'the 21:30–23:30 stop: 30 minutes in the late shift where it starts, 90 in the night')
  t.equal(shifts.reduce((s, x) => s + x.oee.plannedMs, 0), computeOee(input).plannedMs, 'the shifts add up to the whole')
})

t.test('by production day: a night shift counts for the day it starts', async (t) => {
  const days = oeeByDay(input)
  t.same(days.map((d) => [d.date, d.oee.plannedMs / H, d.oee.counts.total]), [['2026-10-24', 17, 2530], ['2026-10-25', 8, 2000]])
})

t.test('by order and product', async (t) => {
  const windows = [
    { orderId: 'A', productId: 'X', from: Date.parse('2026-10-24T12:00:00Z'), to: Date.parse('2026-10-25T04:00:00Z') },
    { orderId: 'B', productId: 'Y', from: Date.parse('2026-10-25T05:00:00Z'), to: Date.parse('2026-10-25T13:00:00Z') },
  ]
  const orders = oeeByOrder(input, windows)
  t.same(orders.map((o) => [o.orderId, o.productId, o.oee.plannedMs / H, o.oee.counts.total]), [['A', 'X', 16, 2530], ['B', 'Y', 8, 2000]])
  t.equal(orders[0]!.oee.quality, 2500 / 2530, 'one product: good / total')
  t.same(oeeByProduct(input, windows).map((p) => [p.productId, p.oee.counts.good]), [['X', 2500], ['Y', 2000]])
  const outside = oeeByOrder(input, [{ orderId: 'B', productId: 'Y', from: Date.parse('2026-10-24T12:00:00Z'), to: Date.parse('2026-10-24T13:30:00Z') }])
  t.equal(outside[0]!.oee.counts.total, 0, 'counts of another order in the window are not this order’s')
})

t.test('a line: work centers add up by planned time', async (t) => {
  const second: OeeInput = { ...input, intervals: timeline([change('2026-10-24T12:00:00Z', 'running')], [], to), counts: [{ at: Date.parse('2026-10-24T13:00:00Z'), good: 8000, reject: 0, idealCycleTimeS: 10 }] }
  const a = computeOee(input)
  const b = computeOee(second)
  const line = lineOee([totalsOf(input), totalsOf(second)], tree)
  t.equal(line.plannedMs, a.plannedMs + b.plannedMs)
  t.equal(line.fullyProductiveMs, a.fullyProductiveMs! + b.fullyProductiveMs!)
  t.equal(line.oee, (a.fullyProductiveMs! + b.fullyProductiveMs!) / (a.plannedMs + b.plannedMs))
  t.same(line.losses.availability.byReason.map((l) => l.code), ['failure.drive', 'failure.sensor'])
})
