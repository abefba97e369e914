// The gateway's SQLite schema (drizzle): the event log, the projections rebuilt from it, and security state.
import { orm, sqliteCore } from './drizzle.ts'

const { sql } = orm
const { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } = sqliteCore

/** The append-only event log: audit trail, as-built record, genealogy source and sync outbox. */
export const events = sqliteTable(
  'events',
  {
    seq: integer('seq').primaryKey(),
    id: text('id').notNull(),
    type: text('type').notNull(),
    subject: text('subject').notNull(),
    data: text('data').notNull(),
    actor: text('actor').notNull(),
    occurredAt: text('occurred_at').notNull(),
    recordedAt: text('recorded_at').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [uniqueIndex('events_id').on(t.id), index('events_subject').on(t.subject, t.seq)],
)

// ---- projections: every table below is rebuilt from `events` alone ----

export const equipment = sqliteTable('equipment', {
  id: text('id').primaryKey(),
  level: text('level').notNull(),
  name: text('name').notNull(),
  parentId: text('parent_id'),
  ratedCycleTimeS: real('rated_cycle_time_s'),
})

export const materials = sqliteTable('materials', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  uom: text('uom').notNull(),
  serialized: integer('serialized', { mode: 'boolean' }).notNull(),
})

export const boms = sqliteTable(
  'boms',
  {
    id: text('id').notNull(),
    version: text('version').notNull(),
    productId: text('product_id').notNull(),
    items: text('items', { mode: 'json' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.id, t.version] })],
)

export const routings = sqliteTable(
  'routings',
  {
    id: text('id').notNull(),
    version: text('version').notNull(),
    productId: text('product_id').notNull(),
    operations: text('operations', { mode: 'json' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.id, t.version] })],
)

export const people = sqliteTable('people', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  roles: text('roles', { mode: 'json' }).notNull(),
  qualifications: text('qualifications', { mode: 'json' }).notNull(),
  active: integer('active', { mode: 'boolean' }).notNull(),
})

export const lots = sqliteTable('lots', {
  id: text('id').primaryKey(),
  materialId: text('material_id').notNull(),
  status: text('status').notNull(),
  expiresAt: text('expires_at'),
  quantity: real('quantity').notNull(),
  producedByOrder: text('produced_by_order'),
})

