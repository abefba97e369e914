// Idempotency over HTTP: ERP orders are idempotent on their number, ERP changes follow the single-writer rules, Idempotency-Key replays.
import t, { type Test } from 'tap'
import type { Reply } from './helpers/gateway.ts'
import { completion, dispatchedOrder, eventSeq, login, order, startRun, lineGateway } from './helpers/line.ts'

const gw = await lineGateway(t)
const call = gw.call

/** Events recorded after `seq`, as [type, subject]. */
async function eventsAfter(seq: number): Promise<Array<[string, string]>> {
  const r = await call('GET', `/api/v1/events?after=${seq}&limit=1000`)
  return r.body.items.map((e: { type: string; subject: string }) => [e.type, e.subject])
}

function isProblem(t: Test, r: Reply, status: number, code: string): void {
  t.equal(r.status, status, JSON.stringify(r.body))
  t.match(r.headers.get('content-type'), /^application\/problem\+json/)
  t.equal(r.body.code, code)
}

t.test('the same order twice is one order and one OrderCreated event', async (t) => {
  const seq = await eventSeq(call)
  const first = await call('POST', '/api/v1/orders', order('PO-I1', 5))
  t.equal(first.status, 201)
  t.match(first.body, { orderId: 'PO-I1', created: true, changed: true })
  const second = await call('POST', '/api/v1/orders', order('PO-I1', 5))
  t.equal(second.status, 200, 'a repeat is answered 200, not 201')
  t.match(second.body, { seq: 0, orderId: 'PO-I1', created: false, changed: false })
  t.same(await eventsAfter(seq), [['OrderCreated', 'order/PO-I1']], 'one event in all')
  // Defaults sent explicitly are the same definition.
  const explicit = await call('POST', '/api/v1/orders', order('PO-I1', 5, { priority: 500, serials: [], dueAt: null, outputLot: 'PO-I1-OUT' }))
  t.equal(explicit.body.changed, false, 'explicit defaults are no change')
  const orders = await call('GET', '/api/v1/orders?limit=100')
  t.equal(orders.body.items.filter((o: { id: string }) => o.id === 'PO-I1').length, 1)
})

t.test('a changed quantity or plan is an event of its own', async (t) => {
  const seq = await eventSeq(call)
  const r = await call('POST', '/api/v1/orders', order('PO-I1', 8))
  t.equal(r.status, 200)
  t.match(r.body, { created: false, changed: true })
  const events = await call('GET', `/api/v1/events?after=${seq}`)
  t.same(events.body.items.map((e: { type: string; data: unknown }) => [e.type, e.data]), [['OrderQuantityChanged', { orderId: 'PO-I1', from: 5, to: 8 }]])
  t.equal((await call('GET', '/api/v1/orders/PO-I1')).body.quantity, 8)
  const plan = await call('POST', '/api/v1/orders', order('PO-I1', 8, { priority: 7 }))
  t.equal(plan.body.changed, true)
  t.same(await eventsAfter(seq + 1), [['OrderPlanChanged', 'order/PO-I1']], 'a priority change is a plan change, not a new order')
})

t.test('a routing change is taken before release and refused after it', async (t) => {
  const seq = await eventSeq(call)
  const before = await call('POST', '/api/v1/orders', order('PO-I1', 8, { priority: 7, routingVersion: 'B' }))
  t.equal(before.status, 200, `before release: ${JSON.stringify(before.body)}`)
  t.same(await eventsAfter(seq), [['OrderCreated', 'order/PO-I1']], 'the order is redefined')
  t.equal((await call('GET', '/api/v1/orders/PO-I1')).body.routingVersion, 'B')

  t.equal((await call('POST', '/api/v1/orders/PO-I1/release')).status, 200)
  const released = await call('GET', '/api/v1/orders/PO-I1')
  const head = await eventSeq(call)
  const after = await call('POST', '/api/v1/orders', order('PO-I1', 8, { priority: 7, routingVersion: 'A' }))
  isProblem(t, after, 409, 'order_routing_locked')
  t.match(after.body.detail, /released; its product, BOM, routing, line and serials are fixed/)
  t.equal(await eventSeq(call), head, 'nothing written')
  const unchanged = await call('GET', '/api/v1/orders/PO-I1')
  t.same({ ...unchanged.body, wip: null }, { ...released.body, wip: null }, 'the order is as it was')

  // The other side of the rule: quantity may still change on a released lot-based order…
  const quantity = await call('POST', '/api/v1/orders', order('PO-I1', 9, { priority: 7, routingVersion: 'B' }))
  t.equal(quantity.status, 200)
  t.same(await eventsAfter(head), [['OrderQuantityChanged', 'order/PO-I1']])
  // …but not on a serialized one, whose serial numbers were issued at release.
  const widget = { ...order('PO-W', 2), productId: 'WIDGET', bomId: 'BOM-WIDGET', routingId: 'RT-WIDGET' }
  t.equal((await call('POST', '/api/v1/orders', widget)).status, 201)
  t.equal((await call('POST', '/api/v1/orders', { ...widget, quantity: 3 })).status, 200, 'before release the quantity of a serialized order may change')
  t.equal((await call('POST', '/api/v1/orders/PO-W/release')).status, 200)
  const seqW = await eventSeq(call)
  isProblem(t, await call('POST', '/api/v1/orders', { ...widget, quantity: 4 }), 409, 'order_routing_locked')
  t.equal(await eventSeq(call), seqW)
})

