// Shift calendars: shifts, breaks, holidays and planned downtime in a time zone, and the planned production time they give.
import { clipRange, subtractRanges, type Range } from './ranges.ts'
import { addDays, isTimeZone, isoWeekday, localAt, parseDate, parseTime, wallTimeToInstant, type LocalDate } from './zone.ts'

export interface ShiftBreak {
  /** 'HH:MM' local wall time. */
  start: string
  end: string
}

export interface ShiftDefinition {
  name: string
  /** ISO weekdays the shift starts on: Monday 1 … Sunday 7. */
  days: number[]
  /** 'HH:MM'; an end at or before the start means the shift ends the next day (equal: a 24-hour shift). */
  start: string
  end: string
  breaks: ShiftBreak[]
}

export interface PlannedDowntime {
  /** ISO 8601 instants with 'Z' or an offset: planned maintenance, no orders, a meeting. */
  from: string
  to: string
  reason: string
}

export interface ShiftCalendar {
  id: string
  /** IANA time zone the wall times are in, e.g. 'Europe/Berlin'. */
  timeZone: string
  shifts: ShiftDefinition[]
  /** Local dates ('YYYY-MM-DD') on which no shift starts. */
  holidays: string[]
  plannedDowntime: PlannedDowntime[]
}

/** One shift as it happens: UTC instants. */
export interface ShiftInstance {
  calendarId: string
  name: string
  /** The local date the shift starts on: its production day (a night shift belongs to the evening it starts). */
  date: LocalDate
  start: number
  end: number
  breaks: Range[]
  holiday: boolean
}

/** A stretch of planned production time, tagged with the shift it belongs to. */
export interface PlannedPeriod extends Range {
  shift: string
  date: LocalDate
}

export interface CalendarProblem {
  path: string
  message: string
}

/** Which calendar a work center follows: its own, else its line's. */
export function calendarIdFor(assignments: ReadonlyMap<string, string>, workCenterId: string, lineId: string): string | undefined {
  return assignments.get(workCenterId) ?? assignments.get(lineId)
}

const WEEK_MIN = 7 * 1440

/** Minutes from a shift's start to a wall time within it; `end` reads 0 as the full day (a break or shift ending at the start time). */
function offsetInShift(start: number, time: number, end: boolean): number {
  const off = (time - start + 1440) % 1440
  return end && off === 0 ? 1440 : off
}

const instantPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

/** Epoch ms of an ISO instant; undefined without an explicit offset, which would depend on the machine's own zone. */
export function parseInstant(iso: string): number | undefined {
  if (!instantPattern.test(iso)) return undefined
  const ms = Date.parse(iso)
  return Number.isFinite(ms) ? ms : undefined
}

function shiftProblems(shift: ShiftDefinition, path: string): CalendarProblem[] {
  const problems: CalendarProblem[] = []
  if (typeof shift.name !== 'string' || shift.name.trim() === '') problems.push({ path: `${path}.name`, message: 'A shift needs a name.' })
  if (!Array.isArray(shift.days) || shift.days.length === 0) problems.push({ path: `${path}.days`, message: 'A shift needs at least one weekday (1 Monday … 7 Sunday).' })
  else {
    for (const [i, d] of shift.days.entries()) {
      if (!Number.isInteger(d) || d < 1 || d > 7) problems.push({ path: `${path}.days[${i}]`, message: `${String(d)} is not an ISO weekday (1 Monday … 7 Sunday).` })
    }
    if (new Set(shift.days).size !== shift.days.length) problems.push({ path: `${path}.days`, message: 'A weekday is listed twice.' })
  }
  const start = parseTime(shift.start)
  const end = parseTime(shift.end)
  if (start === undefined) problems.push({ path: `${path}.start`, message: `'${shift.start}' is not a wall time HH:MM (00:00 … 23:59).` })
  if (end === undefined) problems.push({ path: `${path}.end`, message: `'${shift.end}' is not a wall time HH:MM (00:00 … 23:59).` })
  if (start === undefined || end === undefined) return problems
  const length = offsetInShift(start, end, true)
  if (!Array.isArray(shift.breaks)) return [...problems, { path: `${path}.breaks`, message: 'A shift lists its breaks (an empty list when it has none).' }]
  const taken: Range[] = []
  for (const [i, b] of shift.breaks.entries()) {
    const where = `${path}.breaks[${i}]`
    const bs = parseTime(b.start)
    const be = parseTime(b.end)
    if (bs === undefined || be === undefined) {
      problems.push({ path: where, message: `A break runs from HH:MM to HH:MM; got '${b.start}'–'${b.end}'.` })
      continue
    }
    const from = offsetInShift(start, bs, false)
    const to = offsetInShift(start, be, true)
    if (from >= to || to > length) {
      problems.push({ path: where, message: `The break ${b.start}–${b.end} does not lie within the shift ${shift.start}–${shift.end}.` })
      continue
    }
    if (taken.some((t) => from < t.to && t.from < to)) problems.push({ path: where, message: `The break ${b.start}–${b.end} overlaps another break.` })
    taken.push({ from, to })
  }
  return problems
}

