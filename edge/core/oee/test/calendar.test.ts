// Shift calendars: validation on both sides of each rule, shift instances across midnight and DST, planned periods.
import t from 'tap'
import { calendarIdFor, plannedPeriods, shiftInstances, validateCalendar, type ShiftCalendar, type ShiftDefinition } from '../calendar.ts'
import { totalMs } from '../ranges.ts'

const H = 3_600_000
const iso = (ms: number) => new Date(ms).toISOString()
const everyDay = [1, 2, 3, 4, 5, 6, 7]

function calendar(more: Partial<ShiftCalendar> = {}): ShiftCalendar {
  return {
    id: 'berlin-3x8',
    timeZone: 'Europe/Berlin',
    shifts: [
      { name: 'early', days: [1, 2, 3, 4, 5], start: '06:00', end: '14:00', breaks: [{ start: '09:00', end: '09:15' }, { start: '11:30', end: '12:00' }] },
      { name: 'late', days: [1, 2, 3, 4, 5], start: '14:00', end: '22:00', breaks: [{ start: '18:00', end: '18:30' }] },
      { name: 'night', days: everyDay, start: '22:00', end: '06:00', breaks: [{ start: '02:00', end: '02:30' }] },
    ],
    holidays: [],
    plannedDowntime: [],
    ...more,
  }
}
const shift = (more: Partial<ShiftDefinition>): ShiftDefinition => ({ name: 'x', days: [1], start: '06:00', end: '14:00', breaks: [], ...more })
const paths = (c: ShiftCalendar) => validateCalendar(c).map((p) => p.path)

t.test('a valid calendar has no problems', async (t) => {
  t.same(validateCalendar(calendar()), [])
  t.same(validateCalendar(calendar({ shifts: [shift({ start: '06:00', end: '06:00', days: everyDay })] })), [], 'a 24-hour shift every day touches itself, no overlap')
})

t.test('calendar-level problems', async (t) => {
  t.same(paths(calendar({ id: ' ' })), ['id'])
  t.same(validateCalendar(calendar({ timeZone: 'Mars/Olympus' })), [{ path: 'timeZone', message: "'Mars/Olympus' is not a time zone; use an IANA name such as 'Europe/Berlin'." }])
  t.same(paths(calendar({ holidays: ['2026-12-25', '2026-12-32'] })), ['holidays[1]'])
  t.same(paths(calendar({ plannedDowntime: [{ from: '2026-05-01T08:00:00Z', to: '2026-05-01T09:00:00+02:00', reason: 'PM' }] })), ['plannedDowntime[0]'], 'ends before it starts once the offset is read')
  t.same(paths(calendar({ plannedDowntime: [{ from: '2026-05-01T08:00:00Z', to: '2026-05-01T09:00:00+02:00', reason: 'PM' }].map((p) => ({ ...p, to: '2026-05-01T11:00:00+02:00' })) })), [], 'one hour later it is fine')
  t.same(paths(calendar({ plannedDowntime: [{ from: '2026-05-01T08:00:00', to: '2026-05-01T09:00:00Z', reason: 'PM' }] })), ['plannedDowntime[0].from'], 'an instant without offset depends on the machine: refused')
  t.same(paths(calendar({ plannedDowntime: [{ from: '2026-05-01T08:00:00Z', to: '2026-05-01T09:00:00Z', reason: '' }] })), ['plannedDowntime[0].reason'])
})

