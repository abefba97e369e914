// The central views over every line (admin token): OEE by line and work center, genealogy across lines, gateway connection states; and the dashboard's files.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { asc } from 'drizzle-orm'
import type { Context, Hono } from 'hono'
import type { Principal } from './credentials.ts'
import type { CloudDatabase } from './database.ts'
import { traceGenealogy } from './projections/genealogy.ts'
import { centralOee } from './projections/oee-query.ts'
import * as schema from './schema.ts'

type Env = { Variables: { principal: Principal } }

/** Last push younger than this: online. The pusher sends within seconds of each new event and retries every minute at most. */
export const onlineWithinMs = 60_000
/** Older than online but younger than this: stale (a quiet line, or a link going bad); beyond it, or never pushed: offline. */
export const staleWithinMs = 15 * 60_000
/** Longest OEE range one request may ask for. */
const maxRangeMs = 93 * 86_400_000
const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/
const idPattern = /^[A-Za-z0-9._:/-]{1,128}$/

function badParameter(c: Context, name: string, message: string) {
  const body = { type: 'urn:takt:problem:request.invalid', title: 'Bad Request', status: 400, code: 'request.invalid', detail: `query parameter '${name}': ${message}`, errors: [{ path: name, message }] }
  return c.json(body, 400, { 'content-type': 'application/problem+json' })
}

function forbidden(c: Context) {
  return c.json({ type: 'urn:takt:problem:auth.forbidden', title: 'Forbidden', status: 403, code: 'auth.forbidden', detail: 'this needs an admin token' }, 403, { 'content-type': 'application/problem+json' })
}

export type ConnectionState = 'online' | 'stale' | 'offline'

export function connectionState(lastPushAt: string | null, now: number): ConnectionState {
  if (lastPushAt === null) return 'offline'
  const age = now - Date.parse(lastPushAt)
  return age <= onlineWithinMs ? 'online' : age <= staleWithinMs ? 'stale' : 'offline'
}

export interface CentralRouteOptions {
  /** The clock for connection states and "now" in OEE; tests pin it. */
  now?: () => number
}

