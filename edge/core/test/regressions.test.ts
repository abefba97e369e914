// Regression tests for core fixes: serial changes, order validation, overlap, cascade completion, counts, holds, sequence, WIP, canonical JSON.
import t from 'tap'
import { canonicalJson, sameDefinition } from '../canonical-json.ts'
import { completeOperation } from '../completion.ts'
import { consumeMaterial, startOperation, type CompleteCommand, type StartCommand } from '../execution.ts'
import type { OrderOperation } from '../model.ts'
import { defineOrder, releaseOrderHold, releaseUnitHold } from '../orders.ts'
import { wipOf } from '../wip.ts'
import {
  accepted,
  dataOf,
  equipment,
  lots,
  masterView,
  materials,
  NOW,
  pasteBom,
  pasteOrder,
  pasteRouting,
  people,
  plannedOperations,
  refusal,
  run,
  types,
  unit,
  widgetBom,
  widgetOrder,
  widgetRequest,
  pasteRequest,
  widgetRouting,
  withProgress,
} from './fixture.ts'
import { fixedContext, MemoryView } from './memory-view.ts'

type Progress = Record<number, Partial<OrderOperation>>
const ctx = () => fixedContext(NOW, 'nc')
const cmd = (runId: string, more: Partial<CompleteCommand> = {}): CompleteCommand => ({ runId, good: 1, scrap: 0, scrapReasons: [], consumptions: [], measurements: [], ...more })
const widgetOps = (progress: Progress = {}) => withProgress(plannedOperations(widgetRouting, widgetBom), progress)
const pasteOps = (progress: Progress = {}) => withProgress(plannedOperations(pasteRouting, pasteBom), progress)
/** The paste routing with a third operation, Pack on WC-TST, that takes no material and no measurement. */
const paste3Ops = (progress: Progress = {}) => {
  const [mix, fill] = plannedOperations(pasteRouting, pasteBom)
  return withProgress([mix!, fill!, { ...fill!, seq: 30, name: 'Pack', workCenterId: 'WC-TST' }], progress)
}
const inSpec = [
  { name: 'torque', value: 11, unit: 'Nm' },
  { name: 'gap', value: 0.2, unit: 'mm' },
]

t.test('1. a new serial list from ERP', async (t) => {
  t.test('replaces the serials of a created order', async (t) => {
    for (const serials of [['SN-1', 'SN-2'], []]) {
      const view = masterView().putOrder(widgetOrder({ state: 'created', serials }), widgetOps())
      const { events, result } = accepted(defineOrder(view, widgetRequest({ serials: ['SN-3', 'SN-4'] })))
      t.same(result, { orderId: 'W1', created: false, changed: true }, `from [${serials}]`)
      t.same(types(events), ['OrderCreated'])
      t.same(dataOf(events, 'OrderCreated').serials, ['SN-3', 'SN-4'])
    }
    const kept = masterView().putOrder(widgetOrder({ state: 'created', serials: ['SN-1', 'SN-2'] }), widgetOps())
    t.same(accepted(defineOrder(kept, widgetRequest({ serials: ['SN-1', 'SN-2'] }))).events, [], 'the same list is no change')
    t.same(accepted(defineOrder(kept, widgetRequest({ serials: [] }))).result, { orderId: 'W1', created: false, changed: false }, 'an empty list is no change')
  })
  t.test('is refused after release; an empty list is not a change', async (t) => {
    for (const state of ['released', 'dispatched', 'in_progress', 'held'] as const) {
      const view = masterView().putOrder(widgetOrder({ state }), widgetOps())
      const { rejection } = refusal(defineOrder(view, widgetRequest({ serials: ['SN-3', 'SN-4'] })))
      t.equal(rejection.code, 'order_routing_locked', state)
      t.match(rejection.message, new RegExp(`Order 'W1' is ${state}; its product, BOM, routing, line and serials are fixed`))
      t.same(defineOrder(view, widgetRequest({ serials: [] })), { ok: true, events: [], result: { orderId: 'W1', created: false, changed: false } }, `empty when ${state}`)
    }
  })
})

