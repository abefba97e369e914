// Test harness for the Part 11 tests: a real gateway with a configuration file, the test line, a settable clock, signing people.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../edge/config.ts'
import type { Clock } from '../../edge/core/ports.ts'
import { startGateway, type RunningGateway } from '../../edge/main.ts'
import { jsonClient, type Call } from '../helpers/client.ts'
import { adminToken, removeDir, type Reply } from '../helpers/gateway.ts'
import { defineLine, login, password } from '../helpers/line.ts'

/** A clock the test moves: starts at the real time, `advance` jumps ahead. */
export class TestClock implements Clock {
  #offsetMs = 0
  now(): Date {
    return new Date(Date.now() + this.#offsetMs)
  }
  advance(ms: number): void {
    this.#offsetMs += ms
  }
}

export interface Part11Gateway {
  call: Call
  running: RunningGateway
  dataDir: string
  clock: TestClock
  /** A session token for a person with the line's password. */
  session(username: string, pw?: string): Promise<string>
  /** The log's head seq. */
  seq(): Promise<number>
  stop(): Promise<void>
}

/** Extra people the Part 11 tests sign with (besides the line's olga, leo, quentin). */
export const signers = [
  { id: 'paula', name: 'Paula Performer', roles: ['operator', 'quality'] },
  { id: 'rita', name: 'Rita Reviewer', roles: ['quality'] },
  { id: 'bea', name: 'Bea Badge', roles: ['quality'] },
  { id: 'ada', name: 'Ada Admin', roles: ['admin'] },
]

export async function part11Gateway(t: { teardown(fn: () => Promise<void>): void }, yaml: string, options: { keepData?: boolean } = {}): Promise<Part11Gateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'takt-part11-'))
  const file = join(dataDir, 'takt.yaml')
  writeFileSync(file, yaml)
  const config = loadConfig({ file, env: { TAKT_DATA_DIR: dataDir, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } })
  const clock = new TestClock()
  const running = await startGateway(config, { clock })
  const call = jsonClient(`http://127.0.0.1:${running.port}`, adminToken)
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await running.stop()
  }
  t.teardown(async () => {
    await stop()
    if (!options.keepData) removeDir(dataDir)
  })
  await defineLine(call)
  for (const p of signers) {
    const put = await call('PUT', `/api/v1/people/${p.id}`, p)
    const pw = await call('PUT', `/api/v1/people/${p.id}/password`, { password })
    if (put.status !== 200 || pw.status !== 200) throw new Error(`person ${p.id}: ${put.status} ${pw.status} ${JSON.stringify(pw.body)}`)
  }
  return {
    call,
    running,
    dataDir,
    clock,
    async session(username, pw = password) {
      const r = await login(call, username, pw)
      if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${JSON.stringify(r.body)}`)
      return r.body.token as string
    },
    async seq() {
      return (await call('GET', '/health', undefined, '')).body.eventSeq as number
    },
    stop,
  }
}

export const widgetOrder = (id: string, quantity: number) => ({ id, productId: 'WIDGET', quantity, bomId: 'BOM-WIDGET', bomVersion: 'A', routingId: 'RT-WIDGET', routingVersion: 'A', lineId: 'L1' })

const outOfLimits = { good: 1, consumptions: [{ lot: 'RESIN-001', quantity: 1 }], measurements: [{ name: 'viscosity', value: 50, unit: 'Pa.s' }] }

function expect(r: Reply, status: number, what: string): Reply {
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${JSON.stringify(r.body)}`)
  return r
}

/**
 * A serialized order of `quantity` widgets, each made by `performer` with a viscosity out of limits:
 * every unit ends on hold with a nonconformance. Returns the serials and nonconformance ids.
 */
export async function heldUnits(call: Call, orderId: string, quantity: number, performer: string): Promise<{ serials: string[]; ncs: string[] }> {
  expect(await call('POST', '/api/v1/orders', widgetOrder(orderId, quantity)), 201, `order ${orderId}`)
  const released = expect(await call('POST', `/api/v1/orders/${orderId}/release`), 200, `release ${orderId}`)
  expect(await call('POST', `/api/v1/orders/${orderId}/dispatch`), 200, `dispatch ${orderId}`)
  const serials = released.body.serials as string[]
  const ncs: string[] = []
  for (const unit of serials) {
    const started = expect(await call('POST', `/api/v1/orders/${orderId}/operations/10/start`, { unit }, performer), 201, `start ${unit}`)
    const done = expect(await call('POST', `/api/v1/runs/${started.body.runId}/complete`, outOfLimits, performer), 200, `complete ${unit}`)
    ncs.push(...(done.body.nonconformances as string[]))
  }
  return { serials, ncs }
}
