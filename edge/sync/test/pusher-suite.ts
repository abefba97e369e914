// The pusher against a real cloud-sync on a real socket: partition and catch-up, restart, refusal, and the gateway's sync section. Run once per central database.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { eq, sql } from 'drizzle-orm'
import pino from 'pino'
import type { Test } from 'tap'
import { ensureAdminToken } from '../../../cloud-sync/credentials.ts'
import { startCloud, type CloudConfig, type RunningCloud } from '../../../cloud-sync/main.ts'
import * as schema from '../../../cloud-sync/schema.ts'
import type { Backend, TestDatabase } from '../../../cloud-sync/test/backends.ts'
import { recordFiller, recordOrder } from '../../../cloud-sync/test/line.ts'
import { loadConfig, type ConfigError } from '../../config.ts'
import { startGateway } from '../../main.ts'
import type { SyncStatus } from '../pusher.ts'
import { until } from '../../../test/helpers/until.ts'
import { pusherFor, storedEvents, tempLine } from './fixtures.ts'

const adminToken = 'cloud-test-admin-token-0123456789'

interface Central {
  test: TestDatabase
  cloud: RunningCloud
  config: CloudConfig
  register(id: string): Promise<string>
  count(gatewayId: string): Promise<{ rows: number; distinct: number; maxSeq: number }>
  head(gatewayId: string): Promise<{ seq: number; hash: string }>
  restart(): Promise<void>
}

async function central(t: { teardown(fn: () => unknown): void }, backend: Backend): Promise<Central> {
  const test = await backend.open()
  await ensureAdminToken(test.db.orm, adminToken)
  const config: CloudConfig = { dataDir: test.dataDir, host: '127.0.0.1', port: 0, databaseUrl: null, adminToken: null, logLevel: 'silent' }
  const logger = pino({ level: 'silent' })
  const c: Central = {
    test,
    config,
    cloud: await startCloud(config, { db: test.db, logger }),
    async register(id) {
      const res = await fetch(`${c.cloud.url}/api/v1/gateways`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ id, lineId: 'L1' }) })
      return ((await res.json()) as { token: string }).token
    },
    async count(gatewayId) {
      return storedEvents(test, gatewayId)
    },
    async head(gatewayId) {
      const [g] = await test.db.orm.select({ seq: schema.gateways.headSeq, hash: schema.gateways.headHash }).from(schema.gateways).where(eq(schema.gateways.id, gatewayId))
      return g!
    },
    async restart() {
      config.port = c.cloud.port
      c.cloud = await startCloud(config, { db: test.db, logger })
    },
  }
  t.teardown(async () => {
    // The cloud running now (a restarted one, or one already stopped: closing it again is harmless).
    await c.cloud.stop().catch(() => {})
    await test.dispose()
  })
  return c
}



