// The historian's signal list for the trend picker: all signals or one work center's (bound devices and signals named after it), authenticated, bad input refused with the field named.
import t from 'tap'
import { hmiApp } from './helpers/hmi-gateway.ts'

const app = await hmiApp()
t.teardown(app.close)
const ana = (await app.call('POST', '/api/v1/auth/login', { username: 'ana', password: 'takt-demo-password' }, '')).body.token as string
const now = Date.now()
app.gateway.historian.record([
  { signal: 'WC-PRESS/temperature', value: 61, quality: 'good', timestamp: now - 1000 },
  { signal: 'press1/force', value: 12.5, quality: 'good', timestamp: now - 1000 },
  { signal: 'WC-WELD/current', value: 180, quality: 'good', timestamp: now - 1000 },
  { signal: 'spare7/value', value: 1, quality: 'good', timestamp: now - 1000 },
])
// A device of the line's configuration, bound to the press, as the running connectivity reports it.
app.gateway.connectivity.report(() => ({ devices: [{ device: 'press1', connected: true, cycles: 1, late: 0, lastError: null, protocol: 'modbus', workCenterId: 'WC-PRESS' }], bridge: null, sparkplug: null }))

t.test("one work center's signals: its bound devices' and those named after it, sorted", async (t) => {
  const r = await app.call('GET', '/api/v1/historian/signals?workCenterId=WC-PRESS', undefined, ana)
  t.equal(r.status, 200)
  t.same(r.body, {
    workCenterId: 'WC-PRESS',
    items: [
      { signal: 'WC-PRESS/temperature', device: 'WC-PRESS', workCenterId: 'WC-PRESS' },
      { signal: 'press1/force', device: 'press1', workCenterId: 'WC-PRESS' },
    ],
  })
  const weld = await app.call('GET', '/api/v1/historian/signals?workCenterId=WC-WELD', undefined, ana)
  t.same(weld.body.items.map((s: { signal: string }) => s.signal), ['WC-WELD/current'])
  const test = await app.call('GET', '/api/v1/historian/signals?workCenterId=WC-TEST', undefined, ana)
  t.same(test.body.items, [], 'a work center with no signal yet has an empty list')
})

t.test('without a work center: every signal, an unbound device with no work center', async (t) => {
  const r = await app.call('GET', '/api/v1/historian/signals', undefined, ana)
  t.equal(r.status, 200)
  t.same(r.body.items.map((s: { signal: string; workCenterId: string | null }) => [s.signal, s.workCenterId]), [
    ['WC-PRESS/temperature', 'WC-PRESS'],
    ['WC-WELD/current', 'WC-WELD'],
    ['press1/force', 'WC-PRESS'],
    ['spare7/value', null],
  ])
})

t.test('refused: no token, an unknown work center, an unknown parameter', async (t) => {
  t.equal((await app.call('GET', '/api/v1/historian/signals', undefined, '')).status, 401)
  const unknown = await app.call('GET', '/api/v1/historian/signals?workCenterId=WC-NOPE', undefined, ana)
  t.equal(unknown.status, 404)
  t.match(unknown.body.detail, /query\.workCenterId: there is no work center 'WC-NOPE'/)
  const extra = await app.call('GET', '/api/v1/historian/signals?line=L1', undefined, ana)
  t.equal(extra.status, 422)
  t.match(extra.body.detail, /query/)
})
