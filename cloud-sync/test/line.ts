// A real gateway event log for cloud tests: a LineStore on a SQLite file, with orders and filler definitions recorded through it.
import { join } from 'node:path'
import { accept } from '../../edge/core/decision.ts'
import type { NewEvent } from '../../edge/core/events.ts'
import { readEvents, type StoredEvent } from '../../edge/store/event-log.ts'
import { systemClock, uuidv7Ids } from '../../edge/store/ids.ts'
import { LineStore } from '../../edge/store/line-store.ts'

export function openLine(dir: string): LineStore {
  return new LineStore({ file: join(dir, 'takt.db'), clock: systemClock, ids: uuidv7Ids(systemClock), checkpoints: 'writer' })
}

function record(store: LineStore, events: NewEvent[]): void {
  store.execute('tester', () => accept(events, null))
}

export function orderCreated(id: string, quantity: number, lineId = 'L1'): NewEvent {
  return {
    type: 'OrderCreated',
    subject: `order/${id}`,
    data: {
      id,
      productId: 'PASTE',
      quantity,
      serialized: false,
      serials: [],
      bomId: 'BOM-PASTE',
      bomVersion: 'A',
      routingId: 'RT-PASTE',
      routingVersion: 'A',
      lineId,
      priority: 0,
      dueAt: null,
      plannedStartAt: null,
      outputLot: `${id}-OUT`,
      operations: [],
    },
  } as NewEvent
}

/** Creates, releases and dispatches an order; `done` also completes it with all good. */
export function recordOrder(store: LineStore, id: string, quantity: number, options: { lineId?: string; done?: boolean } = {}): void {
  const events: NewEvent[] = [
    orderCreated(id, quantity, options.lineId),
    { type: 'OrderReleased', subject: `order/${id}`, data: { orderId: id, serials: [] } },
    { type: 'OrderDispatched', subject: `order/${id}`, data: { orderId: id } },
  ]
  if (options.done) events.push({ type: 'OrderCompleted', subject: `order/${id}`, data: { orderId: id, good: quantity, scrap: 0 } })
  record(store, events)
}

/** `count` material definitions, `perCommand` events per command: cheap events that still go through the real log. */
export function recordFiller(store: LineStore, count: number, perCommand = 100, prefix = 'M'): void {
  for (let done = 0; done < count; done += perCommand) {
    const n = Math.min(perCommand, count - done)
    record(
      store,
      Array.from({ length: n }, (_, i) => ({ type: 'MaterialDefined', subject: `material/${prefix}${done + i}`, data: { id: `${prefix}${done + i}`, name: `Material ${done + i}`, uom: 'kg', serialized: false } }) as NewEvent),
    )
  }
}

export function logOf(store: LineStore, afterSeq = 0, limit?: number): StoredEvent[] {
  return [...readEvents(store.db.sqlite, afterSeq, limit)]
}
