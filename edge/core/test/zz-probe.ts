import { startOperation, consumeMaterial } from '../execution.ts'
import { completeOperation } from '../completion.ts'
import { wipOf } from '../wip.ts'
import { canonicalJson } from '../canonical-json.ts'
import { equipment, materials, people, lots, widgetOrder, pasteOrder, plannedOperations, widgetRouting, widgetBom, pasteRouting, pasteBom, withProgress, unit, run, NOW, masterView } from './fixture.ts'
import { fixedContext, MemoryView } from './memory-view.ts'
class Leaky extends MemoryView { s = new Set<string>(); override measuredOnRun(_: string) { return this.s } }
const v = new Leaky({ equipment, materials, people, lots }).putOrder(widgetOrder(), plannedOperations(widgetRouting, widgetBom)).putUnit(unit('W1-0001')).putRun(run('R20', { opSeq: 20 }))
// refused for missing components, but measurement names given in the command
const d = completeOperation(v, { runId: 'R20', good: 1, scrap: 0, scrapReasons: [], consumptions: [], measurements: [{ name: 'torque', value: 11, unit: 'Nm' }, { name: 'gap', value: 0.2, unit: 'mm' }] }, fixedContext(NOW))
console.log('6', d.ok, !d.ok && d.rejection.code, [...v.measuredOnRun('R20')])
// 7 NC in final completion of lot order
const v7 = masterView().putOrder(pasteOrder({ quantity: 10, state: 'in_progress' }), withProgress(plannedOperations(pasteRouting, pasteBom), { 10: { qtyStarted: 10 } })).putRun(run('R10', { orderId: 'P1', unitSerial: null, quantity: 10 })).putConsumed('R10','RM-RESIN',5)
const ops1 = plannedOperations(pasteRouting, pasteBom).slice(0,1)
v7.putOrder(pasteOrder({ quantity: 10, state: 'in_progress' }), withProgress(ops1, { 10: { qtyStarted: 10 } }))
const d7 = completeOperation(v7, { runId: 'R10', good: 10, scrap: 0, scrapReasons: [], consumptions: [], measurements: [{ name: 'viscosity', value: 9, unit: 'Pa.s' }] }, fixedContext(NOW))
console.log('7', d7.ok && d7.events.map(e => e.type))
// 8 out_of_sequence vs quantity_exceeded
const three = [...plannedOperations(pasteRouting, pasteBom), { ...plannedOperations(pasteRouting, pasteBom)[1]!, seq: 30, name: 'Pack' }]
const v8 = masterView().putOrder(pasteOrder({ quantity: 10, state: 'in_progress' }), withProgress(three, { 10: { state: 'completed', qtyStarted: 10, qtyGood: 8, qtyScrap: 2 }, 20: { state: 'completed', qtyStarted: 8, qtyGood: 8 }, 30: { qtyStarted: 8 } }))
const d8 = startOperation(v8, { orderId: 'P1', opSeq: 30, unitSerial: null, quantity: null, operatorId: 'P-BEN', workCenterId: null }, fixedContext(NOW))
console.log('8', !d8.ok && d8.rejection)
// 9 wip late
const w = wipOf(pasteOrder({ dueAt: '2025-06-01T00:00:00.000Z', state: 'in_progress' }), plannedOperations(pasteRouting, pasteBom).map(o => ({ ...o, workCenterId: 'WC-ASM' })), { actualS: 0, standardS: 0 }, new Map(equipment.map(e => [e.id, e])), new Date(NOW))
console.log('9', w.late, w.estimatedCompletionAt)
// 10 unit consumed twice across commands; 19 message
const opsK = plannedOperations(pasteRouting, pasteBom).map(o => o.seq === 10 ? { ...o, components: [{ materialId: 'FG-WIDGET', quantityPer: 1 }], measurements: [] } : o)
const v10 = masterView().putOrder(pasteOrder(), opsK).putOrder(widgetOrder({ id: 'W9', state: 'completed' }), []).putUnit(unit('W9-0001', 'completed', 'W9')).putRun(run('RK', { orderId: 'P1', unitSerial: null, quantity: 2 }))
console.log('10', consumeMaterial(v10, 'RK', { lotId: 'W9-0001', quantity: 1 }, fixedContext(NOW)).ok)
const d19 = completeOperation(v10, { runId: 'RK', good: 2, scrap: 0, scrapReasons: [], consumptions: [{ lotId: 'W9-0001', quantity: 1 }, { lotId: 'W9-0001', quantity: 1 }], measurements: [] }, fixedContext(NOW))
console.log('19', !d19.ok && d19.rejection)
console.log('11', canonicalJson({ a: new Date(0) }) === canonicalJson({ a: new Date(1e12) }))
console.log('7r', d7.ok && d7.result, v7.operations('P1').length)
