// Every fact the line records, as a discriminated union: the audit trail, as-built record and sync outbox.
import type {
  Bom,
  Equipment,
  Material,
  MaterialLot,
  OrderOperation,
  OrderState,
  Person,
  MachineState,
  Order,
  Routing,
  ScrapEntry,
} from './model.ts'
import type { ShiftCalendar } from './oee/calendar.ts'
import type { NonconformanceDisposition, SignatureManifest } from './signatures.ts'
import type { ReasonCode } from './oee/reasons.ts'

/** What defines an order, as ERP sent it: the order without its execution state. */
export type OrderDefinition = Omit<Order, 'state' | 'heldFrom' | 'createdAt'>

export type EventBody =
  | { type: 'EquipmentDefined'; data: Equipment }
  | { type: 'MaterialDefined'; data: Material }
  | { type: 'BomDefined'; data: Bom }
  | { type: 'RoutingDefined'; data: Routing }
  | { type: 'PersonDefined'; data: Person }
  | { type: 'LotDefined'; data: Omit<MaterialLot, 'producedByOrder'> }
  | { type: 'OrderCreated'; data: OrderDefinition & { operations: OrderOperation[] } }
  | { type: 'OrderQuantityChanged'; data: { orderId: string; from: number; to: number } }
  | { type: 'OrderPlanChanged'; data: { orderId: string; priority: number; dueAt: string | null; plannedStartAt: string | null } }
  | { type: 'OrderReleased'; data: { orderId: string; serials: string[] } }
  | { type: 'OrderDispatched'; data: { orderId: string } }
  | { type: 'OrderHeld'; data: { orderId: string; reason: string; from: OrderState } }
  | { type: 'OrderHoldReleased'; data: { orderId: string; reason: string; to: OrderState } }
  | { type: 'OrderCancelled'; data: { orderId: string; reason: string } }
  | { type: 'OrderCompleted'; data: { orderId: string; good: number; scrap: number } }
  | { type: 'OrderClosed'; data: { orderId: string } }
  | { type: 'DispatchResequenced'; data: { workCenterId: string; orderIds: string[] } }
  | {
      type: 'OperationStarted'
      data: {
        runId: string
        orderId: string
        opSeq: number
        unitSerial: string | null
        quantity: number
        workCenterId: string
        operatorId: string
      }
    }
  | { type: 'OperationPaused'; data: { runId: string; reason: string } }
  | { type: 'OperationClosed'; data: { orderId: string; opSeq: number } }
  | { type: 'OperationResumed'; data: { runId: string } }
  | {
      type: 'OperationCompleted'
      data: {
        runId: string
        orderId: string
        opSeq: number
        unitSerial: string | null
        good: number
        scrap: number
        scrapReasons: ScrapEntry[]
        operationCompleted: boolean
      }
    }
  | {
      type: 'MaterialConsumed'
      data: {
        runId: string
        orderId: string
        opSeq: number
        /** What the material went into: a serialized unit or the order's output lot. */
        producedKind: 'unit' | 'lot'
        producedId: string
        consumedKind: 'unit' | 'lot'
        consumedId: string
        materialId: string
        quantity: number
      }
    }
  | {
      type: 'ConsumptionRefused'
      data: { runId: string; orderId: string; opSeq: number; lotId: string; quantity: number; code: string; reason: string }
    }
  | {
      type: 'MeasurementRecorded'
      data: {
        runId: string
        orderId: string
        opSeq: number
        unitSerial: string | null
        name: string
        value: number
        unit: string
        lower: number | null
        upper: number | null
        withinLimits: boolean
      }
    }
  | {
      type: 'NonconformanceOpened'
      data: { ncId: string; orderId: string; opSeq: number; unitSerial: string | null; runId: string; reason: string }
    }
  | { type: 'UnitHeld'; data: { serial: string; reason: string; ncId: string | null } }
  | { type: 'UnitHoldReleased'; data: { serial: string; reason: string } }
  | { type: 'OutputLotProduced'; data: { lotId: string; orderId: string; materialId: string; quantity: number } }
  | { type: 'WorkCenterStateChanged'; data: { workCenterId: string; state: MachineState; from: MachineState | null; source: string; /** The machine's own stop reason (PackML StopReason) with a stop, when it gives one. */ stopReason?: number } }
  | { type: 'MachineCounted'; data: { workCenterId: string; runId: string | null; orderId: string | null; good: number; reject: number; source: string } }
  | { type: 'ShiftCalendarDefined'; data: { calendar: ShiftCalendar } }
  | { type: 'ShiftCalendarAssigned'; data: { equipmentId: string; calendarId: string | null } }
  | { type: 'ReasonCodesDefined'; data: { reasons: ReasonCode[] } }
  | { type: 'MicroStopThresholdSet'; data: { workCenterId: string; thresholdMs: number } }
  | {
      type: 'DowntimeEdited'
      data: {
        workCenterId: string
        kind: 'classified' | 'split' | 'merged'
        /** The operator classifications the edit records, ISO instants (`to: null`: until the work center runs again). */
        classifications: { from: string; to: string | null; reason: string }[]
        before: { from: string; to: string | null; reason: string | null }[]
        after: { from: string; to: string | null; reason: string | null }[]
        /** Why the person made the edit, in their words. */
        why: string | null
      }
    }
  /** Why a person was deactivated (21 CFR 11.300): the PersonDefined beside it does the deactivating. */
  | { type: 'PersonDeactivated'; data: { personId: string; reason: string } }
  /** A lockout after repeated wrong passwords or PINs (21 CFR 11.300(d)): whose account, which secret, where from, until when; never the secret tried. */
  | { type: 'AccountLocked'; data: { personId: string; credential: 'password' | 'pin'; via: 'login' | 'badge' | 'signing'; failures: number; lockedUntil: string; terminal: string | null } }
  | { type: 'NonconformanceDispositioned'; data: { ncId: string; disposition: NonconformanceDisposition; reason: string } }
  /** An electronic signature (21 CFR 11.50, 11.70): bound to the record it signs by that record's digest. */
  | { type: 'RecordSigned'; data: SignatureManifest }
  /** A correction of as-built data (21 CFR 11.10(e)): a new record naming the one it corrects, never an edit. */
  | {
      type: 'AsBuiltCorrected'
      data: { correctsSeq: number; correctsId: string; correctsType: string; field: string; from: unknown; to: unknown; reason: string }
    }

export type EventType = EventBody['type']

/** An event as core decides it: what happened and to which subject. */
export type NewEvent = EventBody & { subject: string }

/** An event as the log holds it. */
export type RecordedEvent = NewEvent & {
  seq: number
  id: string
  actor: string
  occurredAt: string
  recordedAt: string
  prevHash: string
  hash: string
}

export function event<T extends EventType>(
  type: T,
  subject: string,
  data: Extract<EventBody, { type: T }>['data'],
): NewEvent {
  return { type, subject, data } as NewEvent
}
