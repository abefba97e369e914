// Each gateway's shift calendars and which work center or line follows which, folded per batch: the planned time of central OEE.
import { and, eq, inArray, sql } from 'drizzle-orm'
import type { ShiftCalendar } from '../../edge/core/oee/calendar.ts'
import type { CloudOrm } from '../database.ts'
import * as schema from '../schema.ts'
import type { CentralEvent } from './central-event.ts'

/** The batch's last definition of each calendar and last assignment of each piece of equipment, written with one statement each. */
export async function foldCalendars(orm: CloudOrm, gatewayId: string, events: readonly CentralEvent[]): Promise<void> {
  const calendars = new Map<string, ShiftCalendar>()
  const assignments = new Map<string, string | null>()
  for (const e of events) {
    if (e.type === 'ShiftCalendarDefined') calendars.set(e.data.calendar.id, e.data.calendar)
    else if (e.type === 'ShiftCalendarAssigned') assignments.set(e.data.equipmentId, e.data.calendarId)
  }
  const c = schema.centralCalendars
  if (calendars.size > 0) {
    await orm
      .insert(c)
      .values([...calendars].map(([calendarId, calendar]) => ({ gatewayId, calendarId, calendar: JSON.stringify(calendar) })))
      .onConflictDoUpdate({ target: [c.gatewayId, c.calendarId], set: { calendar: sql`excluded.calendar` } })
  }
  const a = schema.centralCalendarAssignments
  const assigned = [...assignments].filter((x): x is [string, string] => x[1] !== null)
  const unassigned = [...assignments].filter(([, id]) => id === null).map(([equipmentId]) => equipmentId)
  if (assigned.length > 0) {
    await orm
      .insert(a)
      .values(assigned.map(([equipmentId, calendarId]) => ({ gatewayId, equipmentId, calendarId })))
      .onConflictDoUpdate({ target: [a.gatewayId, a.equipmentId], set: { calendarId: sql`excluded.calendar_id` } })
  }
  if (unassigned.length > 0) await orm.delete(a).where(and(eq(a.gatewayId, gatewayId), inArray(a.equipmentId, unassigned)))
}

export interface GatewayCalendars {
  calendars: Map<string, ShiftCalendar>
  assignments: Map<string, string>
}

/** A gateway's calendars and assignments as they stand: the gateway's own OEE reads them the same way, current at query time. */
export async function calendarsOf(orm: CloudOrm, gatewayId: string): Promise<GatewayCalendars> {
  const c = schema.centralCalendars
  const a = schema.centralCalendarAssignments
  const calendars = new Map<string, ShiftCalendar>()
  for (const row of await orm.select({ id: c.calendarId, calendar: c.calendar }).from(c).where(eq(c.gatewayId, gatewayId))) calendars.set(row.id, JSON.parse(row.calendar) as ShiftCalendar)
  const assignments = new Map<string, string>()
  for (const row of await orm.select({ equipmentId: a.equipmentId, calendarId: a.calendarId }).from(a).where(eq(a.gatewayId, gatewayId))) assignments.set(row.equipmentId, row.calendarId)
  return { calendars, assignments }
}
