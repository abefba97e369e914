// The order state machine: release (with serials), dispatch, hold and its release, cancel, close, resequence, unit holds.
import t, { type Test } from 'tap'
import type { OrderState } from '../model.ts'
import {
  cancelOrder,
  closeOrder,
  dispatchOrder,
  holdOrder,
  releaseOrder,
  releaseOrderHold,
  releaseUnitHold,
  resequenceDispatch,
} from '../orders.ts'
import { accepted, dataOf, masterView, pasteBom, pasteOrder, pasteRouting, plannedOperations, refusal, types, unit, widgetBom, widgetOrder, widgetRouting, withProgress } from './fixture.ts'

const allStates: OrderState[] = ['created', 'released', 'dispatched', 'in_progress', 'held', 'completed', 'closed', 'cancelled']
const pasteOps = () => plannedOperations(pasteRouting, pasteBom)
const widgetOps = () => plannedOperations(widgetRouting, widgetBom)
const pasteIn = (state: OrderState) => masterView().putOrder(pasteOrder({ state }), pasteOps())

/** Each transition accepts exactly the states listed and refuses the rest with order_state. */
function transitionTable(t: Test, name: string, allowed: OrderState[], decide: (state: OrderState) => ReturnType<typeof dispatchOrder>) {
  for (const state of allStates) {
    const d = decide(state)
    if (allowed.includes(state)) {
      t.ok(d.ok, `${name} from ${state} is accepted`)
    } else {
      const { rejection } = refusal(d)
      t.equal(rejection.code, 'order_state', `${name} from ${state} is refused`)
      t.match(rejection.message, new RegExp(`Order 'P1' is ${state}; it can be ${name} only when ${allowed.join(' or ')}`))
      t.same(rejection.details, { state, allowed })
    }
  }
}

t.test('an unknown order is not found', async (t) => {
  const view = masterView()
  for (const d of [releaseOrder(view, 'X'), dispatchOrder(view, 'X'), holdOrder(view, 'X', 'r'), releaseOrderHold(view, 'X', 'r'), cancelOrder(view, 'X', 'r'), closeOrder(view, 'X')]) {
    const { rejection } = refusal(d)
    t.equal(rejection.code, 'not_found')
    t.equal(rejection.status, 404)
    t.match(rejection.message, /There is no order 'X'/)
  }
})

t.test('release', async (t) => {
  t.test('only a created order', async (t) => {
    for (const state of allStates.filter((s) => s !== 'created')) {
      t.equal(refusal(releaseOrder(pasteIn(state), 'P1')).rejection.code, 'order_state', state)
    }
  })
  t.test('a lot order is released without serials', async (t) => {
    const { events, result } = accepted(releaseOrder(pasteIn('created'), 'P1'))
    t.same(events, [{ type: 'OrderReleased', subject: 'order/P1', data: { orderId: 'P1', serials: [] } }])
    t.same(result, { serials: [] })
  })
  t.test('a serialized order without serials gets them generated', async (t) => {
    const view = masterView().putOrder(widgetOrder({ state: 'created', serials: [], quantity: 3 }), widgetOps())
    const { events, result } = accepted(releaseOrder(view, 'W1'))
    t.same(result.serials, ['W1-0001', 'W1-0002', 'W1-0003'])
    t.same(dataOf(events, 'OrderReleased'), { orderId: 'W1', serials: ['W1-0001', 'W1-0002', 'W1-0003'] })
    const big = masterView().putOrder(widgetOrder({ state: 'created', serials: [], quantity: 12345 }), widgetOps())
    const serials = accepted(releaseOrder(big, 'W1')).result.serials
    t.equal(serials.length, 12345)
    t.equal(serials[0], 'W1-00001', 'padded to the width of the quantity')
    t.equal(serials.at(-1), 'W1-12345')
  })
  t.test('serials sent by ERP are used as they are', async (t) => {
    const view = masterView().putOrder(widgetOrder({ state: 'created', serials: ['SN-A', 'SN-B'] }), widgetOps())
    t.same(accepted(releaseOrder(view, 'W1')).result, { serials: ['SN-A', 'SN-B'] })
  })
  t.test('a serial that already belongs to a unit is a conflict', async (t) => {
    const view = masterView().putOrder(widgetOrder({ state: 'created', serials: [] }), widgetOps()).putUnit(unit('W1-0002', 'completed', 'W0'))
    const { rejection } = refusal(releaseOrder(view, 'W1'))
    t.equal(rejection.code, 'order_conflict')
    t.match(rejection.message, /Serial 'W1-0002' already belongs to order 'W0'/)
    t.same(rejection.details, { serial: 'W1-0002' })
  })
})

t.test('dispatch', async (t) => {
  transitionTable(t, 'dispatched', ['released'], (s) => dispatchOrder(pasteIn(s), 'P1'))
  t.same(accepted(dispatchOrder(pasteIn('released'), 'P1')).events, [{ type: 'OrderDispatched', subject: 'order/P1', data: { orderId: 'P1' } }])
})

t.test('hold', async (t) => {
  transitionTable(t, 'held', ['created', 'released', 'dispatched', 'in_progress'], (s) => holdOrder(pasteIn(s), 'P1', 'audit'))
  for (const from of ['created', 'released', 'dispatched', 'in_progress'] as const) {
    t.same(accepted(holdOrder(pasteIn(from), 'P1', 'supplier recall')).events, [
      { type: 'OrderHeld', subject: 'order/P1', data: { orderId: 'P1', reason: 'supplier recall', from } },
    ], `remembers ${from}`)
  }
})