// Shifts are compared in wall-clock minutes of the week: two shifts of one calendar must not overlap.
function overlapProblems(shifts: readonly ShiftDefinition[]): CalendarProblem[] {
  const spans: { shift: number; from: number; to: number }[] = []
  for (const [i, s] of shifts.entries()) {
    const start = parseTime(s.start)
    const end = parseTime(s.end)
    if (start === undefined || end === undefined || !Array.isArray(s.days)) continue
    const length = offsetInShift(start, end, true)
    for (const d of s.days) {
      if (!Number.isInteger(d) || d < 1 || d > 7) continue
      const from = (d - 1) * 1440 + start
      spans.push({ shift: i, from, to: from + length })
      if (from + length > WEEK_MIN) spans.push({ shift: i, from: from - WEEK_MIN, to: from + length - WEEK_MIN })
    }
  }
  const problems: CalendarProblem[] = []
  const reported = new Set<string>()
  for (const a of spans) {
    for (const b of spans) {
      if (a.shift >= b.shift || !(a.from < b.to && b.from < a.to)) continue
      const key = `${a.shift}/${b.shift}`
      if (reported.has(key)) continue
      reported.add(key)
      problems.push({ path: `shifts[${b.shift}]`, message: `The shift '${shifts[b.shift]!.name}' overlaps the shift '${shifts[a.shift]!.name}'.` })
    }
  }
  return problems
}

/** Every problem with a calendar, each with where it is; an empty list means it is valid. */
export function validateCalendar(calendar: ShiftCalendar): CalendarProblem[] {
  const problems: CalendarProblem[] = []
  if (typeof calendar.id !== 'string' || calendar.id.trim() === '') problems.push({ path: 'id', message: 'A calendar needs an id.' })
  if (typeof calendar.timeZone !== 'string' || !isTimeZone(calendar.timeZone)) {
    problems.push({ path: 'timeZone', message: `'${String(calendar.timeZone)}' is not a time zone; use an IANA name such as 'Europe/Berlin'.` })
  }
  const names = new Set<string>()
  for (const [i, shift] of calendar.shifts.entries()) {
    problems.push(...shiftProblems(shift, `shifts[${i}]`))
    if (names.has(shift.name)) problems.push({ path: `shifts[${i}].name`, message: `Two shifts are named '${shift.name}'.` })
    names.add(shift.name)
  }
  problems.push(...overlapProblems(calendar.shifts))
  for (const [i, day] of calendar.holidays.entries()) {
    if (!parseDate(day)) problems.push({ path: `holidays[${i}]`, message: `'${day}' is not a date (YYYY-MM-DD).` })
  }
  for (const [i, pd] of calendar.plannedDowntime.entries()) {
    const from = parseInstant(pd.from)
    const to = parseInstant(pd.to)
    if (from === undefined) problems.push({ path: `plannedDowntime[${i}].from`, message: `'${pd.from}' is not an ISO instant with 'Z' or an offset.` })
    if (to === undefined) problems.push({ path: `plannedDowntime[${i}].to`, message: `'${pd.to}' is not an ISO instant with 'Z' or an offset.` })
    if (from !== undefined && to !== undefined && to <= from) problems.push({ path: `plannedDowntime[${i}]`, message: 'Planned downtime must end after it starts.' })
    if (typeof pd.reason !== 'string' || pd.reason.trim() === '') problems.push({ path: `plannedDowntime[${i}].reason`, message: 'Planned downtime needs a reason.' })
  }
  return problems
}

