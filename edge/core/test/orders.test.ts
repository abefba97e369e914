// Orders from ERP: references checked, create, idempotent re-send, and the single-writer change rules.
import t from 'tap'
import { defineOrder, type OrderRequest } from '../orders.ts'
import {
  accepted,
  dataOf,
  masterView,
  pasteBom,
  pasteOrder,
  pasteRouting,
  plannedOperations,
  refusal,
  types,
  widgetBom,
  widgetOrder,
  widgetRequest,
  pasteRequest,
  widgetRouting,
  withProgress,
} from './fixture.ts'



const pasteOps = () => plannedOperations(pasteRouting, pasteBom)
const widgetOps = () => plannedOperations(widgetRouting, widgetBom)

t.test('references an order needs', async (t) => {
  const view = masterView()
  const cases: [string, OrderRequest, string, RegExp][] = [
    ['unknown product', widgetRequest({ productId: 'FG-NOPE' }), 'reference_unknown', /Product 'FG-NOPE' is not defined/],
    ['unknown line', widgetRequest({ lineId: 'L9' }), 'reference_unknown', /Line 'L9' is not defined/],
    ['a work center as line', widgetRequest({ lineId: 'WC-CUT' }), 'reference_unknown', /Line 'WC-CUT'/],
    ['unknown BOM version', widgetRequest({ bomVersion: '2' }), 'reference_unknown', /BOM 'B-W' version '2' is not defined/],
    ['unknown routing', widgetRequest({ routingId: 'R-NOPE' }), 'reference_unknown', /Routing 'R-NOPE' version '1' is not defined/],
    ['BOM of another product', widgetRequest({ bomId: 'B-P' }), 'definition_invalid', /must both be for product 'FG-WIDGET'/],
    ['routing of another product', widgetRequest({ routingId: 'R-P' }), 'definition_invalid', /must both be for product 'FG-WIDGET'/],
    ['too few serials', widgetRequest({ serials: ['A'] }), 'definition_invalid', /1 serial numbers were sent for a quantity of 2/],
    ['serials for a lot product', pasteRequest({ serials: ['A'] }), 'definition_invalid', /Product 'FG-PASTE' is not serialized/],
    ['routing on another line', widgetRequest({ lineId: 'L2' }), 'definition_invalid', /Operation 10 runs on 'WC-CUT', which is not on line 'L2'/],
  ]
  for (const [name, req, code, message] of cases) {
    const { rejection } = refusal(defineOrder(view, req))
    t.equal(rejection.code, code, name)
    t.match(rejection.message, message, name)
  }
  t.test('a component missing from the BOM', async (t) => {
    const shortBom = { ...widgetBom, version: '3', items: [widgetBom.items[0]!] }
    const { rejection } = refusal(defineOrder(masterView().putBom(shortBom), widgetRequest({ bomVersion: '3' })))
    t.equal(rejection.code, 'definition_invalid')
    t.match(rejection.message, /Operation 20 consumes 'RM-BOLT', which is not in BOM 'B-W' 3/)
  })
})

t.test('a new order is created with its routing copied', async (t) => {
  t.test('serialized product', async (t) => {
    const { events, result } = accepted(defineOrder(masterView(), widgetRequest()))
    t.same(result, { orderId: 'W1', created: true, changed: true })
    t.same(types(events), ['OrderCreated'])
    t.equal(events[0]?.subject, 'order/W1')
    const data = dataOf(events, 'OrderCreated')
    t.same(data, { ...widgetRequest(), outputLot: 'W1-OUT', serialized: true, operations: widgetOps() })
    t.same(data.operations[0]?.alternates, { 'RM-STEEL': ['RM-STEEL-ALT'] }, 'alternates come from the BOM')
    t.same(data.operations.map((o) => [o.seq, o.state, o.qtyStarted]), [[10, 'pending', 0], [20, 'pending', 0], [30, 'pending', 0]])
  })
  t.test('lot-based product with an output lot named by ERP', async (t) => {
    const data = dataOf(accepted(defineOrder(masterView(), pasteRequest({ outputLot: 'LOT-2025-77' }))).events, 'OrderCreated')
    t.equal(data.serialized, false)
    t.equal(data.outputLot, 'LOT-2025-77')
  })
  t.test('ERP serials matching the quantity are kept', async (t) => {
    const data = dataOf(accepted(defineOrder(masterView(), widgetRequest({ serials: ['SN-1', 'SN-2'] }))).events, 'OrderCreated')
    t.same(data.serials, ['SN-1', 'SN-2'])
  })
})

t.test('re-sending the same order is a no-op', async (t) => {
  const view = masterView().putOrder(pasteOrder({ state: 'created' }), pasteOps())
  t.same(defineOrder(view, pasteRequest()), { ok: true, events: [], result: { orderId: 'P1', created: false, changed: false } })
  t.same(accepted(defineOrder(view, pasteRequest({ outputLot: null }))).events, [], 'no output lot keeps the existing one')
  const released = masterView().putOrder(widgetOrder({ state: 'released' }), widgetOps())
  t.same(accepted(defineOrder(released, widgetRequest())).events, [], 'serials issued at release are not a change')
})

