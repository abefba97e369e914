// The gateway's HTTP API: hono + zod-openapi, bearer authentication, problem+json errors, one OpenAPI document.
import { OpenAPIHono } from '@hono/zod-openapi'
import { HTTPException } from 'hono/http-exception'
import type { Logger } from 'pino'
import { authenticate, guard, type AuthEnv } from './auth.ts'
import { requestBodyLimit } from './body-limit.ts'
import type { ApiDeps } from './context.ts'
import { idempotency } from './idempotency.ts'
import { nodeBody } from './node-body.ts'
import { loginRateLimit, type LoginRateLimitOptions } from './rate-limit.ts'
import { securityHeaders } from './security-headers.ts'
import { ProblemError, problem } from './problem.ts'
import { accountRoutes } from './routes/accounts.ts'
import { connectivityRoutes } from './routes/connectivity.ts'
import { executionRoutes } from './routes/execution.ts'
import { historianRoutes } from './routes/historian.ts'
import { masterDataRoutes } from './routes/master-data.ts'
import { oeeRoutes } from './routes/oee.ts'
import { orderRoutes } from './routes/orders.ts'
import { qualityRoutes } from './routes/quality.ts'
import { auditRoutes } from './routes/audit.ts'
import { signatureRoutes } from './routes/signatures.ts'
import { erpRoutes, type ErpRouteOptions } from './routes/erp.ts'
import { badgeRoutes } from './routes/hmi-badges.ts'
import { hmiFloorRoutes } from './routes/hmi-floor.ts'
import { hmiQualityRoutes } from './routes/hmi-quality.ts'
import { recordRoutes } from './routes/records.ts'
import { liveRoutes, type LiveFeed } from './routes/live.ts'
import { hmiAssets, isHmiAsset } from '../hmi/serve.ts'
import { metricsContentType } from '../health/metrics.ts'

export interface ApiOptions {
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number
  version: string
  logger: Logger
  /** The ERP routes' document limit, default version and outbox (edge/api/routes/erp.ts). */
  erp: ErpRouteOptions
  /** Failed logins per client address (edge/api/rate-limit.ts); its defaults when absent. */
  loginLimit?: LoginRateLimitOptions
  /** System health (edge/health): the `system` object of /health and the text of /metrics. */
  health?: { system(): unknown; metrics(): string }
}

const anonymous = new Set(['/health', '/api/v1/auth/login', '/api/v1/auth/badge'])

export function buildApi(deps: ApiDeps & { live: LiveFeed }, options: ApiOptions): OpenAPIHono<AuthEnv> {
  const app = new OpenAPIHono<AuthEnv>({
    defaultHook: (result) => {
      if (result.success) return
      const errors = result.error.issues.map((i) => ({ path: `${result.target}${i.path.length ? '.' + i.path.join('.') : ''}`, message: i.message }))
      const detail = errors.map((e) => `${e.path}: ${e.message}`).join('; ')
      throw new ProblemError(422, 'validation_failed', `The request is not valid: ${detail}`, { errors })
    },
  })

  app.onError((error, c) => {
    if (error instanceof ProblemError) {
      const response = problem(c, error)
      // The unread rest of an oversized body makes the connection unusable: say so instead of keep-alive.
      if (error.status === 413) response.headers.set('connection', 'close')
      return response
    }
    if (error instanceof HTTPException) {
      const malformed = error.status === 400
      return problem(c, new ProblemError(error.status, malformed ? 'malformed_request' : 'http_error', malformed ? `The request body is not valid JSON: ${error.message}` : error.message))
    }
    options.logger.error({ err: error, path: c.req.path }, 'request failed')
    return problem(c, new ProblemError(500, 'internal', 'The gateway could not process the request; nothing was recorded. The error is in its log.'))
  })
  app.notFound((c) => problem(c, new ProblemError(404, 'route_not_found', `There is no route ${c.req.method} ${c.req.path}.`)))
  // First of all: every answer, B2MML and HMI files included, carries the security headers; a cross-site write is refused before anything reads it.
  app.use('*', securityHeaders())
  const limitLogins = loginRateLimit({ now: () => deps.clock.now().getTime(), ...options.loginLimit })
  app.use('/api/v1/auth/login', limitLogins)
  app.use('/api/v1/auth/badge', limitLogins)
  // B2MML is XML with its own size limit and its own authentication: mounted before the JSON body limit and content-type check.
  erpRoutes(app, deps, options.erp)

  app.use(
    '*',
    requestBodyLimit(options.maxBodyBytes, () => {
      throw new ProblemError(413, 'body_too_large', `The request body is over the limit of ${options.maxBodyBytes} bytes; nothing was recorded.`)
    }),
  )
  const auth = authenticate(deps.accounts, () => deps.clock.now())
  // The HMI page and its files hold no data: a terminal loads them before anyone logs in.
  app.use('*', async (c, next) => (anonymous.has(c.req.path) || isHmiAsset(c.req.method, c.req.path) ? next() : auth(c, next)))
  app.use('/api/*', async (c, next) => {
    const type = c.req.header('content-type')
    const hasBody = Number(c.req.header('content-length') ?? 0) > 0 || c.req.header('transfer-encoding') !== undefined
    if ((c.req.method === 'POST' || c.req.method === 'PUT') && (type !== undefined || hasBody) && !/^application\/json\b/i.test(type ?? '')) {
      throw new ProblemError(415, 'unsupported_media_type', `Send application/json, not ${type ?? 'a body without a content type'}.`)
    }
    return next()
  })
  app.use('/api/*', nodeBody())
  const idempotent = idempotency(deps.store.db.sqlite)
  app.use('/api/*', async (c, next) => (anonymous.has(c.req.path) ? next() : idempotent(c, next)))

  // Cached figures only (sampled on a timer): an anonymous caller can never make the gateway do work per request.
  app.get('/health', (c) => c.json({ status: 'ok', version: options.version, eventSeq: deps.store.head().seq, time: deps.clock.now().toISOString(), ...(options.health ? { system: options.health.system() } : {}) }))
  // Prometheus text, not JSON: outside the OpenAPI document, authenticated like every route (a scraper sends an API token).
  app.get('/metrics', (c) => {
    guard(c, ['maintenance', 'integration'])
    if (!options.health) throw new ProblemError(404, 'route_not_found', 'This gateway was built without system health.')
    return c.body(options.health.metrics(), 200, { 'content-type': metricsContentType })
  })

  accountRoutes(app, deps)
  masterDataRoutes(app, deps)
  orderRoutes(app, deps)
  executionRoutes(app, deps)
  qualityRoutes(app, deps)
  signatureRoutes(app, deps)
  auditRoutes(app, deps)
  historianRoutes(app, deps)
  connectivityRoutes(app, deps)
  oeeRoutes(app, deps)
  liveRoutes(app, deps)
  badgeRoutes(app, deps)
  hmiFloorRoutes(app, deps)
  hmiQualityRoutes(app, deps)
  recordRoutes(app, deps)
  hmiAssets(app)

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'An API token, or a session token from /api/v1/auth/login' })
  // Built at the first request (every route is registered by then) and kept: building it holds the event loop for tens of ms, and every HMI login reads it.
  let openApiDocument: string | undefined
  app.get('/openapi.json', (c) => {
    openApiDocument ??= JSON.stringify(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info: { title: 'Takt gateway API', version: options.version, description: 'Production orders, execution, as-built records and genealogy for one line.' },
      }),
    )
    return c.body(openApiDocument, 200, { 'content-type': 'application/json' })
  })
  return app
}