export function pusherSuite(t: Test, backend: Backend): void {
  t.test('partition: the line records while the cloud is down; the pusher catches up with the same count and head, no duplicates, also after a restart', async (t) => {
    const c = await central(t, backend)
    const token = await c.register('gw-a')
    const store = tempLine(t)
    let pusher = pusherFor(store, c.cloud.url, token)
    t.teardown(() => pusher.stop())
    pusher.start()
    recordFiller(store, 100, 50, 'A')
    await until('the first 100 events acknowledged', () => pusher.status().ackedSeq === 100)
    t.match(pusher.status(), { state: 'caught-up', backlog: 0, lagMs: 0, localSeq: 100, lastError: null })

    await c.cloud.stop()
    for (let i = 0; i < 5; i++) recordOrder(store, `PO-${i}`, 10 + i, { done: i % 2 === 0 })
    recordFiller(store, 100_000, 500, 'B')
    const local = store.head()
    await until('the pusher noticing the cloud is gone', () => pusher.status().failures >= 2)
    const offline: SyncStatus = pusher.status()
    t.equal(offline.state, 'backing-off')
    t.equal(offline.backlog, local.seq - 100, 'the backlog is every event not acknowledged')
    t.equal(offline.ackedSeq, 100)
    t.ok(offline.lagMs >= 0 && offline.lastError !== null, 'lag and the reason are reported')
    t.equal((await c.count('gw-a')).rows, 100, 'nothing reached the cloud while it was down')

    await c.restart()
    await until('the backlog pushed after the partition', () => pusher.status().backlog === 0)
    t.same(await c.count('gw-a'), { rows: local.seq, distinct: local.seq, maxSeq: local.seq })
    t.same(await c.head('gw-a'), { seq: local.seq, hash: local.hash }, 'the cloud holds the same chain head')
    t.equal(pusher.status().failures, 0)
    const orders = await c.test.db.orm.select().from(schema.orders)
    t.equal(orders.length, 5)

    // A restart of the gateway: a new pusher knows nothing and resumes from the cloud's head.
    await pusher.stop()
    recordFiller(store, 700, 100, 'C')
    pusher = pusherFor(store, c.cloud.url, token)
    pusher.start()
    await until('the events after the restart pushed', () => pusher.status().backlog === 0 && pusher.status().ackedSeq === store.head().seq)
    const after = store.head()
    t.same(await c.count('gw-a'), { rows: after.seq, distinct: after.seq, maxSeq: after.seq }, 'nothing pushed twice after the restart')
    t.same(await c.head('gw-a'), { seq: after.seq, hash: after.hash })
  })

  t.test('a cloud restored to an older head answers a gap: the pusher asks the head again and sends from there, two pushes on the wire or one', async (t) => {
    for (const pipeline of [2, 1]) {
      const c = await central(t, backend)
      const token = await c.register('gw-a')
      const store = tempLine(t)
      const pusher = pusherFor(store, c.cloud.url, token, { pipeline })
      t.teardown(() => pusher.stop())
      pusher.start()
      recordFiller(store, 100, 50, 'A')
      await until('the first 100 events acknowledged', () => pusher.status().ackedSeq === 100)
      // The central database as a backup from before seq 51 left it: the pusher still believes 100.
      const e = schema.events
      await c.test.db.orm.delete(e).where(sql`${e.gatewayId} = 'gw-a' AND ${e.seq} > 50`)
      const [kept] = await c.test.db.orm.select({ hash: e.hash }).from(e).where(sql`${e.gatewayId} = 'gw-a' AND ${e.seq} = 50`)
      await c.test.db.orm.update(schema.gateways).set({ headSeq: 50, headHash: kept!.hash }).where(eq(schema.gateways.id, 'gw-a'))
      recordFiller(store, 3000, 500, 'B')
      const local = store.head()
      await until('caught up again after the gap', () => pusher.status().ackedSeq === local.seq)
      t.same(await c.count('gw-a'), { rows: local.seq, distinct: local.seq, maxSeq: local.seq }, `pipeline ${pipeline}: seq 51 on sent again, each once`)
      t.same(await c.head('gw-a'), { seq: local.seq, hash: local.hash })
      await pusher.stop()
    }
  })

  t.test('a refused push is reported and retried slowly; the right token then pushes', async (t) => {
    const c = await central(t, backend)
    const token = await c.register('gw-a')
    const store = tempLine(t)
    recordFiller(store, 20)
    const wrong = pusherFor(store, c.cloud.url, 'takt_gw_this-token-was-never-issued', { maxBackoffMs: 60_000 })
    wrong.start()
    await until('the refusal reported', () => wrong.status().state === 'refused')
    t.match(wrong.status(), { backlog: 20, ackedSeq: null, lastError: /401/ })
    await wrong.stop()
    t.equal((await c.count('gw-a')).rows, 0)
    const right = pusherFor(store, c.cloud.url, token)
    right.start()
    t.teardown(() => right.stop())
    await until('pushed with the right token', () => right.status().backlog === 0 && right.status().ackedSeq === 20)
    t.equal((await c.count('gw-a')).rows, 20)
  })

  t.test('the gateway with a sync section pushes its log and reports sync on /api/v1/connectivity; the token is never logged', async (t) => {
    const c = await central(t, backend)
    const token = await c.register('gw-a')
    const dataDir = mkdtempSync(join(tmpdir(), 'takt-sync-gw-'))
    const file = join(dataDir, 'takt.yaml')
    writeFileSync(file, `gatewayId: gw-a\nsync:\n  url: ${c.cloud.url}/\n  minBackoffMs: 20\n  maxBackoffMs: 200\n  idleMs: 50\n`)
    const lines: string[] = []
    const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }))
    const gatewayAdmin = 'test-admin-token-0123456789abcdef'
    const config = loadConfig({ file, env: { TAKT_DATA_DIR: dataDir, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_ADMIN_TOKEN: gatewayAdmin, TAKT_SYNC_TOKEN: token } })
    const running = await startGateway(config, { logger })
    t.teardown(async () => {
      await running.stop()
      rmSync(dataDir, { recursive: true, force: true })
    })
    recordOrder(running.gateway.store, 'PO-1', 3)
    const seq = running.gateway.store.head().seq
    await until('the gateway caught up', () => running.gateway.sync?.status().ackedSeq === seq)
    const res = await fetch(`http://127.0.0.1:${running.port}/api/v1/connectivity`, { headers: { authorization: `Bearer ${gatewayAdmin}` } })
    const body = (await res.json()) as { sync: SyncStatus }
    t.equal(res.status, 200)
    t.match(body.sync, { state: 'caught-up', backlog: 0, ackedSeq: seq, localSeq: seq, cloud: new URL(c.cloud.url).origin })
    t.notMatch(JSON.stringify(body), token)
    t.equal((await fetch(`http://127.0.0.1:${running.port}/api/v1/connectivity`)).status, 401, 'the status needs authentication')
    t.same(await c.head('gw-a'), running.gateway.store.head())
    t.ok(lines.some((l) => l.includes('cloud sync pushing')), 'the start is logged')
    t.notOk(lines.some((l) => l.includes(token)), 'the token is in no log line')
  })

  t.test('a sync section is validated at start: a bad URL, a short token and crossed backoffs are named', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'takt-sync-config-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'takt.yaml')
    writeFileSync(file, 'sync:\n  url: ftp://cloud\n  token: short\n')
    const problems = (env: NodeJS.ProcessEnv) => {
      try {
        loadConfig({ file, env })
      } catch (error) {
        return (error as ConfigError).problems
      }
      return []
    }
    t.match(problems({}), [/^sync\.url \(file .* line 2\): an http/, /^sync\.token \(file .* line 3\)/])
    writeFileSync(file, 'sync:\n  url: http://cloud.example:8090\n  minBackoffMs: 5000\n  maxBackoffMs: 100\n')
    t.same(problems({ TAKT_SYNC_TOKEN: 'takt_gw_0123456789abcdef' }), ['sync.minBackoffMs: above sync.maxBackoffMs'])
    writeFileSync(file, 'sync:\n  url: http://cloud.example:8090\n')
    t.equal(loadConfig({ file, env: { TAKT_SYNC_TOKEN: 'takt_gw_0123456789abcdef' } }).sync?.token, 'takt_gw_0123456789abcdef', 'a good section loads')
  })
}
