// Work on a running operation: pause and resume, material consumption against the BOM, measurements against limits.
import t from 'tap'
import { consumeMaterial, pauseOperation, recordMeasurement, resumeOperation } from '../execution.ts'
import { accepted, dataOf, masterView, NOW, pasteBom, pasteOrder, pasteRouting, plannedOperations, refusal, run, types, unit, widgetBom, widgetOrder, widgetRouting, withProgress } from './fixture.ts'
import { fixedContext } from './memory-view.ts'

const ctx = () => fixedContext(NOW, 'nc')
const lineView = () =>
  masterView()
    .putOrder(widgetOrder({ state: 'in_progress' }), plannedOperations(widgetRouting, widgetBom))
    .putOrder(pasteOrder({ state: 'in_progress' }), plannedOperations(pasteRouting, pasteBom))
    .putUnit(unit('W1-0001'))
    .putRun(run('R10'))
    .putRun(run('R20', { opSeq: 20, workCenterId: 'WC-ASM' }))
    .putRun(run('RP', { orderId: 'P1', unitSerial: null, quantity: 10 }))
    .putRun(run('R-PAUSED', { unitSerial: 'W1-0002', state: 'paused' }))
    .putRun(run('R-DONE', { unitSerial: 'W1-0003', state: 'completed' }))

t.test('pause and resume', async (t) => {
  const view = lineView()
  t.same(accepted(pauseOperation(view, 'R10', 'material shortage')).events, [
    { type: 'OperationPaused', subject: 'run/R10', data: { runId: 'R10', reason: 'material shortage' } },
  ])
  t.same(accepted(resumeOperation(view, 'R-PAUSED')).events, [{ type: 'OperationResumed', subject: 'run/R-PAUSED', data: { runId: 'R-PAUSED' } }])
  const pausePaused = refusal(pauseOperation(view, 'R-PAUSED', 'x')).rejection
  t.equal(pausePaused.code, 'run_state')
  t.match(pausePaused.message, /Run 'R-PAUSED' is paused; it can be paused only when running/)
  t.equal(refusal(pauseOperation(view, 'R-DONE', 'x')).rejection.code, 'run_state')
  const resumeRunning = refusal(resumeOperation(view, 'R10')).rejection
  t.equal(resumeRunning.code, 'run_state')
  t.match(resumeRunning.message, /Run 'R10' is running; it can be resumed only when paused/)
  const missing = refusal(pauseOperation(view, 'R-NOPE', 'x')).rejection
  t.equal(missing.code, 'not_found')
  t.match(missing.message, /There is no run 'R-NOPE'/)
  t.test('a run of a held order stays paused', async (t) => {
    const held = lineView().putOrder(widgetOrder({ state: 'held', heldFrom: 'in_progress' }), plannedOperations(widgetRouting, widgetBom))
    const { rejection } = refusal(resumeOperation(held, 'R-PAUSED'))
    t.equal(rejection.code, 'order_state')
    t.match(rejection.message, /Order 'W1' is on hold/)
  })
})

