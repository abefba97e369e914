// The cloud-sync HTTP API (hono): health, gateway registration, the push endpoint, central orders and WIP. Everything but health needs a token.
import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { and, asc, eq, type SQL } from 'drizzle-orm'
import { z } from 'zod'
import type { CloudDatabase } from './database.ts'
import { readB2mml } from './b2mml.ts'
import { maxGraceSeconds, principalOf, registerGateway, rotateGatewayToken, type Principal } from './credentials.ts'
import { checkDefinitions, kindRank, storeDefinitions } from './definitions.ts'
import { acceptPushBody, applyPush, inTurnPerGateway, pushBody, readHead } from './ingest.ts'
import { wipByLine } from './projection.ts'
import { parseShapeRequest, resetShapes, serveShape, ShapeNotifier } from './shapes.ts'
import { verifyStoredChain } from './verify.ts'
import { OpenPushes, type OpenPush } from './push-order.ts'
import { registerCentralRoutes } from './central-routes.ts'
import * as schema from './schema.ts'

export interface CloudLog {
  info(obj: object, message: string): void
  warn(obj: object, message: string): void
}

export interface CloudOptions {
  version: string
  /** Largest request body; a push of the pusher's default batch is far below it. */
  maxBodyBytes?: number
  log?: CloudLog
  /** How long a live shape request waits for a change (Electric's own default is 20 s). */
  longPollMs?: number
  /** Wakes live shape requests; the caller closes it when the service stops. */
  notifier?: ShapeNotifier
}

type Env = { Variables: { principal: Principal } }

const silent: CloudLog = { info() {}, warn() {} }

const titles = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Content Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content' } as const

/** RFC 9457 problem details, the same shape as the gateway's (edge/api/problem.ts). */
function problem(c: Context, status: keyof typeof titles, code: string, detail: string, extra: Record<string, unknown> = {}) {
  return c.json({ type: `urn:takt:problem:${code}`, title: titles[status], status, detail, code, ...extra }, status, { 'content-type': 'application/problem+json' })
}

const lineIdPattern = /^[A-Za-z0-9._-]{1,128}$/
const gatewayId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (1 to 64)')
const registration = z.strictObject({ id: gatewayId, lineId: z.string().min(1).max(128).nullable().default(null) })
const rotation = z.strictObject({ graceSeconds: z.number().int().min(0).max(maxGraceSeconds).default(86_400) })
const xmlType = /^(?:application\/(?:[\w.-]+\+)?xml|text\/xml)\s*(?:;|$)/i
/** The gateway's head seq, sent by the pusher with each push so that the cloud knows the backlog. */
export const headSeqHeader = 'takt-head-seq'

async function readJson(c: Context): Promise<{ ok: true; value: unknown } | { ok: false }> {
  try {
    return { ok: true, value: await c.req.json() }
  } catch {
    return { ok: false }
  }
}

function issues(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }))
}

