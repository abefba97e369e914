// The push endpoint's contract, written once and run against both central databases: chain head, duplicates, gaps, tampering, credentials, the orders projection.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { and, eq } from 'drizzle-orm'
import { eventHash, type StoredEvent } from '../../edge/store/event-log.ts'
import { ensureAdminToken, hashToken } from '../credentials.ts'
import { buildCloudApi } from '../app.ts'
import type { Backend, TestDatabase } from './backends.ts'
import { logOf, openLine, recordFiller, recordOrder } from './line.ts'
import * as schema from '../schema.ts'
import type { LineStore } from '../../edge/store/line-store.ts'

const adminToken = 'cloud-test-admin-token-0123456789'

interface Fixture {
  test: TestDatabase
  app: ReturnType<typeof buildCloudApi>
  call(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: Record<string, any> }>
  register(id: string, lineId?: string): Promise<string>
  push(gatewayId: string, token: string, events: StoredEvent[], epoch?: number): Promise<{ status: number; body: Record<string, any> }>
  line: LineStore
}

async function fixture(t: { teardown(fn: () => unknown): void }, open: () => Promise<TestDatabase>): Promise<Fixture> {
  const test = await open()
  await ensureAdminToken(test.db.orm, adminToken)
  const app = buildCloudApi(test.db, { version: 'test' })
  const lineDir = mkdtempSync(join(tmpdir(), 'takt-cloud-line-'))
  const line = openLine(lineDir)
  t.teardown(async () => {
    line.close()
    rmSync(lineDir, { recursive: true, force: true })
    await test.dispose()
  })
  const call: Fixture['call'] = async (method, path, body, token = adminToken) => {
    const headers: Record<string, string> = {}
    if (token) headers.authorization = `Bearer ${token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await app.request(path, { method, headers, body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body) })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : {} }
  }
  return {
    test,
    app,
    call,
    line,
    async register(id, lineId = 'L1') {
      const r = await call('POST', '/api/v1/gateways', { id, lineId })
      if (r.status !== 201) throw new Error(`register ${id}: ${r.status} ${JSON.stringify(r.body)}`)
      return r.body.token as string
    },
    push: (gatewayId, token, events, epoch = 1) => call('POST', `/api/v1/gateways/${gatewayId}/events`, { epoch, events }, token),
  }
}

async function countEvents(f: Fixture, gatewayId: string): Promise<number> {
  const rows = await f.test.db.orm.select({ seq: schema.events.seq }).from(schema.events).where(eq(schema.events.gatewayId, gatewayId))
  return rows.length
}

/** The push endpoint's contract; each backend's test file runs it once. */
export function ingestSuite(t: Test, backend: Backend): void {
  {
    t.test('a pushed batch is stored with the gateway chain head, and the orders projected', async (t) => {
      const f = await fixture(t, backend.open)
      const token = await f.register('gw-a')
      recordOrder(f.line, 'PO-1', 10)
      recordOrder(f.line, 'PO-2', 5, { done: true })
      recordFiller(f.line, 250)
      const log = logOf(f.line)
      const first = await f.push('gw-a', token, log.slice(0, 100))
      t.equal(first.status, 200, JSON.stringify(first.body))
      t.same(first.body, { applied: 100, duplicates: 0, head: { epoch: 1, seq: 100, hash: log[99]!.hash } })
      const rest = await f.push('gw-a', token, log.slice(100))
      t.equal(rest.status, 200)
      t.equal(rest.body.head.seq, f.line.head().seq)
      t.equal(rest.body.head.hash, f.line.head().hash, 'the central chain head is the gateway head')
      t.equal(await countEvents(f, 'gw-a'), log.length)
      const head = await f.call('GET', '/api/v1/gateways/gw-a/head', undefined, token)
      t.same(head.body, { gatewayId: 'gw-a', epoch: 1, seq: log.length, hash: f.line.head().hash })
      const orders = await f.call('GET', '/api/v1/orders?gatewayId=gw-a')
      t.same(
        orders.body.orders.map((o: Record<string, unknown>) => [o.orderId, o.lineId, o.state, o.quantity, o.good]),
        [
          ['PO-1', 'L1', 'dispatched', 10, 0],
          ['PO-2', 'L1', 'completed', 5, 5],
        ],
      )
      const wip = await f.call('GET', '/api/v1/wip')
      t.same(wip.body.lines, [{ gatewayId: 'gw-a', lineId: 'L1', openOrders: 1, openQuantity: 10, byState: { completed: 1, dispatched: 1 } }])
    })

    t.test('a duplicate batch is acknowledged and ignored; a resent seq with other contents is a conflict', async (t) => {
      const f = await fixture(t, backend.open)
      const token = await f.register('gw-a')
      recordOrder(f.line, 'PO-1', 10)
      recordFiller(f.line, 50)
      const log = logOf(f.line)
      t.equal((await f.push('gw-a', token, log)).status, 200)
      const again = await f.push('gw-a', token, log)
      t.equal(again.status, 200)
      t.same(again.body, { applied: 0, duplicates: log.length, head: { epoch: 1, seq: log.length, hash: log.at(-1)!.hash } })
      // Overlapping: the old tail plus new events applies only the new ones.
      recordFiller(f.line, 10, 10, 'N')
      const more = logOf(f.line)
      const overlap = await f.push('gw-a', token, more.slice(log.length - 5))
      t.same([overlap.status, overlap.body.applied, overlap.body.duplicates], [200, 10, 5])
      t.equal(await countEvents(f, 'gw-a'), more.length, 'nothing stored twice')
      // An old seq re-sent with different (self-consistent) contents is not a duplicate.
      const forged = { ...more[2]!, actor: 'someone-else' }
      forged.hash = eventHash(forged)
      const conflict = await f.push('gw-a', token, [forged])
      t.equal(conflict.status, 409)
      t.equal(conflict.body.code, 'sync.conflict')
      t.equal(conflict.body.seq, 3)
    })

    t.test('a gap is answered with the expected seq and changes nothing', async (t) => {
      const f = await fixture(t, backend.open)
      const token = await f.register('gw-a')
      recordFiller(f.line, 40)
      const log = logOf(f.line)
      t.equal((await f.push('gw-a', token, log.slice(0, 10))).status, 200)
      const gap = await f.push('gw-a', token, log.slice(20))
      t.equal(gap.status, 409)
      t.equal(gap.body.code, 'sync.gap')
      t.equal(gap.body.expectedSeq, 11)
      t.same(gap.body.head, { epoch: 1, seq: 10, hash: log[9]!.hash })
      t.equal(await countEvents(f, 'gw-a'), 10)
      const resumed = await f.push('gw-a', token, log.slice(10))
      t.equal(resumed.status, 200, 'from the expected seq the push goes on')
      t.equal(resumed.body.head.seq, 40)
    })

    t.test('a pipelined push that overtakes the one sent before it waits for it: both apply, in seq order', async (t) => {
      const f = await fixture(t, backend.open)
      const token = await f.register('gw-a')
      recordFiller(f.line, 40)
      const log = logOf(f.line)
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
      // The first push arrives first, but its body is held back: the second is read and checked before it.
      let release!: () => void
      const held = new Promise<void>((resolve) => (release = resolve))
      const bytes = new TextEncoder().encode(JSON.stringify({ epoch: 1, events: log.slice(0, 20) }))
      const slowBody = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(bytes.slice(0, 10))
          await held
          controller.enqueue(bytes.slice(10))
          controller.close()
        },
      })
      const path = '/api/v1/gateways/gw-a/events'
      const first = f.app.request(path, { method: 'POST', headers, body: slowBody, duplex: 'half' } as RequestInit)
      await new Promise((r) => setTimeout(r, 50))
      let secondAnswered = false
      const second = Promise.resolve(f.app.request(path, { method: 'POST', headers, body: JSON.stringify({ epoch: 1, events: log.slice(20) }) })).then((res) => {
        secondAnswered = true
        return res
      })
      await new Promise((r) => setTimeout(r, 300))
      t.equal(secondAnswered, false, 'the later push is not answered with a gap while the earlier one is still at work')
      t.equal(await countEvents(f, 'gw-a'), 0)
      release()
      const [a, b] = await Promise.all([first, second])
      t.same([a.status, b.status], [200, 200])
      t.same(await b.json(), { applied: 20, duplicates: 0, head: { epoch: 1, seq: 40, hash: log[39]!.hash } })
      t.equal(await countEvents(f, 'gw-a'), 40)
      // With no other push of the gateway at work, a gap is answered at once.
      recordFiller(f.line, 10, 10, 'N')
      const started = Date.now()
      const gap = await f.push('gw-a', token, logOf(f.line, 45))
      t.same([gap.status, gap.body.code, gap.body.expectedSeq], [409, 'sync.gap', 41])
      t.ok(Date.now() - started < 5000)
    })

    t.test('a tampered event is refused with its seq and nothing of the batch is stored', async (t) => {
      const f = await fixture(t, backend.open)
      const token = await f.register('gw-a')
      recordOrder(f.line, 'PO-1', 10)
      recordFiller(f.line, 30)
      const log = logOf(f.line)
      // Altered in transit, the hash left as it was: the recomputed hash gives it away.
      const altered = log.map((e) => ({ ...e }))
      altered[1] = { ...altered[1]!, data: altered[1]!.data.replace('"serials":[]', '"serials":["X"]') }
      t.not(altered[1]!.data, log[1]!.data)
      const refused = await f.push('gw-a', token, altered)
      t.equal(refused.status, 422)
      t.equal(refused.body.code, 'sync.chain-broken')
      t.equal(refused.body.seq, 2)
      t.match(refused.body.detail, /seq 2: the hash does not match/)
      // Altered with its own hash recomputed: the next link no longer continues from it.
      const rehashed = log.map((e) => ({ ...e }))
      rehashed[4] = { ...rehashed[4]!, actor: 'mallory' }
      rehashed[4]!.hash = eventHash(rehashed[4]!)
      const broken = await f.push('gw-a', token, rehashed)
      t.equal(broken.status, 422)
      t.equal(broken.body.seq, 6)
      t.match(broken.body.detail, /prev_hash does not continue/)
      // The first event must continue the stored head.
      t.equal((await f.push('gw-a', token, log.slice(0, 3))).status, 200)
      const wrongLink = { ...log[3]!, prevHash: log[1]!.hash }
      wrongLink.hash = eventHash(wrongLink)
      const unlinked = await f.push('gw-a', token, [wrongLink])
      t.same([unlinked.status, unlinked.body.seq], [422, 4])
      t.equal(await countEvents(f, 'gw-a'), 3, 'only the good batch is stored')
      const orders = await f.call('GET', '/api/v1/orders')
      t.equal(orders.body.orders.length, 1)
      const good = await f.push('gw-a', token, log.slice(3))
      t.equal(good.status, 200)
      t.equal(good.body.head.hash, f.line.head().hash)
    })

    t.test('the stored chain is verified at rest: an event altered in the database is named by its seq', async (t) => {
      const f = await fixture(t, backend.open)
      const token = await f.register('gw-a')
      recordOrder(f.line, 'PO-1', 10)
      recordFiller(f.line, 40)
      const log = logOf(f.line)
      t.equal((await f.push('gw-a', token, log)).status, 200)
      const good = await f.call('GET', '/api/v1/gateways/gw-a/verify')
      t.same(good.body, { gatewayId: 'gw-a', ok: true, epoch: 1, count: log.length, head: f.line.head().hash })
      t.equal((await f.call('GET', '/api/v1/gateways/gw-a/verify', undefined, token)).status, 403, 'verifying is for admins')
      await f.test.db.orm.update(schema.events).set({ actor: 'mallory' }).where(and(eq(schema.events.gatewayId, 'gw-a'), eq(schema.events.seq, 7)))
      const bad = await f.call('GET', '/api/v1/gateways/gw-a/verify')
      t.equal(bad.status, 200)
      t.same(bad.body.broken, { seq: 7, reason: 'the hash does not match the stored event (it was altered)' })
      t.equal(bad.body.ok, false)
    })

    t.test('pushes need the gateway own token: none or unknown is 401, another gateway or an admin is 403', async (t) => {
      const f = await fixture(t, backend.open)
      const tokenA = await f.register('gw-a')
      const tokenB = await f.register('gw-b', 'L2')
      recordFiller(f.line, 5)
      const log = logOf(f.line)
      const none = await f.push('gw-a', null as unknown as string, log)
      t.same([none.status, none.body.code], [401, 'auth.required'])
      const unknown = await f.push('gw-a', 'takt_gw_not-a-real-token', log)
      t.same([unknown.status, unknown.body.code], [401, 'auth.invalid-token'])
      const other = await f.push('gw-a', tokenB, log)
      t.same([other.status, other.body.code], [403, 'auth.wrong-gateway'])
      const admin = await f.push('gw-a', adminToken, log)
      t.same([admin.status, admin.body.code], [403, 'auth.forbidden'])
      t.equal((await f.call('GET', '/api/v1/gateways/gw-a/head', undefined, tokenB)).status, 403)
      t.equal((await f.call('GET', '/api/v1/orders', undefined, tokenA)).status, 403, 'a gateway token cannot read the central views')
      t.equal((await f.call('GET', '/api/v1/wip', undefined, null)).status, 401)
      t.equal((await f.call('POST', '/api/v1/gateways', { id: 'gw-c' }, tokenA)).status, 403, 'a gateway cannot register gateways')
      t.equal(await countEvents(f, 'gw-a'), 0, 'no refused push stored anything')
      t.equal((await f.push('gw-a', tokenA, log)).status, 200, 'the right token pushes')
      t.equal((await f.call('GET', '/health', undefined, null)).status, 200, 'health needs no token')
    })

    t.test('registration: the token is returned once and kept only as a hash; bad or repeated ids are refused', async (t) => {
      const f = await fixture(t, backend.open)
      const token = await f.register('gw-a')
      t.match(token, /^takt_gw_[A-Za-z0-9_-]{43}$/)
      const [row] = await f.test.db.orm.select().from(schema.gateways)
      t.equal(row!.tokenHash, hashToken(token))
      t.notMatch(JSON.stringify(row), token)
      const list = await f.call('GET', '/api/v1/gateways')
      t.notMatch(JSON.stringify(list.body), /takt_gw_|token/i, 'the list shows no token or hash')
      const again = await f.call('POST', '/api/v1/gateways', { id: 'gw-a' })
      t.same([again.status, again.body.code], [409, 'gateway.exists'])
      const bad = await f.call('POST', '/api/v1/gateways', { id: 'has space' })
      t.equal(bad.status, 400)
      t.equal(bad.body.errors[0].path, 'id')
    })

    t.test('bad batches are refused naming what is wrong', async (t) => {
      const f = await fixture(t, backend.open)
      const token = await f.register('gw-a')
      recordFiller(f.line, 5)
      const log = logOf(f.line)
      const unordered = await f.push('gw-a', token, [log[0]!, log[2]!])
      t.same([unordered.status, unordered.body.code, unordered.body.seq], [400, 'sync.not-consecutive', 3])
      const missing = await f.call('POST', '/api/v1/gateways/gw-a/events', { epoch: 1, events: [{ ...log[0]!, hash: 'nope' }] }, token)
      t.equal(missing.status, 400)
      t.equal(missing.body.errors[0].path, 'events.0.hash')
      const notJson = await f.call('POST', '/api/v1/gateways/gw-a/events', '{"epoch":', token)
      t.same([notJson.status, notJson.body.code], [400, 'request.invalid-json'])
      const stale = await f.push('gw-a', token, log, 1)
      t.equal(stale.status, 200)
      recordFiller(f.line, 1, 1, 'Z')
      const newEpochMidway = await f.push('gw-a', token, logOf(f.line, 5), 2)
      t.same([newEpochMidway.status, newEpochMidway.body.code], [409, 'sync.epoch'])
      t.equal(await countEvents(f, 'gw-a'), 5)
    })
  }
}