t.test('consuming material', async (t) => {
  const view = lineView()
  const consume = (lotId: string, quantity: number, runId = 'R10') => consumeMaterial(view, runId, { lotId, quantity }, ctx())

  t.test('a released lot of the component goes into the unit', async (t) => {
    const { events } = accepted(consume('LOT-STEEL', 2))
    t.same(events, [
      {
        type: 'MaterialConsumed',
        subject: 'lot/LOT-STEEL',
        data: { runId: 'R10', orderId: 'W1', opSeq: 10, producedKind: 'unit', producedId: 'W1-0001', consumedKind: 'lot', consumedId: 'LOT-STEEL', materialId: 'RM-STEEL', quantity: 2 },
      },
    ])
  })
  t.test('an approved alternate is accepted under its own material', async (t) => {
    const data = dataOf(accepted(consume('LOT-ALT', 2)).events, 'MaterialConsumed')
    t.equal(data.materialId, 'RM-STEEL-ALT')
    t.equal(data.consumedId, 'LOT-ALT')
  })
  t.test('on a lot-based order it goes into the output lot', async (t) => {
    const data = dataOf(accepted(consume('LOT-RESIN', 5, 'RP')).events, 'MaterialConsumed')
    t.same([data.producedKind, data.producedId, data.orderId], ['lot', 'P1-OUT', 'P1'])
  })
  t.test('the whole lot may be used, no more', async (t) => {
    t.ok(consume('LOT-STEEL', 10).ok)
    const { rejection } = refusal(consume('LOT-STEEL', 11))
    t.equal(rejection.code, 'lot_insufficient')
    t.match(rejection.message, /Lot 'LOT-STEEL' has 10 on hand; 11 were asked for/)
    t.same(rejection.details, { lotId: 'LOT-STEEL', onHand: 10 })
  })
  t.test('refusals name the lot and are recorded', async (t) => {
    const cases: [string, string, RegExp][] = [
      ['LOT-NOPE', 'lot_unknown', /'LOT-NOPE' is not a known lot or unit/],
      ['LOT-BOLT', 'lot_wrong_material', /Lot 'LOT-BOLT' is RM-BOLT; operation 10 takes RM-STEEL/],
      ['LOT-QUAR', 'lot_not_released', /Lot 'LOT-QUAR' is quarantined; only a released lot may be used/],
      ['LOT-REJ', 'lot_not_released', /Lot 'LOT-REJ' is rejected/],
      ['LOT-OLD', 'lot_expired', /Lot 'LOT-OLD' expired on 2024-12-31/],
      ['LOT-NOW', 'lot_expired', /Lot 'LOT-NOW' expired/],
    ]
    for (const [lotId, code, message] of cases) {
      const { rejection, record } = refusal(consume(lotId, 1))
      t.equal(rejection.code, code, lotId)
      t.match(rejection.message, message, lotId)
      t.same(record, [
        { type: 'ConsumptionRefused', subject: `lot/${lotId}`, data: { runId: 'R10', orderId: 'W1', opSeq: 10, lotId, quantity: 1, code, reason: rejection.message } },
      ], `${lotId} is recorded`)
    }
  })
  t.test('an operation with no components takes nothing', async (t) => {
    const v = lineView().putRun(run('R30', { opSeq: 30, workCenterId: 'WC-TST' }))
    const { rejection } = refusal(consumeMaterial(v, 'R30', { lotId: 'LOT-STEEL', quantity: 1 }, ctx()))
    t.equal(rejection.code, 'lot_wrong_material')
    t.match(rejection.message, /operation 30 takes no material/)
  })
  t.test('only on a running run', async (t) => {
    for (const runId of ['R-PAUSED', 'R-DONE']) {
      const { rejection, record } = refusal(consume('LOT-STEEL', 1, runId))
      t.equal(rejection.code, 'run_state', runId)
      t.match(rejection.message, new RegExp(`Run '${runId}' is \\w+; it can be booked against only when running`))
      t.same(record, [], 'a refused command on a stopped run is not recorded')
    }
    t.equal(refusal(consume('LOT-STEEL', 1, 'R-NOPE')).rejection.code, 'not_found')
  })
})

t.test('building in a serialized unit', async (t) => {
  const kitOps = withProgress(plannedOperations(pasteRouting, pasteBom), { 10: { components: [{ materialId: 'FG-WIDGET', quantityPer: 1 }], alternates: {} } })
  const view = lineView()
    .putOrder(pasteOrder({ state: 'in_progress' }), kitOps)
    .putOrder(widgetOrder({ id: 'W9', state: 'completed' }), [])
    .putUnit(unit('W9-0001', 'completed', 'W9'))
    .putUnit(unit('W9-0002', 'in_process', 'W9'))
    .putUnit(unit('W9-0003', 'consumed', 'W9'))
  const build = (serial: string, quantity = 1) => consumeMaterial(view, 'RP', { lotId: serial, quantity }, ctx())
  t.same(accepted(build('W9-0001')).events, [
    {
      type: 'MaterialConsumed',
      subject: 'unit/W9-0001',
      data: { runId: 'RP', orderId: 'P1', opSeq: 10, producedKind: 'lot', producedId: 'P1-OUT', consumedKind: 'unit', consumedId: 'W9-0001', materialId: 'FG-WIDGET', quantity: 1 },
    },
  ])
  for (const [serial, state] of [['W9-0002', 'in_process'], ['W9-0003', 'consumed']] as const) {
    const { rejection, record } = refusal(build(serial))
    t.equal(rejection.code, 'lot_not_released', serial)
    t.match(rejection.message, new RegExp(`Unit '${serial}' is ${state}; only a completed unit can be built in`))
    t.equal(record[0]?.type, 'ConsumptionRefused')
  }
  const two = refusal(build('W9-0001', 2)).rejection
  t.equal(two.code, 'lot_insufficient')
  t.match(two.message, /consumed one at a time/)
  const wrong = refusal(consumeMaterial(view, 'R10', { lotId: 'W9-0001', quantity: 1 }, ctx())).rejection
  t.equal(wrong.code, 'lot_wrong_material')
  t.match(wrong.message, /Unit 'W9-0001' is FG-WIDGET, which operation 10 does not use/)
})

