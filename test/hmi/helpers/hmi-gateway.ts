// A real gateway with the HMI wired in, on a real port, that can be stopped and started again on the same port and data (the link-lost banner).
import { serve, type ServerType } from '@hono/node-server'
import { OpenAPIHono } from '@hono/zod-openapi'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Clock } from '../../../edge/core/ports.ts'
import { loadConfig } from '../../../edge/config.ts'
import { seedDemoLine } from '../../../edge/demo.ts'
import { buildGateway, type Gateway } from '../../../edge/gateway.ts'
import type { AuthEnv } from '../../../edge/api/auth.ts'
import { ProblemError, problem } from '../../../edge/api/problem.ts'
import { badgeRoutes } from '../../../edge/api/routes/hmi-badges.ts'
import { hmiFloorRoutes } from '../../../edge/api/routes/hmi-floor.ts'
import { hmiQualityRoutes } from '../../../edge/api/routes/hmi-quality.ts'
import { LiveFeed, liveRoutes, type LiveOptions } from '../../../edge/api/routes/live.ts'
import { hmiAssets, isHmiAsset } from '../../../edge/hmi/serve.ts'
import { uuidv7Ids } from '../../../edge/store/ids.ts'
import { jsonClient, type Call } from '../../helpers/client.ts'
import { adminToken } from '../../helpers/gateway.ts'

/** The wall clock, moved forward on demand: badge lockouts and sessions run out without waiting. */
export class ShiftedClock implements Clock {
  offsetMs = 0
  now(): Date {
    return new Date(Date.now() + this.offsetMs)
  }
}

type Fetch = (request: Request, env?: unknown) => Response | Promise<Response>

/**
 * The HMI's routes and assets on a built gateway. Until edge/api/app.ts registers them itself (docs/hmi.md,
 * "Wiring"), they are added here: authenticated routes on the gateway's own app, and the two things that
 * need no token — the page's files and the badge login — on a small app in front of it.
 */
export function wireHmi(gateway: Gateway, clock: Clock, liveOptions: LiveOptions = {}): { fetch: Fetch; live: LiveFeed } {
  const wired = gateway as Gateway & { live?: LiveFeed }
  if (wired.live) return { fetch: gateway.app.fetch, live: wired.live }
  const live = new LiveFeed({ store: gateway.store, accounts: gateway.accounts, clock }, liveOptions)
  const deps = { store: gateway.store, queries: gateway.queries, accounts: gateway.accounts, clock, ids: uuidv7Ids(clock), historian: gateway.historian, connectivity: gateway.connectivity, live }
  liveRoutes(gateway.app, deps)
  badgeRoutes(gateway.app, deps)
  hmiFloorRoutes(gateway.app, deps)
  hmiQualityRoutes(gateway.app, deps)
  const open = new OpenAPIHono<AuthEnv>({
    defaultHook: (result) => {
      if (!result.success) throw new ProblemError(422, 'validation_failed', `The request is not valid: ${result.error.issues.map((i) => `${result.target}.${i.path.join('.')}: ${i.message}`).join('; ')}`)
    },
  })
  open.onError((error, c) => problem(c, error instanceof ProblemError ? error : new ProblemError(500, 'internal', 'The gateway could not process the request.')))
  badgeRoutes(open, deps)
  hmiAssets(open)
  const anonymous = (request: Request) => {
    const path = new URL(request.url).pathname
    return isHmiAsset(request.method, path) || path === '/api/v1/auth/badge'
  }
  const fetch: Fetch = (request, env) => (anonymous(request) ? open.fetch(request, env) : gateway.app.fetch(request, env))
  return { fetch, live }
}

export interface HmiGateway {
  url: string
  port: number
  dataDir: string
  clock: ShiftedClock
  gateway(): Gateway
  live(): LiveFeed
  /** JSON calls with the admin token unless another is given. */
  call: Call
  stop(): Promise<void>
  /** Starts the gateway again on the same port and data directory. */
  start(): Promise<void>
}

function listen(server: ServerType): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.once('listening', () => resolve((server.address() as AddressInfo).port))
  })
}

export async function startHmiGateway(options: { seed?: boolean; liveOptions?: LiveOptions } = {}): Promise<HmiGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'takt-hmi-'))
  const clock = new ShiftedClock()
  let port = 0
  let running: { gateway: Gateway; live: LiveFeed; server: ServerType } | null = null
  const start = async () => {
    const config = loadConfig({ env: { TAKT_DATA_DIR: dataDir, TAKT_HTTP_PORT: String(port), TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } })
    const gateway = buildGateway(config, { clock, ids: uuidv7Ids(clock) })
    const { fetch, live } = wireHmi(gateway, clock, options.liveOptions)
    const server = serve({ fetch, hostname: '127.0.0.1', port })
    port = await listen(server)
    running = { gateway, live, server }
  }
  const stop = async () => {
    if (!running) return
    const { gateway, live, server } = running
    running = null
    // Live streams first: the server closes only once no response is still open.
    live.close()
    await new Promise<void>((done) => server.close(() => done()))
    gateway.close()
  }
  await start()
  const current = () => {
    if (!running) throw new Error('the HMI gateway is stopped')
    return running
  }
  if (options.seed !== false) await seedDemoLine(current().gateway, clock.now())
  const url = `http://127.0.0.1:${port}`
  return { url, port, dataDir, clock, gateway: () => current().gateway, live: () => current().live, call: jsonClient(url, adminToken), stop, start }
}

export interface HmiApp {
  gateway: Gateway
  live: LiveFeed
  clock: ShiftedClock
  /** In process, no socket: the same composed handler the server would run. */
  call: Call
  close(): void
}

/** The gateway and the HMI routes in process, on a fresh data directory, seeded with the demo line unless told not to. */
export async function hmiApp(options: { seed?: boolean; liveOptions?: LiveOptions } = {}): Promise<HmiApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'takt-hmi-'))
  const clock = new ShiftedClock()
  const config = loadConfig({ env: { TAKT_DATA_DIR: dataDir, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } })
  const gateway = buildGateway(config, { clock, ids: uuidv7Ids(clock) })
  const { fetch, live } = wireHmi(gateway, clock, options.liveOptions)
  if (options.seed !== false) await seedDemoLine(gateway, clock.now())
  const call: Call = async (method, path, body, token = adminToken, headers = {}) => {
    const h: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers }
    const init: RequestInit = { method, headers: h }
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body)
      h['content-type'] ??= 'application/json'
    }
    const res = await fetch(new Request(`http://gateway${path}`, init))
    const text = await res.text()
    let parsed: Record<string, unknown> = {}
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {}
    } catch {
      parsed = { text }
    }
    return { status: res.status, body: parsed as Record<string, any>, headers: res.headers }
  }
  const close = () => {
    live.close()
    gateway.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
  return { gateway, live, clock, call, close }
}
