// Completing a run: counts, scrap reasons, components and measurements, and operation and order completion.
import t from 'tap'
import { completeOperation } from '../completion.ts'
import type { CompleteCommand } from '../execution.ts'
import type { OrderOperation } from '../model.ts'
import { accepted, dataOf, masterView, NOW, pasteBom, pasteOrder, pasteRouting, plannedOperations, refusal, run, types, unit, widgetBom, widgetOrder, widgetRouting, withProgress } from './fixture.ts'
import { fixedContext } from './memory-view.ts'

const ctx = () => fixedContext(NOW, 'nc')
const cmd = (runId: string, more: Partial<CompleteCommand> = {}): CompleteCommand => ({ runId, good: 1, scrap: 0, scrapReasons: [], consumptions: [], measurements: [], ...more })
const widgetOps = (progress: Record<number, Partial<OrderOperation>> = {}) => withProgress(plannedOperations(widgetRouting, widgetBom), progress)
const pasteOps = (progress: Record<number, Partial<OrderOperation>> = {}) => withProgress(plannedOperations(pasteRouting, pasteBom), progress)
const widgetView = (progress: Record<number, Partial<OrderOperation>> = {}, quantity = 2) =>
  masterView()
    .putOrder(widgetOrder({ state: 'in_progress', quantity }), widgetOps(progress))
    .putUnit(unit('W1-0001'))
    .putRun(run('R10'))
    .putRun(run('R20', { opSeq: 20, workCenterId: 'WC-ASM' }))
    .putRun(run('R30', { opSeq: 30, workCenterId: 'WC-TST', unitSerial: 'W1-0002' }))
const inSpec = [
  { name: 'torque', value: 11, unit: 'Nm' },
  { name: 'gap', value: 0.2, unit: 'mm' },
]

t.test('the run must be running', async (t) => {
  const view = widgetView().putRun(run('R-P', { state: 'paused' })).putRun(run('R-C', { state: 'completed' }))
  for (const runId of ['R-P', 'R-C']) {
    const { rejection } = refusal(completeOperation(view, cmd(runId), ctx()))
    t.equal(rejection.code, 'run_state', runId)
    t.match(rejection.message, new RegExp(`Run '${runId}' is \\w+; it can be completed only when running`))
  }
  t.equal(refusal(completeOperation(view, cmd('R-NOPE'), ctx())).rejection.code, 'not_found')
})

t.test('counts must add up', async (t) => {
  const view = widgetView().putConsumed('R10', 'RM-STEEL', 2)
  for (const [good, scrap] of [[1, 1], [0, 0], [2, 0]] as const) {
    const { rejection } = refusal(completeOperation(view, cmd('R10', { good, scrap, scrapReasons: [{ reason: 'burr', quantity: scrap }] }), ctx()))
    t.equal(rejection.code, 'quantity_exceeded', `${good}+${scrap}`)
    t.match(rejection.message, new RegExp(`Run 'R10' was started for 1; good \\(${good}\\) and scrap \\(${scrap}\\) must add up to it`))
    t.same(rejection.details, { quantity: 1 })
  }
  t.test('scrap needs reasons that add up to it', async (t) => {
    for (const scrapReasons of [[], [{ reason: 'burr', quantity: 2 }]]) {
      const { rejection } = refusal(completeOperation(view, cmd('R10', { good: 0, scrap: 1, scrapReasons }), ctx()))
      t.equal(rejection.code, 'definition_invalid')
      t.match(rejection.message, /Scrap of 1 needs reasons that add up to it/)
    }
    const good = refusal(completeOperation(view, cmd('R10', { scrapReasons: [{ reason: 'burr', quantity: 1 }] }), ctx())).rejection
    t.match(good.message, /Scrap of 0 needs reasons that add up to it; they add up to 1/, 'no reasons without scrap')
    const { events } = accepted(completeOperation(widgetView(), cmd('R10', { good: 0, scrap: 1, scrapReasons: [{ reason: 'burr', quantity: 1 }] }), ctx()))
    t.same(types(events), ['OperationCompleted'], 'all-scrap needs no components')
    t.same(dataOf(events, 'OperationCompleted'), {
      runId: 'R10', orderId: 'W1', opSeq: 10, unitSerial: 'W1-0001', good: 0, scrap: 1, scrapReasons: [{ reason: 'burr', quantity: 1 }], operationCompleted: false,
    })
    t.equal(events[0]?.subject, 'unit/W1-0001')
  })
})