t.test('2. order definitions: serials once each, a whole quantity above zero', async (t) => {
  const view = masterView()
  const twice = refusal(defineOrder(view, widgetRequest({ serials: ['A', 'A'] }))).rejection
  t.equal(twice.code, 'definition_invalid')
  t.match(twice.message, /Serial 'A' is sent twice/)
  t.same(twice.details, { field: 'serials' })
  t.same(dataOf(accepted(defineOrder(view, widgetRequest({ serials: ['A', 'B'] }))).events, 'OrderCreated').serials, ['A', 'B'], 'distinct serials')
  for (const quantity of [0, -5, 1.5]) {
    for (const req of [widgetRequest({ quantity }), pasteRequest({ quantity })]) {
      const { rejection } = refusal(defineOrder(view, req))
      t.equal(rejection.code, 'definition_invalid', `${req.productId} ${quantity}`)
      t.match(rejection.message, new RegExp(`whole number above zero, not ${quantity}`))
      t.same(rejection.details, { field: 'quantity' })
    }
  }
  t.ok(defineOrder(view, pasteRequest({ quantity: 1 })).ok, 'quantity 1')
  const existing = masterView().putOrder(pasteOrder({ state: 'created' }), pasteOps())
  t.equal(refusal(defineOrder(existing, pasteRequest({ quantity: 0 }))).rejection.code, 'definition_invalid', 'a change to quantity 0')
})

t.test('3. overlap is the started operation’s own setting', async (t) => {
  const second: StartCommand = { orderId: 'W1', opSeq: 20, unitSerial: 'W1-0001', quantity: null, operatorId: 'P-BEN', workCenterId: 'WC-ASM' }
  const view = (overlap10: boolean, overlap20: boolean) =>
    masterView()
      .putOrder(widgetOrder({ state: 'in_progress' }), widgetOps({ 10: { allowOverlap: overlap10 }, 20: { allowOverlap: overlap20 } }))
      .putUnit(unit('W1-0001'))
      .putRun(run('R1'))
  const { rejection } = refusal(startOperation(view(true, false), second, ctx()))
  t.equal(rejection.code, 'out_of_sequence', 'predecessor overlaps, started operation does not')
  t.same(rejection.details, { required: 10 })
  t.equal(dataOf(accepted(startOperation(view(false, true), second, ctx())).events, 'OperationStarted').opSeq, 20, 'started operation overlaps')
  t.ok(startOperation(view(true, true), second, ctx()).ok, 'both overlap')
})

