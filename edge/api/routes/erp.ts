// ERP integration over HTTP: B2MML documents in (application/xml), performance documents out, the document log and the outbox.
import { OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { namespaceForVersion, PerformanceExport } from '../../erp/export.ts'
import { receiveDocument, type IntakeResult } from '../../erp/intake.ts'
import type { ErpOutbox, OutboxState } from '../../erp/outbox.ts'
import type { Scope } from '../../erp/performance.ts'
import { ErpRecords } from '../../erp/records.ts'
import { where } from '../../erp/confirmation.ts'
import { actorOf, authenticate, guard, type AuthEnv } from '../auth.ts'
import type { Api, ApiDeps } from '../context.ts'
import { ProblemError, problem, problemBody } from '../problem.ts'

export interface ErpRouteOptions {
  /** Largest B2MML document accepted, in bytes: the gateway's http.maxBodyBytes or a lower erp.maxDocumentBytes. */
  maxDocumentBytes: number
  gatewayId: string
  /** The B2MML namespace for the performance of orders that came through the JSON API. */
  defaultNamespace: string
  /** The outbox, when a push is configured: shown and retried through the API. */
  outbox?: { box: ErpOutbox; wake(): void } | null
  /** Where unexpected errors are reported (the gateway's api logger). */
  logger?: { error(obj: object, message: string): void }
}

const readers = ['integration', 'lead', 'quality'] as const
const xmlType = /^(?:application\/(?:[\w.-]+\+)?xml|text\/xml)\s*(?:;|$)/i
const idPattern = /^[A-Za-z0-9][A-Za-z0-9._:\-/]*$/

function checkXmlContentType(c: Context): void {
  const type = c.req.header('content-type')
  if (!type || !xmlType.test(type)) throw new ProblemError(415, 'unsupported_media_type', `Send a B2MML document as application/xml, not ${type ?? 'a body without a content type'}.`)
  const charset = /;\s*charset=("?)([^";]+)\1/i.exec(type)?.[2]
  if (charset && !/^utf-?8$/i.test(charset)) throw new ProblemError(415, 'unsupported_media_type', `Send the document in UTF-8, not ${charset}.`)
}

type Mode = 'json' | 'xml' | 'default'
const modeOf = (accept: string | undefined): Mode => (!accept ? 'default' : /json/i.test(accept) ? 'json' : /xml/i.test(accept) ? 'xml' : 'default')

function refusalCode(result: IntakeResult): string {
  const codes = new Set(result.problems.map((p) => p.code))
  return codes.size === 1 ? [...codes][0]! : 'b2mml_refused'
}

/** Success: the confirmation BOD (or JSON on request). Refusal: problem+json listing every error, the confirmation inside — or the BOD itself when XML is asked for. */
function answer(c: Context, result: IntakeResult): Response {
  const mode = modeOf(c.req.header('accept'))
  if (result.outcome !== 'refused') {
    if (mode !== 'json') return new Response(result.confirmation, { status: 200, headers: { 'content-type': 'application/xml; charset=utf-8', 'takt-document-id': String(result.documentId) } })
    const { confirmation, status: _s, problems: _p, lastSeq, ...rest } = result
    return c.json({ ...rest, seq: lastSeq, confirmation }, 200)
  }
  if (mode === 'xml') return new Response(result.confirmation, { status: result.status, headers: { 'content-type': 'application/xml; charset=utf-8', 'takt-document-id': String(result.documentId), 'takt-problem-code': refusalCode(result) } })
  const [first] = result.problems
  const more = result.problems.length > 1 ? ` (and ${result.problems.length - 1} more, listed in errors)` : ''
  const detail = `The B2MML document was refused; nothing was imported. ${first ? `${where(first)}: ${first.message}` : ''}${more}`
  const errors = result.problems.map((p) => ({ path: p.path, line: p.line, column: p.column, code: p.code, message: p.message }))
  const body = problemBody(result.status, refusalCode(result), detail, c.req.path, { errors, documentId: result.documentId, confirmation: result.confirmation })
  return new Response(JSON.stringify(body), { status: result.status, headers: { 'content-type': 'application/problem+json' } })
}

function pathId(c: Context, name: string): string {
  const value = c.req.param(name) ?? ''
  if (!idPattern.test(value) || value.length > 128) throw new ProblemError(422, 'validation_failed', `The request is not valid: param.${name}: letters, digits and . _ : - / only`)
  return value
}

function namespaceParam(c: Context): string | undefined {
  const version = c.req.query('version')
  if (version === undefined) return undefined
  const ns = namespaceForVersion(version)
  if (!ns) throw new ProblemError(422, 'validation_failed', `The request is not valid: query.version: '${version}' is not a B2MML version (V0401 … V0699, or V0700 and later).`)
  return ns
}

function limitParam(c: Context): number {
  const limit = Number(c.req.query('limit') ?? 100)
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ProblemError(422, 'validation_failed', 'The request is not valid: query.limit: a whole number from 1 to 1000')
  return limit
}

function registerDocs(app: Api): void {
  const xml = { 'application/xml': { schema: { type: 'string' as const } } }
  const problemJson = { 'application/problem+json': { schema: { type: 'object' as const } } }
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/api/v1/erp/b2mml',
    tags: ['ERP'],
    summary: 'Receive a B2MML document (schedules, master data, Get…Performance); one document is one transaction',
    security: [{ bearer: [] }],
    request: { body: { required: true, content: xml } },
    responses: {
      200: { description: 'Applied (or nothing to change): the Acknowledge, Confirm or Show BOD', content: xml },
      400: { description: 'Not well-formed, a DOCTYPE, or not UTF-8', content: problemJson },
      413: { description: 'Larger than the document limit', content: problemJson },
      415: { description: 'Not application/xml', content: problemJson },
      422: { description: 'Refused: every error with its element path and line', content: problemJson },
    },
  })
  for (const path of ['/api/v1/erp/performance/orders/{id}', '/api/v1/erp/performance/orders/{id}/segments/{seq}']) {
    app.openAPIRegistry.registerPath({ method: 'get', path, tags: ['ERP'], summary: 'The performance (as-built) of a completed order or operation, as a Sync BOD', security: [{ bearer: [] }], responses: { 200: { description: 'Sync…Performance', content: xml } } })
  }
}