t.test('components for the good quantity', async (t) => {
  t.test('missing components are refused', async (t) => {
    const { rejection } = refusal(completeOperation(widgetView(), cmd('R10'), ctx()))
    t.equal(rejection.code, 'component_missing')
    t.match(rejection.message, /Operation 10 needs 2 of RM-STEEL for 1 good; 0 were booked/)
    t.same(rejection.details, { materialId: 'RM-STEEL', need: 2, got: 0 })
    const short = refusal(completeOperation(widgetView(), cmd('R10', { consumptions: [{ lotId: 'LOT-STEEL', quantity: 1.5 }] }), ctx())).rejection
    t.same(short.details, { materialId: 'RM-STEEL', need: 2, got: 1.5 })
  })
  t.test('booked earlier, in the command, or as an alternate', async (t) => {
    t.ok(completeOperation(widgetView().putConsumed('R10', 'RM-STEEL', 2), cmd('R10'), ctx()).ok, 'booked earlier')
    const inCommand = accepted(completeOperation(widgetView(), cmd('R10', { consumptions: [{ lotId: 'LOT-STEEL', quantity: 2 }] }), ctx()))
    t.same(types(inCommand.events), ['MaterialConsumed', 'OperationCompleted'])
    t.same(dataOf(inCommand.events, 'MaterialConsumed').quantity, 2)
    const mixed = completeOperation(widgetView().putConsumed('R10', 'RM-STEEL', 1), cmd('R10', { consumptions: [{ lotId: 'LOT-ALT', quantity: 1 }] }), ctx())
    t.ok(mixed.ok, 'one of the part and one of its alternate')
  })
  t.test('fractions are compared with a tolerance', async (t) => {
    const ops = pasteOps({ 10: { components: [{ materialId: 'RM-RESIN', quantityPer: 0.1 }], measurements: [] } })
    const view = masterView().putOrder(pasteOrder({ state: 'in_progress' }), ops).putRun(run('RP', { orderId: 'P1', unitSerial: null, quantity: 3 })).putConsumed('RP', 'RM-RESIN', 0.3)
    t.ok(completeOperation(view, cmd('RP', { good: 3 }), ctx()).ok, '0.1 × 3 is met by 0.3')
    t.equal(refusal(completeOperation(view.putConsumed('RP', 'RM-RESIN', -0.01), cmd('RP', { good: 3 }), ctx())).rejection.code, 'component_missing')
  })
  t.test('a refused consumption refuses the completion and is recorded', async (t) => {
    const { rejection, record } = refusal(completeOperation(widgetView(), cmd('R10', { consumptions: [{ lotId: 'LOT-QUAR', quantity: 2 }] }), ctx()))
    t.equal(rejection.code, 'lot_not_released')
    t.same(record, [
      { type: 'ConsumptionRefused', subject: 'lot/LOT-QUAR', data: { runId: 'R10', orderId: 'W1', opSeq: 10, lotId: 'LOT-QUAR', quantity: 2, code: 'lot_not_released', reason: rejection.message } },
    ])
  })
  t.test('one lot cannot be spent twice in one command', async (t) => {
    const twice = [{ lotId: 'LOT-STEEL', quantity: 6 }, { lotId: 'LOT-STEEL', quantity: 6 }]
    const { rejection, record } = refusal(completeOperation(widgetView(), cmd('R10', { consumptions: twice }), ctx()))
    t.equal(rejection.code, 'lot_insufficient')
    t.match(rejection.message, /Lot 'LOT-STEEL' has 4 on hand; 6 were asked for/)
    t.equal(dataOf(record, 'ConsumptionRefused').code, 'lot_insufficient')
    t.ok(completeOperation(widgetView(), cmd('R10', { consumptions: [{ lotId: 'LOT-STEEL', quantity: 5 }, { lotId: 'LOT-STEEL', quantity: 5 }] }), ctx()).ok, 'up to the lot quantity')
  })
  t.test('one unit cannot be built in twice in one command', async (t) => {
    const ops = pasteOps({ 10: { components: [{ materialId: 'FG-WIDGET', quantityPer: 1 }], alternates: {}, measurements: [] } })
    const view = masterView()
      .putOrder(pasteOrder({ state: 'in_progress' }), ops)
      .putOrder(widgetOrder({ id: 'W9', state: 'completed' }), [])
      .putUnit(unit('W9-0001', 'completed', 'W9'))
      .putRun(run('RP', { orderId: 'P1', unitSerial: null, quantity: 2 }))
    const same = [{ lotId: 'W9-0001', quantity: 1 }, { lotId: 'W9-0001', quantity: 1 }]
    const { rejection, record } = refusal(completeOperation(view, cmd('RP', { good: 2, consumptions: same }), ctx()))
    t.equal(rejection.code, 'lot_insufficient')
    t.match(rejection.message, /Unit 'W9-0001' is already built in by this booking/)
    t.equal(dataOf(record, 'ConsumptionRefused').lotId, 'W9-0001')
  })
})

