// Starting an operation: order state, work center, operator qualification, unit checks, sequence and overlap.
import t from 'tap'
import { startOperation, type StartCommand } from '../execution.ts'
import type { OrderOperation } from '../model.ts'
import { accepted, dataOf, masterView, NOW, pasteBom, pasteOrder, pasteRouting, plannedOperations, refusal, run, unit, widgetBom, widgetOrder, widgetRouting, withProgress } from './fixture.ts'
import { fixedContext } from './memory-view.ts'

const ctx = () => fixedContext(NOW, 'run')
const start = (more: Partial<StartCommand> = {}): StartCommand => ({ orderId: 'W1', opSeq: 10, unitSerial: 'W1-0001', quantity: null, operatorId: 'P-ANNA', workCenterId: 'WC-CUT', ...more })
const widgetView = (ops: OrderOperation[] = plannedOperations(widgetRouting, widgetBom), state = 'dispatched' as const) =>
  masterView().putOrder(widgetOrder({ state }), ops).putUnit(unit('W1-0001')).putUnit(unit('W1-0002'))

t.test('the order must be dispatched or in progress', async (t) => {
  const missing = refusal(startOperation(widgetView(), start({ orderId: 'W9' }), ctx())).rejection
  t.equal(missing.code, 'not_found')
  t.match(missing.message, /no order 'W9'/)
  for (const state of ['created', 'released', 'held', 'completed', 'closed', 'cancelled'] as const) {
    const view = masterView().putOrder(widgetOrder({ state }), plannedOperations(widgetRouting, widgetBom)).putUnit(unit('W1-0001'))
    const { rejection } = refusal(startOperation(view, start(), ctx()))
    t.equal(rejection.code, 'order_state', state)
    t.match(rejection.message, new RegExp(`Order 'W1' is ${state}; operations start only on a dispatched order`))
  }
  const running = masterView().putOrder(widgetOrder({ state: 'in_progress' }), plannedOperations(widgetRouting, widgetBom)).putUnit(unit('W1-0001'))
  t.ok(startOperation(running, start(), ctx()).ok, 'in_progress is accepted')
})

t.test('operation and work center', async (t) => {
  const unknownOp = refusal(startOperation(widgetView(), start({ opSeq: 15 }), ctx())).rejection
  t.equal(unknownOp.code, 'operation_not_found')
  t.match(unknownOp.message, /Order 'W1' has no operation 15/)
  const wrong = refusal(startOperation(widgetView(), start({ workCenterId: 'WC-ASM' }), ctx())).rejection
  t.equal(wrong.code, 'wrong_work_center')
  t.match(wrong.message, /Operation 10 of order 'W1' runs on 'WC-CUT', not on 'WC-ASM'/)
  t.ok(startOperation(widgetView(), start({ workCenterId: null }), ctx()).ok, 'a command not from a terminal names no work center')
})

t.test('the operator', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['unknown person', 'P-NOBODY', /'P-NOBODY' is not an active person/],
    ['inactive person', 'P-DORA', /'P-DORA' is not an active person/],
    ['no qualification', 'P-BEN', /Ben holds no valid 'CUT' qualification, which operation 10 requires/],
    ['expired qualification', 'P-CARL', /Carl holds no valid 'CUT' qualification/],
  ]
  for (const [name, operatorId, message] of cases) {
    const { rejection } = refusal(startOperation(widgetView(), start({ operatorId }), ctx()))
    t.equal(rejection.code, 'not_qualified', name)
    t.equal(rejection.status, 403, name)
    t.match(rejection.message, message, name)
  }
  t.test('a qualification is valid up to, not at, its expiry', async (t) => {
    const at = widgetView().putPerson({ id: 'P-EVE', name: 'Eve', roles: ['operator'], qualifications: [{ code: 'CUT', expiresAt: NOW }], active: true })
    t.equal(refusal(startOperation(at, start({ operatorId: 'P-EVE' }), ctx())).rejection.code, 'not_qualified')
    const after = widgetView().putPerson({ id: 'P-EVE', name: 'Eve', roles: ['operator'], qualifications: [{ code: 'CUT', expiresAt: '2025-06-02T08:00:00.001Z' }], active: true })
    t.ok(startOperation(after, start({ operatorId: 'P-EVE' }), ctx()).ok)
  })
  t.test('an operation without a qualification needs none', async (t) => {
    const ops = withProgress(plannedOperations(widgetRouting, widgetBom), { 10: { qualification: null } })
    t.ok(startOperation(widgetView(ops), start({ operatorId: 'P-BEN' }), ctx()).ok)
  })
})

