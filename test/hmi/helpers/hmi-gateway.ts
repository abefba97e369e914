// The gateway as `takt edge` builds it (the HMI included), on a real port, that can be stopped and started again on the same port and data (the link-lost banner).
import { serve, type ServerType } from '@hono/node-server'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Clock } from '../../../edge/core/ports.ts'
import { loadConfig } from '../../../edge/config.ts'
import { seedDemoLine } from '../../../edge/demo.ts'
import { buildGateway, type Gateway } from '../../../edge/gateway.ts'
import type { LiveFeed, LiveOptions } from '../../../edge/api/routes/live.ts'
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
    const gateway = buildGateway(config, { clock, ids: uuidv7Ids(clock), ...(options.liveOptions ? { live: options.liveOptions } : {}) })
    const server = serve({ fetch: gateway.app.fetch, hostname: '127.0.0.1', port })
    port = await listen(server)
    running = { gateway, live: gateway.live, server }
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
  const gateway = buildGateway(config, { clock, ids: uuidv7Ids(clock), ...(options.liveOptions ? { live: options.liveOptions } : {}) })
  const { live } = gateway
  if (options.seed !== false) await seedDemoLine(gateway, clock.now())
  const call: Call = async (method, path, body, token = adminToken, headers = {}) => {
    const h: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers }
    const init: RequestInit = { method, headers: h }
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body)
      h['content-type'] ??= 'application/json'
    }
    const res = await gateway.app.fetch(new Request(`http://gateway${path}`, init))
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
    // The checkpoint worker may still be letting go of its files for a moment.
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 })
  }
  return { gateway, live, clock, call, close }
}
