// Request and response schemas: they validate every request and generate the OpenAPI document.
import { z } from '@hono/zod-openapi'

const id = z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._:\-/]*$/, 'letters, digits and . _ : - / only')
const text = (max = 500) => z.string().max(max)
const instant = z.iso.datetime({ offset: true })
const quantity = z.number().positive().max(1e9)
const count = z.number().int().min(0).max(1e9)

export const Equipment = z
  .strictObject({
    id,
    level: z.enum(['site', 'area', 'line', 'work_center']),
    name: text(200),
    parentId: id.nullable().default(null),
    ratedCycleTimeS: z.number().positive().nullable().default(null),
  })
  .openapi('Equipment')

export const Material = z
  .strictObject({ id, name: text(200), uom: text(20).min(1), serialized: z.boolean().default(false) })
  .openapi('Material')

export const Bom = z
  .strictObject({
    id,
    version: id,
    productId: id,
    items: z
      .array(z.strictObject({ materialId: id, quantityPer: quantity, alternates: z.array(id).max(50).default([]) }))
      .max(1000),
  })
  .openapi('Bom')

const MeasurementSpec = z.strictObject({ name: text(100).min(1), unit: text(20).min(1), lower: z.number().nullable().default(null), upper: z.number().nullable().default(null) })

export const Routing = z
  .strictObject({
    id,
    version: id,
    productId: id,
    operations: z
      .array(
        z.strictObject({
          seq: z.number().int().min(0).max(1e6),
          name: text(200).min(1),
          workCenterId: id,
          setupTimeS: z.number().min(0).default(0),
          idealCycleTimeS: z.number().positive().nullable().default(null),
          components: z.array(z.strictObject({ materialId: id, quantityPer: quantity })).max(200).default([]),
          measurements: z.array(MeasurementSpec).max(200).default([]),
          qualification: id.nullable().default(null),
          allowOverlap: z.boolean().default(false),
          instructions: text(10_000).default(''),
        }),
      )
      .min(1)
      .max(500),
  })
  .openapi('Routing')

export const Person = z
  .strictObject({
    id,
    name: text(200).min(1),
    roles: z.array(z.enum(['operator', 'lead', 'quality', 'maintenance', 'admin', 'integration'])).max(6).default(['operator']),
    qualifications: z.array(z.strictObject({ code: id, expiresAt: instant.nullable().default(null) })).max(200).default([]),
    active: z.boolean().default(true),
  })
  .openapi('Person')

export const Lot = z
  .strictObject({
    id,
    materialId: id,
    status: z.enum(['released', 'quarantined', 'rejected']),
    expiresAt: instant.nullable().default(null),
    quantity: z.number().min(0).max(1e12),
  })
  .openapi('MaterialLot')

export const OrderRequest = z
  .strictObject({
    id,
    productId: id,
    quantity: z.number().int().positive().max(1e7),
    serials: z.array(id).max(100_000).default([]),
    bomId: id,
    bomVersion: id,
    routingId: id,
    routingVersion: id,
    lineId: id,
    priority: z.number().int().min(0).max(1000).default(500),
    dueAt: instant.nullable().default(null),
    plannedStartAt: instant.nullable().default(null),
    outputLot: id.nullable().default(null),
  })
  .openapi('OrderRequest')

export const Reason = z.strictObject({ reason: text(1000).min(1) }).openapi('Reason')

export const StartRequest = z
  .strictObject({
    unit: id.nullable().default(null),
    quantity: z.number().int().positive().max(1e7).nullable().default(null),
    workCenterId: id.nullable().default(null),
    operatorId: id.nullable().default(null).describe('Acting operator, when a lead or an integration books for one; operators act as themselves.'),
  })
  .openapi('StartRequest')

export const Consumption = z.strictObject({ lot: id, quantity }).openapi('Consumption')
export const Measurement = z.strictObject({ name: text(100).min(1), value: z.number(), unit: text(20).min(1) }).openapi('Measurement')

export const CompleteRequest = z
  .strictObject({
    good: count,
    scrap: count.default(0),
    scrapReasons: z.array(z.strictObject({ reason: id, quantity: count })).max(50).default([]),
    consumptions: z.array(Consumption).max(200).default([]),
    measurements: z.array(Measurement).max(200).default([]),
  })
  .openapi('CompleteRequest')

export const Resequence = z.strictObject({ orderIds: z.array(id).min(1).max(10_000) }).openapi('Resequence')

export const Login = z.strictObject({ username: id, password: z.string().min(1).max(200) }).openapi('Login')
export const Password = z.strictObject({ password: z.string().min(12, 'at least 12 characters').max(200) }).openapi('Password')
export const NewToken = z
  .strictObject({ name: id, role: z.enum(['operator', 'lead', 'quality', 'maintenance', 'admin', 'integration']) })
  .openapi('NewToken')

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem')

export const Accepted = z.object({ seq: z.number().int().describe('Sequence number of the last event recorded; 0 when nothing changed') }).passthrough().openapi('Accepted')
export const AnyJson = z.any().openapi({ type: 'object' })

export const PathId = z.object({ id: id.openapi({ param: { name: 'id', in: 'path' } }) })
export const PathRun = z.object({ runId: id.openapi({ param: { name: 'runId', in: 'path' } }) })
export const PathOp = z.object({
  id: id.openapi({ param: { name: 'id', in: 'path' } }),
  seq: z.coerce.number().int().min(0).openapi({ param: { name: 'seq', in: 'path' } }),
})
export const PathVersioned = z.object({
  id: id.openapi({ param: { name: 'id', in: 'path' } }),
  version: id.openapi({ param: { name: 'version', in: 'path' } }),
})
export const TraceQuery = z.strictObject({
  unit: id.optional(),
  lot: id.optional(),
  depth: z.coerce.number().int().min(1).max(64).default(64),
})

export type RoleName = 'operator' | 'lead' | 'quality' | 'maintenance' | 'admin' | 'integration'
export const OrderQuery = z.strictObject({
  state: z.enum(['created', 'released', 'dispatched', 'in_progress', 'held', 'completed', 'closed', 'cancelled']).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(500),
})
export const EventQuery = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
})