export function registerCentralRoutes(app: Hono<Env>, db: CloudDatabase, options: CentralRouteOptions = {}): void {
  const { orm } = db
  const now = options.now ?? Date.now
  const admin = (c: Context<Env>) => (c.get('principal').kind === 'admin' ? null : forbidden(c))

  app.get('/api/v1/oee', async (c) => {
    const refused = admin(c)
    if (refused) return refused
    const at = now()
    const q = c.req.query()
    for (const name of ['lineId', 'workCenterId'] as const) {
      if (q[name] !== undefined && !idPattern.test(q[name])) return badParameter(c, name, 'letters, digits and . _ : / - (1 to 128)')
    }
    const instant = (name: 'from' | 'to', fallback: number): number | string => {
      const v = q[name]
      if (v === undefined) return fallback
      if (!isoInstant.test(v) || Number.isNaN(Date.parse(v))) return 'an ISO 8601 instant with its offset, e.g. 2026-03-02T06:00:00Z'
      return Date.parse(v)
    }
    const to = instant('to', at)
    if (typeof to === 'string') return badParameter(c, 'to', to)
    const from = instant('from', to - 8 * 3_600_000)
    if (typeof from === 'string') return badParameter(c, 'from', from)
    if (from >= to) return badParameter(c, 'from', 'must be before to')
    if (to - from > maxRangeMs) return badParameter(c, 'from', 'the range is longer than 93 days')
    const lines = await centralOee(orm, { from, to, now: at, ...(q.lineId !== undefined && { lineId: q.lineId }), ...(q.workCenterId !== undefined && { workCenterId: q.workCenterId }) })
    return c.json({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), plannedTime: "each work center's shift calendar (its own, else its line's) up to now; the whole range where none is assigned", lines })
  })

  app.get('/api/v1/genealogy/trace', async (c) => {
    const refused = admin(c)
    if (refused) return refused
    const lot = c.req.query('lot')
    const unit = c.req.query('unit')
    const direction = c.req.query('direction') ?? 'backward'
    if (lot === undefined && unit === undefined) return badParameter(c, 'lot', 'give lot=… or unit=…')
    if (lot !== undefined && unit !== undefined) return badParameter(c, 'unit', 'give lot or unit, not both')
    const id = (lot ?? unit)!
    if (id.length === 0 || id.length > 256) return badParameter(c, lot !== undefined ? 'lot' : 'unit', '1 to 256 characters')
    if (direction !== 'forward' && direction !== 'backward') return badParameter(c, 'direction', "'forward' or 'backward'")
    const start = { kind: lot !== undefined ? ('lot' as const) : ('unit' as const), id }
    const trace = await traceGenealogy(orm, start, direction)
    const lines = [...new Set([...trace.links.map((l) => l.lineId), ...trace.nodes.map((n) => n.madeBy?.lineId)].filter((l): l is string => typeof l === 'string'))].sort()
    return c.json({ start, direction, lines, nodes: trace.nodes, links: trace.links })
  })

  app.get('/api/v1/gateways/status', async (c) => {
    const refused = admin(c)
    if (refused) return refused
    const g = schema.gateways
    const rows = await orm
      .select({ id: g.id, lineId: g.lineId, epoch: g.epoch, headSeq: g.headSeq, lastPushAt: g.lastPushAt, reportedHeadSeq: g.reportedHeadSeq, reportedHeadAt: g.reportedHeadAt })
      .from(g)
      .orderBy(asc(g.id))
    const at = now()
    const iso = (v: string | null) => (v === null ? null : new Date(v).toISOString())
    const age = (v: string | null) => (v === null ? null : Math.max(0, at - Date.parse(v)))
    return c.json({
      at: new Date(at).toISOString(),
      thresholds: { onlineWithinMs, staleWithinMs },
      // Every push carries the gateway's head seq: known for each gateway that has pushed since.
      backlogKnown: rows.length > 0 && rows.every((r) => r.reportedHeadSeq !== null),
      gateways: rows.map(({ reportedHeadSeq, reportedHeadAt, ...r }) => ({
        ...r,
        lastPushAt: iso(r.lastPushAt),
        lastPushAgeMs: age(r.lastPushAt),
        connection: connectionState(r.lastPushAt, at),
        /** The gateway's head seq as of its last push, less what the cloud applied; as old as that push (backlogAgeMs). */
        backlogKnown: reportedHeadSeq !== null,
        gatewayHeadSeq: reportedHeadSeq,
        backlog: reportedHeadSeq === null ? null : Math.max(0, reportedHeadSeq - r.headSeq),
        backlogAt: iso(reportedHeadAt),
        backlogAgeMs: age(reportedHeadAt),
      })),
    })
  })

  dashboardFiles(app)
}

const dashboardDir = join(dirname(fileURLToPath(import.meta.url)), 'dashboard')
const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' }
// Only the service's own files and API: no inline script or style, no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/** The dashboard's files, read once at start: no request can name a path outside them. They hold no data, so they need no token. */
function dashboardFiles(app: Hono<Env>): void {
  const files = new Map<string, { body: Uint8Array; type: string; etag: string }>()
  for (const name of readdirSync(dashboardDir)) {
    const type = types[extname(name)]
    if (!type) continue
    const body = readFileSync(join(dashboardDir, name))
    files.set(`/dashboard/${name}`, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` })
  }
  const serve = (c: Context, path: string) => {
    const found = files.get(path)
    const headers: Record<string, string> = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-cache', 'content-security-policy': contentSecurityPolicy, 'x-frame-options': 'DENY' }
    if (!found) return c.json({ type: 'urn:takt:problem:route.not-found', title: 'Not Found', status: 404, code: 'route.not-found', detail: `no dashboard file ${path}` }, 404, { ...headers, 'content-type': 'application/problem+json' })
    if (c.req.header('if-none-match') === found.etag) return c.body(null, 304, { ...headers, etag: found.etag })
    return c.body(found.body as Uint8Array<ArrayBuffer>, 200, { ...headers, etag: found.etag, 'content-type': found.type })
  }
  app.get('/dashboard', (c) => serve(c, '/dashboard/index.html'))
  app.get('/dashboard/*', (c) => serve(c, c.req.path === '/dashboard/' ? '/dashboard/index.html' : c.req.path))
}
