// A pushed event parsed once for every central projection of its batch, and the raw-SQL helpers the projections share.
import { sql, type SQL } from 'drizzle-orm'
import type { EventBody, EventType } from '../../edge/core/events.ts'
import type { StoredEvent } from '../../edge/store/event-log.ts'
import type { CloudOrm } from '../database.ts'

/** The stored event with its data parsed into the gateway's own event type. */
export type CentralEvent = EventBody & { seq: number; id: string; occurredAt: string }

export type DataOf<T extends EventType> = Extract<EventBody, { type: T }>['data']

/** The event types the as-built, genealogy and OEE projections read; other events are not parsed at all. */
export const centralEventTypes: ReadonlySet<string> = new Set<EventType>([
  'OrderCreated',
  'OrderReleased',
  'OperationStarted',
  'OperationPaused',
  'OperationResumed',
  'OperationCompleted',
  'MaterialConsumed',
  'OutputLotProduced',
  'UnitHeld',
  'UnitHoldReleased',
  'WorkCenterStateChanged',
  'MachineCounted',
  'EquipmentDefined',
  'ReasonCodesDefined',
  'MicroStopThresholdSet',
  'ShiftCalendarDefined',
  'ShiftCalendarAssigned',
  'DowntimeEdited',
])

/** Whether the OEE fold has anything to do: an order without operations or a line-level equipment changes nothing there. */
export function touchesOee(e: CentralEvent): boolean {
  switch (e.type) {
    case 'OrderCreated':
      return e.data.operations.length > 0
    case 'EquipmentDefined':
      return e.data.level === 'work_center'
    case 'OrderReleased':
    case 'MaterialConsumed':
    case 'OutputLotProduced':
    case 'UnitHeld':
    case 'UnitHoldReleased':
    case 'ShiftCalendarDefined':
    case 'ShiftCalendarAssigned':
      return false
    default:
      return true
  }
}

/** Whether the calendar fold has anything to do: shift calendars and their assignments. */
export function touchesCalendars(e: CentralEvent): boolean {
  return e.type === 'ShiftCalendarDefined' || e.type === 'ShiftCalendarAssigned'
}

/** Whether the as-built fold has anything to do: consumptions, output lots, and units (released, completed, held). */
export function touchesAsBuilt(e: CentralEvent): boolean {
  switch (e.type) {
    case 'MaterialConsumed':
    case 'OutputLotProduced':
    case 'UnitHeld':
    case 'UnitHoldReleased':
      return true
    case 'OrderReleased':
      return e.data.serials.length > 0
    case 'OperationCompleted':
      return e.data.unitSerial !== null
    default:
      return false
  }
}

export function parseCentral(batch: readonly StoredEvent[]): CentralEvent[] {
  const out: CentralEvent[] = []
  for (const e of batch) {
    if (!centralEventTypes.has(e.type)) continue
    out.push({ type: e.type, data: JSON.parse(e.data), seq: e.seq, id: e.id, occurredAt: e.occurredAt } as CentralEvent)
  }
  return out
}

/** Rows of a raw statement: node-postgres and PGlite both answer with `rows`. Numbers are cast to float8 in the SQL, so both give JS numbers. */
export async function rowsOf<T>(orm: CloudOrm, query: SQL): Promise<T[]> {
  const result = (await orm.execute(query)) as unknown as { rows: T[] }
  return result.rows
}

/** A VALUES list of tuples for IN and JOIN, each value a bound parameter. */
export function tuples(rows: readonly (readonly unknown[])[]): SQL {
  return sql.join(
    rows.map((r) => sql`(${sql.join(r.map((v) => sql`${v}`), sql`, `)})`),
    sql`, `,
  )
}

/** Runs `write` over slices of at most `size` items: bound parameters stay far below PostgreSQL's 65,535. */
export async function inChunks<T>(items: readonly T[], size: number, write: (slice: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await write(items.slice(i, i + size))
}
