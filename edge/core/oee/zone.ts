// Wall-clock time in an IANA time zone ↔ UTC instants, with Intl.DateTimeFormat only (no time zone library).

export const MINUTE_MS = 60_000
export const DAY_MS = 86_400_000

/** A calendar date as the shop floor writes it, 'YYYY-MM-DD'. */
export type LocalDate = string

const formatters = new Map<string, Intl.DateTimeFormat>()

// Building a formatter costs far more than using one; one per zone is kept (a cache, not state).
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, f)
  }
  return f
}

/** True when Intl knows the zone (IANA names, also 'UTC' and fixed offsets such as '+01:00'). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone)
    return true
  } catch {
    return false
  }
}

// Date.UTC maps years 0–99 onto 1900–1999; setUTCFullYear does not.
function utcMs(year: number, month: number, day: number, seconds = 0): number {
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  return d.getTime() + seconds * 1000
}

function floorTo(ms: number, unit: number): number {
  return ms - (((ms % unit) + unit) % unit)
}

/** The zone's offset from UTC at an instant, in ms, as Intl says: local wall time = instant + offset. */
export function intlOffsetAt(timeZone: string, ms: number): number {
  let year = 0
  let month = 0
  let day = 0
  let seconds = 0
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) {
    const n = Number(p.value)
    if (p.type === 'year') year = n
    else if (p.type === 'month') month = n
    else if (p.type === 'day') day = n
    else if (p.type === 'hour') seconds += n * 3600
    else if (p.type === 'minute') seconds += n * 60
    else if (p.type === 'second') seconds += n
  }
  // Intl shows whole seconds; compare with the instant floored to the second.
  return utcMs(year, month, day, seconds) - floorTo(ms, 1000)
}

interface ZoneYear {
  start: number
  end: number
  first: number
  /** Instants (whole seconds) where the offset changes, and the offset from each on. */
  changes: { at: number; offset: number }[]
}

const SAMPLE_MS = 6 * 3_600_000
const zoneYears = new Map<string, ZoneYear>()

// A zone's offset changes a few times a year at most, never twice within six hours: sample, then bisect to the second.
function zoneYear(timeZone: string, year: number): ZoneYear {
  const key = `${timeZone}\u0000${year}`
  let cached = zoneYears.get(key)
  if (cached) return cached
  const start = utcMs(year, 1, 1)
  const end = utcMs(year + 1, 1, 1)
  const first = intlOffsetAt(timeZone, start)
  const changes: { at: number; offset: number }[] = []
  let at = start
  let offset = first
  while (at < end) {
    const next = Math.min(at + SAMPLE_MS, end)
    const o = intlOffsetAt(timeZone, next)
    if (o !== offset) {
      let lo = at
      let hi = next
      while (hi - lo > 1000) {
        const mid = floorTo(lo + (hi - lo) / 2, 1000)
        if (intlOffsetAt(timeZone, mid) === offset) lo = mid
        else hi = mid
      }
      changes.push({ at: hi, offset: o })
      offset = o
    }
    at = next
  }
  cached = { start, end, first, changes }
  zoneYears.set(key, cached)
  return cached
}

const lastYear = new Map<string, ZoneYear>()

/** The zone's offset from UTC at an instant, in ms: local wall time = instant + offset. Each zone-year asks Intl once. */
export function offsetAt(timeZone: string, ms: number): number {
  let zy = lastYear.get(timeZone)
  if (zy === undefined || ms < zy.start || ms >= zy.end) {
    zy = zoneYear(timeZone, new Date(ms).getUTCFullYear())
    lastYear.set(timeZone, zy)
  }
  let offset = zy.first
  for (const c of zy.changes) {
    if (c.at > ms) break
    offset = c.offset
  }
  return offset
}

const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/

/** The parts of a 'YYYY-MM-DD' date, or undefined when it is not a real date (2026-02-30). */
export function parseDate(date: string): { year: number; month: number; day: number } | undefined {
  const m = datePattern.exec(date)
  if (!m) return undefined
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const d = new Date(utcMs(year, month, day))
  if (d.getUTCFullYear() !== year || d.getUTCMonth() + 1 !== month || d.getUTCDate() !== day) return undefined
  return { year, month, day }
}

function dateParts(date: LocalDate): { year: number; month: number; day: number } {
  const parts = parseDate(date)
  if (!parts) throw new RangeError(`'${date}' is not a date (YYYY-MM-DD).`)
  return parts
}

function formatUtcDate(ms: number): LocalDate {
  const d = new Date(ms)
  const y = String(d.getUTCFullYear()).padStart(4, '0')
  return `${y}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`
}

export function addDays(date: LocalDate, days: number): LocalDate {
  const { year, month, day } = dateParts(date)
  return formatUtcDate(utcMs(year, month, day + days))
}

/** ISO 8601 weekday: Monday 1 … Sunday 7. */
export function isoWeekday(date: LocalDate): number {
  const { year, month, day } = dateParts(date)
  return new Date(utcMs(year, month, day)).getUTCDay() || 7
}

const timePattern = /^([01]\d|2[0-3]):([0-5]\d)$/

/** Minutes after midnight of an 'HH:MM' wall time, or undefined when it is not one (24:00 is not). */
export function parseTime(time: string): number | undefined {
  const m = timePattern.exec(time)
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined
}

/** The local date and wall time at an instant. */
export function localAt(timeZone: string, ms: number): { date: LocalDate; minuteOfDay: number; offsetMs: number } {
  const offsetMs = offsetAt(timeZone, ms)
  const wall = ms + offsetMs
  return { date: formatUtcDate(wall), minuteOfDay: Math.floor((wall - floorTo(wall, DAY_MS)) / MINUTE_MS), offsetMs }
}

/**
 * The instant of a local wall time: `minutes` after midnight of `date` (1440 and more run into the
 * following days). RFC 5545 3.3.5: a wall time that occurs twice (clocks go back) means the first
 * occurrence; one that does not occur (clocks go forward) is read with the offset before the gap,
 * so it moves forward by the gap — 02:30 on the night Berlin skips 02:00–03:00 is 03:30 CEST.
 */
export function wallTimeToInstant(timeZone: string, date: LocalDate, minutes: number): number {
  const { year, month, day } = dateParts(date)
  const wall = utcMs(year, month, day) + minutes * MINUTE_MS
  // No zone changes its offset twice within two days, so the offsets a day either side are the candidates.
  const before = offsetAt(timeZone, wall - DAY_MS)
  const after = offsetAt(timeZone, wall + DAY_MS)
  let first: number | undefined
  for (const offset of before === after ? [before] : [before, after]) {
    const instant = wall - offset
    if (offsetAt(timeZone, instant) === offset && (first === undefined || instant < first)) first = instant
  }
  return first ?? wall - before
}
