// Decisions on OEE definitions and downtime: shift calendars, their assignment, the reason tree, operators' downtime edits.
import { accept, refuse, type Decision } from './decision.ts'
import { event } from './events.ts'
import type { LineView } from './line-view.ts'
import { validateCalendar, type ShiftCalendar } from './oee/calendar.ts'
import type { DowntimeEdit, StopRef } from './oee/downtime.ts'
import { validateReasons, type ReasonCode } from './oee/reasons.ts'
import { reject } from './rejection.ts'

export interface DefinitionProblem {
  path: string
  message: string
}

function invalid(what: string, problems: readonly DefinitionProblem[]) {
  return refuse(reject('definition_invalid', `The ${what} is not valid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, { errors: problems }))
}

/** Defines (or redefines) a shift calendar; a calendar with any problem changes nothing. */
export function defineShiftCalendar(calendar: ShiftCalendar): Decision<{ calendarId: string }> {
  const problems = validateCalendar(calendar)
  if (problems.length > 0) return invalid(`shift calendar '${calendar.id}'`, problems)
  return accept([event('ShiftCalendarDefined', `shift-calendar/${calendar.id}`, { calendar })], { calendarId: calendar.id })
}

/** A line or work center follows a calendar (a work center's own wins over its line's); null removes the assignment. */
export function assignShiftCalendar(view: LineView, calendarIds: ReadonlySet<string>, equipmentId: string, calendarId: string | null): Decision<{ equipmentId: string; calendarId: string | null }> {
  const eq = view.equipment(equipmentId)
  if (!eq) return refuse(reject('not_found', `There is no equipment '${equipmentId}'.`))
  if (eq.level !== 'line' && eq.level !== 'work_center') return refuse(reject('definition_invalid', `'${equipmentId}' is a ${eq.level}: shift calendars are assigned to a line or a work center.`))
  if (calendarId !== null && !calendarIds.has(calendarId)) return refuse(reject('reference_unknown', `There is no shift calendar '${calendarId}'.`))
  return accept([event('ShiftCalendarAssigned', `equipment/${equipmentId}`, { equipmentId, calendarId })], { equipmentId, calendarId })
}

/** Replaces the reason tree as a whole; an invalid tree changes nothing. */
export function defineReasonCodes(reasons: ReasonCode[]): Decision<{ count: number }> {
  const problems = validateReasons(reasons)
  if (problems.length > 0) return invalid('reason tree', problems)
  return accept([event('ReasonCodesDefined', 'reason-codes', { reasons })], { count: reasons.length })
}

/** Longest micro-stop threshold: a stop of an hour is no small stop. */
export const maxMicroStopThresholdMs = 3_600_000

/** Sets a work center's micro-stop threshold (its OEE buckets are rebuilt with it). */
export function setMicroStopThreshold(view: LineView, workCenterId: string, thresholdMs: number): Decision<{ changed: boolean }> {
  const wc = view.equipment(workCenterId)
  if (!wc || wc.level !== 'work_center') return refuse(reject('not_found', `There is no work center '${workCenterId}'.`))
  if (!Number.isInteger(thresholdMs) || thresholdMs < 0 || thresholdMs > maxMicroStopThresholdMs) {
    return refuse(reject('definition_invalid', `The micro-stop threshold is whole milliseconds from 0 to ${maxMicroStopThresholdMs}; got ${thresholdMs}.`))
  }
  return accept([event('MicroStopThresholdSet', `work-center/${workCenterId}`, { workCenterId, thresholdMs })], { changed: true })
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
const isoRef = (r: StopRef) => ({ from: iso(r.from)!, to: iso(r.to), reason: r.reason })

/** Records an operator's classify, split or merge (computed by the pure edits in oee/downtime.ts) with why. */
export function recordDowntimeEdit(workCenterId: string, edit: DowntimeEdit, why: string | null): Decision<{ kind: string; after: { from: string; to: string | null; reason: string | null }[] }> {
  if (!edit.ok) {
    const code = edit.problem === 'stop_unknown' ? 'stop_unknown' : 'downtime_edit_invalid'
    return refuse(reject(code, edit.message, { problem: edit.problem }))
  }
  const after = edit.change.after.map(isoRef)
  return accept(
    [
      event('DowntimeEdited', `work-center/${workCenterId}`, {
        workCenterId,
        kind: edit.change.kind,
        classifications: edit.classifications.map((c) => ({ from: iso(c.from)!, to: iso(c.to), reason: c.reason })),
        before: edit.change.before.map(isoRef),
        after,
        why,
      }),
    ],
    { kind: edit.change.kind, after },
  )
}