t.test('shift problems', async (t) => {
  const one = (s: Partial<ShiftDefinition>) => validateCalendar(calendar({ shifts: [shift(s)] }))
  t.same(one({ name: '' }).map((p) => p.path), ['shifts[0].name'])
  t.same(one({ days: [] }).map((p) => p.path), ['shifts[0].days'])
  t.same(one({ days: [0, 8] }).map((p) => p.message), ['0 is not an ISO weekday (1 Monday … 7 Sunday).', '8 is not an ISO weekday (1 Monday … 7 Sunday).'])
  t.same(one({ days: [1, 1] }).map((p) => p.message), ['A weekday is listed twice.'])
  t.same(one({ days: [7] }), [], 'Sunday is 7')
  t.same(one({ start: '6:00' }).map((p) => p.path), ['shifts[0].start'])
  t.same(one({ end: '24:00' }).map((p) => p.path), ['shifts[0].end'])
  t.same(one({ breaks: [{ start: '05:00', end: '05:30' }] }).map((p) => p.message), ['The break 05:00–05:30 does not lie within the shift 06:00–14:00.'])
  t.same(one({ breaks: [{ start: '13:30', end: '14:00' }] }), [], 'a break may end with the shift')
  t.same(one({ breaks: [{ start: '13:30', end: '14:01' }] }).map((p) => p.path), ['shifts[0].breaks[0]'], 'but not a minute later')
  t.same(one({ breaks: [{ start: '10:00', end: '10:00' }] }).map((p) => p.path), ['shifts[0].breaks[0]'], 'an empty break')
  t.same(one({ breaks: [{ start: '10:00', end: '10:30' }, { start: '10:15', end: '10:45' }] }).map((p) => p.message), ['The break 10:15–10:45 overlaps another break.'])
  t.same(one({ breaks: [{ start: '10:00', end: '10:30' }, { start: '10:30', end: '10:45' }] }), [], 'touching breaks')
  t.same(one({ start: '22:00', end: '06:00', breaks: [{ start: '23:30', end: '00:15' }, { start: '05:45', end: '06:00' }] }), [], 'a night shift’s breaks across midnight')
  t.same(one({ start: '22:00', end: '06:00', breaks: [{ start: '21:30', end: '22:15' }] }).map((p) => p.path), ['shifts[0].breaks[0]'])
  t.same(one({ breaks: 'none' as unknown as [] }).map((p) => p.path), ['shifts[0].breaks'])
})

t.test('shifts must not overlap', async (t) => {
  const overlap = calendar({ shifts: [shift({ name: 'a', days: [1], start: '06:00', end: '14:00' }), shift({ name: 'b', days: [1], start: '13:00', end: '21:00' })] })
  t.same(validateCalendar(overlap), [{ path: 'shifts[1]', message: "The shift 'b' overlaps the shift 'a'." }])
  const touching = calendar({ shifts: [shift({ name: 'a', days: [1], start: '06:00', end: '14:00' }), shift({ name: 'b', days: [1], start: '14:00', end: '22:00' })] })
  t.same(validateCalendar(touching), [])
  const sundayNight = calendar({ shifts: [shift({ name: 'night', days: [7], start: '22:00', end: '06:00' }), shift({ name: 'monday', days: [1], start: '05:00', end: '13:00' })] })
  t.same(validateCalendar(sundayNight).map((p) => p.message), ["The shift 'monday' overlaps the shift 'night'."], 'across the end of the week')
  t.same(paths(calendar({ shifts: [shift({ name: 'a' }), shift({ name: 'a', days: [2] })] })), ['shifts[1].name'])
})

t.test('shift instances on an ordinary week', async (t) => {
  // Monday 2026-06-08 to Tuesday 2026-06-09 06:00 CEST.
  const list = shiftInstances(calendar(), Date.parse('2026-06-08T04:00:00Z'), Date.parse('2026-06-09T04:00:00Z'))
  t.same(list.map((s) => `${s.date} ${s.name} ${iso(s.start)}–${iso(s.end)}`), [
    '2026-06-08 early 2026-06-08T04:00:00.000Z–2026-06-08T12:00:00.000Z',
    '2026-06-08 late 2026-06-08T12:00:00.000Z–2026-06-08T20:00:00.000Z',
    '2026-06-08 night 2026-06-08T20:00:00.000Z–2026-06-09T04:00:00.000Z',
  ])
  t.same(list[0]!.breaks, [{ from: Date.parse('2026-06-08T07:00:00Z'), to: Date.parse('2026-06-08T07:15:00Z') }, { from: Date.parse('2026-06-08T09:30:00Z'), to: Date.parse('2026-06-08T10:00:00Z') }])
  t.same(list[2]!.breaks, [{ from: Date.parse('2026-06-09T00:00:00Z'), to: Date.parse('2026-06-09T00:30:00Z') }], 'the night break is on the next day')
  const sunday = shiftInstances(calendar(), Date.parse('2026-06-07T00:00:00Z'), Date.parse('2026-06-07T12:00:00Z'))
  t.same(sunday.map((s) => `${s.date} ${s.name}`), ['2026-06-06 night'], 'Saturday night runs into Sunday; no early shift on Sunday')
  t.same(shiftInstances(calendar(), 10, 10), [], 'an empty range')
})

