// A gateway token rotated while its gateway pushes, and the backlog each push reports, against a real cloud-sync on a real socket. Run once per central database.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import type { Test } from 'tap'
import { ensureAdminToken } from '../../../cloud-sync/credentials.ts'
import { startCloud, type RunningCloud } from '../../../cloud-sync/main.ts'
import type { Backend, TestDatabase } from '../../../cloud-sync/test/backends.ts'
import { logOf, recordFiller, recordOrder } from '../../../cloud-sync/test/line.ts'
import { loadConfig } from '../../config.ts'
import { startGateway } from '../../main.ts'
import { headSeqHeader } from '../pusher.ts'
import { until } from '../../../test/helpers/until.ts'
import { pusherFor, storedEvents, tempLine } from './fixtures.ts'

const adminToken = 'cloud-rotation-admin-token-0123456789'

interface Central {
  test: TestDatabase
  cloud: RunningCloud
  call(method: string, path: string, body?: unknown, token?: string | null, headers?: Record<string, string>): Promise<{ status: number; body: any }>
  register(id: string): Promise<string>
  rotate(id: string, graceSeconds?: number): Promise<{ status: number; body: any }>
  stored(gatewayId: string): Promise<{ rows: number; distinct: number; maxSeq: number }>
}

async function central(t: Test, backend: Backend): Promise<Central> {
  const test = await backend.open()
  await ensureAdminToken(test.db.orm, adminToken)
  const cloud = await startCloud({ dataDir: test.dataDir, host: '127.0.0.1', port: 0, databaseUrl: null, adminToken: null, logLevel: 'silent' }, { db: test.db, logger: pino({ level: 'silent' }) })
  t.teardown(async () => {
    await cloud.stop().catch(() => {})
    await test.dispose()
  })
  const call: Central['call'] = async (method, path, body, token = adminToken, headers = {}) => {
    const h: Record<string, string> = { ...headers }
    if (token !== null) h.authorization = `Bearer ${token}`
    if (body !== undefined) h['content-type'] = 'application/json'
    const res = await fetch(cloud.url + path, { method, headers: h, body: body === undefined ? null : JSON.stringify(body) })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : {} }
  }
  return {
    test,
    cloud,
    call,
    async register(id) {
      const r = await call('POST', '/api/v1/gateways', { id, lineId: 'L1' })
      if (r.status !== 201) throw new Error(`register ${id}: ${r.status}`)
      return r.body.token as string
    },
    rotate: (id, graceSeconds) => call('POST', `/api/v1/gateways/${id}/token`, graceSeconds === undefined ? undefined : { graceSeconds }),
    async stored(gatewayId) {
      return storedEvents(test, gatewayId)
    },
  }
}



const headOf = async (c: Central, token: string | null) => (await c.call('GET', '/api/v1/gateways/gw-a/head', undefined, token)).status