export const orders = sqliteTable(
  'orders',
  {
    id: text('id').primaryKey(),
    productId: text('product_id').notNull(),
    quantity: real('quantity').notNull(),
    serialized: integer('serialized', { mode: 'boolean' }).notNull(),
    serials: text('serials', { mode: 'json' }).notNull(),
    bomId: text('bom_id').notNull(),
    bomVersion: text('bom_version').notNull(),
    routingId: text('routing_id').notNull(),
    routingVersion: text('routing_version').notNull(),
    lineId: text('line_id').notNull(),
    priority: integer('priority').notNull(),
    dueAt: text('due_at'),
    plannedStartAt: text('planned_start_at'),
    state: text('state').notNull(),
    heldFrom: text('held_from'),
    outputLot: text('output_lot').notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [index('orders_state').on(t.state)],
)

export const orderOperations = sqliteTable(
  'order_operations',
  {
    orderId: text('order_id').notNull(),
    seq: integer('seq').notNull(),
    position: integer('position').notNull(),
    name: text('name').notNull(),
    workCenterId: text('work_center_id').notNull(),
    definition: text('definition', { mode: 'json' }).notNull(),
    state: text('state').notNull(),
    qtyStarted: real('qty_started').notNull(),
    qtyGood: real('qty_good').notNull(),
    qtyScrap: real('qty_scrap').notNull(),
    startedAt: text('started_at'),
    completedAt: text('completed_at'),
    // The order's state, priority and due date, kept here by triggers on orders so that a work
    // center's dispatch list is one index walk in dispatch order (due date NULL sorts last as '9999').
    orderState: text('order_state').notNull().default('created'),
    orderPriority: integer('order_priority').notNull().default(0),
    orderDueKey: text('order_due_key').notNull().default('9999'),
  },
  (t) => [
    primaryKey({ columns: [t.orderId, t.seq] }),
    index('order_operations_wc').on(t.workCenterId, t.state),
    index('order_operations_dispatch').on(t.workCenterId, t.orderPriority, t.orderDueKey, t.seq, t.orderId),
  ],
)

/** SQL condition (order operations aliased `op`) for what a work center's dispatch list shows. */
export const onDispatchList = `op.state != 'completed' AND op.order_state IN ('dispatched', 'in_progress', 'held')`

export const dispatchRanks = sqliteTable(
  'dispatch_ranks',
  {
    workCenterId: text('work_center_id').notNull(),
    orderId: text('order_id').notNull(),
    rank: integer('rank').notNull(),
  },
  (t) => [primaryKey({ columns: [t.workCenterId, t.orderId] })],
)

export const units = sqliteTable(
  'units',
  {
    serial: text('serial').primaryKey(),
    orderId: text('order_id').notNull(),
    state: text('state').notNull(),
    held: integer('held', { mode: 'boolean' }).notNull(),
    holdReason: text('hold_reason'),
  },
  (t) => [index('units_order').on(t.orderId), index('units_held').on(t.orderId).where(sql`${t.held} = 1`)],
)

export const runs = sqliteTable(
  'runs',
  {
    id: text('id').primaryKey(),
    orderId: text('order_id').notNull(),
    opSeq: integer('op_seq').notNull(),
    unitSerial: text('unit_serial'),
    quantity: real('quantity').notNull(),
    workCenterId: text('work_center_id').notNull(),
    operatorId: text('operator_id').notNull(),
    state: text('state').notNull(),
    startedAt: text('started_at').notNull(),
    endedAt: text('ended_at'),
    good: real('good').notNull(),
    scrap: real('scrap').notNull(),
    scrapReasons: text('scrap_reasons', { mode: 'json' }).notNull(),
    startSeq: integer('start_seq').notNull(),
  },
  (t) => [index('runs_order_op_unit').on(t.orderId, t.opSeq, t.unitSerial), index('runs_wc_state').on(t.workCenterId, t.state)],
)

/** Actual run time and quantity of completed runs, per order operation: WIP estimates without scanning runs. */
export const runTimes = sqliteTable(
  'run_times',
  {
    orderId: text('order_id').notNull(),
    opSeq: integer('op_seq').notNull(),
    actualS: real('actual_s').notNull(),
    quantity: real('quantity').notNull(),
  },
  (t) => [primaryKey({ columns: [t.orderId, t.opSeq] })],
)

/** Genealogy edges: what was consumed into what, by which run. */
export const consumptions = sqliteTable(
  'consumptions',
  {
    eventSeq: integer('event_seq').primaryKey(),
    runId: text('run_id').notNull(),
    orderId: text('order_id').notNull(),
    opSeq: integer('op_seq').notNull(),
    producedKind: text('produced_kind').notNull(),
    producedId: text('produced_id').notNull(),
    consumedKind: text('consumed_kind').notNull(),
    consumedId: text('consumed_id').notNull(),
    materialId: text('material_id').notNull(),
    quantity: real('quantity').notNull(),
    at: text('at').notNull(),
  },
  (t) => [
    index('consumptions_produced').on(t.producedKind, t.producedId),
    index('consumptions_consumed').on(t.consumedKind, t.consumedId),
    index('consumptions_run').on(t.runId),
  ],
)

export const measurements = sqliteTable(
  'measurements',
  {
    eventSeq: integer('event_seq').primaryKey(),
    runId: text('run_id').notNull(),
    orderId: text('order_id').notNull(),
    opSeq: integer('op_seq').notNull(),
    unitSerial: text('unit_serial'),
    name: text('name').notNull(),
    value: real('value').notNull(),
    unit: text('unit').notNull(),
    lower: real('lower'),
    upper: real('upper'),
    withinLimits: integer('within_limits', { mode: 'boolean' }).notNull(),
    at: text('at').notNull(),
  },
  (t) => [index('measurements_run').on(t.runId), index('measurements_unit').on(t.unitSerial)],
)

export const nonconformances = sqliteTable('nonconformances', {
  id: text('id').primaryKey(),
  orderId: text('order_id').notNull(),
  opSeq: integer('op_seq').notNull(),
  unitSerial: text('unit_serial'),
  runId: text('run_id').notNull(),
  reason: text('reason').notNull(),
  state: text('state').notNull(),
  openedAt: text('opened_at').notNull(),
  openedBy: text('opened_by').notNull(),
  /** How quality decided to deal with it (NonconformanceDispositioned); null while open. */
  disposition: text('disposition'),
  dispositionedAt: text('dispositioned_at'),
  dispositionedBy: text('dispositioned_by'),
})

export const workCenterStates = sqliteTable('work_center_states', {
  workCenterId: text('work_center_id').primaryKey(),
  state: text('state').notNull(),
  since: text('since').notNull(),
  source: text('source').notNull(),
})

/** Every machine state change, for the state timeline (OEE availability). */
export const machineStateLog = sqliteTable(
  'machine_state_log',
  {
    eventSeq: integer('event_seq').primaryKey(),
    workCenterId: text('work_center_id').notNull(),
    state: text('state').notNull(),
    at: text('at').notNull(),
  },
  (t) => [index('machine_state_log_wc').on(t.workCenterId, t.at)],
)

export const machineCounts = sqliteTable(
  'machine_counts',
  {
    eventSeq: integer('event_seq').primaryKey(),
    workCenterId: text('work_center_id').notNull(),
    runId: text('run_id'),
    orderId: text('order_id'),
    good: real('good').notNull(),
    reject: real('reject').notNull(),
    at: text('at').notNull(),
  },
  (t) => [index('machine_counts_wc').on(t.workCenterId, t.at), index('machine_counts_run').on(t.runId)],
)

export const refusals = sqliteTable('refusals', {
  eventSeq: integer('event_seq').primaryKey(),
  runId: text('run_id').notNull(),
  orderId: text('order_id').notNull(),
  opSeq: integer('op_seq').notNull(),
  lotId: text('lot_id').notNull(),
  quantity: real('quantity').notNull(),
  code: text('code').notNull(),
  reason: text('reason').notNull(),
  actor: text('actor').notNull(),
  at: text('at').notNull(),
})

// ---- security and request state: not projections, never in the event log ----

export const credentials = sqliteTable('credentials', {
  personId: text('person_id').primaryKey(),
  passwordHash: text('password_hash').notNull(),
  /** When the password was set: its age counts from here (21 CFR 11.300(b)). */
  updatedAt: text('updated_at').notNull(),
  /** Wrong passwords in a row, at login and at signing; reset by a right one. */
  failedAttempts: integer('failed_attempts').notNull().default(0),
  lockedUntil: text('locked_until'),
  /** Set by an administrator: the person must choose their own at the next login (accounts.changeAdminSetPasswords). */
  changeRequired: integer('change_required', { mode: 'boolean' }).notNull().default(false),
})

/** Hashes of a person's earlier passwords, so that a new one cannot repeat the last few. */
export const passwordHistory = sqliteTable(
  'password_history',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    personId: text('person_id').notNull(),
    passwordHash: text('password_hash').notNull(),
    setAt: text('set_at').notNull(),
  },
  (t) => [index('password_history_person').on(t.personId, t.id)],
)

