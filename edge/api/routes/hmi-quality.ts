// Read models for quality at the HMI: what is on hold and why, and the audit trail newest first with filters.
import { z } from '@hono/zod-openapi'
import { guard } from '../auth.ts'
import type { Api, ApiDeps } from '../context.ts'
import { ProblemError } from '../problem.ts'
import { declare, valid } from '../route.ts'

type Row = Record<string, unknown>

const filterText = z.string().min(1).max(200)

export const AuditQuery = z.strictObject({
  type: filterText.optional(),
  subject: filterText.optional(),
  actor: filterText.optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  before: z.coerce.number().int().min(1).optional().describe('Only events with a lower seq: the next page'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
})

export function hmiQualityRoutes(app: Api, deps: ApiDeps): void {
  const sqlite = deps.store.db.sqlite
  const heldOrders = sqlite.prepare(`SELECT id, product_id, held_from, updated_at FROM orders WHERE state = 'held' ORDER BY updated_at DESC LIMIT 1000`)
  const holdReason = sqlite.prepare(`SELECT data, recorded_at, actor FROM events WHERE subject = ? AND type = 'OrderHeld' ORDER BY seq DESC LIMIT 1`)
  const heldUnits = sqlite.prepare('SELECT serial, order_id, hold_reason FROM units WHERE held = 1 ORDER BY order_id, serial LIMIT 1000')

  app.openapi(declare({ method: 'get', path: '/api/v1/hmi/holds', tag: 'HMI', summary: 'Orders and units on hold, with the reason and who put them on hold' }), (c) => {
    guard(c, ['quality', 'lead'])
    const orders = (heldOrders.all() as Row[]).map((o) => {
      const held = holdReason.get(`order/${String(o.id)}`) as Row | undefined
      const data = held ? (JSON.parse(String(held.data)) as { reason?: string }) : {}
      return { orderId: String(o.id), productId: String(o.product_id), heldFrom: o.held_from === null ? null : String(o.held_from), reason: data.reason ?? null, heldAt: held ? String(held.recorded_at) : null, heldBy: held ? String(held.actor) : null }
    })
    const units = (heldUnits.all() as Row[]).map((u) => ({ serial: String(u.serial), orderId: String(u.order_id), reason: u.hold_reason === null ? null : String(u.hold_reason) }))
    return c.json({ orders, units }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/hmi/audit', tag: 'HMI', summary: 'The audit trail newest first, filtered by type, subject, actor and time; page with before', query: AuditQuery }), (c) => {
    guard(c, ['quality'])
    const q = valid(c, 'query', AuditQuery)
    if (q.from && q.to && Date.parse(q.to) <= Date.parse(q.from)) throw new ProblemError(422, 'query_invalid', `'to' (${q.to}) must be after 'from' (${q.from}).`)
    const where: string[] = []
    const args: unknown[] = []
    const add = (sql: string, value: unknown) => {
      where.push(sql)
      args.push(value)
    }
    if (q.before !== undefined) add('seq < ?', q.before)
    if (q.type) add('type = ?', q.type)
    if (q.subject) add('subject = ?', q.subject)
    if (q.actor) add('actor = ?', q.actor)
    // Stored times are ISO strings in UTC: normalized, they compare as text.
    if (q.from) add('recorded_at >= ?', new Date(q.from).toISOString())
    if (q.to) add('recorded_at < ?', new Date(q.to).toISOString())
    const sql = `SELECT seq, id, type, subject, data, actor, occurred_at, recorded_at, hash FROM events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC LIMIT ?`
    const rows = sqlite.prepare(sql).all(...args, q.limit + 1) as Row[]
    const items = rows.slice(0, q.limit).map((r) => ({
      seq: Number(r.seq),
      id: String(r.id),
      type: String(r.type),
      subject: String(r.subject),
      actor: String(r.actor),
      occurredAt: String(r.occurred_at),
      recordedAt: String(r.recorded_at),
      hash: String(r.hash),
      data: JSON.parse(String(r.data)) as unknown,
    }))
    const next = rows.length > q.limit ? items.at(-1)!.seq : null
    return c.json({ items, next }, 200)
  })
}