t.test('4. overlapping successors complete with their predecessor', async (t) => {
  // Mix's last run of 40 finishes; Fill (overlapping) has already processed what reached it.
  const view = (ops: OrderOperation[]) =>
    masterView()
      .putOrder(pasteOrder({ state: 'in_progress' }), ops)
      .putRun(run('RM', { orderId: 'P1', unitSerial: null, quantity: 40 }))
      .putConsumed('RM', 'RM-RESIN', 20)
      .putMeasured('RM', 'viscosity')
  const mix = { state: 'in_progress' as const, qtyStarted: 100, qtyGood: 60 }
  // Unless told otherwise, everything the successor started is finished (no run left open).
  const fill = (more: Partial<OrderOperation>) => ({ allowOverlap: true, state: 'in_progress' as const, ...more, qtyStarted: more.qtyStarted ?? (more.qtyGood ?? 0) + (more.qtyScrap ?? 0) })

  t.test('the last successor done completes the order', async (t) => {
    const { events, result } = accepted(completeOperation(view(pasteOps({ 10: mix, 20: fill({ qtyGood: 100 }) })), cmd('RM', { good: 40 }), ctx()))
    t.same(types(events), ['OperationCompleted', 'OperationClosed', 'OutputLotProduced', 'OrderCompleted'])
    t.equal(dataOf(events, 'OperationCompleted').operationCompleted, true)
    t.same(events[1], { type: 'OperationClosed', subject: 'order/P1', data: { orderId: 'P1', opSeq: 20 } })
    t.same(dataOf(events, 'OutputLotProduced'), { lotId: 'P1-OUT', orderId: 'P1', materialId: 'FG-PASTE', quantity: 100 })
    t.same(dataOf(events, 'OrderCompleted'), { orderId: 'P1', good: 100, scrap: 0 })
    t.same(result, { runId: 'RM', operationCompleted: true, orderCompleted: true, nonconformances: [] })
  })
  t.test('scrap on either side is counted', async (t) => {
    const ops = pasteOps({ 10: mix, 20: fill({ qtyGood: 90, qtyScrap: 5 }) })
    const { events } = accepted(completeOperation(view(ops), cmd('RM', { good: 35, scrap: 5, scrapReasons: [{ reason: 'lumps', quantity: 5 }] }), ctx()))
    t.same(types(events), ['OperationCompleted', 'OperationClosed', 'OutputLotProduced', 'OrderCompleted'])
    t.same(dataOf(events, 'OrderCompleted'), { orderId: 'P1', good: 90, scrap: 10 })
  })
  t.test('a successor with a run still open stays open, so the order cannot complete twice', async (t) => {
    const ops = pasteOps({ 10: mix, 20: fill({ qtyStarted: 100, qtyGood: 95 }) })
    const { events, result } = accepted(completeOperation(view(ops), cmd('RM', { good: 35, scrap: 5, scrapReasons: [{ reason: 'lumps', quantity: 5 }] }), ctx()))
    t.same(types(events), ['OperationCompleted'], 'Fill has 5 in an open run')
    t.same([result.operationCompleted, result.orderCompleted], [true, false])
  })
  t.test('a successor still short of its input stays open', async (t) => {
    const { events, result } = accepted(completeOperation(view(pasteOps({ 10: mix, 20: fill({ qtyGood: 80 }) })), cmd('RM', { good: 40 }), ctx()))
    t.same(types(events), ['OperationCompleted'])
    t.same([result.operationCompleted, result.orderCompleted], [true, false])
  })
  t.test('the cascade runs down the chain as far as operations are done', async (t) => {
    const all = accepted(completeOperation(view(paste3Ops({ 10: mix, 20: fill({ qtyGood: 98, qtyScrap: 2 }), 30: fill({ qtyGood: 98 }) })), cmd('RM', { good: 40 }), ctx()))
    t.same(types(all.events), ['OperationCompleted', 'OperationClosed', 'OperationClosed', 'OutputLotProduced', 'OrderCompleted'])
    t.same(all.events.filter((e) => e.type === 'OperationClosed').map((e) => e.data), [{ orderId: 'P1', opSeq: 20 }, { orderId: 'P1', opSeq: 30 }])
    t.same(dataOf(all.events, 'OrderCompleted'), { orderId: 'P1', good: 98, scrap: 2 })
    const partway = accepted(completeOperation(view(paste3Ops({ 10: mix, 20: fill({ qtyGood: 100 }), 30: fill({ qtyGood: 99 }) })), cmd('RM', { good: 40 }), ctx()))
    t.same(types(partway.events), ['OperationCompleted', 'OperationClosed'], 'Pack has one to go')
    t.equal(partway.result.orderCompleted, false)
  })
})