t.test('Idempotency-Key: the same key and body replay the first answer without new events', async (t) => {
  await dispatchedOrder(call, 'PO-K', 10)
  const runId = await startRun(call, 'PO-K')
  const key = { 'idempotency-key': 'complete-run-1' }
  const seq = await eventSeq(call)
  const first = await call('POST', `/api/v1/runs/${runId}/complete`, completion, undefined, key)
  t.equal(first.status, 200, JSON.stringify(first.body))
  t.equal(first.headers.get('idempotent-replayed'), null, 'the first answer is not a replay')
  const written = await eventSeq(call)
  t.ok(written > seq, 'the completion was recorded')

  const replay = await call('POST', `/api/v1/runs/${runId}/complete`, completion, undefined, key)
  t.equal(replay.status, 200)
  t.equal(replay.headers.get('idempotent-replayed'), 'true')
  t.match(replay.headers.get('content-type'), /^application\/json/)
  t.same(replay.body, first.body, 'the same body as the first answer')
  t.equal(await eventSeq(call), written, 'no new events')
  t.equal((await call('GET', '/api/v1/orders/PO-K')).body.operations[0].qtyGood, 1, 'one completion counted')

  // Without the key the same request is a new attempt, and the run is already completed.
  const again = await call('POST', `/api/v1/runs/${runId}/complete`, completion)
  isProblem(t, again, 409, 'run_state')
  t.equal(await eventSeq(call), written)
})

t.test('Idempotency-Key: the same key with a different request is refused', async (t) => {
  const runId = await startRun(call, 'PO-K')
  const key = { 'idempotency-key': 'complete-run-2' }
  t.equal((await call('POST', `/api/v1/runs/${runId}/complete`, completion, undefined, key)).status, 200)
  const seq = await eventSeq(call)
  const changed = await call('POST', `/api/v1/runs/${runId}/complete`, { ...completion, measurements: [{ name: 'viscosity', value: 6, unit: 'Pa.s' }] }, undefined, key)
  isProblem(t, changed, 422, 'idempotency_key_reused')
  t.match(changed.body.detail, /'complete-run-2' was already used for a different request/)
  const otherRoute = await call('POST', `/api/v1/runs/${runId}/measurements`, { name: 'viscosity', value: 5, unit: 'Pa.s' }, undefined, key)
  isProblem(t, otherRoute, 422, 'idempotency_key_reused')
  t.equal(await eventSeq(call), seq, 'nothing written')

  const tooLong = await call('POST', '/api/v1/orders', order('PO-L', 1), undefined, { 'idempotency-key': 'k'.repeat(201) })
  isProblem(t, tooLong, 400, 'idempotency_key_invalid')
  t.equal(await eventSeq(call), seq)
  const longest = await call('POST', '/api/v1/orders', order('PO-L', 1), undefined, { 'idempotency-key': 'k'.repeat(200) })
  t.equal(longest.status, 201, 'a key of 200 characters is accepted')
})

t.test('Idempotency-Key: a refusal is replayed as the same problem', async (t) => {
  const key = { 'idempotency-key': 'refused-1' }
  const seq = await eventSeq(call)
  const first = await call('POST', '/api/v1/runs/RUN-404/complete', completion, undefined, key)
  isProblem(t, first, 404, 'not_found')
  const replay = await call('POST', '/api/v1/runs/RUN-404/complete', completion, undefined, key)
  isProblem(t, replay, 404, 'not_found')
  t.equal(replay.headers.get('idempotent-replayed'), 'true')
  t.same(replay.body, first.body)
  t.equal(await eventSeq(call), seq)
})

t.test('Idempotency-Key: an order replays 201 with its first body; keys belong to their principal', async (t) => {
  const key = { 'idempotency-key': 'order-PO-K2' }
  const seq = await eventSeq(call)
  const first = await call('POST', '/api/v1/orders', order('PO-K2', 3), undefined, key)
  t.equal(first.status, 201)
  const replay = await call('POST', '/api/v1/orders', order('PO-K2', 3), undefined, key)
  t.equal(replay.status, 201, 'the replay keeps the first status, where a plain repeat would get 200')
  t.equal(replay.headers.get('idempotent-replayed'), 'true')
  t.same(replay.body, first.body)
  t.same(await eventsAfter(seq), [['OrderCreated', 'order/PO-K2']])

  // Another principal's key of the same value is its own: a different body is executed, not refused.
  const leo = (await login(call, 'leo')).body.token as string
  const theirs = await call('POST', '/api/v1/orders', order('PO-K3', 2), leo, key)
  t.equal(theirs.status, 201, JSON.stringify(theirs.body))
  t.equal(theirs.headers.get('idempotent-replayed'), null)
  t.same(await eventsAfter(seq + 1), [['OrderCreated', 'order/PO-K3']])
})