function performanceRoutes(app: Api, deps: ApiDeps, exporter: PerformanceExport): void {
  const performance = (scopeOf: (c: Context) => Scope) => (c: Context<AuthEnv>) => {
    guard(c, readers)
    const id = pathId(c, 'id')
    const doc = exporter.document(id, scopeOf(c), deps.clock.now().toISOString(), deps.ids, namespaceParam(c))
    if (!doc.ok) throw new ProblemError(doc.status, doc.code, doc.message)
    return new Response(doc.xml, { status: 200, headers: { 'content-type': 'application/xml; charset=utf-8' } })
  }
  app.get('/api/v1/erp/performance/orders/:id', performance(() => ({ kind: 'order' })))
  app.get(
    '/api/v1/erp/performance/orders/:id/segments/:seq',
    performance((c) => {
      const seq = Number(c.req.param('seq'))
      if (!Number.isInteger(seq) || seq < 0) throw new ProblemError(422, 'validation_failed', 'The request is not valid: param.seq: a whole number')
      return { kind: 'segment', opSeq: seq }
    }),
  )
}

function logRoutes(app: Api, records: ErpRecords, options: ErpRouteOptions, deps: ApiDeps): void {
  app.get('/api/v1/erp/documents', (c) => {
    guard(c, ['integration'])
    return c.json({ items: records.documents(limitParam(c)) }, 200)
  })
  app.get('/api/v1/erp/documents/:id', (c) => {
    guard(c, ['integration'])
    const found = records.document(Number(c.req.param('id')))
    if (!found) throw new ProblemError(404, 'not_found', `There is no ERP document ${c.req.param('id')}.`)
    return c.json(found, 200)
  })
  app.get('/api/v1/erp/outbox', (c) => {
    guard(c, ['integration'])
    if (!options.outbox) return c.json({ configured: false, counts: null, items: [] }, 200)
    const state = c.req.query('state') as OutboxState | undefined
    if (state !== undefined && !['pending', 'delivered', 'rejected'].includes(state)) throw new ProblemError(422, 'validation_failed', 'The request is not valid: query.state: pending, delivered or rejected')
    const items = options.outbox.box.list(state, limitParam(c)).map(({ body: _b, ...rest }) => rest)
    return c.json({ configured: true, counts: options.outbox.box.counts(), items }, 200)
  })
  app.post('/api/v1/erp/outbox/:id/retry', (c) => {
    guard(c, ['integration'])
    if (!options.outbox) throw new ProblemError(404, 'not_found', 'No ERP push is configured (erp.push).')
    const id = Number(c.req.param('id'))
    if (!options.outbox.box.retry(id, deps.clock.now().toISOString())) throw new ProblemError(404, 'not_found', `There is no undelivered outbox document ${c.req.param('id')}.`)
    options.outbox.wake()
    return c.json({ id, state: 'pending' }, 200)
  })
}

/** The ERP routes as an app of their own: XML bodies have their own limit and content type, so they are mounted before the JSON middleware. */
export function erpApi(deps: ApiDeps, options: ErpRouteOptions): Api {
  const app = new OpenAPIHono<AuthEnv>()
  const records = new ErpRecords(deps.store.db.sqlite)
  const exporter = new PerformanceExport(deps.store.db.sqlite, records, { gatewayId: options.gatewayId, defaultNamespace: options.defaultNamespace })
  const intake = { store: deps.store, records, exporter, clock: deps.clock, ids: deps.ids, gatewayId: options.gatewayId }
  app.onError((error, c) => {
    if (error instanceof ProblemError) return problem(c, error)
    options.logger?.error({ err: error, path: c.req.path }, 'ERP request failed')
    return problem(c, new ProblemError(500, 'internal', 'The gateway could not process the request; nothing was recorded. The error is in its log.'))
  })
  app.notFound((c) => problem(c, new ProblemError(404, 'route_not_found', `There is no route ${c.req.method} ${c.req.path}.`)))
  app.use(
    '/api/v1/erp/*',
    bodyLimit({
      maxSize: options.maxDocumentBytes,
      onError: () => {
        throw new ProblemError(413, 'body_too_large', `The document is over the limit of ${options.maxDocumentBytes} bytes; nothing was imported.`)
      },
    }),
  )
  app.use('/api/v1/erp/*', authenticate(deps.accounts, () => deps.clock.now()))
  app.post('/api/v1/erp/b2mml', async (c) => {
    const principal = guard(c, ['integration'])
    checkXmlContentType(c)
    const text = await c.req.text()
    const result = await receiveDocument(intake, text, { principal: actorOf(principal), actor: actorOf(principal) })
    return answer(c, result)
  })
  performanceRoutes(app, deps, exporter)
  logRoutes(app, records, options, deps)
  registerDocs(app)
  return app
}

/** Mounts the ERP routes on the gateway's app; call it before the app's JSON body and content-type middleware. */
export function erpRoutes(app: Api, deps: ApiDeps, options: ErpRouteOptions): void {
  app.route('/', erpApi(deps, options))
}