t.test('a serialized order starts on a unit', async (t) => {
  t.test('accepted start', async (t) => {
    const { events, result } = accepted(startOperation(widgetView(), start(), ctx()))
    t.same(result, { runId: 'run-1' })
    t.same(events, [
      {
        type: 'OperationStarted',
        subject: 'unit/W1-0001',
        data: { runId: 'run-1', orderId: 'W1', opSeq: 10, unitSerial: 'W1-0001', quantity: 1, workCenterId: 'WC-CUT', operatorId: 'P-ANNA' },
      },
    ])
  })
  t.test('the unit is required and must be this order’s', async (t) => {
    const none = refusal(startOperation(widgetView(), start({ unitSerial: null }), ctx())).rejection
    t.equal(none.code, 'unit_required')
    t.match(none.message, /Order 'W1' is serialized; scan the unit to start operation 10/)
    for (const serial of ['W1-9999', 'W0-0001']) {
      const view = widgetView().putUnit(unit('W0-0001', 'in_process', 'W0'))
      const { rejection } = refusal(startOperation(view, start({ unitSerial: serial }), ctx()))
      t.equal(rejection.code, 'unit_unknown', serial)
      t.match(rejection.message, new RegExp(`Unit '${serial}' does not belong to order 'W1'`))
    }
  })
  t.test('a held or scrapped unit does not start', async (t) => {
    const held = refusal(startOperation(widgetView().putUnit(unit('W1-0001', 'held')), start(), ctx())).rejection
    t.equal(held.code, 'unit_on_hold')
    t.match(held.message, /Unit 'W1-0001' is on hold/)
    const scrapped = refusal(startOperation(widgetView().putUnit(unit('W1-0001', 'scrapped')), start(), ctx())).rejection
    t.equal(scrapped.code, 'unit_scrapped')
    t.match(scrapped.message, /Unit 'W1-0001' was scrapped/)
  })
  t.test('an operation runs once per unit', async (t) => {
    const done = refusal(startOperation(widgetView().putRun(run('R1', { state: 'completed' })), start(), ctx())).rejection
    t.equal(done.code, 'operation_done')
    t.match(done.message, /Operation 10 is already complete for unit 'W1-0001'/)
    for (const state of ['running', 'paused'] as const) {
      const busy = refusal(startOperation(widgetView().putRun(run('R1', { state })), start(), ctx())).rejection
      t.equal(busy.code, 'unit_busy', state)
      t.match(busy.message, /Operation 10 is already running on unit 'W1-0001'/)
      t.same(busy.details, { runId: 'R1' })
    }
    t.ok(startOperation(widgetView().putRun(run('R1', { unitSerial: 'W1-0002' })), start(), ctx()).ok, 'another unit is free')
  })
  t.test('operations follow the routing on each unit', async (t) => {
    const second = start({ opSeq: 20, workCenterId: 'WC-ASM', operatorId: 'P-BEN' })
    const notStarted = refusal(startOperation(widgetView(), second, ctx())).rejection
    t.equal(notStarted.code, 'out_of_sequence')
    t.match(notStarted.message, /Operation 10 \(Cut\) must be completed on unit 'W1-0001' before operation 20 can start/)
    t.same(notStarted.details, { required: 10 })
    const running = refusal(startOperation(widgetView().putRun(run('R1')), second, ctx())).rejection
    t.equal(running.code, 'out_of_sequence', 'the predecessor still running')
    const otherUnit = refusal(startOperation(widgetView().putRun(run('R1', { unitSerial: 'W1-0002', state: 'completed' })), second, ctx())).rejection
    t.equal(otherUnit.code, 'out_of_sequence', 'another unit done does not count')
    const ok = accepted(startOperation(widgetView().putRun(run('R1', { state: 'completed' })), second, ctx()))
    t.same(dataOf(ok.events, 'OperationStarted'), { runId: 'run-1', orderId: 'W1', opSeq: 20, unitSerial: 'W1-0001', quantity: 1, workCenterId: 'WC-ASM', operatorId: 'P-BEN' })
  })
  t.test('an overlapping operation may start once its predecessor has', async (t) => {
    const ops = withProgress(plannedOperations(widgetRouting, widgetBom), { 20: { allowOverlap: true } })
    const second = start({ opSeq: 20, workCenterId: 'WC-ASM', operatorId: 'P-BEN' })
    t.ok(startOperation(widgetView(ops).putRun(run('R1')), second, ctx()).ok, 'predecessor running')
    t.equal(refusal(startOperation(widgetView(ops), second, ctx())).rejection.code, 'out_of_sequence', 'predecessor not started')
  })
})

