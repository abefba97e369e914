// The central replica's PostgreSQL schema (drizzle): gateways and their credentials, every line's event log, central projections.
import { bigint, bigserial, boolean, doublePrecision, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core'

/** A gateway provisioned centrally: its token is stored only as a SHA-256 hash; its chain head is where the next push must continue. */
export const gateways = pgTable('gateways', {
  id: text('id').primaryKey(),
  lineId: text('line_id'),
  tokenHash: text('token_hash').notNull().unique(),
  epoch: integer('epoch').notNull().default(1),
  headSeq: bigint('head_seq', { mode: 'number' }).notNull().default(0),
  headHash: text('head_hash').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  lastPushAt: timestamp('last_push_at', { withTimezone: true, mode: 'string' }),
  /** After a rotation: the token before it, accepted until previousTokenUntil or the new token's first use, whichever comes first. */
  previousTokenHash: text('previous_token_hash').unique(),
  previousTokenUntil: timestamp('previous_token_until', { withTimezone: true, mode: 'string' }),
  tokenRotatedAt: timestamp('token_rotated_at', { withTimezone: true, mode: 'string' }),
  /** The gateway's own head seq as its last push reported it (header takt-head-seq): the backlog is this minus head_seq. */
  reportedHeadSeq: bigint('reported_head_seq', { mode: 'number' }),
  reportedHeadAt: timestamp('reported_head_at', { withTimezone: true, mode: 'string' }),
})

/** Central API tokens (administrators), hashed at rest. */
export const apiTokens = pgTable('api_tokens', {
  tokenHash: text('token_hash').primaryKey(),
  role: text('role').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
})

/**
 * Each gateway's event log, exactly as the gateway stored it (data as its JSON text), so the chain can be recomputed here.
 * No foreign key to gateways: ingest writes a batch only with the gateway's row locked in the same
 * transaction, and gateways are never deleted; the per-row check cost as much as storing the row.
 */
export const events = pgTable(
  'events',
  {
    gatewayId: text('gateway_id').notNull(),
    epoch: integer('epoch').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
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
  (t) => [primaryKey({ columns: [t.gatewayId, t.epoch, t.seq] }), index('events_type').on(t.gatewayId, t.type)],
)

/** Central projection: every line's orders with state and quantities, rebuilt from `events` alone. */
export const orders = pgTable(
  'orders',
  {
    gatewayId: text('gateway_id').notNull().references(() => gateways.id),
    orderId: text('order_id').notNull(),
    lineId: text('line_id').notNull(),
    productId: text('product_id').notNull(),
    state: text('state').notNull(),
    quantity: doublePrecision('quantity').notNull(),
    good: doublePrecision('good').notNull().default(0),
    scrap: doublePrecision('scrap').notNull().default(0),
    updatedSeq: bigint('updated_seq', { mode: 'number' }).notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.orderId] }), index('orders_line_state').on(t.lineId, t.state)],
)

/**
 * What ERP sent for each line: master data and orders, the current definition per key, as the
 * gateway's own JSON API takes it. A line's gateway follows these rows as a shape (`line_id = …`).
 */
export const lineDefinitions = pgTable(
  'line_definitions',
  {
    lineId: text('line_id').notNull(),
    kind: text('kind').notNull(),
    key: text('key').notNull(),
    body: text('body').notNull(),
    changeOffset: bigint('change_offset', { mode: 'number' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.lineId, t.kind, t.key] })],
)

/** The shape log: every change to `line_definitions` in commit order; its offset is the shape offset. */
export const definitionChanges = pgTable(
  'definition_changes',
  {
    offset: bigserial('offset', { mode: 'number' }).primaryKey(),
    lineId: text('line_id').notNull(),
    kind: text('kind').notNull(),
    key: text('key').notNull(),
    operation: text('operation').notNull(),
    body: text('body').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [index('definition_changes_line').on(t.lineId, t.offset)],
)

/** Small central settings, e.g. the shape generation that a reset raises (every follower refetches). */
export const cloudSettings = pgTable('cloud_settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
})

