// Idempotency-Key: a retried POST or PUT with the same key and body gets the first answer back, once executed.
import { createHash } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { Sqlite } from '../store/database.ts'
import { actorOf, type AuthEnv } from './auth.ts'
import { ProblemError } from './problem.ts'

export function idempotency(sqlite: Sqlite): MiddlewareHandler<AuthEnv> {
  // Requests under way, by principal and key: a retry that arrives before the first answer waits for it.
  const underWay = new Map<string, Promise<void>>()
  const find = sqlite.prepare('SELECT request_hash, status, body FROM idempotency_keys WHERE key = ? AND principal = ?')
  const save = sqlite.prepare('INSERT OR IGNORE INTO idempotency_keys (key, principal, request_hash, status, body) VALUES (?, ?, ?, ?, ?)')
  return async function idempotentRequest(c, next) {
    const key = c.req.header('idempotency-key')
    if (!key || (c.req.method !== 'POST' && c.req.method !== 'PUT')) return next()
    if (key.length > 200) throw new ProblemError(400, 'idempotency_key_invalid', 'The Idempotency-Key header is longer than 200 characters.')
    const principal = actorOf(c.get('principal'))
    const body = await c.req.text()
    const hash = createHash('sha256').update(c.req.method).update('\n').update(c.req.path).update('\n').update(body).digest('hex')
    const slot = `${principal}\n${key}`
    const first = underWay.get(slot)
    if (first) await first
    const seen = find.get(key, principal) as { request_hash: string; status: number; body: string } | undefined
    if (first && !seen && underWay.has(slot)) {
      throw new ProblemError(409, 'idempotency_key_in_progress', `A request with Idempotency-Key '${key}' is still being processed; retry shortly.`)
    }
    if (seen) {
      if (seen.request_hash !== hash) {
        throw new ProblemError(422, 'idempotency_key_reused', `Idempotency-Key '${key}' was already used for a different request.`)
      }
      const type = seen.status >= 400 ? 'application/problem+json' : 'application/json'
      return new Response(seen.body, { status: seen.status, headers: { 'content-type': type, 'idempotent-replayed': 'true' } })
    }
    let done = () => {}
    underWay.set(slot, new Promise<void>((resolve) => (done = resolve)))
    try {
      await next()
      const status = c.res.status
      if (status < 500 && c.res.headers.get('content-type')?.includes('json')) {
        save.run(key, principal, hash, status, await c.res.clone().text())
      }
    } finally {
      underWay.delete(slot)
      done()
    }
  }
}
