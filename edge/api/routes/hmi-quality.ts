// Read models for quality and leads at the HMI: what is on hold and why, the audit trail newest first with filters, security alerts (lockouts).
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

  const lockoutEvents = sqlite.prepare(`SELECT seq, data, actor, recorded_at FROM events WHERE type = 'AccountLocked' ORDER BY seq DESC LIMIT 50`)
  const lockedPasswords = sqlite.prepare('SELECT person_id, locked_until, failed_attempts FROM credentials WHERE locked_until > ?')
  const lockedBadges = sqlite.prepare('SELECT person_id, locked_until, failed_attempts FROM badges WHERE locked_until > ?')
  const unlockBy = (personId: string, credential: string) =>
    credential === 'pin' ? `An administrator unlocks it now by setting a new PIN (PUT /api/v1/people/${personId}/badge).` : `An administrator unlocks it now by setting a new password (PUT /api/v1/people/${personId}/password).`

  // 21 CFR 11.300(d), IEC 62443-3-3 SR 6.2: a lockout is reported to the people who look after the line, not only kept as account state.
  app.openapi(declare({ method: 'get', path: '/api/v1/hmi/alerts', tag: 'HMI', summary: 'Security alerts: account and badge lockouts, newest first, and whether each still holds' }), (c) => {
    guard(c, ['lead', 'quality'])
    const now = deps.clock.now().toISOString()
    const stillLocked = new Map<string, string>()
    for (const r of lockedPasswords.all(now) as Row[]) stillLocked.set(`password/${String(r.person_id)}`, String(r.locked_until))
    for (const r of lockedBadges.all(now) as Row[]) stillLocked.set(`pin/${String(r.person_id)}`, String(r.locked_until))
    const nameOf = (id: string) => deps.store.view.person(id)?.name ?? id
    const items = (lockoutEvents.all() as Row[]).map((r) => {
      const d = JSON.parse(String(r.data)) as { personId: string; credential: 'password' | 'pin'; via: string; failures: number; lockedUntil: string; terminal: string | null }
      const key = `${d.credential}/${d.personId}`
      return { seq: Number(r.seq) as number | null, type: 'AccountLocked', at: String(r.recorded_at), personId: d.personId, name: nameOf(d.personId), credential: d.credential, via: d.via, failures: d.failures, terminal: d.terminal, actor: String(r.actor), lockedUntil: d.lockedUntil, active: stillLocked.get(key) === d.lockedUntil, unlock: unlockBy(d.personId, d.credential) }
    })
    // A lock the log does not hold (it could not be written) is still shown, from the account state.
    for (const [key, until] of stillLocked) {
      const [credential, personId] = key.split('/') as ['password' | 'pin', string]
      if (items.some((i) => i.active && `${i.credential}/${i.personId}` === key)) continue
      items.unshift({ seq: null, type: 'AccountLocked', at: '', personId, name: nameOf(personId), credential, via: 'unknown', failures: 0, terminal: null, actor: '', lockedUntil: until, active: true, unlock: unlockBy(personId, credential) })
    }
    return c.json({ items }, 200)
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