t.test('a night shift on the nights the clocks change', async (t) => {
  const berlinBack = shiftInstances(calendar(), Date.parse('2026-10-24T19:00:00Z'), Date.parse('2026-10-25T06:00:00Z')).find((s) => s.name === 'night')!
  t.equal(berlinBack.date, '2026-10-24')
  t.equal((berlinBack.end - berlinBack.start) / H, 9, 'Berlin, clocks go back: 22:00 CEST → 06:00 CET is 9 hours')
  t.same([iso(berlinBack.breaks[0]!.from), iso(berlinBack.breaks[0]!.to)], ['2026-10-25T00:00:00.000Z', '2026-10-25T00:30:00.000Z'], 'the 02:00 break at its first occurrence')
  const berlinForward = shiftInstances(calendar(), Date.parse('2026-03-28T20:00:00Z'), Date.parse('2026-03-29T06:00:00Z')).find((s) => s.name === 'night')!
  t.equal((berlinForward.end - berlinForward.start) / H, 7, 'Berlin, clocks go forward: 7 hours')
  t.same([iso(berlinForward.breaks[0]!.from), iso(berlinForward.breaks[0]!.to)], ['2026-03-29T01:00:00.000Z', '2026-03-29T01:30:00.000Z'], '02:00–02:30 does not exist: 03:00–03:30 CEST, still 30 minutes')
  const ny = calendar({ timeZone: 'America/New_York' })
  const nyBack = shiftInstances(ny, Date.parse('2026-11-01T00:00:00Z'), Date.parse('2026-11-01T12:00:00Z')).find((s) => s.name === 'night')!
  t.equal(nyBack.date, '2026-10-31')
  t.equal((nyBack.end - nyBack.start) / H, 9, 'New York, clocks go back')
  const nyForward = shiftInstances(ny, Date.parse('2026-03-08T00:00:00Z'), Date.parse('2026-03-08T12:00:00Z')).find((s) => s.name === 'night')!
  t.equal((nyForward.end - nyForward.start) / H, 7, 'New York, clocks go forward')
  t.equal(iso(nyForward.breaks[0]!.from), '2026-03-08T07:00:00.000Z', '02:00 → 03:00 EDT')
})

t.test('a 24-hour shift lasts 23 or 25 hours on DST days', async (t) => {
  const c = calendar({ shifts: [shift({ name: 'day', days: everyDay, start: '00:00', end: '00:00' })] })
  const lengths = (from: string) => shiftInstances(c, Date.parse(from), Date.parse(from) + 1).map((s) => (s.end - s.start) / H)
  t.same(lengths('2026-03-29T12:00:00Z'), [23])
  t.same(lengths('2026-10-25T12:00:00Z'), [25])
  t.same(lengths('2026-06-01T12:00:00Z'), [24])
})