t.test('5. quantities must be positive, counts whole and not negative', async (t) => {
  const view = masterView().putOrder(widgetOrder({ state: 'in_progress' }), widgetOps()).putUnit(unit('W1-0001')).putRun(run('R10')).putConsumed('R10', 'RM-STEEL', 4)
  for (const quantity of [-5, 0]) {
    const { rejection, record } = refusal(consumeMaterial(view, 'R10', { lotId: 'LOT-STEEL', quantity }, ctx()))
    t.equal(rejection.code, 'definition_invalid', String(quantity))
    t.match(rejection.message, new RegExp(`must be above zero, not ${quantity}`))
    t.same(record, [
      { type: 'ConsumptionRefused', subject: 'lot/LOT-STEEL', data: { runId: 'R10', orderId: 'W1', opSeq: 10, lotId: 'LOT-STEEL', quantity, code: 'definition_invalid', reason: rejection.message } },
    ])
  }
  t.equal(dataOf(accepted(consumeMaterial(view, 'R10', { lotId: 'LOT-STEEL', quantity: 0.5 }, ctx())).events, 'MaterialConsumed').quantity, 0.5, 'a fraction above zero')
  // Each adds up to the run's quantity of 1 with reasons matching the scrap and steel for 2 good booked, so only the sign and wholeness checks refuse them.
  const bad: [string, Partial<CompleteCommand>][] = [
    ['negative scrap', { good: 2, scrap: -1, scrapReasons: [{ reason: 'a', quantity: -1 }] }],
    ['a negative scrap reason', { good: 0, scrap: 1, scrapReasons: [{ reason: 'a', quantity: 3 }, { reason: 'b', quantity: -2 }] }],
    ['fractions', { good: 0.5, scrap: 0.5, scrapReasons: [{ reason: 'a', quantity: 0.5 }] }],
  ]
  for (const [name, more] of bad) {
    const { rejection } = refusal(completeOperation(view, cmd('R10', more), ctx()))
    t.equal(rejection.code, 'definition_invalid', name)
    t.match(rejection.message, /must be whole numbers, zero or more/, name)
  }
  const reasons = [{ reason: 'a', quantity: 1 }, { reason: 'b', quantity: 0 }]
  t.ok(completeOperation(view, cmd('R10', { good: 0, scrap: 1, scrapReasons: reasons }), ctx()).ok, 'whole reasons, a zero among them')
})

t.test('6. completing does not change what the view returned', async (t) => {
  /** A view that hands out its own Set and Map, as a careless store might. */
  class SharedView extends MemoryView {
    readonly measured = new Set(['torque'])
    readonly consumed = new Map([['RM-BOLT', 1]])
    override measuredOnRun() {
      return this.measured
    }
    override consumedOnRun() {
      return this.consumed
    }
  }
  const view = new SharedView({ equipment, materials, boms: [widgetBom], routings: [widgetRouting], people, lots })
    .putOrder(widgetOrder({ state: 'in_progress' }), widgetOps({ 10: { state: 'completed', qtyGood: 2 } }))
    .putUnit(unit('W1-0001'))
    .putRun(run('R20', { opSeq: 20, workCenterId: 'WC-ASM' }))
  const { rejection } = refusal(completeOperation(view, cmd('R20', { measurements: inSpec, consumptions: [{ lotId: 'LOT-BOLT', quantity: 2 }] }), ctx()))
  t.equal(rejection.code, 'component_missing')
  t.same(rejection.details, { materialId: 'RM-BOLT', need: 4, got: 3 }, 'the earlier booking and the command’s count')
  t.same([...view.measuredOnRun()], ['torque'], 'measurements as recorded')
  t.same([...view.consumedOnRun()], [['RM-BOLT', 1]], 'consumption as recorded')
  t.ok(completeOperation(view, cmd('R20', { measurements: [inSpec[1]!], consumptions: [{ lotId: 'LOT-BOLT', quantity: 3 }] }), ctx()).ok, 'torque recorded earlier still counts')
  t.same([[...view.measured], [...view.consumed]], [['torque'], [['RM-BOLT', 1]]], 'nor on acceptance')
})

