// Downstream sync against a real cloud-sync on a real socket: definitions posted to the cloud reach the right gateway only, survive restarts and a must-refetch, and bad input changes nothing. Run once per central database.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import type { Test } from 'tap'
import { ensureAdminToken } from '../../../cloud-sync/credentials.ts'
import { startCloud, type CloudConfig, type RunningCloud } from '../../../cloud-sync/main.ts'
import type { Backend, TestDatabase } from '../../../cloud-sync/test/backends.ts'
import { schedule } from '../../../cloud-sync/test/b2mml-suite.ts'
import * as line from '../../../test/helpers/line.ts'
import { loadConfig } from '../../config.ts'
import { startGateway, type RunningGateway } from '../../main.ts'
import { until } from '../../../test/helpers/until.ts'

const adminToken = 'cloud-test-admin-token-0123456789'
const gatewayAdmin = 'gateway-admin-token-0123456789abcdef'

interface Central {
  test: TestDatabase
  cloud: RunningCloud
  call(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any; headers: Headers }>
  register(id: string, lineId: string): Promise<string>
  define(lineId: string, definitions: Array<{ kind: string; definition: unknown }>): Promise<{ status: number; body: any }>
}

async function central(t: Test, backend: Backend): Promise<Central> {
  const test = await backend.open()
  await ensureAdminToken(test.db.orm, adminToken)
  const config: CloudConfig = { dataDir: test.dataDir, host: '127.0.0.1', port: 0, databaseUrl: null, adminToken: null, logLevel: 'silent' }
  const cloud = await startCloud(config, { db: test.db, logger: pino({ level: 'silent' }) })
  t.teardown(async () => {
    await cloud.stop().catch(() => {})
    await test.dispose()
  })
  const call: Central['call'] = async (method, path, body, token = adminToken) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(cloud.url + path, { method, headers, body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body) })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : {}, headers: res.headers }
  }
  return {
    test,
    cloud,
    call,
    async register(id, lineId) {
      const r = await call('POST', '/api/v1/gateways', { id, lineId })
      if (r.status !== 201) throw new Error(`register ${id}: ${r.status} ${JSON.stringify(r.body)}`)
      return r.body.token as string
    },
    define: (lineId, definitions) => call('POST', `/api/v1/lines/${lineId}/definitions`, { definitions }),
  }
}

/** The test line's master data, as ERP sends it to the cloud for line `lineId`. */
function masterData(lineId = 'L1'): Array<{ kind: string; definition: unknown }> {
  const equipment = line.equipment.map((e) => (e.id === 'L1' ? { ...e, id: lineId } : e.parentId === 'L1' ? { ...e, parentId: lineId } : e))
  return [
    ...equipment.map((definition) => ({ kind: 'equipment', definition })),
    ...line.materials.map((definition) => ({ kind: 'material', definition })),
    { kind: 'bom', definition: line.bom },
    { kind: 'routing', definition: line.routing },
    ...line.people.map((definition) => ({ kind: 'person', definition })),
    { kind: 'lot', definition: line.lot },
  ]
}

async function gatewayFor(t: Test, cloudUrl: string, token: string, lineId: string, dataDir = mkdtempSync(join(tmpdir(), 'takt-downstream-'))): Promise<RunningGateway> {
  mkdirSync(dataDir, { recursive: true })
  const file = join(dataDir, 'takt.yaml')
  writeFileSync(file, `gatewayId: gw-${lineId}\nsync:\n  url: ${cloudUrl}\n  lineId: ${lineId}\n  minBackoffMs: 20\n  maxBackoffMs: 200\n`)
  const config = loadConfig({ file, env: { TAKT_DATA_DIR: dataDir, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_ADMIN_TOKEN: gatewayAdmin, TAKT_SYNC_TOKEN: token, TAKT_LOG_LEVEL: 'silent' } })
  const running = await startGateway(config)
  let stopped = false
  t.teardown(async () => {
    if (!stopped) await running.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })
  const stop = running.stop
  running.stop = async () => {
    stopped = true
    await stop()
  }
  return running
}