t.test('holidays', async (t) => {
  const c = calendar({ holidays: ['2026-12-25'] })
  const list = shiftInstances(c, Date.parse('2026-12-24T12:00:00Z'), Date.parse('2026-12-26T12:00:00Z'))
  t.same(list.map((s) => `${s.date} ${s.name} ${s.holiday}`), ['2026-12-24 early false', '2026-12-24 late false', '2026-12-24 night false', '2026-12-25 early true', '2026-12-25 late true', '2026-12-25 night true'])
  const periods = plannedPeriods(c, Date.parse('2026-12-24T21:00:00Z'), Date.parse('2026-12-26T23:00:00Z'))
  t.same([...new Set(periods.map((p) => `${p.date} ${p.shift}`))], ['2026-12-24 night', '2026-12-26 night'], 'the night of the 24th runs into the holiday: it belongs to the 24th')
})

t.test('planned periods: shifts less breaks and planned downtime, clipped', async (t) => {
  const day = { from: Date.parse('2026-06-08T04:00:00Z'), to: Date.parse('2026-06-08T12:00:00Z') }
  const early = plannedPeriods(calendar(), day.from, day.to)
  t.equal(totalMs(early), 7.25 * H, '8 h less 15 and 30 minutes')
  t.same(early.map((p) => [iso(p.from), iso(p.to), p.shift]), [
    ['2026-06-08T04:00:00.000Z', '2026-06-08T07:00:00.000Z', 'early'],
    ['2026-06-08T07:15:00.000Z', '2026-06-08T09:30:00.000Z', 'early'],
    ['2026-06-08T10:00:00.000Z', '2026-06-08T12:00:00.000Z', 'early'],
  ])
  const withDowntime = calendar({ plannedDowntime: [{ from: '2026-06-08T10:30:00.5Z', to: '2026-06-08T14:00:00+02:00', reason: 'planned maintenance' }] })
  const cut = plannedPeriods(withDowntime, day.from, day.to)
  t.same(cut.map((p) => [iso(p.from), iso(p.to)]).at(-1), ['2026-06-08T10:00:00.000Z', '2026-06-08T10:30:00.500Z'], 'downtime to the end of the shift, from half a second past')
  const clipped = plannedPeriods(calendar(), Date.parse('2026-06-08T05:00:00Z'), Date.parse('2026-06-08T08:00:00Z'))
  t.same(clipped.map((p) => [iso(p.from), iso(p.to)]), [
    ['2026-06-08T05:00:00.000Z', '2026-06-08T07:00:00.000Z'],
    ['2026-06-08T07:15:00.000Z', '2026-06-08T08:00:00.000Z'],
  ])
  const night = plannedPeriods(calendar(), Date.parse('2026-10-24T12:00:00Z'), Date.parse('2026-10-25T12:00:00Z')).filter((p) => p.shift === 'night' && p.date === '2026-10-24')
  t.equal(totalMs(night), 8.5 * H, 'the 9-hour night less its break')
})

t.test('shifts that a spring-forward gap makes overlap: the earlier keeps the time', async (t) => {
  // Wall times 22:00–02:30 and 03:00–06:00 do not overlap, but 02:30 does not exist and becomes 03:30 CEST.
  const c = calendar({ shifts: [shift({ name: 'a', days: [6], start: '22:00', end: '02:30' }), shift({ name: 'b', days: [7], start: '03:00', end: '06:00' })] })
  t.same(validateCalendar(c), [])
  const periods = plannedPeriods(c, Date.parse('2026-03-28T00:00:00Z'), Date.parse('2026-03-30T00:00:00Z'))
  t.same(periods.map((p) => [p.shift, iso(p.from), iso(p.to)]), [
    ['a', '2026-03-28T21:00:00.000Z', '2026-03-29T01:30:00.000Z'],
    ['b', '2026-03-29T01:30:00.000Z', '2026-03-29T04:00:00.000Z'],
  ])
})

t.test('which calendar a work center follows', async (t) => {
  const assignments = new Map([['L1', 'line-cal'], ['WC-2', 'wc2-cal']])
  t.equal(calendarIdFor(assignments, 'WC-2', 'L1'), 'wc2-cal', 'its own')
  t.equal(calendarIdFor(assignments, 'WC-1', 'L1'), 'line-cal', "else its line's")
  t.equal(calendarIdFor(assignments, 'WC-1', 'L9'), undefined)
})