t.test('required measurements', async (t) => {
  const bolts = widgetView().putConsumed('R20', 'RM-BOLT', 4)
  const both = refusal(completeOperation(bolts, cmd('R20'), ctx())).rejection
  t.equal(both.code, 'measurement_missing')
  t.match(both.message, /Operation 20 needs the measurements torque, gap before it completes/)
  t.same(both.details, { missing: ['torque', 'gap'] })
  const one = refusal(completeOperation(widgetView().putConsumed('R20', 'RM-BOLT', 4).putMeasured('R20', 'torque'), cmd('R20'), ctx())).rejection
  t.match(one.message, /needs the measurement gap before/)
  const scrapOnly = refusal(completeOperation(bolts, cmd('R20', { good: 0, scrap: 1, scrapReasons: [{ reason: 'crack', quantity: 1 }] }), ctx())).rejection
  t.equal(scrapOnly.code, 'measurement_missing', 'a scrapped unit is measured too')
  const earlier = widgetView().putConsumed('R20', 'RM-BOLT', 4).putMeasured('R20', 'torque').putMeasured('R20', 'gap')
  t.same(types(accepted(completeOperation(earlier, cmd('R20'), ctx())).events), ['OperationCompleted'], 'taken earlier on the run')
  const withCommand = accepted(completeOperation(bolts, cmd('R20', { measurements: inSpec }), ctx()))
  t.same(types(withCommand.events), ['MeasurementRecorded', 'MeasurementRecorded', 'OperationCompleted'])
  t.same(withCommand.result.nonconformances, [])
  const unknown = refusal(completeOperation(bolts, cmd('R20', { measurements: [...inSpec, { name: 'colour', value: 1, unit: '' }] }), ctx())).rejection
  t.equal(unknown.code, 'measurement_unknown')
  t.match(unknown.message, /no measurement 'colour'/)
})

t.test('out-of-limit values in a completion: one nonconformance each, one hold', async (t) => {
  const view = widgetView({ 10: { state: 'completed', qtyGood: 2 } })
  const bad = [
    { name: 'torque', value: 13, unit: 'Nm' },
    { name: 'gap', value: 0.5, unit: 'mm' },
  ]
  const { events, result } = accepted(completeOperation(view, cmd('R20', { consumptions: [{ lotId: 'LOT-BOLT', quantity: 4 }], measurements: bad }), ctx()))
  t.same(types(events), ['MaterialConsumed', 'MeasurementRecorded', 'NonconformanceOpened', 'UnitHeld', 'MeasurementRecorded', 'NonconformanceOpened', 'OperationCompleted'])
  t.same(result, { runId: 'R20', operationCompleted: false, orderCompleted: false, nonconformances: ['nc-1', 'nc-2'] })
})

t.test('when an operation is complete', async (t) => {
  const first = (progress: Record<number, Partial<OrderOperation>>) =>
    accepted(completeOperation(widgetView(progress).putConsumed('R10', 'RM-STEEL', 2), cmd('R10'), ctx())).result.operationCompleted
  t.equal(first({}), false, 'one of two units done')
  t.equal(first({ 10: { state: 'in_progress', qtyGood: 1 } }), true, 'the other unit was good')
  t.equal(first({ 10: { state: 'in_progress', qtyScrap: 1 } }), true, 'the other unit was scrapped')
  const r20 = (progress: Record<number, Partial<OrderOperation>>) =>
    accepted(completeOperation(widgetView(progress).putConsumed('R20', 'RM-BOLT', 4), cmd('R20', { measurements: inSpec }), ctx())).result.operationCompleted
  t.equal(r20({ 10: { state: 'in_progress', qtyGood: 1 }, 20: { qtyGood: 1 } }), false, 'not while its predecessor is open')
  t.equal(r20({ 10: { state: 'completed', qtyGood: 1, qtyScrap: 1 }, 20: {} }), true, 'all the predecessor’s good quantity is through')
})