export function rotationSuite(t: Test, backend: Backend): void {
  t.test('rotation while the gateway pushes: the old token works until the new one is used, the gateway restarted with the new token loses nothing', async (t) => {
    const c = await central(t, backend)
    const oldToken = await c.register('gw-a')
    const dataDir = mkdtempSync(join(tmpdir(), 'takt-rotation-gw-'))
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
    const file = join(dataDir, 'takt.yaml')
    writeFileSync(file, `gatewayId: gw-a\nsync:\n  url: ${c.cloud.url}\n  minBackoffMs: 20\n  maxBackoffMs: 200\n  idleMs: 50\n`)
    const gatewayWith = (token: string) =>
      startGateway(loadConfig({ file, env: { TAKT_DATA_DIR: dataDir, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_ADMIN_TOKEN: 'rotation-gateway-admin-0123456789', TAKT_SYNC_TOKEN: token, TAKT_LOG_LEVEL: 'silent' } }))
    let running = await gatewayWith(oldToken)
    let stopped = false
    t.teardown(async () => {
      if (!stopped) await running.stop()
    })
    const store = () => running.gateway.store
    recordFiller(store(), 300, 50, 'A')
    await until('the first events pushed', () => running.gateway.sync!.status().ackedSeq === store().head().seq)

    const rotated = await c.rotate('gw-a', 3600)
    t.equal(rotated.status, 200)
    t.match(rotated.body, { id: 'gw-a', token: /^takt_gw_/, graceSeconds: 3600 })
    t.ok(Date.parse(rotated.body.previousValidUntil) > Date.now() + 3500_000, 'the old token is good for the grace period')
    const newToken = rotated.body.token as string
    t.not(newToken, oldToken)

    // Within the grace period the running gateway keeps pushing with the old token.
    for (let i = 0; i < 3; i++) recordOrder(store(), `PO-${i}`, 5)
    recordFiller(store(), 500, 100, 'B')
    await until('pushed with the old token after the rotation', () => running.gateway.sync!.status().ackedSeq === store().head().seq)
    t.equal(running.gateway.sync!.status().failures, 0, 'no push was refused')

    // The procedure: the new token into TAKT_SYNC_TOKEN, then a restart of the gateway.
    await running.stop()
    running = await gatewayWith(newToken)
    recordFiller(store(), 400, 100, 'C')
    await until('pushed with the new token', () => running.gateway.sync!.status().ackedSeq === store().head().seq)
    const head = store().head()
    t.same(await c.stored('gw-a'), { rows: head.seq, distinct: head.seq, maxSeq: head.seq }, 'every seq once across the rotation')
    const verify = await c.call('GET', '/api/v1/gateways/gw-a/verify')
    t.match(verify.body, { ok: true }, 'the central chain verifies')
    t.equal(await headOf(c, oldToken), 401, 'the new token was used: the old one is refused from then on')
    t.equal(await headOf(c, newToken), 200, 'the new one is accepted')
    const listed = (await c.call('GET', '/api/v1/gateways')).body.gateways[0]
    t.ok(listed.credentialsRotatedAt !== null && listed.previousCredentialsUntil === null, 'the list shows the rotation, and no old token pending')
    await running.stop()
    stopped = true
  })

  t.test('an old token is refused once its grace period is over, even if the new one was never used; the new pusher then continues', async (t) => {
    const c = await central(t, backend)
    const oldToken = await c.register('gw-a')
    const store = tempLine(t)
    recordFiller(store, 200, 50, 'A')
    const old = pusherFor(store, c.cloud.url, oldToken, { maxBackoffMs: 60_000 })
    old.start()
    await until('pushed with the old token', () => old.status().ackedSeq === 200)
    const rotated = await c.rotate('gw-a', 1)
    t.equal(rotated.status, 200)
    recordFiller(store, 100, 50, 'B')
    await until('the old token still pushes within its grace second', () => old.status().ackedSeq === 300)
    await new Promise((r) => setTimeout(r, 1300))
    recordFiller(store, 100, 50, 'C')
    await until('the old token refused after the grace period', () => old.status().state === 'refused')
    t.match(old.status(), { ackedSeq: 300, backlog: 100, lastError: /401/ })
    await old.stop()
    t.equal(await headOf(c, oldToken), 401)
    const fresh = pusherFor(store, c.cloud.url, rotated.body.token)
    t.teardown(() => fresh.stop())
    fresh.start()
    await until('the new token pushes the rest', () => fresh.status().ackedSeq === 400)
    t.same(await c.stored('gw-a'), { rows: 400, distinct: 400, maxSeq: 400 }, 'nothing lost, nothing twice')

    const none = await c.rotate('gw-a', 0)
    t.same([none.status, none.body.previousValidUntil], [200, null], 'a rotation without grace')
    t.equal(await headOf(c, rotated.body.token), 401, 'refuses the token before it at once')
    t.equal(await headOf(c, none.body.token), 200)
  })

  t.test('rotation refusals: only an admin, a known gateway, a grace of 0 to 7 days', async (t) => {
    const c = await central(t, backend)
    const token = await c.register('gw-a')
    t.same([(await c.call('POST', '/api/v1/gateways/gw-a/token', {}, token)).status], [403], 'a gateway cannot rotate its own token')
    t.equal((await c.call('POST', '/api/v1/gateways/gw-a/token', {}, null)).status, 401)
    const unknown = await c.rotate('gw-x', 60)
    t.same([unknown.status, unknown.body.code], [404, 'sync.unknown-gateway'])
    const tooLong = await c.rotate('gw-a', 8 * 86_400)
    t.same([tooLong.status, tooLong.body.errors?.[0]?.path], [400, 'graceSeconds'])
    const negative = await c.rotate('gw-a', -1)
    t.equal(negative.status, 400)
    t.equal(await headOf(c, token), 200, 'a refused rotation changed nothing')
    const byDefault = await c.rotate('gw-a')
    t.same([byDefault.status, byDefault.body.graceSeconds], [200, 86_400], 'a day of grace by default')
  })

  t.test('each push reports the gateway head: the cloud shows the backlog and its age', async (t) => {
    const c = await central(t, backend)
    const token = await c.register('gw-a')
    const store = tempLine(t)
    recordFiller(store, 300, 100, 'A')
    const events = logOf(store)
    const status = async () => (await c.call('GET', '/api/v1/gateways/status')).body
    t.match(await status(), { backlogKnown: false, gateways: [{ id: 'gw-a', backlog: null, backlogKnown: false, backlogAt: null }] }, 'not known before a push')

    const push = (from: number, to: number, head?: string) => c.call('POST', '/api/v1/gateways/gw-a/events', { epoch: 1, events: events.slice(from, to) }, token, head === undefined ? {} : { [headSeqHeader]: head })
    t.equal((await push(0, 100, '300')).status, 200)
    let s = await status()
    t.match(s, { backlogKnown: true, gateways: [{ headSeq: 100, gatewayHeadSeq: 300, backlog: 200, backlogKnown: true }] }, 'head 300 reported, 100 applied')
    t.ok(s.gateways[0].backlogAgeMs >= 0 && s.gateways[0].backlogAgeMs < 60_000 && Date.parse(s.gateways[0].backlogAt) > 0, 'with the time of the report')
    t.equal((await push(0, 100, '300')).status, 200, 'a resent batch')
    t.equal((await push(100, 250)).status, 200, 'a push without the header')
    s = await status()
    t.match(s.gateways[0], { headSeq: 250, gatewayHeadSeq: 300, backlog: 50 }, 'the last report stands, less what was applied since')
    const bad = await push(250, 300, 'lots')
    t.same([bad.status, bad.body.code, bad.body.errors?.[0]?.path], [400, 'request.invalid', `header.${headSeqHeader}`], 'a header that is no seq is refused')
    t.equal((await status()).gateways[0].headSeq, 250, 'and nothing of that batch was applied')

    // The real pusher sends its head with every push: caught up, the backlog is 0.
    recordFiller(store, 200, 100, 'B')
    const pusher = pusherFor(store, c.cloud.url, token, { maxBatch: 100 })
    t.teardown(() => pusher.stop())
    pusher.start()
    await until('caught up', () => pusher.status().ackedSeq === store.head().seq)
    s = await status()
    t.match(s.gateways[0], { headSeq: 500, gatewayHeadSeq: 500, backlog: 0, connection: 'online' })
  })
}
