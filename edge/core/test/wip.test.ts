// Work in progress: current operation, progress by standard time, estimated completion and the late flag.
import t from 'tap'
import type { Equipment, OrderOperation } from '../model.ts'
import { wipOf, type RunTimes } from '../wip.ts'
import { NOW, pasteBom, pasteOrder, pasteRouting, plannedOperations, withProgress } from './fixture.ts'

const now = new Date(NOW)
const at = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString()
const wc = (id: string, ratedCycleTimeS: number | null): [string, Equipment] => [id, { id, level: 'work_center', name: id, parentId: 'L1', ratedCycleTimeS }]
// WC-CUT's rated 30 s must lose to the Mix operation's own ideal cycle time of 2 s.
const workCenters = new Map([wc('WC-CUT', 30), wc('WC-ASM', 3)])
const noTimes: RunTimes = { actualS: 0, standardS: 0 }

/** Mix: 100 s setup, 2 s a unit; Fill: no setup, the work center's rated 3 s a unit. Ten units: 150 s of standard work. */
const ops = (progress: Record<number, Partial<OrderOperation>> = {}) =>
  withProgress(plannedOperations(pasteRouting, pasteBom), { 10: { setupTimeS: 100, idealCycleTimeS: 2 }, 20: { setupTimeS: 0, idealCycleTimeS: null } }).map((o) => ({ ...o, ...progress[o.seq] }))
const order = (more: Parameters<typeof pasteOrder>[0] = {}) => pasteOrder({ quantity: 10, state: 'in_progress', dueAt: at(3600), ...more })

t.test('a fresh order', async (t) => {
  t.same(wipOf(order(), ops(), noTimes, workCenters, now), {
    orderId: 'P1',
    productId: 'FG-PASTE',
    state: 'in_progress',
    workCenterId: 'WC-CUT',
    opSeq: 10,
    operation: 'Mix',
    quantity: 10,
    done: 0,
    scrap: 0,
    remaining: 10,
    progress: 0,
    estimatedCompletionAt: at(150),
    dueAt: at(3600),
    late: false,
  })
})

t.test('part way through the first operation', async (t) => {
  // Mix: setup + 5 processed = 110 of 120 s; Fill now expects 9 units = 27 s; 37 s remain of 147.
  const progress = ops({ 10: { state: 'in_progress', qtyStarted: 10, qtyGood: 4, qtyScrap: 1 } })
  const entry = wipOf(order(), progress, noTimes, workCenters, now)
  t.equal(entry.progress, 110 / 147)
  t.equal(entry.estimatedCompletionAt, at(37))
  t.same([entry.done, entry.scrap, entry.remaining], [0, 1, 9])
  t.equal(entry.opSeq, 10)
  t.equal(wipOf(order(), progress, { actualS: 200, standardS: 100 }, workCenters, now).estimatedCompletionAt, at(74), 'running twice as slow as standard doubles the rest')
  t.equal(wipOf(order(), progress, { actualS: 50, standardS: 100 }, workCenters, now).estimatedCompletionAt, at(18.5), 'running faster halves it')
  t.equal(wipOf(order(), progress, { actualS: 200, standardS: 0 }, workCenters, now).estimatedCompletionAt, at(37), 'no standard time, no ratio')
  t.equal(wipOf(order(), progress, { actualS: 0, standardS: 100 }, workCenters, now).estimatedCompletionAt, at(37), 'no actual time, no ratio')
})

t.test('on the second operation', async (t) => {
  // Mix done (120 s, 8 good); Fill: 6 of 8 processed = 18 of 24 s.
  const progress = ops({ 10: { state: 'completed', qtyGood: 8, qtyScrap: 2 }, 20: { state: 'in_progress', qtyGood: 5, qtyScrap: 1 } })
  const entry = wipOf(order(), progress, noTimes, workCenters, now)
  t.same([entry.workCenterId, entry.opSeq, entry.operation], ['WC-ASM', 20, 'Fill'])
  t.same([entry.done, entry.scrap, entry.remaining], [5, 3, 2])
  t.equal(entry.progress, 138 / 144)
  t.equal(entry.estimatedCompletionAt, at(6))
})

t.test('a finished order', async (t) => {
  const finished = ops({ 10: { state: 'completed', qtyGood: 8, qtyScrap: 2 }, 20: { state: 'completed', qtyGood: 7, qtyScrap: 1 } })
  for (const state of ['completed', 'closed', 'cancelled'] as const) {
    const entry = wipOf(order({ state, dueAt: at(-60) }), finished, noTimes, workCenters, now)
    t.same(
      [entry.workCenterId, entry.opSeq, entry.operation, entry.progress, entry.estimatedCompletionAt, entry.late],
      [null, null, null, 1, null, false],
      state,
    )
    t.same([entry.done, entry.scrap, entry.remaining], [7, 3, 0])
  }
})

t.test('the late flag compares the estimate with the due date', async (t) => {
  t.equal(wipOf(order({ dueAt: at(149) }), ops(), noTimes, workCenters, now).late, true, 'due before the estimate')
  t.equal(wipOf(order({ dueAt: at(150) }), ops(), noTimes, workCenters, now).late, false, 'due exactly at the estimate')
  t.equal(wipOf(order({ dueAt: null }), ops(), noTimes, workCenters, now).late, false, 'no due date')
  t.equal(wipOf(order({ dueAt: at(149) }), ops(), { actualS: 50, standardS: 100 }, workCenters, now).late, false, 'fast enough to make it')
})

t.test('missing standard times', async (t) => {
  const setupOnly = ops().map((o) => ({ ...o, idealCycleTimeS: null, workCenterId: 'WC-UNKNOWN' }))
  const entry = wipOf(order(), setupOnly, noTimes, workCenters, now)
  t.equal(entry.estimatedCompletionAt, at(100), 'no cycle time anywhere counts as zero')
  const none = ops().map((o) => ({ ...o, setupTimeS: 0, idealCycleTimeS: 0 }))
  const open = wipOf(order(), none, noTimes, workCenters, now)
  t.same([open.progress, open.estimatedCompletionAt, open.late], [0, null, false])
  const allDone = none.map((o) => ({ ...o, state: 'completed' as const, qtyGood: 10 }))
  t.equal(wipOf(order(), allDone, noTimes, workCenters, now).progress, 1)
})
