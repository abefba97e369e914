// Live updates over a real socket: authenticated, summarized events with their seq, resume with Last-Event-ID, heartbeats, session end, shutdown.
import t, { type Test } from 'tap'
import { rmSync } from 'node:fs'
import { adminToken } from '../helpers/gateway.ts'
import { startHmiGateway, type HmiGateway } from './helpers/hmi-gateway.ts'
import { openSse } from './helpers/sse.ts'

const allowedKeys = ['seq', 'type', 'subject', 'at', 'workCenterId', 'orderId', 'opSeq', 'runId', 'unitSerial', 'serial', 'state']

async function gateway(t: Test): Promise<HmiGateway> {
  const gw = await startHmiGateway({ liveOptions: { heartbeatMs: 200, replayLimit: 5 } })
  t.teardown(async () => {
    await gw.stop()
    rmSync(gw.dataDir, { recursive: true, force: true })
  })
  return gw
}

const login = async (gw: HmiGateway, username: string) => (await gw.call('POST', '/api/v1/auth/login', { username, password: 'takt-demo-password' }, '')).body.token as string

t.test('the stream needs a session and carries each recorded event, summarized, with its seq as id', async (t) => {
  const gw = await gateway(t)
  const none = await fetch(`${gw.url}/api/v1/live`)
  t.equal(none.status, 401)
  t.match(none.headers.get('content-type'), /application\/problem\+json/)
  t.equal(((await none.json()) as { code: string }).code, 'unauthenticated')

  const ana = await login(gw, 'ana')
  const lea = await login(gw, 'lea')
  const live = await openSse(`${gw.url}/api/v1/live`, { authorization: `Bearer ${ana}` })
  t.teardown(() => live.close())
  t.equal(live.status, 200)
  t.match(live.headers.get('content-type'), /^text\/event-stream/)
  t.equal(live.headers.get('cache-control'), 'no-store')
  const hello = await live.next()
  t.equal(hello?.event, 'hello')
  const head = (await gw.call('GET', '/health', undefined, '')).body.eventSeq as number
  t.same(JSON.parse(hello!.data), { head })

  const held = await gw.call('POST', '/api/v1/orders/PO-1001/hold', { reason: 'customer asked to wait, call Ms. Smith' }, lea)
  t.equal(held.status, 200)
  const message = await live.next()
  t.equal(message?.event, 'recorded')
  t.equal(message?.id, String(held.body.seq), 'the SSE id is the event seq, for Last-Event-ID')
  const body = JSON.parse(message!.data) as Record<string, unknown>
  t.match(body, { seq: held.body.seq, type: 'OrderHeld', subject: 'order/PO-1001', orderId: 'PO-1001' })
  t.same(Object.keys(body).filter((k) => !allowedKeys.includes(k)), [], 'ids and states only')
  t.notMatch(message!.data, /Smith|lea|person:/, 'no reason text and no actor reach every terminal')

  const refused = await gw.call('POST', '/api/v1/orders/PO-1001/hold', { reason: 'again' }, lea)
  t.equal(refused.status, 409, 'a refusal that records nothing')
  await gw.call('POST', '/api/v1/orders/PO-1001/release-hold', { reason: 'go' }, lea)
  const next = JSON.parse((await live.next())!.data)
  t.equal(next.type, 'OrderHoldReleased', 'nothing was sent for the refusal')
  await new Promise((r) => setTimeout(r, 500))
  t.ok(live.comments >= 1, 'heartbeat comments keep the stream alive')
})

t.test('a client that was away gets what it missed, or is told to reload', async (t) => {
  const gw = await gateway(t)
  const lea = await login(gw, 'lea')
  const since = (await gw.call('GET', '/health', undefined, '')).body.eventSeq as number
  await gw.call('POST', '/api/v1/orders/PO-1003/dispatch', undefined, lea)
  await gw.call('POST', '/api/v1/orders/PO-1003/hold', { reason: 'check drawing' }, lea)

  const resumed = await openSse(`${gw.url}/api/v1/live`, { authorization: `Bearer ${lea}`, 'last-event-id': String(since) })
  t.teardown(() => resumed.close())
  t.equal((await resumed.next())?.event, 'hello')
  const missed = [JSON.parse((await resumed.next())!.data), JSON.parse((await resumed.next())!.data)]
  t.same(missed.map((m) => m.type), ['OrderDispatched', 'OrderHeld'])
  t.same(missed.map((m) => m.seq), [since + 1, since + 2])
  await gw.call('POST', '/api/v1/orders/PO-1003/release-hold', { reason: 'ok' }, lea)
  t.equal(JSON.parse((await resumed.next())!.data).seq, since + 3, 'then it goes on live, without a gap or a repeat')

  const byQuery = await openSse(`${gw.url}/api/v1/live?after=${since + 2}`, { authorization: `Bearer ${lea}` })
  t.teardown(() => byQuery.close())
  await byQuery.next()
  t.equal(JSON.parse((await byQuery.next())!.data).seq, since + 3, '?after= works like Last-Event-ID')

  const far = await openSse(`${gw.url}/api/v1/live`, { authorization: `Bearer ${lea}`, 'last-event-id': '1' })
  t.teardown(() => far.close())
  await far.next()
  const reset = await far.next()
  t.equal(reset?.event, 'reset', 'more missed than the replay limit: reload everything')
  t.same(JSON.parse(reset!.data), { head: since + 3 })

  const bad = await fetch(`${gw.url}/api/v1/live`, { headers: { authorization: `Bearer ${lea}`, 'last-event-id': 'seven' } })
  t.equal(bad.status, 422)
})

t.test('a session that ends ends its stream; a client that leaves is forgotten', async (t) => {
  const gw = await gateway(t)
  const ana = await login(gw, 'ana')
  const live = await openSse(`${gw.url}/api/v1/live`, { authorization: `Bearer ${ana}` })
  await live.next()
  t.equal(gw.live().clients, 1)
  t.equal((await gw.call('POST', '/api/v1/auth/logout', undefined, ana)).status, 200)
  const expired = await live.next(2000)
  t.equal(expired?.event, 'expired', 'the next heartbeat finds the session gone')
  t.equal(await live.next(2000), null, 'and the stream ends')
  t.equal(gw.live().clients, 0)

  const other = await openSse(`${gw.url}/api/v1/live`, { authorization: `Bearer ${adminToken}` })
  await other.next()
  t.equal(gw.live().clients, 1, 'an API token may follow the stream too')
  other.close()
  for (let i = 0; i < 50 && gw.live().clients > 0; i++) await new Promise((r) => setTimeout(r, 20))
  t.equal(gw.live().clients, 0, 'a closed connection leaves no client behind')
})

t.test('stopping the gateway ends open streams at once, and it starts again on the same port', async (t) => {
  const gw = await gateway(t)
  const ana = await login(gw, 'ana')
  const live = await openSse(`${gw.url}/api/v1/live`, { authorization: `Bearer ${ana}` })
  await live.next()
  // The client never closes its stream: a server that waited for it would never finish stopping.
  const stopped = await Promise.race([gw.stop().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 60_000).unref())])
  t.ok(stopped, 'the gateway stops with a stream still open: it does not wait for the client to leave')
  t.equal(await live.next(), null, 'and the stream was ended by the server')
  await t.rejects(fetch(`${gw.url}/health`), 'nothing listens while stopped')
  await gw.start()
  const again = await openSse(`${gw.url}/api/v1/live`, { authorization: `Bearer ${ana}` })
  t.teardown(() => again.close())
  t.equal((await again.next())?.event, 'hello', 'the same session works after the restart')
})