/** Terminals allowed to act (21 CFR 11.10(h)): an action names its terminal in the X-Takt-Terminal header. */
export const terminals = sqliteTable('terminals', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  location: text('location').notNull(),
  active: integer('active', { mode: 'boolean' }).notNull(),
  registeredAt: text('registered_at').notNull(),
  registeredBy: text('registered_by').notNull(),
  /** SHA-256 of the terminal's secret, issued once at registration: the terminal proves it is this one (21 CFR 11.10(h)). */
  secretHash: text('secret_hash'),
})

export const apiTokens = sqliteTable('api_tokens', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  role: text('role').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  createdAt: text('created_at').notNull(),
  revokedAt: text('revoked_at'),
})

export const sessions = sqliteTable('sessions', {
  tokenHash: text('token_hash').primaryKey(),
  personId: text('person_id').notNull(),
  expiresAt: text('expires_at').notNull(),
  /** How the session was opened, 'password' or 'badge': what a signature must repeat (21 CFR 11.200(a)). */
  method: text('method').notNull().default('password'),
  /** The session's first electronic signature; later ones need only the secret component. */
  firstSignedAt: text('first_signed_at'),
  /** The last request on the session (to the nearest few seconds): past the idle time it ends (21 CFR 11.10(d)). */
  lastSeenAt: text('last_seen_at'),
})