export function buildCloudApi(db: CloudDatabase, options: CloudOptions) {
  const { orm } = db
  const log = options.log ?? silent
  const app = new Hono<Env>()

  app.get('/health', async (c) => {
    const started = Date.now()
    try {
      await orm.select({ id: schema.gateways.id }).from(schema.gateways).limit(1)
      return c.json({ status: 'ok', version: options.version, database: db.kind, databaseMs: Date.now() - started })
    } catch (error) {
      return c.json({ status: 'unavailable', version: options.version, database: db.kind, reason: (error as Error).message }, 503)
    }
  })

  const authenticate = async (c: Context<Env>, next: () => Promise<void>) => {
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (!match) return problem(c, 401, 'auth.required', 'send a gateway or admin token as Authorization: Bearer …')
    const principal = await principalOf(orm, match[1]!)
    if (!principal) return problem(c, 401, 'auth.invalid-token', 'the token is not known to this cloud')
    c.set('principal', principal)
    await next()
  }
  // A push is open from its arrival, before anything async, until its answer: a pipelined push that finds a gap waits for the others.
  const openPushes = new OpenPushes()
  const inTurn = inTurnPerGateway()
  const openPushOf = new WeakMap<Context, OpenPush>()
  app.use('/api/v1/gateways/:id/events', async (c, next) => {
    if (c.req.method !== 'POST') return next()
    const push = openPushes.open(c.req.param('id') ?? '')
    openPushOf.set(c, push)
    try {
      await next()
    } finally {
      push.done()
    }
  })
  app.use('/api/*', authenticate)
  app.use('/v1/*', authenticate)
  app.use('/api/*', bodyLimit({ maxSize: options.maxBodyBytes ?? 64 * 1024 * 1024, onError: (c) => problem(c, 413, 'request.too-large', `the body is larger than ${options.maxBodyBytes ?? 64 * 1024 * 1024} bytes; send smaller batches`) }))

  const adminOnly = (c: Context<Env>) => (c.get('principal').kind === 'admin' ? null : problem(c, 403, 'auth.forbidden', 'this needs an admin token'))

  app.post('/api/v1/gateways', async (c) => {
    const refused = adminOnly(c)
    if (refused) return refused
    const json = await readJson(c)
    if (!json.ok) return problem(c, 400, 'request.invalid-json', 'the body is not valid JSON')
    const parsed = registration.safeParse(json.value)
    if (!parsed.success) return problem(c, 400, 'request.invalid', 'the registration is not valid', { errors: issues(parsed.error) })
    const token = await registerGateway(orm, parsed.data.id, parsed.data.lineId)
    if (token === null) return problem(c, 409, 'gateway.exists', `gateway '${parsed.data.id}' is already registered`)
    log.info({ gatewayId: parsed.data.id }, 'gateway registered')
    // The token is returned this once; only its hash is kept.
    return c.json({ id: parsed.data.id, lineId: parsed.data.lineId, token }, 201)
  })

  app.post('/api/v1/gateways/:id/token', async (c) => {
    const refused = adminOnly(c)
    if (refused) return refused
    const id = c.req.param('id')
    const json = c.req.header('content-length') === '0' || !c.req.header('content-type') ? { ok: true as const, value: {} } : await readJson(c)
    if (!json.ok) return problem(c, 400, 'request.invalid-json', 'the body is not valid JSON')
    const parsed = rotation.safeParse(json.value ?? {})
    if (!parsed.success) return problem(c, 400, 'request.invalid', 'the rotation is not valid', { errors: issues(parsed.error) })
    const rotated = await rotateGatewayToken(orm, id, parsed.data.graceSeconds)
    if (!rotated) return problem(c, 404, 'sync.unknown-gateway', `gateway '${id}' is not registered`)
    log.info({ gatewayId: id, graceSeconds: parsed.data.graceSeconds }, 'gateway token rotated')
    // As at registration, the new token is in this answer only.
    return c.json({ id, token: rotated.token, previousValidUntil: rotated.previousValidUntil, graceSeconds: parsed.data.graceSeconds })
  })

  app.get('/api/v1/gateways', async (c) => {
    const refused = adminOnly(c)
    if (refused) return refused
    const g = schema.gateways
    const rows = await orm
      .select({ id: g.id, lineId: g.lineId, epoch: g.epoch, headSeq: g.headSeq, headHash: g.headHash, createdAt: g.createdAt, lastPushAt: g.lastPushAt, credentialsRotatedAt: g.tokenRotatedAt, previousCredentialsUntil: g.previousTokenUntil })
      .from(g)
      .orderBy(asc(g.id))
    return c.json({ gateways: rows })
  })

  /** The gateway itself (or an admin) may read where its chain stands: the pusher asks at start. */
  const ownGateway = (c: Context<Env>, id: string) => {
    const p = c.get('principal')
    if (p.kind === 'gateway' && p.gatewayId !== id) return problem(c, 403, 'auth.wrong-gateway', `this token belongs to gateway '${p.gatewayId}', not '${id}'`)
    return null
  }

  app.get('/api/v1/gateways/:id/head', async (c) => {
    const id = c.req.param('id')
    const refused = ownGateway(c, id)
    if (refused) return refused
    const head = await readHead(orm, id)
    if (!head) return problem(c, 404, 'sync.unknown-gateway', `gateway '${id}' is not registered`)
    return c.json({ gatewayId: id, ...head })
  })

  app.get('/api/v1/gateways/:id/verify', async (c) => {
    const refused = adminOnly(c)
    if (refused) return refused
    const id = c.req.param('id')
    const head = await readHead(orm, id)
    if (!head) return problem(c, 404, 'sync.unknown-gateway', `gateway '${id}' is not registered`)
    const report = await verifyStoredChain(orm, id, head.epoch, head.seq, head.hash)
    if (!report.ok) log.warn({ gatewayId: id, broken: report.broken }, 'stored chain broken')
    return c.json({ gatewayId: id, ...report })
  })

  app.post('/api/v1/gateways/:id/events', async (c) => {
    const id = c.req.param('id')
    const p = c.get('principal')
    // Only a gateway pushes, and only its own log: an admin token cannot write a line's history.
    if (p.kind !== 'gateway') return problem(c, 403, 'auth.forbidden', 'only the gateway itself pushes its events')
    const refused = ownGateway(c, id)
    if (refused) return refused
    const reported = c.req.header(headSeqHeader)
    if (reported !== undefined && !/^\d{1,15}$/.test(reported)) return problem(c, 400, 'request.invalid', `header ${headSeqHeader}: '${reported.slice(0, 40)}' is not a seq (a whole number)`, { errors: [{ path: `header.${headSeqHeader}`, message: 'a whole number' }] })
    const json = await readJson(c)
    if (!json.ok) return problem(c, 400, 'request.invalid-json', 'the body is not valid JSON')
    let body = acceptPushBody(json.value)
    if (!body) {
      const parsed = pushBody.safeParse(json.value)
      if (!parsed.success) return problem(c, 400, 'request.invalid', 'the batch is not valid', { errors: issues(parsed.error) })
      body = parsed.data
    }
    const headSeq = reported === undefined ? null : Number(reported)
    let outcome = await applyPush(orm, id, body, headSeq, inTurn)
    // A gap may only mean that this push overtook the one sent before it: once the gateway's other pushes at work are answered, it is tried again.
    while (!outcome.ok && outcome.code === 'sync.gap' && (await openPushes.othersAtWork(openPushOf.get(c)!))) outcome = await applyPush(orm, id, body, headSeq, inTurn)
    if (outcome.ok) return c.json({ applied: outcome.applied, duplicates: outcome.duplicates, head: outcome.head })
    const { ok: _ok, status, code, detail, ...extra } = outcome
    log.warn({ gatewayId: id, code, detail }, 'push refused')
    return problem(c, status, code, detail, extra)
  })

  app.get('/api/v1/orders', async (c) => {
    const refused = adminOnly(c)
    if (refused) return refused
    const o = schema.orders
    const where: SQL[] = []
    const gw = c.req.query('gatewayId')
    const line = c.req.query('lineId')
    const state = c.req.query('state')
    if (gw) where.push(eq(o.gatewayId, gw))
    if (line) where.push(eq(o.lineId, line))
    if (state) where.push(eq(o.state, state))
    const rows = await orm.select().from(o).where(and(...where)).orderBy(asc(o.gatewayId), asc(o.orderId)).limit(10_000)
    return c.json({ orders: rows })
  })

  app.get('/api/v1/wip', async (c) => {
    const refused = adminOnly(c)
    if (refused) return refused
    return c.json({ lines: await wipByLine(orm) })
  })

  const notifier = options.notifier ?? new ShapeNotifier()

  app.post('/api/v1/lines/:lineId/definitions', async (c) => {
    const refused = adminOnly(c)
    if (refused) return refused
    const lineId = c.req.param('lineId')
    if (!lineIdPattern.test(lineId)) return problem(c, 400, 'request.invalid', `'${lineId}' is not a line id (letters, digits, . _ -, 1 to 128)`)
    // The same intake takes ERP's B2MML: by its content type, as the gateway's own.
    if (xmlType.test(c.req.header('content-type') ?? '')) return b2mmlIntake(c, lineId)
    const json = await readJson(c)
    if (!json.ok) return problem(c, 400, 'request.invalid-json', 'the body is not valid JSON')
    const checked = checkDefinitions(lineId, json.value)
    if (!checked.ok) return problem(c, 422, 'definitions.invalid', `the definitions are not valid; nothing was stored: ${checked.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, { errors: checked.errors })
    const stored = await storeDefinitions(orm, lineId, checked.definitions)
    if (stored.changed > 0) notifier.changed(lineId)
    log.info({ lineId, changed: stored.changed, unchanged: stored.unchanged }, 'line definitions stored')
    return c.json({ lineId, ...stored })
  })

  const b2mmlIntake = async (c: Context<Env>, lineId: string) => {
    const type = c.req.header('content-type') ?? ''
    if (!xmlType.test(type)) return problem(c, 415, 'unsupported_media_type', `send a B2MML document as application/xml, not ${type || 'a body without a content type'}`)
    const charset = /;\s*charset=("?)([^";]+)\1/i.exec(type)?.[2]
    if (charset && !/^utf-?8$/i.test(charset)) return problem(c, 415, 'unsupported_media_type', `send the document in UTF-8, not ${charset}`)
    const read = await readB2mml(orm, lineId, await c.req.text())
    if (!read.ok) {
      const errors = read.problems.slice(0, 50).map((p) => ({ path: p.path, line: p.line, column: p.column, code: p.code, message: p.message }))
      const codes = new Set(errors.map((e) => e.code))
      const first = errors[0]!
      const status = (read.status in titles ? read.status : 422) as keyof typeof titles
      const more = read.problems.length > 1 ? ` (and ${read.problems.length - 1} more, listed in errors)` : ''
      log.warn({ lineId, code: first.code, path: first.path, line: first.line }, 'B2MML document refused')
      return problem(c, status, codes.size === 1 ? first.code : 'b2mml_refused', `The B2MML document was refused; nothing was stored. ${first.path} (line ${first.line}, column ${first.column}): ${first.message}${more}`, { errors })
    }
    // Definitions before orders, parents before children, as the gateway applies them.
    const definitions = read.definitions.map((d, i) => ({ d, i })).sort((a, b) => kindRank(a.d.kind) - kindRank(b.d.kind) || a.i - b.i).map((x) => x.d)
    const stored = await storeDefinitions(orm, lineId, definitions)
    if (stored.changed > 0) notifier.changed(lineId)
    log.info({ lineId, version: read.version, noun: read.noun, changed: stored.changed, unchanged: stored.unchanged }, 'B2MML document stored as line definitions')
    return c.json({ lineId, ...stored, version: read.version, noun: read.noun, orders: read.orders, definitions: definitions.map((d) => ({ kind: d.kind, key: d.key })), notes: read.notes })
  }

  app.post('/api/v1/lines/:lineId/b2mml', async (c) => {
    const refused = adminOnly(c)
    if (refused) return refused
    const lineId = c.req.param('lineId')
    if (!lineIdPattern.test(lineId)) return problem(c, 400, 'request.invalid', `'${lineId}' is not a line id (letters, digits, . _ -, 1 to 128)`)
    return b2mmlIntake(c, lineId)
  })

  app.get('/api/v1/lines/:lineId/definitions', async (c) => {
    const refused = adminOnly(c)
    if (refused) return refused
    const d = schema.lineDefinitions
    const rows = await orm.select({ kind: d.kind, key: d.key, body: d.body, changeOffset: d.changeOffset, updatedAt: d.updatedAt }).from(d).where(eq(d.lineId, c.req.param('lineId'))).orderBy(asc(d.kind), asc(d.key)).limit(10_000)
    return c.json({ definitions: rows.map((r) => ({ ...r, body: JSON.parse(r.body) })) })
  })

  app.post('/api/v1/shapes/reset', async (c) => {
    const refused = adminOnly(c)
    if (refused) return refused
    await resetShapes(orm)
    notifier.changed(null)
    log.warn({}, 'shapes reset: every gateway refetches its definitions')
    return c.json({ reset: true })
  })

  // The shape a gateway follows; its token reads only its own line (an admin reads any).
  app.get('/v1/shape', async (c) => {
    const parsed = parseShapeRequest(new URL(c.req.url))
    if (!parsed.ok) return c.json({ message: parsed.message }, 400)
    const p = c.get('principal')
    if (p.kind === 'gateway') {
      const [g] = await orm.select({ lineId: schema.gateways.lineId }).from(schema.gateways).where(eq(schema.gateways.id, p.gatewayId))
      if (g?.lineId !== parsed.request.lineId) return problem(c, 403, 'auth.wrong-line', `gateway '${p.gatewayId}' follows line '${g?.lineId ?? '(none)'}', not '${parsed.request.lineId}'`)
    }
    try {
      const answer = await serveShape(orm, notifier, parsed.request, { longPollMs: options.longPollMs ?? 20_000, pollMs: 1_000, signal: c.req.raw.signal })
      return c.json(answer.body, answer.status, answer.headers)
    } catch (error) {
      // The database went away under a long-poll (the service is stopping): the client retries.
      if (notifier.closed) return c.json({ message: 'cloud-sync is stopping' }, 503)
      throw error
    }
  })

  registerCentralRoutes(app, db)
  app.notFound((c) => problem(c, 404, 'route.not-found', `no route ${c.req.method} ${c.req.path}`))
  return app
}