t.test('measurements', async (t) => {
  const view = lineView()
  const measure = (runId: string, name: string, value: number, unitName: string) => recordMeasurement(view, runId, { name, value, unit: unitName }, ctx())

  t.test('unknown name and wrong unit are refused', async (t) => {
    const unknown = refusal(measure('R20', 'diameter', 4, 'mm')).rejection
    t.equal(unknown.code, 'measurement_unknown')
    t.match(unknown.message, /Operation 20 takes no measurement 'diameter'/)
    const wrongUnit = refusal(measure('R20', 'torque', 11, 'lbf.ft')).rejection
    t.equal(wrongUnit.code, 'measurement_unit')
    t.match(wrongUnit.message, /'torque' is measured in Nm, not lbf\.ft/)
    t.same(wrongUnit.details, { name: 'torque', unit: 'Nm' })
  })
  t.test('within limits, limits included', async (t) => {
    for (const value of [10, 11.3, 12]) {
      const { events, result } = accepted(measure('R20', 'torque', value, 'Nm'))
      t.same(result, { withinLimits: true })
      t.same(events, [
        {
          type: 'MeasurementRecorded',
          subject: 'unit/W1-0001',
          data: { runId: 'R20', orderId: 'W1', opSeq: 20, unitSerial: 'W1-0001', name: 'torque', value, unit: 'Nm', lower: 10, upper: 12, withinLimits: true },
        },
      ])
    }
  })
  t.test('out of limits on a unit opens a nonconformance and holds the unit', async (t) => {
    const { events, result } = accepted(measure('R20', 'torque', 12.5, 'Nm'))
    t.same(result, { withinLimits: false })
    t.same(types(events), ['MeasurementRecorded', 'NonconformanceOpened', 'UnitHeld'])
    t.equal(dataOf(events, 'MeasurementRecorded').withinLimits, false)
    const nc = dataOf(events, 'NonconformanceOpened')
    t.same(nc, { ncId: 'nc-1', orderId: 'W1', opSeq: 20, unitSerial: 'W1-0001', runId: 'R20', reason: 'torque = 12.5 Nm is outside 10 … 12' })
    t.same(dataOf(events, 'UnitHeld'), { serial: 'W1-0001', reason: nc.reason, ncId: 'nc-1' })
    t.equal(events[2]?.subject, 'unit/W1-0001')
    t.same(types(accepted(measure('R20', 'torque', 9.99, 'Nm')).events), ['MeasurementRecorded', 'NonconformanceOpened', 'UnitHeld'], 'below the lower limit too')
  })
  t.test('a unit already on hold is not held twice', async (t) => {
    const held = lineView().putUnit(unit('W1-0001', 'held'))
    const { events, result } = accepted(recordMeasurement(held, 'R20', { name: 'gap', value: 0.5, unit: 'mm' }, ctx()))
    t.same(types(events), ['MeasurementRecorded', 'NonconformanceOpened'])
    t.same(result, { withinLimits: false })
  })
  t.test('out of limits on a lot-based order holds the order', async (t) => {
    const { events } = accepted(measure('RP', 'viscosity', 4.5, 'Pa.s'))
    t.same(types(events), ['MeasurementRecorded', 'NonconformanceOpened', 'OrderHeld'])
    t.equal(events[0]?.subject, 'order/P1')
    t.same(events[2], { type: 'OrderHeld', subject: 'order/P1', data: { orderId: 'P1', reason: 'viscosity = 4.5 Pa.s is outside 2 … 4', from: 'in_progress' } })
    const held = lineView().putOrder(pasteOrder({ state: 'held', heldFrom: 'in_progress' }), plannedOperations(pasteRouting, pasteBom))
    t.same(types(accepted(recordMeasurement(held, 'RP', { name: 'viscosity', value: 1, unit: 'Pa.s' }, ctx())).events), ['MeasurementRecorded', 'NonconformanceOpened'])
  })
  t.test('one-sided limits', async (t) => {
    const v = lineView().putRun(run('R30', { opSeq: 30, workCenterId: 'WC-TST' }))
    t.same(accepted(recordMeasurement(v, 'R30', { name: 'leak', value: -3, unit: 'mbar' }, ctx())).result, { withinLimits: true })
    const out = accepted(recordMeasurement(v, 'R30', { name: 'leak', value: 5.1, unit: 'mbar' }, ctx()))
    t.equal(dataOf(out.events, 'NonconformanceOpened').reason, 'leak = 5.1 mbar is outside -∞ … 5')
  })
  t.test('on a paused run, not on a completed one', async (t) => {
    const paused = lineView().putRun(run('R20', { opSeq: 20, workCenterId: 'WC-ASM', state: 'paused' }))
    t.ok(recordMeasurement(paused, 'R20', { name: 'torque', value: 11, unit: 'Nm' }, ctx()).ok)
    const { rejection } = refusal(measure('R-DONE', 'torque', 11, 'Nm'))
    t.equal(rejection.code, 'run_state')
    t.match(rejection.message, /Run 'R-DONE' is completed; it can be measured only when running or paused/)
  })
})