export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
  key: text('key').notNull(),
  principal: text('principal').notNull(),
  requestHash: text('request_hash').notNull(),
  status: integer('status').notNull(),
  body: text('body').notNull(),
  createdAt: text('created_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`),
  },
  // Keys are scoped to who sent them: two clients may pick the same key.
  (t) => [primaryKey({ columns: [t.principal, t.key] })],
)

// ---- ERP integration state (edge/erp): written in the same transaction as the events it goes with, never in the event log ----

/** Every B2MML document received, what Takt made of it and the confirmation it answered (docs/erp.md). */
export const erpDocuments = sqliteTable(
  'erp_documents',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    receivedAt: text('received_at').notNull(),
    principal: text('principal').notNull(),
    bodId: text('bod_id'),
    family: text('family'),
    verb: text('verb'),
    noun: text('noun'),
    sha256: text('sha256').notNull(),
    bytes: integer('bytes').notNull(),
    outcome: text('outcome').notNull(),
    status: integer('status').notNull(),
    errors: text('errors', { mode: 'json' }).notNull(),
    lastSeq: integer('last_seq').notNull(),
    confirmation: text('confirmation').notNull(),
  },
  (t) => [index('erp_documents_bod').on(t.bodId)],
)

/** How an order imported from B2MML maps back onto its document: version family and segment ids, for the performance export. */
export const erpOrders = sqliteTable('erp_orders', {
  orderId: text('order_id').primaryKey(),
  /** The B2MML namespace the order came in; its performance goes out in the same one. */
  namespace: text('namespace').notNull(),
  scheduleId: text('schedule_id'),
  segments: text('segments', { mode: 'json' }).notNull(),
  documentId: integer('document_id').notNull(),
  updatedAt: text('updated_at').notNull(),
})

/** B2MML material sublots, kept as Takt lots: the lot each belongs to, for the performance export. */
export const erpSublots = sqliteTable('erp_sublots', {
  sublotId: text('sublot_id').primaryKey(),
  lotId: text('lot_id').notNull(),
})

/** Performance documents waiting for (or done with) delivery to the ERP endpoint, in the order they were produced. */
export const erpOutbox = sqliteTable(
  'erp_outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    kind: text('kind').notNull(),
    orderId: text('order_id').notNull(),
    opSeq: integer('op_seq'),
    eventSeq: integer('event_seq').notNull(),
    body: text('body').notNull(),
    state: text('state').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: text('next_attempt_at').notNull(),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    createdAt: text('created_at').notNull(),
    deliveredAt: text('delivered_at'),
  },
  (t) => [uniqueIndex('erp_outbox_source').on(t.eventSeq, t.kind), index('erp_outbox_state').on(t.state, t.id)],
)

/** How far the outbox producer has read the event log. */
export const erpCursor = sqliteTable('erp_cursor', {
  name: text('name').primaryKey(),
  seq: integer('seq').notNull(),
})

// ---- OEE (docs/oee.md): definitions, the state timeline and counts in epoch ms, minute buckets ----

/** Shift calendars as defined (the whole definition; core/oee/calendar.ts reads it). */
export const shiftCalendars = sqliteTable('shift_calendars', {
  id: text('id').primaryKey(),
  timeZone: text('time_zone').notNull(),
  definition: text('definition').notNull(),
})

/** Which calendar a line or work center follows. */
export const calendarAssignments = sqliteTable('calendar_assignments', {
  equipmentId: text('equipment_id').primaryKey(),
  calendarId: text('calendar_id').notNull(),
  eventSeq: integer('event_seq').notNull(),
})

/** Per work center: the micro-stop threshold its buckets are built with (absent: the gateway default). */
export const oeeSettings = sqliteTable('oee_settings', {
  workCenterId: text('work_center_id').primaryKey(),
  microStopThresholdMs: integer('micro_stop_threshold_ms').notNull(),
  eventSeq: integer('event_seq').notNull(),
})

/** The reason tree, in its defined order; empty means the shipped tree (core/oee/default-reasons.ts). */
export const reasonCodes = sqliteTable(
  'reason_codes',
  {
    position: integer('position').primaryKey(),
    code: text('code').notNull(),
    name: text('name').notNull(),
    parent: text('parent'),
    loss: text('loss').notNull(),
    planned: integer('planned', { mode: 'boolean' }).notNull(),
    packml: integer('packml'),
  },
  (t) => [uniqueIndex('reason_codes_code').on(t.code)],
)

