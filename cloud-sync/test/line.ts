// A real gateway event log for cloud tests: a LineStore on a SQLite file, with orders, runs, machine states, counts and consumptions recorded through it.
import { join } from 'node:path'
import { accept } from '../../edge/core/decision.ts'
import type { MachineState } from '../../edge/core/model.ts'
import type { Clock } from '../../edge/core/ports.ts'
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

/** A clock the test moves: events are recorded at the instants a scenario names. */
export interface SetClock extends Clock {
  set(iso: string): void
}

export function setClock(start: string): SetClock {
  let at = new Date(start)
  return { now: () => at, set: (iso) => (at = new Date(iso)) }
}

export function openLineAt(dir: string, clock: Clock): LineStore {
  return new LineStore({ file: join(dir, 'takt.db'), clock, ids: uuidv7Ids(clock), checkpoints: 'writer' })
}

export interface OrderPlan {
  lineId: string
  workCenterId: string
  idealCycleTimeS: number | null
  serials?: string[]
  outputLot?: string
}

/** An order with one operation (seq 10) at a work center, created, released and dispatched. */
export function recordOrderAt(store: LineStore, id: string, quantity: number, plan: OrderPlan): void {
  const created = orderCreated(id, quantity, plan.lineId)
  const data = created.data as { operations: unknown[]; serials: string[]; serialized: boolean; outputLot: string }
  data.operations = [
    { seq: 10, name: 'Run', workCenterId: plan.workCenterId, setupTimeS: 0, idealCycleTimeS: plan.idealCycleTimeS, components: [], measurements: [], qualification: null, allowOverlap: false, instructions: '', alternates: {}, state: 'pending', qtyStarted: 0, qtyGood: 0, qtyScrap: 0, startedAt: null, completedAt: null },
  ]
  data.serials = plan.serials ?? []
  data.serialized = data.serials.length > 0
  if (plan.outputLot) data.outputLot = plan.outputLot
  record(store, [
    created,
    { type: 'OrderReleased', subject: `order/${id}`, data: { orderId: id, serials: plan.serials ?? [] } },
    { type: 'OrderDispatched', subject: `order/${id}`, data: { orderId: id } },
  ])
}

export function recordStart(store: LineStore, runId: string, orderId: string, workCenterId: string, unitSerial: string | null = null): void {
  record(store, [{ type: 'OperationStarted', subject: `run/${runId}`, data: { runId, orderId, opSeq: 10, unitSerial, quantity: 1, workCenterId, operatorId: 'op-1' } }])
}

export function recordState(store: LineStore, workCenterId: string, state: MachineState, stopReason?: number): void {
  record(store, [{ type: 'WorkCenterStateChanged', subject: `workcenter/${workCenterId}`, data: { workCenterId, state, from: null, source: 'plc', ...(stopReason !== undefined && { stopReason }) } }])
}

export function recordCount(store: LineStore, workCenterId: string, runId: string | null, orderId: string | null, good: number, reject: number): void {
  record(store, [{ type: 'MachineCounted', subject: `workcenter/${workCenterId}`, data: { workCenterId, runId, orderId, good, reject, source: 'plc' } }])
}

export function recordCompletion(store: LineStore, runId: string, orderId: string, good: number, scrap: number, unitSerial: string | null = null): void {
  record(store, [{ type: 'OperationCompleted', subject: `run/${runId}`, data: { runId, orderId, opSeq: 10, unitSerial, good, scrap, scrapReasons: [], operationCompleted: true } }])
}

/** `consumed` went into `produced` in a run of the order's operation 10. */
export function recordConsumption(store: LineStore, runId: string, orderId: string, produced: { kind: 'unit' | 'lot'; id: string }, consumed: { kind: 'unit' | 'lot'; id: string }, materialId: string, quantity: number): void {
  record(store, [
    {
      type: 'MaterialConsumed',
      subject: `run/${runId}`,
      data: { runId, orderId, opSeq: 10, producedKind: produced.kind, producedId: produced.id, consumedKind: consumed.kind, consumedId: consumed.id, materialId, quantity },
    },
  ])
}

export function recordOutputLot(store: LineStore, lotId: string, orderId: string, materialId: string, quantity: number): void {
  record(store, [{ type: 'OutputLotProduced', subject: `lot/${lotId}`, data: { lotId, orderId, materialId, quantity } }])
}

export function recordThreshold(store: LineStore, workCenterId: string, thresholdMs: number): void {
  record(store, [{ type: 'MicroStopThresholdSet', subject: `workcenter/${workCenterId}`, data: { workCenterId, thresholdMs } }])
}

export function recordPause(store: LineStore, runId: string, reason: string): void {
  record(store, [{ type: 'OperationPaused', subject: `run/${runId}`, data: { runId, reason } }])
}

export function recordResume(store: LineStore, runId: string): void {
  record(store, [{ type: 'OperationResumed', subject: `run/${runId}`, data: { runId } }])
}

/** The gateway's own minute buckets of a work center (edge/store/oee-projection.ts), parsed: what the cloud's must equal. */
export function gatewayMinuteBuckets(store: LineStore, workCenterId: string): unknown[][] {
  const rows = store.db.sqlite.prepare<[string], { start: number; ms: string; stops: string; counts: string }>('SELECT start, ms, stops, counts FROM oee_buckets WHERE work_center_id = ? AND unit = 60000 ORDER BY start').all(workCenterId)
  return rows.map((r) => [r.start, JSON.parse(r.ms), JSON.parse(r.stops), JSON.parse(r.counts)])
}
