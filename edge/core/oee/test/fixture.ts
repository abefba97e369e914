// Shared pieces for the OEE tests: the shipped reason tree, one-shift calendars, and inputs built from a day's events.
import type { MachineState } from '../../model.ts'
import { plannedPeriods, type ShiftBreak, type ShiftCalendar } from '../calendar.ts'
import { defaultReasons } from '../default-reasons.ts'
import type { OeeInput, ProductionCount } from '../oee.ts'
import { reasonTree } from '../reasons.ts'
import { timeline, type Classification, type StateChange } from '../timeline.ts'

export const tree = reasonTree(defaultReasons)
export const DAY = '2026-06-08'
export const MIN = 60_000

/** An instant on DAY (UTC) from 'HH:MM' or 'HH:MM:SS'. */
export function at(time: string, date = DAY): number {
  return Date.parse(`${date}T${time.length === 5 ? `${time}:00` : time}Z`)
}

export function oneShift(start: string, end: string, breaks: ShiftBreak[] = [], timeZone = 'UTC'): ShiftCalendar {
  return { id: 'one', timeZone, shifts: [{ name: 'shift', days: [1, 2, 3, 4, 5, 6, 7], start, end, breaks }], holidays: [], plannedDowntime: [] }
}

export function state(time: string, s: MachineState, reason: string | null = null): StateChange {
  return { at: at(time), state: s, reason }
}

export function count(time: string, good: number, reject: number, idealCycleTimeS: number | null, more: Partial<ProductionCount> = {}): ProductionCount {
  return { at: at(time), good, reject, idealCycleTimeS, ...more }
}

export interface Day {
  calendar: ShiftCalendar
  changes: StateChange[]
  counts: ProductionCount[]
  classifications?: Classification[]
  until?: string
  ratedS?: number | null
  thresholdMs?: number
}

/** The OEE input of one day's shift from its calendar, changes and counts. */
export function dayInput(d: Day): OeeInput {
  const until = at(d.until ?? '23:59')
  return {
    periods: plannedPeriods(d.calendar, at('00:00'), until),
    intervals: timeline(d.changes, d.classifications ?? [], until),
    counts: d.counts,
    workCenterRatedCycleTimeS: d.ratedS ?? null,
    microStopThresholdMs: d.thresholdMs ?? 5 * MIN,
    reasons: tree,
  }
}