/** Operator classifications of stop time, in log order (a later one wins where they overlap). */
export const downtimeClassifications = sqliteTable(
  'downtime_classifications',
  {
    eventSeq: integer('event_seq').notNull(),
    idx: integer('idx').notNull(),
    workCenterId: text('work_center_id').notNull(),
    fromMs: integer('from_ms').notNull(),
    toMs: integer('to_ms'),
    reason: text('reason').notNull(),
  },
  (t) => [primaryKey({ columns: [t.eventSeq, t.idx] }), index('downtime_classifications_wc').on(t.workCenterId, t.fromMs)],
)

/** Each classify, split and merge with who and why. */
export const downtimeEdits = sqliteTable(
  'downtime_edits',
  {
    eventSeq: integer('event_seq').primaryKey(),
    workCenterId: text('work_center_id').notNull(),
    kind: text('kind').notNull(),
    before: text('before').notNull(),
    after: text('after').notNull(),
    why: text('why'),
    actor: text('actor').notNull(),
    at: text('at').notNull(),
  },
  (t) => [index('downtime_edits_wc').on(t.workCenterId, t.eventSeq)],
)

/** The state timeline in epoch ms; the running index finds a context's bounds (core/oee/timeline.ts contextForRange). */
export const oeeStateChanges = sqliteTable(
  'oee_state_changes',
  {
    eventSeq: integer('event_seq').primaryKey(),
    workCenterId: text('work_center_id').notNull(),
    atMs: integer('at_ms').notNull(),
    state: text('state').notNull(),
    reason: text('reason'),
  },
  (t) => [index('oee_state_changes_wc').on(t.workCenterId, t.atMs, t.eventSeq), index('oee_state_changes_running').on(t.workCenterId, t.atMs, t.eventSeq).where(sql`state = 'running'`)],
)

/** Counts with what OEE weighs them by: the ideal cycle time of the run's operation, its product and order. */
export const oeeCounts = sqliteTable(
  'oee_counts',
  {
    eventSeq: integer('event_seq').notNull(),
    /** One operator completion books its good parts and each scrap reason as rows of their own. */
    idx: integer('idx').notNull().default(0),
    workCenterId: text('work_center_id').notNull(),
    atMs: integer('at_ms').notNull(),
    good: integer('good').notNull(),
    reject: integer('reject').notNull(),
    idealCycleTimeS: real('ideal_cycle_time_s'),
    productId: text('product_id'),
    orderId: text('order_id'),
    scrapReason: text('scrap_reason'),
  },
  (t) => [primaryKey({ columns: [t.eventSeq, t.idx] }), index('oee_counts_wc').on(t.workCenterId, t.atMs)],
)

/** Settled time and counts per bucket (core/oee/buckets.ts): minute, 15-minute, hour and UTC day. JSON with sorted keys. */
export const oeeBuckets = sqliteTable(
  'oee_buckets',
  {
    workCenterId: text('work_center_id').notNull(),
    unit: integer('unit').notNull(),
    start: integer('start').notNull(),
    ms: text('ms').notNull(),
    stops: text('stops').notNull(),
    counts: text('counts').notNull(),
  },
  (t) => [primaryKey({ columns: [t.workCenterId, t.unit, t.start] })],
)

/** The projection tables, in the order a rebuild clears and compares them. */
/**
 * Where each downstream shape stands (handle and offset of the last batch applied), written in the
 * batch's own transaction: after a restart the follower continues exactly there.
 */
export const shapeState = sqliteTable('shape_state', {
  shape: text('shape').primaryKey(),
  handle: text('handle').notNull(),
  offset: text('offset').notNull(),
  updatedAt: text('updated_at').notNull(),
})

export const projectionTables = [
  'equipment',
  'materials',
  'boms',
  'routings',
  'people',
  'lots',
  'orders',
  'order_operations',
  'dispatch_ranks',
  'units',
  'runs',
  'run_times',
  'consumptions',
  'measurements',
  'nonconformances',
  'refusals',
  'work_center_states',
  'machine_state_log',
  'machine_counts',
  'shift_calendars',
  'calendar_assignments',
  'oee_settings',
  'reason_codes',
  'downtime_classifications',
  'downtime_edits',
  'oee_state_changes',
  'oee_counts',
  'oee_buckets',
] as const