// Central projections of as-built, genealogy and OEE (cloud-sync/projections/): folded from `events` in each batch's transaction, rebuilt from it alone.

/** As-built across lines: what lot or unit went into what unit or lot, where. Genealogy walks these rows; lot ids are plant-wide. */
export const centralConsumptions = pgTable(
  'central_consumptions',
  {
    gatewayId: text('gateway_id').notNull().references(() => gateways.id),
    eventId: text('event_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    lineId: text('line_id'),
    orderId: text('order_id').notNull(),
    opSeq: integer('op_seq').notNull(),
    runId: text('run_id').notNull(),
    producedKind: text('produced_kind').notNull(),
    producedId: text('produced_id').notNull(),
    consumedKind: text('consumed_kind').notNull(),
    consumedId: text('consumed_id').notNull(),
    materialId: text('material_id').notNull(),
    quantity: doublePrecision('quantity').notNull(),
    at: text('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.eventId] }), index('central_consumptions_consumed').on(t.consumedKind, t.consumedId), index('central_consumptions_produced').on(t.producedKind, t.producedId)],
)

/** Serialized units of every line with their state (in_process, completed, scrapped, consumed) and hold. */
export const centralUnits = pgTable(
  'central_units',
  {
    gatewayId: text('gateway_id').notNull().references(() => gateways.id),
    serial: text('serial').notNull(),
    lineId: text('line_id'),
    orderId: text('order_id').notNull(),
    state: text('state').notNull(),
    held: boolean('held').notNull().default(false),
    holdReason: text('hold_reason'),
    updatedSeq: bigint('updated_seq', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.serial] }), index('central_units_serial').on(t.serial)],
)

/** Output lots an order produced (OutputLotProduced, summed): where a lot consumed on another line came from. */
export const centralLots = pgTable(
  'central_lots',
  {
    gatewayId: text('gateway_id').notNull().references(() => gateways.id),
    lotId: text('lot_id').notNull(),
    lineId: text('line_id'),
    orderId: text('order_id').notNull(),
    materialId: text('material_id').notNull(),
    quantity: doublePrecision('quantity').notNull(),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.lotId] }), index('central_lots_lot').on(t.lotId)],
)

/** Each order's operations as created: the work center and ideal cycle time a count is measured against. */
export const centralOperations = pgTable(
  'central_operations',
  {
    gatewayId: text('gateway_id').notNull().references(() => gateways.id),
    orderId: text('order_id').notNull(),
    opSeq: integer('op_seq').notNull(),
    workCenterId: text('work_center_id').notNull(),
    productId: text('product_id').notNull(),
    idealCycleTimeS: doublePrecision('ideal_cycle_time_s'),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.orderId, t.opSeq] })],
)

/** Started runs: which operation a machine count belongs to, whether a machine counted it (then the operator's completion does not count again), and their state. */
export const centralRuns = pgTable(
  'central_runs',
  {
    gatewayId: text('gateway_id').notNull().references(() => gateways.id),
    runId: text('run_id').notNull(),
    orderId: text('order_id').notNull(),
    opSeq: integer('op_seq').notNull(),
    workCenterId: text('work_center_id').notNull(),
    /** running, paused or completed: the open runs are the work center's state where no machine reports one. */
    state: text('state').notNull().default('running'),
    machineCounted: boolean('machine_counted').notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.runId] })],
)

/** Work centers seen in OEE data or defined, with their rated cycle time and micro-stop threshold. */
export const centralWorkCenters = pgTable(
  'central_work_centers',
  {
    gatewayId: text('gateway_id').notNull().references(() => gateways.id),
    workCenterId: text('work_center_id').notNull(),
    ratedCycleTimeS: doublePrecision('rated_cycle_time_s'),
    microStopThresholdMs: bigint('micro_stop_threshold_ms', { mode: 'number' }),
    /** A machine has reported its states: from then on they are the timeline, not the operators' actions. */
    machineReports: boolean('machine_reports').notNull().default(false),
    /** The equipment the work center belongs to (its line): a calendar assigned to the line is the work center's too. */
    parentId: text('parent_id'),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.workCenterId] })],
)