t.test('7. holds keep an order from completing until they are released', async (t) => {
  const leak = (value: number) => [{ name: 'leak', value, unit: 'mbar' }]
  const lastUnit = (firstUnit: 'completed' | 'held' = 'completed') =>
    masterView()
      .putOrder(widgetOrder({ state: 'in_progress' }), widgetOps({ 10: { state: 'completed', qtyGood: 2 }, 20: { state: 'completed', qtyGood: 2 }, 30: { state: 'in_progress', qtyGood: 1 } }))
      .putUnit(unit('W1-0001', firstUnit))
      .putUnit(unit('W1-0002'))
      .putRun(run('R30', { opSeq: 30, workCenterId: 'WC-TST', unitSerial: 'W1-0002' }))
  t.test('completing the last unit', async (t) => {
    const held = accepted(completeOperation(lastUnit(), cmd('R30', { measurements: leak(9) }), ctx()))
    t.same(types(held.events), ['MeasurementRecorded', 'NonconformanceOpened', 'UnitHeld', 'OperationCompleted'], 'out of limits')
    t.same([held.result.operationCompleted, held.result.orderCompleted], [true, false])
    const other = accepted(completeOperation(lastUnit('held'), cmd('R30', { measurements: leak(2) }), ctx()))
    t.same(types(other.events), ['MeasurementRecorded', 'OperationCompleted'], 'another unit held')
    t.same([other.result.operationCompleted, other.result.orderCompleted], [true, false])
    t.same(types(accepted(completeOperation(lastUnit(), cmd('R30', { measurements: leak(2) }), ctx())).events), ['MeasurementRecorded', 'OperationCompleted', 'OrderCompleted'], 'no hold')
  })
  t.test('releasing a unit hold', async (t) => {
    const done = widgetOps({ 10: { state: 'completed', qtyGood: 2 }, 20: { state: 'completed', qtyGood: 2 }, 30: { state: 'completed', qtyGood: 2 } })
    const view = (second: 'completed' | 'held', more: Parameters<typeof widgetOrder>[0] = {}, ops = done) =>
      masterView().putOrder(widgetOrder({ state: 'in_progress', ...more }), ops).putUnit(unit('W1-0001', 'held')).putUnit(unit('W1-0002', second))
    const { events } = accepted(releaseUnitHold(view('completed'), 'W1-0001', 'NC closed'))
    t.same(types(events), ['UnitHoldReleased', 'OrderCompleted'])
    t.same(events[1], { type: 'OrderCompleted', subject: 'order/W1', data: { orderId: 'W1', good: 2, scrap: 0 } })
    t.same(types(accepted(releaseUnitHold(view('held'), 'W1-0001', 'ok')).events), ['UnitHoldReleased'], 'another unit still held')
    t.same(types(accepted(releaseUnitHold(view('completed', { state: 'held', heldFrom: 'in_progress' }), 'W1-0001', 'ok')).events), ['UnitHoldReleased'], 'the order held')
    const open = withProgress(done, { 30: { state: 'in_progress', qtyGood: 1 } })
    t.same(types(accepted(releaseUnitHold(view('completed', {}, open), 'W1-0001', 'ok')).events), ['UnitHoldReleased'], 'an operation open')
    t.same(types(accepted(releaseUnitHold(view('completed', { state: 'completed' }), 'W1-0001', 'ok')).events), ['UnitHoldReleased'], 'already completed')
  })
  t.test('releasing an order hold', async (t) => {
    const done = pasteOps({ 10: { state: 'completed', qtyGood: 100 }, 20: { state: 'completed', qtyGood: 99, qtyScrap: 1 } })
    const lot = accepted(releaseOrderHold(masterView().putOrder(pasteOrder({ state: 'held', heldFrom: 'in_progress' }), done), 'P1', 'ok'))
    t.same(types(lot.events), ['OrderHoldReleased', 'OutputLotProduced', 'OrderCompleted'])
    t.same(dataOf(lot.events, 'OrderCompleted'), { orderId: 'P1', good: 99, scrap: 1 })
    const widgets = widgetOps({ 10: { state: 'completed', qtyGood: 2 }, 20: { state: 'completed', qtyGood: 2 }, 30: { state: 'completed', qtyGood: 2 } })
    const serialized = masterView().putOrder(widgetOrder({ state: 'held', heldFrom: 'in_progress' }), widgets).putUnit(unit('W1-0001', 'completed'))
    t.same(types(accepted(releaseOrderHold(serialized, 'W1', 'ok')).events), ['OrderHoldReleased', 'OrderCompleted'], 'no unit held')
    t.same(types(accepted(releaseOrderHold(serialized.putUnit(unit('W1-0002', 'held')), 'W1', 'ok')).events), ['OrderHoldReleased'], 'a unit still held')
  })
})