t.test('release from hold', async (t) => {
  transitionTable(t, 'released from hold', ['held'], (s) => releaseOrderHold(pasteIn(s), 'P1', 'ok'))
  t.test('returns to the state it was held from', async (t) => {
    for (const heldFrom of ['created', 'dispatched', 'in_progress'] as const) {
      const view = masterView().putOrder(pasteOrder({ state: 'held', heldFrom }), pasteOps())
      t.same(accepted(releaseOrderHold(view, 'P1', 'NC closed')).events, [
        { type: 'OrderHoldReleased', subject: 'order/P1', data: { orderId: 'P1', reason: 'NC closed', to: heldFrom } },
      ])
    }
    const unknown = masterView().putOrder(pasteOrder({ state: 'held', heldFrom: null }), pasteOps())
    t.equal(dataOf(accepted(releaseOrderHold(unknown, 'P1', 'ok')).events, 'OrderHoldReleased').to, 'released', 'falls back to released')
  })
  t.test('an order whose work all finished while held completes on release', async (t) => {
    const done = withProgress(pasteOps(), { 10: { state: 'completed', qtyGood: 98, qtyScrap: 2 }, 20: { state: 'completed', qtyGood: 97, qtyScrap: 1 } })
    const view = masterView().putOrder(pasteOrder({ state: 'held', heldFrom: 'in_progress' }), done)
    const { events } = accepted(releaseOrderHold(view, 'P1', 'NC closed'))
    t.same(types(events), ['OrderHoldReleased', 'OutputLotProduced', 'OrderCompleted'])
    t.same(dataOf(events, 'OutputLotProduced'), { lotId: 'P1-OUT', orderId: 'P1', materialId: 'FG-PASTE', quantity: 97 })
    t.same(dataOf(events, 'OrderCompleted'), { orderId: 'P1', good: 97, scrap: 3 })
    const halfway = masterView().putOrder(pasteOrder({ state: 'held', heldFrom: 'in_progress' }), withProgress(done, { 20: { state: 'in_progress' } }))
    t.same(types(accepted(releaseOrderHold(halfway, 'P1', 'ok')).events), ['OrderHoldReleased'], 'not while an operation is open')
  })
})

t.test('cancel', async (t) => {
  transitionTable(t, 'cancelled', ['created', 'released', 'dispatched', 'held'], (s) => cancelOrder(pasteIn(s), 'P1', 'ERP'))
  t.same(accepted(cancelOrder(pasteIn('dispatched'), 'P1', 'customer cancelled')).events, [
    { type: 'OrderCancelled', subject: 'order/P1', data: { orderId: 'P1', reason: 'customer cancelled' } },
  ])
  t.test('is refused once work has started', async (t) => {
    const started = withProgress(pasteOps(), { 10: { state: 'in_progress', qtyStarted: 1 } })
    const view = masterView().putOrder(pasteOrder({ state: 'held', heldFrom: 'in_progress' }), started)
    const { rejection } = refusal(cancelOrder(view, 'P1', 'ERP'))
    t.equal(rejection.code, 'order_state')
    t.match(rejection.message, /Order 'P1' has work started on it/)
  })
})

t.test('close', async (t) => {
  transitionTable(t, 'closed', ['completed'], (s) => closeOrder(pasteIn(s), 'P1'))
  t.same(accepted(closeOrder(pasteIn('completed'), 'P1')).events, [{ type: 'OrderClosed', subject: 'order/P1', data: { orderId: 'P1' } }])
})

t.test('resequence the dispatch list', async (t) => {
  const view = masterView().putDispatchList('WC-CUT', ['P1', 'P2', 'P3'])
  t.test('the work center must exist and be one', async (t) => {
    for (const wc of ['WC-NOPE', 'L1']) {
      const { rejection } = refusal(resequenceDispatch(view, wc, []))
      t.equal(rejection.code, 'not_found', wc)
      t.match(rejection.message, new RegExp(`There is no work center '${wc}'`))
    }
  })
  t.test('only orders on its list, each once', async (t) => {
    const stranger = refusal(resequenceDispatch(view, 'WC-CUT', ['P3', 'P9'])).rejection
    t.equal(stranger.code, 'resequence_invalid')
    t.match(stranger.message, /Order 'P9' is not on the dispatch list of 'WC-CUT'/)
    t.same(stranger.details, { orderId: 'P9' })
    const twice = refusal(resequenceDispatch(view, 'WC-CUT', ['P2', 'P1', 'P2'])).rejection
    t.equal(twice.code, 'resequence_invalid')
    t.match(twice.message, /Order 'P2' is named twice/)
  })
  t.test('a valid order is recorded as given', async (t) => {
    t.same(accepted(resequenceDispatch(view, 'WC-CUT', ['P3', 'P1', 'P2'])).events, [
      { type: 'DispatchResequenced', subject: 'work-center/WC-CUT', data: { workCenterId: 'WC-CUT', orderIds: ['P3', 'P1', 'P2'] } },
    ])
  })
})

t.test('release a unit hold', async (t) => {
  const view = masterView().putUnit(unit('W1-0001', 'held')).putUnit(unit('W1-0002'))
  t.same(accepted(releaseUnitHold(view, 'W1-0001', 'rework ok')).events, [
    { type: 'UnitHoldReleased', subject: 'unit/W1-0001', data: { serial: 'W1-0001', reason: 'rework ok' } },
  ])
  const notHeld = refusal(releaseUnitHold(view, 'W1-0002', 'x')).rejection
  t.equal(notHeld.code, 'order_state')
  t.match(notHeld.message, /Unit 'W1-0002' is not on hold/)
  const missing = refusal(releaseUnitHold(view, 'W1-0099', 'x')).rejection
  t.equal(missing.code, 'not_found')
  t.match(missing.message, /no unit 'W1-0099'/)
})
