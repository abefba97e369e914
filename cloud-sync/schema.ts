// The central replica's PostgreSQL schema (drizzle): gateways and their credentials, every line's event log, central projections.
import { bigint, bigserial, doublePrecision, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core'

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
})

/** Central API tokens (administrators), hashed at rest. */
export const apiTokens = pgTable('api_tokens', {
  tokenHash: text('token_hash').primaryKey(),
  role: text('role').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
})

/** Each gateway's event log, exactly as the gateway stored it (data as its JSON text), so the chain can be recomputed here. */
export const events = pgTable(
  'events',
  {
    gatewayId: text('gateway_id').notNull().references(() => gateways.id),
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
