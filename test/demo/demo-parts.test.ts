// The demo's parts without the whole line: its day of orders (what the cloud takes, the same every time), the order book kept across starts, its ports.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { checkDefinitions } from '../../cloud-sync/definitions.ts'
import { dayOfLots, dayOfOrders, OrderBook, ordersPerDay, type Definition } from '../../edge/demo/order-book.ts'
import { claimPorts, DemoSetupError, explainListenError, portsFrom } from '../../edge/demo/ports.ts'

const from = new Date('2026-12-02T04:00:00.000Z')

t.test('a day of orders: one an hour, the same every time, what the line intake in the cloud takes', async (t) => {
  const day = dayOfOrders(from, 0, 'L1')
  t.equal(day.length, ordersPerDay)
  t.same(dayOfOrders(from, 0, 'L1'), day, 'the same book gives the very same definitions')
  t.equal(new Set(day.map((o) => o.id)).size, ordersPerDay, 'every order its own id')
  t.ok(day.every((o) => o.quantity >= 40 && o.quantity <= 90), 'quantities about an hour of the weld cell')
  t.same(day.slice(0, 2).map((o) => o.dueAt), ['2026-12-02T05:00:00.000Z', '2026-12-02T06:00:00.000Z'], 'due hour by hour')
  const next = dayOfOrders(from, 1, 'L1')
  t.notOk(next.some((o) => day.some((d) => d.id === o.id)), 'the next day has new ids')
  const definitions = [...dayOfLots(from, 1).map((definition) => ({ kind: 'lot', definition })), ...day.map((definition) => ({ kind: 'order', definition }))]
  t.match(checkDefinitions('L1', { definitions }), { ok: true }, 'the cloud takes them for their line')
  const elsewhere = checkDefinitions('L2', { definitions })
  t.equal(elsewhere.ok, false, 'and refuses them on another line')
  t.same(dayOfLots(from, 0), [], 'the first day works from the line\'s own stock')
  t.equal(dayOfLots(from, 1).length, 2, 'later days bring steel and bolts')
})

t.test('the order book: a restart sends the same days again, the next day follows on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-demo-book-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const posted: Definition[][] = []
  const post = async (d: Definition[]) => {
    posted.push(d)
    return { changed: d.length, unchanged: 0 }
  }
  const book = new OrderBook(dir, 'L1', from, post)
  t.same(await book.send(), { orders: ordersPerDay, changed: ordersPerDay })
  const later = new OrderBook(dir, 'L1', new Date(from.getTime() + 5 * 3600_000), post)
  await later.send()
  t.same(posted[1], posted[0], 'a start hours later sends the very same definitions (kept in the data directory)')
  t.equal(await later.sendNextDay(), ordersPerDay)
  t.equal(later.days, 2)
  const third = new OrderBook(dir, 'L1', new Date(), post)
  t.equal((await third.send()).orders, 2 * ordersPerDay, 'after a restart, both days')
})

t.test('ports: each from its variable, refused in one line naming it', async (t) => {
  t.match(portsFrom({}), { http: 8080, cloud: 8090, mqtt: 1884, press: 15020, weld: 48402, test: 48401, control: 48480 }, 'the defaults')
  t.match(portsFrom({ TAKT_HTTP_PORT: '0', TAKT_CLOUD_PORT: '9000' }), { http: 0, cloud: 9000 })
  t.throws(() => portsFrom({ TAKT_DEMO_PRESS_PORT: 'x' }), new DemoSetupError("TAKT_DEMO_PRESS_PORT: 'x' is not a port number (0 to 65535)"))
  t.throws(() => portsFrom({ TAKT_DEMO_PRESS_PORT: '70000' }), /TAKT_DEMO_PRESS_PORT: '70000' is not a port number/)
  t.throws(() => portsFrom({ TAKT_HTTP_PORT: '9000', TAKT_CLOUD_PORT: '9000' }), /TAKT_HTTP_PORT and TAKT_CLOUD_PORT are both 9000/)

  const zeros = portsFrom(Object.fromEntries(['TAKT_HTTP_PORT', 'TAKT_CLOUD_PORT', 'TAKT_MQTT_PORT', 'TAKT_DEMO_PRESS_PORT', 'TAKT_DEMO_WELD_PORT', 'TAKT_DEMO_TEST_PORT', 'TAKT_DEMO_CONTROL_PORT'].map((v) => [v, '0'])))
  const claimed = await claimPorts('127.0.0.1', zeros)
  const picked = Object.values(claimed)
  t.ok(picked.every((p) => p > 0), 'each 0 becomes a free port')
  t.equal(new Set(picked).size, picked.length, 'and no two the same')

  const taken = createServer()
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => new Promise<void>((r) => taken.close(() => r())))
  const port = (taken.address() as { port: number }).port
  await t.rejects(claimPorts('127.0.0.1', { ...zeros, weld: port }), new DemoSetupError(`port ${port} (simulated weld cell (OPC UA, Sign)) is already in use; set TAKT_DEMO_WELD_PORT to a free port (0 picks one)`))
  const listenError = Object.assign(new Error(`listen EADDRINUSE: address already in use 127.0.0.1:${port}`), { code: 'EADDRINUSE' })
  t.match(explainListenError(listenError, { ...claimed, mqtt: port })?.message, /set TAKT_MQTT_PORT to a free port/, 'a port taken after the check is named the same way')
  t.equal(explainListenError(new Error('something else'), claimed), null, 'other errors are left as they are')
})