t.test('quantity and plan changes', async (t) => {
  t.test('quantity of a created order', async (t) => {
    const view = masterView().putOrder(pasteOrder({ state: 'created' }), pasteOps())
    const { events, result } = accepted(defineOrder(view, pasteRequest({ quantity: 120 })))
    t.same(events, [{ type: 'OrderQuantityChanged', subject: 'order/P1', data: { orderId: 'P1', from: 100, to: 120 } }])
    t.same(result, { orderId: 'P1', created: false, changed: true })
  })
  t.test('priority and dates', async (t) => {
    const view = masterView().putOrder(pasteOrder({ state: 'dispatched' }), pasteOps())
    const { events } = accepted(defineOrder(view, pasteRequest({ priority: 1, plannedStartAt: '2025-06-03T06:00:00.000Z' })))
    t.same(events, [{ type: 'OrderPlanChanged', subject: 'order/P1', data: { orderId: 'P1', priority: 1, dueAt: '2025-06-10T00:00:00.000Z', plannedStartAt: '2025-06-03T06:00:00.000Z' } }])
    t.same(types(accepted(defineOrder(view, pasteRequest({ quantity: 90, dueAt: null }))).events), ['OrderQuantityChanged', 'OrderPlanChanged'])
  })
  t.test('a running lot order may grow, or shrink down to what has started', async (t) => {
    const started = withProgress(pasteOps(), { 10: { state: 'in_progress', qtyStarted: 60 } })
    const view = masterView().putOrder(pasteOrder({ state: 'in_progress' }), started)
    t.same(dataOf(accepted(defineOrder(view, pasteRequest({ quantity: 150 }))).events, 'OrderQuantityChanged'), { orderId: 'P1', from: 100, to: 150 })
    t.ok(defineOrder(view, pasteRequest({ quantity: 60 })).ok, 'down to the started quantity')
    const { rejection } = refusal(defineOrder(view, pasteRequest({ quantity: 59 })))
    t.equal(rejection.code, 'quantity_exceeded')
    t.match(rejection.message, /Order 'P1' has already started 60/)
    t.same(rejection.details, { started: 60 })
  })
  t.test('a serialized order keeps its quantity once serials are issued', async (t) => {
    const created = masterView().putOrder(widgetOrder({ state: 'created', serials: [] }), widgetOps())
    t.same(types(accepted(defineOrder(created, widgetRequest({ quantity: 3 }))).events), ['OrderQuantityChanged'])
    const released = masterView().putOrder(widgetOrder({ state: 'released' }), widgetOps())
    const { rejection } = refusal(defineOrder(released, widgetRequest({ quantity: 3 })))
    t.equal(rejection.code, 'order_routing_locked')
    t.match(rejection.message, /Serial numbers of order 'W1' were issued at release/)
  })
})

t.test('structural changes', async (t) => {
  const v2Bom = { ...pasteBom, version: '2' }
  t.test('replace a created order', async (t) => {
    const view = masterView().putBom(v2Bom).putOrder(pasteOrder({ state: 'created' }), pasteOps())
    const { events, result } = accepted(defineOrder(view, pasteRequest({ bomVersion: '2' })))
    t.same(result, { orderId: 'P1', created: false, changed: true })
    t.same(types(events), ['OrderCreated'])
    t.equal(dataOf(events, 'OrderCreated').bomVersion, '2')
  })
  t.test('are refused once the order is released or running', async (t) => {
    const changes: [string, Partial<OrderRequest>][] = [
      ['BOM version', { bomVersion: '2' }],
      ['output lot', { outputLot: 'OTHER-LOT' }],
      ['routing version', { routingVersion: '2' }],
    ]
    for (const state of ['released', 'dispatched', 'in_progress', 'held'] as const) {
      const view = masterView().putBom(v2Bom).putRouting({ ...pasteRouting, version: '2' }).putOrder(pasteOrder({ state }), pasteOps())
      for (const [what, change] of changes) {
        const { rejection } = refusal(defineOrder(view, pasteRequest(change)))
        t.equal(rejection.code, 'order_routing_locked', `${what} when ${state}`)
        t.match(rejection.message, new RegExp(`Order 'P1' is ${state}; its product, BOM, routing`), `${what} when ${state}`)
      }
    }
  })
  t.test('new serials after release are refused', async (t) => {
    const view = masterView().putOrder(widgetOrder({ state: 'released' }), widgetOps())
    t.equal(refusal(defineOrder(view, widgetRequest({ serials: ['X-1', 'X-2'] }))).rejection.code, 'order_routing_locked')
    t.same(accepted(defineOrder(view, widgetRequest({ serials: ['W1-0001', 'W1-0002'] }))).events, [], 'the same serials are fine')
  })
})

t.test('finished orders are not changed', async (t) => {
  for (const state of ['completed', 'closed', 'cancelled'] as const) {
    const view = masterView().putOrder(pasteOrder({ state }), pasteOps())
    const { rejection } = refusal(defineOrder(view, pasteRequest({ priority: 9 })))
    t.equal(rejection.code, 'order_state', state)
    t.match(rejection.message, new RegExp(`Order 'P1' is ${state}; it can no longer be changed`), state)
  }
})