t.test('a lot-based order starts for a quantity', async (t) => {
  const pasteView = (progress: Record<number, Partial<OrderOperation>> = {}) =>
    masterView().putOrder(pasteOrder({ state: 'in_progress' }), withProgress(plannedOperations(pasteRouting, pasteBom), progress))
  const mix = (more: Partial<StartCommand> = {}) => start({ orderId: 'P1', unitSerial: null, operatorId: 'P-BEN', ...more })
  const fill = (more: Partial<StartCommand> = {}) => mix({ opSeq: 20, workCenterId: 'WC-ASM', ...more })

  t.test('without a unit', async (t) => {
    const { rejection } = refusal(startOperation(pasteView(), mix({ unitSerial: 'W1-0001' }), ctx()))
    t.equal(rejection.code, 'unit_unknown')
    t.match(rejection.message, /Order 'P1' is not serialized; start it for a quantity/)
  })
  t.test('the first operation starts the whole order or a part of it', async (t) => {
    const all = accepted(startOperation(pasteView(), mix(), ctx()))
    t.same(all.events, [
      { type: 'OperationStarted', subject: 'order/P1', data: { runId: 'run-1', orderId: 'P1', opSeq: 10, unitSerial: null, quantity: 100, workCenterId: 'WC-CUT', operatorId: 'P-BEN' } },
    ])
    t.equal(dataOf(accepted(startOperation(pasteView(), mix({ quantity: 40 }), ctx())).events, 'OperationStarted').quantity, 40)
  })
  t.test('never more than is left, never nothing', async (t) => {
    const view = pasteView({ 10: { state: 'in_progress', qtyStarted: 60 } })
    t.equal(dataOf(accepted(startOperation(view, mix(), ctx())).events, 'OperationStarted').quantity, 40)
    t.ok(startOperation(view, mix({ quantity: 40 }), ctx()).ok)
    for (const quantity of [41, 0, -1]) {
      const { rejection } = refusal(startOperation(view, mix({ quantity }), ctx()))
      t.equal(rejection.code, 'quantity_exceeded', String(quantity))
      t.match(rejection.message, /Operation 10 can start at most 40 more of order 'P1'/)
      t.same(rejection.details, { available: 40 })
    }
    const full = refusal(startOperation(pasteView({ 10: { qtyStarted: 100 } }), mix(), ctx())).rejection
    t.equal(full.code, 'quantity_exceeded')
    t.match(full.message, /at most 0 more/)
  })
  t.test('a later operation takes only what its predecessor finished', async (t) => {
    const waiting = refusal(startOperation(pasteView({ 10: { state: 'in_progress', qtyStarted: 50 } }), fill(), ctx())).rejection
    t.equal(waiting.code, 'out_of_sequence')
    t.match(waiting.message, /Operation 10 \(Mix\) has no finished quantity waiting for operation 20/)
    t.same(waiting.details, { required: 10 })
    const partly = pasteView({ 10: { state: 'in_progress', qtyStarted: 50, qtyGood: 30 } })
    t.equal(dataOf(accepted(startOperation(partly, fill(), ctx())).events, 'OperationStarted').quantity, 30)
    t.equal(refusal(startOperation(partly, fill({ quantity: 31 }), ctx())).rejection.code, 'quantity_exceeded')
    const caughtUp = pasteView({ 10: { state: 'in_progress', qtyStarted: 50, qtyGood: 30 }, 20: { qtyStarted: 30 } })
    t.equal(refusal(startOperation(caughtUp, fill(), ctx())).rejection.code, 'out_of_sequence', 'all finished quantity already taken')
  })
  t.test('after the predecessor is done, nothing more is waiting', async (t) => {
    const view = pasteView({ 10: { state: 'completed', qtyStarted: 100, qtyGood: 95, qtyScrap: 5 }, 20: { qtyStarted: 95 } })
    const { rejection } = refusal(startOperation(view, fill(), ctx()))
    t.equal(rejection.code, 'quantity_exceeded')
    t.same(rejection.details, { available: 0 })
  })
  t.test('an overlapping operation takes what its predecessor started', async (t) => {
    const ops = { 10: { state: 'in_progress' as const, qtyStarted: 50 }, 20: { allowOverlap: true } }
    t.equal(dataOf(accepted(startOperation(pasteView(ops), fill(), ctx())).events, 'OperationStarted').quantity, 50)
    const nothingStarted = refusal(startOperation(pasteView({ 20: { allowOverlap: true } }), fill(), ctx())).rejection
    t.equal(nothingStarted.code, 'out_of_sequence')
  })
})
