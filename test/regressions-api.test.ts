// Regressions found while writing the API tests: concurrent idempotent retries, keys per principal, 413 and
// connection reuse, missing content type, a deeply frozen configuration, and id order within a millisecond.
import { connect } from 'node:net'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadConfig } from '../edge/config.ts'
import { defineMaterial } from '../edge/core/master-data.ts'
import { readEvents } from '../edge/store/event-log.ts'
import { systemClock, uuidv7Ids } from '../edge/store/ids.ts'
import { LineStore } from '../edge/store/line-store.ts'
import { rawRequest } from './helpers/client.ts'
import { adminToken, removeDir } from './helpers/gateway.ts'
import { dispatchedOrder, login, lineGateway } from './helpers/line.ts'

const gw = await lineGateway(t)
const call = gw.call
await dispatchedOrder(call, 'PO-B', 1000)
const started = async () => (await call('GET', '/api/v1/orders/PO-B')).body.operations[0].qtyStarted as number
const start = (token?: string, key = 'k') => call('POST', '/api/v1/orders/PO-B/operations/10/start', { quantity: 1, operatorId: 'olga' }, token, { 'idempotency-key': key })

// edge/api/idempotency.ts looks the key up, runs the command, and only then stores the answer: a
// retry that arrives while the first attempt is still running misses the lookup and runs again.
t.test('concurrent requests with one Idempotency-Key execute once', async (t) => {
  // Open the client's pooled connections first, so that the burst below arrives at once.
  await Promise.all(Array.from({ length: 8 }, () => call('GET', '/api/v1/orders/PO-B')))
  for (const round of [1, 2, 3]) {
    const before = await started()
    const replies = await Promise.all(Array.from({ length: 8 }, () => start(undefined, `concurrent-${round}`)))
    const runs = new Set(replies.map((r) => r.body.runId))
    t.equal(runs.size, 1, `round ${round}: one run for one key, got ${runs.size}`)
    t.equal(await started(), before + 1, `round ${round}: one start recorded`)
  }
})

// The table idempotency_keys has PRIMARY KEY (key), but the middleware looks keys up by (key,
// principal) and saves with INSERT OR IGNORE: when a second principal uses a key value another
// principal already used, its answer is never saved, so its retries execute again.
t.test('a second principal using the same key value is protected against retries', async (t) => {
  t.equal((await start(adminToken, 'shared-key')).status, 201)
  const leo = (await login(call, 'leo')).body.token as string
  const before = await started()
  const first = await start(leo, 'shared-key')
  const retry = await start(leo, 'shared-key')
  t.equal(first.status, 201)
  t.equal(retry.headers.get('idempotent-replayed'), 'true', 'the retry is a replay')
  t.equal(retry.body.runId, first.body.runId, 'of the same run')
  t.equal(await started(), before + 1, 'one start recorded, not two')
})

// The 413 answer says "Connection: keep-alive", but the server closes the socket about 500 ms
// later (the @hono/node-server drain timeout): the next request a pooling client sends on it fails
// with "other side closed" / ECONNRESET. It should send "Connection: close", or keep the socket usable.
t.test('after a 413 the connection is either announced closed or still usable', async (t) => {
  const body = ' '.repeat(gw.running.config.http.maxBodyBytes + 1)
  const socket = connect(gw.running.port, '127.0.0.1')
  t.teardown(() => socket.destroy())
  let received = ''
  socket.setEncoding('utf8').on('data', (s: string) => (received += s))
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  const head = `Host: x\r\nAuthorization: Bearer ${adminToken}\r\nContent-Type: application/json\r\n`
  socket.write(`PUT /api/v1/materials/X HTTP/1.1\r\n${head}Content-Length: ${body.length}\r\n\r\n${body}`)
  await new Promise((r) => setTimeout(r, 1000))
  t.match(received, /^HTTP\/1\.1 413 /)
  const announcedClose = /\r\nconnection: close\r\n/i.test(received)
  if (!announcedClose) {
    socket.write(`GET /health HTTP/1.1\r\nHost: x\r\n\r\n`)
    await Promise.race([closed, new Promise((r) => setTimeout(r, 500))])
    t.match(received, /HTTP\/1\.1 200 /, `a keep-alive connection still serves the next request; got: ${received.split('\r\n')[0]} … then ${socket.destroyed ? 'closed' : 'silence'}`)
  } else t.pass('Connection: close was announced')
})

// A POST or PUT with a body but no Content-Type is refused by @hono/zod-openapi with an
// HTTPException(415), which app.ts maps to code "http_error", detail "Unsupported Media Type";
// a wrong Content-Type gets code "unsupported_media_type", detail "Send application/json, not …".
t.test('a missing Content-Type gets the catalogue code unsupported_media_type', async (t) => {
  const r = await rawRequest(gw.running.port, 'PUT', '/api/v1/materials/X', { headers: { authorization: `Bearer ${adminToken}` }, body: JSON.stringify({ id: 'X', name: 'x', uom: 'kg' }) })
  t.equal(r.status, 415)
  const body = JSON.parse(r.text)
  t.equal(body.code, 'unsupported_media_type', `code: ${body.code}`)
  t.match(body.detail, /application\/json/, `the detail says what to send: ${body.detail}`)
})

// edge/config.ts freezes only the top level: config.http, config.mqtt and config.log stay mutable.
t.test('the configuration is frozen all the way down', async (t) => {
  const config = loadConfig({ env: {} })
  t.ok(Object.isFrozen(config.http), 'http is frozen')
  t.ok(Object.isFrozen(config.log), 'log is frozen')
  t.throws(() => {
    ;(config.http as { port: number }).port = 1
  }, TypeError)
})

// Observation rather than a clear bug (RFC 9562 §6.2 leaves monotonicity within a millisecond
// optional): uuidv7Ids fills the 74 random bits afresh for every id, so events recorded in the same
// millisecond get ids in random order, and ordering the log by id is not ordering it by seq.
t.test('event ids sort in sequence order, also within one millisecond', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-ids-'))
  const store = new LineStore({ file: join(dir, 'takt.db'), clock: systemClock, ids: uuidv7Ids(systemClock) })
  t.teardown(() => {
    store.close()
    removeDir(dir)
  })
  for (let i = 0; i < 200; i++) store.execute('test', (v) => defineMaterial(v, { id: `M-${i}`, name: 'x', uom: 'kg', serialized: false }))
  const ids = [...readEvents(store.db.sqlite)].map((e) => e.id)
  const outOfOrder = ids.filter((id, i) => i > 0 && id < ids[i - 1]!).length
  t.equal(outOfOrder, 0, `${outOfOrder} of ${ids.length} ids sort before the id of the event before them`)
})
