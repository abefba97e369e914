// A changed document is applied by the single-writer rules: quantity and plan changes accepted, a routing change to a started order refused and reported — all or nothing.
import t from 'tap'
import { at, erpGateway, eventSeq, kids, loadPasteLine, textAt } from './helpers.ts'
import { pasteSchedule } from './paste-schedule.ts'

const gw = await erpGateway(t)
await loadPasteLine(gw)
const order = async (id: string) => (await gw.call('GET', `/api/v1/orders/${id}`)).body

const first = await gw.post(pasteSchedule([{ id: 'PO-1', quantity: 100 }, { id: 'PO-2', quantity: 50 }]), { accept: 'application/json' })
if (first.json?.applied?.orders.created !== 2) throw new Error(`setup: ${first.text}`)
const routingVersion = (await order('PO-1')).routingVersion as string

t.test('a quantity change is accepted and reported; the routing stays the same', async (t) => {
  const r = await gw.post(pasteSchedule([{ id: 'PO-1', quantity: 100 }, { id: 'PO-2', quantity: 60 }]), { accept: 'application/json' })
  t.equal(r.status, 200, r.text)
  t.same(r.json!.applied.orders, { created: 0, changed: 1, unchanged: 1, cancelled: 0 })
  t.same(r.json!.notes, ['Order PO-2: quantity 50 → 60'])
  const po = await order('PO-2')
  t.equal(po.quantity, 60)
  t.equal(po.routingVersion, routingVersion, 'per-unit figures unchanged: same routing version')
})

t.test('ERP totals rounded differently (within 1 %) keep the routing; beyond that it is a new one', async (t) => {
  // 101 kg: mix 600 + 36 × 101 = 4236 s, sent rounded to 4260 s (36.24 s/kg, 0.7 % off).
  const r = await gw.post(pasteSchedule([{ id: 'PO-1', quantity: 101, mixS: 4260 }]), { accept: 'application/json' })
  t.equal(r.status, 200, r.text)
  t.same(r.json!.notes, ['Order PO-1: quantity 100 → 101'])
  t.equal((await order('PO-1')).routingVersion, routingVersion)
  const slower = await gw.post(pasteSchedule([{ id: 'PO-1', quantity: 101, mixS: 4400 }]), { accept: 'application/json' })
  t.match(slower.json!.notes, [/Order PO-1: re-planned before release/], 'a real change to a created order re-plans it')
  t.not((await order('PO-1')).routingVersion, routingVersion)
  await gw.post(pasteSchedule([{ id: 'PO-1', quantity: 100 }]))
  t.equal((await order('PO-1')).routingVersion, routingVersion, 'and back')
})

t.test('once an operation has started: quantity accepted, routing change refused and reported, nothing else of the document applied', async (t) => {
  t.equal((await gw.call('POST', '/api/v1/orders/PO-1/release')).status, 200)
  t.equal((await gw.call('POST', '/api/v1/orders/PO-1/dispatch')).status, 200)
  const start = await gw.call('POST', '/api/v1/orders/PO-1/operations/10/start', { quantity: 10, operatorId: 'olga' })
  t.equal(start.status, 201, JSON.stringify(start.body))

  const more = await gw.post(pasteSchedule([{ id: 'PO-1', quantity: 120 }, { id: 'PO-2', quantity: 60 }]), { accept: 'application/json' })
  t.equal(more.status, 200, more.text)
  t.same(more.json!.notes, ['Order PO-1: quantity 100 → 120'])

  const seq = await eventSeq(gw)
  const doc = pasteSchedule([{ id: 'PO-1', quantity: 120, mixWorkCenter: 'WC-FILL' }, { id: 'PO-2', quantity: 70 }])
  const r = await gw.post(doc, { accept: 'application/xml' })
  t.equal(r.status, 409, r.text)
  const criteria = kids(at(r.xml, 'DataArea', 'Confirm'), 'ResponseCriteria')
  t.equal(criteria.length, 1)
  t.equal(textAt(criteria[0], 'ResponseExpression'), '/SyncProductionSchedule/DataArea/ProductionSchedule/ProductionRequest[1]')
  t.equal(textAt(criteria[0], 'ChangeStatus', 'ReasonCode'), 'order_routing_locked')
  t.match(textAt(criteria[0], 'ChangeStatus', 'Description'), /Order 'PO-1' is in_progress; its product, BOM, routing, line and serials are fixed/)
  t.equal(await eventSeq(gw), seq, 'refused as a whole')
  t.equal((await order('PO-2')).quantity, 60, 'the quantity change of PO-2 in the same document was not applied')

  const below = await gw.post(pasteSchedule([{ id: 'PO-1', quantity: 5 }]), { accept: 'application/json' })
  t.equal(below.status, 409)
  t.equal(below.json!.code, 'quantity_exceeded')
  t.match(below.json!.detail, /has already started 10; its quantity cannot go below that/)
})

t.test('RequestState Cancelled cancels an order not started, and is refused for one that is', async (t) => {
  const r = await gw.post(pasteSchedule([{ id: 'PO-2', quantity: 60, state: 'Cancelled' }]), { accept: 'application/json' })
  t.equal(r.status, 200, r.text)
  t.same(r.json!.applied.orders.cancelled, 1)
  t.equal((await order('PO-2')).state, 'cancelled')
  const again = await gw.post(pasteSchedule([{ id: 'PO-2', quantity: 60, state: 'Cancelled' }]), { accept: 'application/json' })
  t.equal(again.json!.outcome, 'unchanged', 'cancelling a cancelled order changes nothing')
  const started = await gw.post(pasteSchedule([{ id: 'PO-1', quantity: 120, state: 'Cancelled' }]), { accept: 'application/json' })
  t.equal(started.status, 409)
  t.equal(started.json!.code, 'order_state')
  t.match(started.json!.detail, /Order 'PO-1' is in_progress; it can be cancelled only when created/)
  t.equal((await order('PO-1')).state, 'in_progress')
})