/** Each gateway's shift calendars (ShiftCalendarDefined), the latest definition per id, as JSON. */
export const centralCalendars = pgTable(
  'central_calendars',
  {
    gatewayId: text('gateway_id').notNull().references(() => gateways.id),
    calendarId: text('calendar_id').notNull(),
    calendar: text('calendar').notNull(),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.calendarId] })],
)

/** Operators' downtime classifications (DowntimeEdited): a reason over [from, to), `to` null until the work center runs again; later ones win. */
export const centralClassifications = pgTable(
  'central_classifications',
  {
    gatewayId: text('gateway_id').notNull().references(() => gateways.id),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    idx: integer('idx').notNull(),
    workCenterId: text('work_center_id').notNull(),
    fromMs: bigint('from_ms', { mode: 'number' }).notNull(),
    toMs: bigint('to_ms', { mode: 'number' }),
    reason: text('reason').notNull(),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.seq, t.idx] }), index('central_classifications_time').on(t.gatewayId, t.workCenterId, t.fromMs)],
)

/** Which calendar a work center or line follows (ShiftCalendarAssigned); an unassigned one has no row. */
export const centralCalendarAssignments = pgTable(
  'central_calendar_assignments',
  {
    gatewayId: text('gateway_id').notNull().references(() => gateways.id),
    equipmentId: text('equipment_id').notNull(),
    calendarId: text('calendar_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.equipmentId] })],
)

/** A gateway's reason tree (ReasonCodesDefined) as JSON; none means the shipped default tree. */
export const centralReasonCodes = pgTable('central_reason_codes', {
  gatewayId: text('gateway_id').primaryKey().references(() => gateways.id),
  reasons: text('reasons').notNull(),
})

/** The central state timeline: machine-reported changes (WorkCenterStateChanged), or the operators' actions where no machine reports. */
export const centralStateChanges = pgTable(
  'central_state_changes',
  {
    gatewayId: text('gateway_id').notNull().references(() => gateways.id),
    eventId: text('event_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    workCenterId: text('work_center_id').notNull(),
    atMs: bigint('at_ms', { mode: 'number' }).notNull(),
    state: text('state').notNull(),
    reason: text('reason'),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.eventId] }), index('central_state_changes_time').on(t.gatewayId, t.workCenterId, t.atMs)],
)

/** Production counts (machine counts, and operator completions where no machine counted the run). */
export const centralCounts = pgTable(
  'central_counts',
  {
    gatewayId: text('gateway_id').notNull().references(() => gateways.id),
    eventId: text('event_id').notNull(),
    idx: integer('idx').notNull(),
    workCenterId: text('work_center_id').notNull(),
    atMs: bigint('at_ms', { mode: 'number' }).notNull(),
    good: doublePrecision('good').notNull(),
    reject: doublePrecision('reject').notNull(),
    idealCycleTimeS: doublePrecision('ideal_cycle_time_s'),
    productId: text('product_id'),
    orderId: text('order_id'),
    scrapReason: text('scrap_reason'),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.eventId, t.idx] }), index('central_counts_time').on(t.gatewayId, t.workCenterId, t.atMs)],
)

/** OEE buckets per work center (edge/core/oee/buckets.ts: minute, quarter-hour, hour and day), so OEE over a range reads a few rows. */
export const centralOeeBuckets = pgTable(
  'central_oee_buckets',
  {
    gatewayId: text('gateway_id').notNull().references(() => gateways.id),
    workCenterId: text('work_center_id').notNull(),
    unit: bigint('unit', { mode: 'number' }).notNull(),
    start: bigint('start', { mode: 'number' }).notNull(),
    ms: text('ms').notNull(),
    stops: text('stops').notNull(),
    counts: text('counts').notNull(),
  },
  (t) => [primaryKey({ columns: [t.gatewayId, t.workCenterId, t.unit, t.start] })],
)