t.test('completing a serialized order', async (t) => {
  const view = widgetView({ 10: { state: 'completed', qtyGood: 2 }, 20: { state: 'completed', qtyGood: 2 }, 30: { state: 'in_progress', qtyGood: 1 } })
  const { events, result } = accepted(completeOperation(view, cmd('R30', { measurements: [{ name: 'leak', value: 2, unit: 'mbar' }] }), ctx()))
  t.same(types(events), ['MeasurementRecorded', 'OperationCompleted', 'OrderCompleted'])
  t.equal(dataOf(events, 'OperationCompleted').operationCompleted, true)
  t.same(events.at(-1), { type: 'OrderCompleted', subject: 'order/W1', data: { orderId: 'W1', good: 2, scrap: 0 } })
  t.same(result, { runId: 'R30', operationCompleted: true, orderCompleted: true, nonconformances: [] })
  const scrapped = widgetView({ 10: { state: 'completed', qtyGood: 2, qtyScrap: 1 }, 20: { state: 'completed', qtyGood: 2 }, 30: { qtyGood: 1 } }, 3)
  const last = accepted(completeOperation(scrapped, cmd('R30', { good: 0, scrap: 1, scrapReasons: [{ reason: 'leak', quantity: 1 }], measurements: [{ name: 'leak', value: 2, unit: 'mbar' }] }), ctx()))
  t.same(dataOf(last.events, 'OrderCompleted'), { orderId: 'W1', good: 1, scrap: 2 })
})

t.test('completing a lot-based order', async (t) => {
  const view = (fill: Partial<OrderOperation>, quantity: number, state: 'in_progress' | 'held' = 'in_progress') =>
    masterView()
      .putOrder(pasteOrder({ state, heldFrom: state === 'held' ? 'in_progress' : null }), pasteOps({ 10: { state: 'completed', qtyStarted: 100, qtyGood: 95, qtyScrap: 5 }, 20: { state: 'in_progress', ...fill } }))
      .putRun(run('RF', { orderId: 'P1', opSeq: 20, unitSerial: null, quantity, workCenterId: 'WC-ASM' }))
  t.test('the output lot is produced with the good quantity', async (t) => {
    const { events, result } = accepted(completeOperation(view({ qtyGood: 50 }, 45), cmd('RF', { good: 44, scrap: 1, scrapReasons: [{ reason: 'spill', quantity: 1 }] }), ctx()))
    t.same(types(events), ['OperationCompleted', 'OutputLotProduced', 'OrderCompleted'])
    t.equal(events[0]?.subject, 'order/P1')
    t.same(events[1], { type: 'OutputLotProduced', subject: 'lot/P1-OUT', data: { lotId: 'P1-OUT', orderId: 'P1', materialId: 'FG-PASTE', quantity: 94 } })
    t.same(dataOf(events, 'OrderCompleted'), { orderId: 'P1', good: 94, scrap: 6 })
    t.equal(result.orderCompleted, true)
  })
  t.test('nothing good, no output lot', async (t) => {
    const { events } = accepted(completeOperation(view({}, 95), cmd('RF', { good: 0, scrap: 95, scrapReasons: [{ reason: 'contaminated', quantity: 95 }] }), ctx()))
    t.same(types(events), ['OperationCompleted', 'OrderCompleted'])
    t.same(dataOf(events, 'OrderCompleted'), { orderId: 'P1', good: 0, scrap: 100 })
  })
  t.test('a held order does not complete', async (t) => {
    const { events, result } = accepted(completeOperation(view({ qtyGood: 50 }, 45, 'held'), cmd('RF', { good: 45 }), ctx()))
    t.same(types(events), ['OperationCompleted'])
    t.same([result.operationCompleted, result.orderCompleted], [true, false])
  })
  t.test('a nonconformance on the last operation holds the order instead of completing it', async (t) => {
    const single = masterView()
      .putOrder(pasteOrder({ state: 'in_progress', quantity: 10 }), pasteOps().slice(0, 1))
      .putRun(run('RP', { orderId: 'P1', unitSerial: null, quantity: 10 }))
      .putConsumed('RP', 'RM-RESIN', 5)
    const { events, result } = accepted(completeOperation(single, cmd('RP', { good: 10, measurements: [{ name: 'viscosity', value: 9, unit: 'Pa.s' }] }), ctx()))
    t.same(types(events), ['MeasurementRecorded', 'NonconformanceOpened', 'OrderHeld', 'OperationCompleted'])
    t.same(result, { runId: 'RP', operationCompleted: true, orderCompleted: false, nonconformances: ['nc-1'] })
  })
})