const orderOf = (g: RunningGateway, id: string) => g.gateway.store.view.order(id)

export function downstreamSuite(t: Test, backend: Backend): void {
  t.test('an order posted to the cloud reaches its line and no other, with the master data it needs', async (t) => {
    const c = await central(t, backend)
    const tokenA = await c.register('gw-L1', 'L1')
    const tokenB = await c.register('gw-L2', 'L2')
    t.equal((await c.define('L1', [...masterData(), { kind: 'order', definition: line.order('PO-1', 5) }])).status, 200)
    t.equal((await c.define('L2', [...masterData('L2'), { kind: 'order', definition: line.order('PO-9', 3, { lineId: 'L2' }) }])).status, 200)
    const a = await gatewayFor(t, c.cloud.url, tokenA, 'L1')
    const b = await gatewayFor(t, c.cloud.url, tokenB, 'L2')
    await until('line 1 has its order', () => orderOf(a, 'PO-1') !== undefined)
    await until('line 2 has its order', () => orderOf(b, 'PO-9') !== undefined)
    t.equal(orderOf(a, 'PO-1')?.quantity, 5, 'the order as ERP sent it')
    t.equal(orderOf(a, 'PO-9'), undefined, "line 1 never sees line 2's order")
    t.equal(orderOf(b, 'PO-1'), undefined, "line 2 never sees line 1's order")
    t.equal(a.gateway.store.view.routing('RT-PASTE', 'A')?.operations.length, 1, 'the routing came with it')
    const recorded = [...a.gateway.store.db.sqlite.prepare("SELECT actor FROM events WHERE subject = 'order/PO-1'").all()] as Array<{ actor: string }>
    t.same([...new Set(recorded.map((r) => r.actor))], ['sync:cloud'], 'the order is recorded as coming from the cloud')

    // Live: a new order while the gateway follows; then the same order sent again changes nothing.
    const head = a.gateway.store.head().seq
    t.equal((await c.define('L1', [{ kind: 'order', definition: line.order('PO-2', 7) }])).body.changed, 1)
    await until('the live order arrived', () => orderOf(a, 'PO-2') !== undefined && a.gateway.downstream!.status().batches >= 2)
    t.equal(a.gateway.store.head().seq, head + 1, 'one event for one new order')
    const again = await c.define('L1', [{ kind: 'order', definition: line.order('PO-2', 7) }])
    t.same([again.body.changed, again.body.unchanged], [0, 1], 'the cloud sees the repeat as unchanged')
    // A quantity change is an update of the same row; the line applies it by its own rule.
    await c.define('L1', [{ kind: 'order', definition: line.order('PO-2', 9) }])
    await until('the quantity change arrived', () => orderOf(a, 'PO-2')?.quantity === 9)
    const status = a.gateway.downstream!.status()
    t.equal(status.state, 'up-to-date')
    t.equal(status.refused, 0)
  })

  t.test('a B2MML schedule posted to the cloud becomes an order on its line gateway and on no other', async (t) => {
    const c = await central(t, backend)
    const tokenA = await c.register('gw-L1', 'L1')
    const tokenB = await c.register('gw-L2', 'L2')
    t.equal((await c.define('L1', masterData())).status, 200)
    t.equal((await c.define('L2', masterData('L2'))).status, 200)
    const a = await gatewayFor(t, c.cloud.url, tokenA, 'L1')
    const b = await gatewayFor(t, c.cloud.url, tokenB, 'L2')
    const b2mml = (lineId: string, body: string) => fetch(`${c.cloud.url}/api/v1/lines/${lineId}/b2mml`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/xml' }, body })
    t.equal((await b2mml('L1', schedule('PO-B2', 'L1', 40))).status, 200)
    t.equal((await b2mml('L2', schedule('PO-B9', 'L2', 8))).status, 200)
    await until('line 1 has the B2MML order', () => orderOf(a, 'PO-B2') !== undefined)
    await until('line 2 has its B2MML order', () => orderOf(b, 'PO-B9') !== undefined)
    const order = orderOf(a, 'PO-B2')!
    t.same([order.quantity, order.lineId, order.routingId, order.priority], [40, 'L1', 'B2MML:PASTE', 20], 'the order as the schedule asked for it')
    t.equal(a.gateway.store.view.routing(order.routingId, order.routingVersion)?.operations[0]?.workCenterId, 'WC-MIX', 'with its derived routing')
    t.equal(orderOf(b, 'PO-B2'), undefined, "line 2 never sees line 1's order")
    t.equal(orderOf(a, 'PO-B9'), undefined, "line 1 never sees line 2's order")
    const refused = await b2mml('L1', schedule('PO-B3', 'L2', 5))
    t.equal(refused.status, 422, "a request for line 2 is refused on line 1's intake")
    t.equal(a.gateway.downstream!.status().refused, 0, 'the line refused nothing')
  })

  t.test('the gateway resumes from its stored offset after a restart, and a must-refetch resyncs without losing or doubling anything', async (t) => {
    const c = await central(t, backend)
    const token = await c.register('gw-L1', 'L1')
    await c.define('L1', [...masterData(), { kind: 'order', definition: line.order('PO-1', 5) }])
    const dataDir = mkdtempSync(join(tmpdir(), 'takt-downstream-restart-'))
    let g = await gatewayFor(t, c.cloud.url, token, 'L1', join(dataDir, 'gw'))
    await until('first sync', () => orderOf(g, 'PO-1') !== undefined)
    const saved = g.gateway.store.db.sqlite.prepare('SELECT handle, "offset" FROM shape_state').get() as { handle: string; offset: string }
    t.match(saved.offset, /^\d+_0$/, 'the offset is stored with the batch')
    await g.stop()
    // While the gateway is down ERP sends another order.
    await c.define('L1', [{ kind: 'order', definition: line.order('PO-3', 2) }])
    g = await gatewayFor(t, c.cloud.url, token, 'L1', join(dataDir, 'gw'))
    await until('the order sent while it was down', () => orderOf(g, 'PO-3') !== undefined)
    t.equal(g.gateway.downstream!.status().refetches, 0, 'it continued from its offset instead of reading the snapshot again')

    const events = () => (g.gateway.store.db.sqlite.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n
    const before = events()
    t.equal((await c.call('POST', '/api/v1/shapes/reset')).status, 200)
    await c.define('L1', [{ kind: 'order', definition: line.order('PO-4', 1) }])
    await until('refetched and the new order applied', () => orderOf(g, 'PO-4') !== undefined && g.gateway.downstream!.status().refetches >= 1)
    t.equal(events(), before + 1, 'the snapshot read again added only the one new order: nothing doubled')
    t.ok(orderOf(g, 'PO-1') && orderOf(g, 'PO-3'), 'and nothing was lost')
    t.not((g.gateway.store.db.sqlite.prepare('SELECT handle FROM shape_state').get() as { handle: string }).handle, saved.handle, 'the new handle is stored')
  })

  t.test('a definition the line refuses is reported and the rest of the batch applies', async (t) => {
    const c = await central(t, backend)
    const token = await c.register('gw-L1', 'L1')
    await c.define('L1', [...masterData(), { kind: 'order', definition: line.order('PO-1', 5) }])
    const g = await gatewayFor(t, c.cloud.url, token, 'L1')
    await until('first sync', () => orderOf(g, 'PO-1') !== undefined)
    // Start the order on the line, then ERP moves it to another routing version: refused by rule.
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${g.port}${path}`, { method, headers: { authorization: `Bearer ${gatewayAdmin}`, 'content-type': 'application/json' }, body: body === undefined ? null : JSON.stringify(body) })
    await call('PUT', '/api/v1/people/olga/password', { password: line.password })
    t.equal((await call('POST', '/api/v1/orders/PO-1/release')).status, 200)
    t.equal((await call('POST', '/api/v1/orders/PO-1/dispatch')).status, 200)
    const login = (await (await fetch(`http://127.0.0.1:${g.port}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'olga', password: line.password }) })).json()) as { token: string }
    const start = await fetch(`http://127.0.0.1:${g.port}/api/v1/orders/PO-1/operations/10/start`, { method: 'POST', headers: { authorization: `Bearer ${login.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ quantity: 1 }) })
    t.equal(start.status, 201, 'the operation started')
    await c.define('L1', [
      { kind: 'routing', definition: line.routingB },
      { kind: 'order', definition: line.order('PO-1', 5, { routingVersion: 'B' }) },
      { kind: 'order', definition: line.order('PO-5', 1) },
    ])
    await until('the batch was applied', () => g.gateway.downstream!.status().batches >= 2)
    t.ok(orderOf(g, 'PO-5'), 'the new order of the same batch applied')
    t.equal(orderOf(g, 'PO-1')?.routingVersion, 'A', 'the started order keeps its routing')
    const s = g.gateway.downstream!.status()
    t.equal(s.refused, 1, `one refusal (${JSON.stringify(s)})`)
    t.equal(s.lastRefusal?.key, 'PO-1')
    t.ok(g.gateway.store.view.routing('RT-PASTE', 'B'), 'the new routing version itself applied')
  })

  t.test('the cloud refuses bad definitions whole and a gateway may follow only its own line', async (t) => {
    const c = await central(t, backend)
    const token = await c.register('gw-L1', 'L1')
    const bad = await c.define('L1', [{ kind: 'order', definition: line.order('PO-1', 5) }, { kind: 'order', definition: { ...line.order('PO-2', 1), quantity: 'ten' } }])
    t.equal(bad.status, 422)
    t.match(bad.body.errors, [{ path: 'definitions.1.definition.quantity' }], 'the error names the entry and field')
    t.equal((await c.call('GET', '/api/v1/lines/L1/definitions')).body.definitions.length, 0, 'nothing of the batch was stored')
    const wrongLine = await c.define('L1', [{ kind: 'order', definition: line.order('PO-1', 5, { lineId: 'L2' }) }])
    t.equal(wrongLine.status, 422, "an order for another line is refused on this line's intake")
    t.equal((await c.define('L1', [{ kind: 'pallet', definition: {} }])).status, 422, 'an unknown kind is refused')
    t.equal((await c.call('POST', '/api/v1/lines/L1/definitions', '{"definitions": [')).status, 400, 'malformed JSON')
    t.equal((await c.call('POST', '/api/v1/lines/L1/definitions', { definitions: [] }, token)).status, 403, 'a gateway token cannot send definitions')

    const shape = (where: string, tok: string | null, extra = '') => fetch(`${c.cloud.url}/v1/shape?table=line_definitions&offset=-1&where=${encodeURIComponent(where)}${extra}`, { headers: tok ? { authorization: `Bearer ${tok}` } : {} })
    t.equal((await shape("line_id = 'L1'", null)).status, 401, 'anonymous')
    t.equal((await shape("line_id = 'L2'", token)).status, 403, "another line's shape")
    const own = await shape("line_id = 'L1'", token)
    t.equal(own.status, 200, 'its own line')
    for (const h of ['electric-handle', 'electric-offset', 'electric-schema', 'electric-up-to-date']) t.ok(own.headers.has(h), `${h} header`)
    t.same(await own.json(), [{ headers: { control: 'up-to-date' } }], 'an empty shape is just up-to-date')
    t.equal((await shape("line_id = 'L1' OR true", token)).status, 400, 'only the line filter is served')
    t.equal((await shape('line_id = $1', token, '&params%5B1%5D=L1')).status, 200, 'a positional parameter works too')
    const stale = await fetch(`${c.cloud.url}/v1/shape?table=line_definitions&offset=3_0&handle=old-handle&where=${encodeURIComponent("line_id = 'L1'")}`, { headers: { authorization: `Bearer ${token}` } })
    t.equal(stale.status, 409, 'an unknown handle must refetch')
    t.same(await stale.json(), [{ headers: { control: 'must-refetch' } }])
    t.ok(stale.headers.get('electric-handle'), 'with the handle to use')
  })
}