t.test('8. an exhausted supply behind a completed predecessor is quantity_exceeded', async (t) => {
  const pack: StartCommand = { orderId: 'P1', opSeq: 30, unitSerial: null, quantity: null, operatorId: 'P-BEN', workCenterId: 'WC-TST' }
  const view = (progress: Progress) => masterView().putOrder(pasteOrder({ state: 'in_progress', quantity: 10 }), paste3Ops(progress))
  const mixed = { state: 'completed' as const, qtyStarted: 10, qtyGood: 8, qtyScrap: 2 }
  const exhausted = refusal(startOperation(view({ 10: mixed, 20: { state: 'completed', qtyStarted: 8, qtyGood: 8 }, 30: { state: 'in_progress', qtyStarted: 8 } }), pack, ctx())).rejection
  t.equal(exhausted.code, 'quantity_exceeded')
  t.match(exhausted.message, /Operation 30 can start at most 0 more of order 'P1'/)
  t.same(exhausted.details, { available: 0 })
  const waiting = refusal(startOperation(view({ 10: mixed, 20: { state: 'in_progress', qtyStarted: 8, qtyGood: 6 }, 30: { state: 'in_progress', qtyStarted: 6 } }), pack, ctx())).rejection
  t.equal(waiting.code, 'out_of_sequence', 'Fill still running, nothing waiting')
  t.match(waiting.message, /Operation 20 \(Fill\) has no finished quantity waiting for operation 30/)
  t.same(waiting.details, { required: 20 })
  const some = accepted(startOperation(view({ 10: mixed, 20: { state: 'in_progress', qtyStarted: 8, qtyGood: 6 }, 30: { state: 'in_progress', qtyStarted: 4 } }), pack, ctx()))
  t.equal(dataOf(some.events, 'OperationStarted').quantity, 2, 'what is waiting can start')
})

t.test('9. an open order past due without standard time is late', async (t) => {
  const now = new Date(NOW)
  const at = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString()
  const noStandard = pasteOps().map((o) => ({ ...o, setupTimeS: 0, idealCycleTimeS: 0 }))
  const wip = (more: Parameters<typeof pasteOrder>[0]) => wipOf(pasteOrder({ state: 'in_progress', ...more }), noStandard, { actualS: 0, standardS: 0 }, new Map(), now)
  const late = wip({ dueAt: at(-60) })
  t.same([late.estimatedCompletionAt, late.late], [null, true], 'past due')
  t.equal(wip({ dueAt: at(60) }).late, false, 'due later')
  t.equal(wip({ dueAt: NOW }).late, false, 'due now')
  t.equal(wip({ dueAt: null }).late, false, 'no due date')
  t.equal(wip({ dueAt: at(-60), state: 'completed' }).late, false, 'a finished order is not late')
})