function instanceOf(calendar: ShiftCalendar, shift: ShiftDefinition, date: LocalDate, holidays: ReadonlySet<string>): ShiftInstance {
  const zone = calendar.timeZone
  const s = parseTime(shift.start)!
  const e = parseTime(shift.end)!
  const start = wallTimeToInstant(zone, date, s)
  const end = wallTimeToInstant(zone, date, s + offsetInShift(s, e, true))
  const breaks: Range[] = []
  for (const b of shift.breaks) {
    const from = wallTimeToInstant(zone, date, s + offsetInShift(s, parseTime(b.start)!, false))
    const to = wallTimeToInstant(zone, date, s + offsetInShift(s, parseTime(b.end)!, true))
    // A break in a spring-forward gap moves with it; it can never reach outside its shift.
    const clipped = clipRange({ from, to }, { from: start, to: end })
    if (clipped) breaks.push(clipped)
  }
  return { calendarId: calendar.id, name: shift.name, date, start, end, breaks, holiday: holidays.has(date) }
}

/**
 * Every shift that overlaps [fromMs, toMs), in time order, holidays included (flagged). The calendar
 * must be valid (validateCalendar). Wall times become instants by wallTimeToInstant's DST rules, so a
 * 22:00–06:00 shift lasts 9 hours on the night the clocks go back and 7 on the night they go forward.
 */
export function shiftInstances(calendar: ShiftCalendar, fromMs: number, toMs: number): ShiftInstance[] {
  if (!(toMs > fromMs)) return []
  const holidays = new Set(calendar.holidays)
  const out: ShiftInstance[] = []
  // A shift lasts at most 25 hours, so one that overlaps the range starts at most a day before it.
  const last = localAt(calendar.timeZone, toMs).date
  for (let date = addDays(localAt(calendar.timeZone, fromMs).date, -1); date <= last; date = addDays(date, 1)) {
    const weekday = isoWeekday(date)
    for (const shift of calendar.shifts) {
      if (!shift.days.includes(weekday)) continue
      const instance = instanceOf(calendar, shift, date, holidays)
      if (instance.end > fromMs && instance.start < toMs) out.push(instance)
    }
  }
  return out.sort((a, b) => a.start - b.start)
}

/** The planned downtime of a calendar as ranges (invalid entries are left out; validateCalendar reports them). */
export function plannedDowntimeRanges(calendar: ShiftCalendar): Range[] {
  const out: Range[] = []
  for (const pd of calendar.plannedDowntime) {
    const from = parseInstant(pd.from)
    const to = parseInstant(pd.to)
    if (from !== undefined && to !== undefined && to > from) out.push({ from, to })
  }
  return out
}

/**
 * Planned production time within [fromMs, toMs): the shifts less their breaks, holidays and planned
 * downtime, clipped to the range, sorted and disjoint. Where a spring-forward gap makes two shifts
 * overlap in real time, the earlier shift keeps the overlap.
 */
export function plannedPeriods(calendar: ShiftCalendar, fromMs: number, toMs: number): PlannedPeriod[] {
  const downtime = plannedDowntimeRanges(calendar)
  const window = { from: fromMs, to: toMs }
  const out: PlannedPeriod[] = []
  let reached = -Infinity
  for (const shift of shiftInstances(calendar, fromMs, toMs)) {
    if (shift.holiday) continue
    for (const piece of subtractRanges({ from: shift.start, to: shift.end }, [...shift.breaks, ...downtime])) {
      const clipped = clipRange(piece, { from: Math.max(window.from, reached), to: window.to })
      if (!clipped) continue
      out.push({ from: clipped.from, to: clipped.to, shift: shift.name, date: shift.date })
      reached = clipped.to
    }
  }
  return out
}
