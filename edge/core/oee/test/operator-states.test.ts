// Operator actions as a work center's states: running while a run runs, stopped for the pause's reason, idle with no open run.
import t from 'tap'
import { defaultReasons } from '../default-reasons.ts'
import { operatorState, pauseReason } from '../operator-states.ts'
import { reasonTree } from '../reasons.ts'

const tree = reasonTree(defaultReasons)

t.test('a pause reason is a stop reason by code or by name, else unclassified', async (t) => {
  t.equal(pauseReason(tree, 'failure.tooling'), 'failure.tooling', 'by code')
  t.equal(pauseReason(tree, ' setup.changeover '), 'setup.changeover', 'surrounding spaces do not matter')
  t.equal(pauseReason(tree, 'changeover'), 'setup.changeover', 'by name, in any case')
  t.equal(pauseReason(tree, 'Break'), 'planned.break')
  t.equal(pauseReason(tree, 'reject.visual'), null, 'a scrap reason is not for a stop')
  t.equal(pauseReason(tree, 'Slow cycles'), null, 'nor a speed loss')
  t.equal(pauseReason(tree, 'coffee with the supplier'), null, 'free text is unclassified')
  t.equal(pauseReason(tree, '   '), null)
})

t.test('the state follows the open runs and the pause', async (t) => {
  t.same(operatorState(() => tree, { kind: 'started' }, { running: 1, paused: 0 }), { state: 'running', reason: null })
  t.same(operatorState(() => tree, { kind: 'resumed' }, { running: 1, paused: 2 }), { state: 'running', reason: null })
  t.same(operatorState(() => tree, { kind: 'paused', reason: 'failure.tooling' }, { running: 0, paused: 1 }), { state: 'down', reason: 'failure.tooling' })
  t.same(operatorState(() => tree, { kind: 'paused', reason: 'Changeover' }, { running: 0, paused: 1 }), { state: 'setup', reason: 'setup.changeover' })
  t.same(operatorState(() => tree, { kind: 'paused', reason: 'planned.break' }, { running: 0, paused: 1 }), { state: 'planned_stop', reason: 'planned.break' }, 'a break is no small stop')
  t.same(operatorState(() => tree, { kind: 'paused', reason: 'no idea' }, { running: 0, paused: 1 }), { state: 'down', reason: null })
  t.same(operatorState(() => tree, { kind: 'paused', reason: 'failure.tooling' }, { running: 1, paused: 1 }), { state: 'running', reason: null }, 'another run still runs: the work center runs')
  t.same(operatorState(() => tree, { kind: 'completed' }, { running: 0, paused: 0 }), { state: 'idle', reason: null }, 'nothing left to run')
  t.same(operatorState(() => tree, { kind: 'completed' }, { running: 1, paused: 0 }), { state: 'running', reason: null })
  t.same(operatorState(() => tree, { kind: 'completed' }, { running: 0, paused: 1 }), { state: 'down', reason: null }, 'only paused runs left')
})