t.test('10. a unit is built in once per completion', async (t) => {
  const ops = pasteOps({ 10: { components: [{ materialId: 'FG-WIDGET', quantityPer: 1 }], alternates: {}, measurements: [] } })
  const view = masterView()
    .putOrder(pasteOrder({ state: 'in_progress' }), ops)
    .putOrder(widgetOrder({ id: 'W9', state: 'completed' }), [])
    .putUnit(unit('W9-0001', 'completed', 'W9'))
    .putUnit(unit('W9-0002', 'completed', 'W9'))
    .putRun(run('RP', { orderId: 'P1', unitSerial: null, quantity: 2 }))
  const build = (...serials: string[]) => completeOperation(view, cmd('RP', { good: 2, consumptions: serials.map((lotId) => ({ lotId, quantity: 1 })) }), ctx())
  const { rejection, record } = refusal(build('W9-0001', 'W9-0001'))
  t.equal(rejection.code, 'lot_insufficient')
  t.match(rejection.message, /Unit 'W9-0001' is already built in by this booking/)
  t.same(rejection.details, { lotId: 'W9-0001' })
  t.equal(dataOf(record, 'ConsumptionRefused').code, 'lot_insufficient')
  const both = accepted(build('W9-0001', 'W9-0002'))
  t.same(both.events.filter((e) => e.type === 'MaterialConsumed').map((e) => e.data.consumedId), ['W9-0001', 'W9-0002'], 'two units')
})

t.test('11. canonical JSON of dates and maps', async (t) => {
  t.equal(canonicalJson(new Date(0)), '"1970-01-01T00:00:00.000Z"')
  t.notOk(sameDefinition(new Date(0), new Date(1e12)), 'different instants')
  t.ok(sameDefinition(new Date(1e12), new Date(1e12)), 'the same instant')
  t.notOk(sameDefinition({ at: new Date(0) }, { at: new Date(1) }), 'nested, a millisecond apart')
  t.ok(sameDefinition({ at: new Date('2025-06-02T10:00:00+02:00') }, { at: new Date(NOW) }), 'the same instant in another zone')
  t.equal(canonicalJson(new Map([['b', 1], ['a', 2]])), '{"a":2,"b":1}')
  t.ok(sameDefinition(new Map([['a', 1], ['b', 2]]), new Map([['b', 2], ['a', 1]])), 'insertion order does not matter')
  t.notOk(sameDefinition(new Map([['a', 1], ['b', 2]]), new Map([['a', 1], ['b', 3]])), 'a different value')
  t.notOk(sameDefinition(new Map([['a', 1]]), new Map()), 'a missing entry')
  t.notOk(sameDefinition({ m: new Map([['a', { x: 1 }]]) }, { m: new Map([['a', { x: 2 }]]) }), 'nested values')
})

t.test('a quantity change on an order with ERP serials needs the matching serial list', async (t) => {
  const view = masterView().putOrder(widgetOrder({ state: 'created', serials: ['SN-1', 'SN-2'] }), widgetOps())
  const { rejection } = refusal(defineOrder(view, widgetRequest({ quantity: 3, serials: [] })))
  t.equal(rejection.code, 'definition_invalid')
  t.match(rejection.message, /send the serial list that goes with the new quantity/)
  const { events } = accepted(defineOrder(view, widgetRequest({ quantity: 3, serials: ['SN-1', 'SN-2', 'SN-3'] })))
  t.same(dataOf(events, 'OrderCreated').serials, ['SN-1', 'SN-2', 'SN-3'], 'with the list, the order is redefined')
  const generated = masterView().putOrder(widgetOrder({ state: 'created', serials: [] }), widgetOps())
  t.same(types(accepted(defineOrder(generated, widgetRequest({ quantity: 3, serials: [] }))).events), ['OrderQuantityChanged'], 'serials numbered at release follow the quantity')
})

t.test('no run is completed on an order that is already completed', async (t) => {
  for (const state of ['completed', 'closed', 'cancelled'] as const) {
    const view = masterView().putOrder(widgetOrder({ state }), widgetOps()).putUnit(unit('W1-0001')).putRun(run('R10'))
    const { rejection } = refusal(completeOperation(view, cmd('R10'), ctx()))
    t.equal(rejection.code, 'order_state', state)
    t.match(rejection.message, new RegExp(`Order 'W1' is ${state}`))
  }
})
