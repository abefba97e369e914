// State timelines: intervals, late changes, ties, down stretches and micro-stops, settled parts, classifications, contexts.
import t from 'tap'
import type { MachineState } from '../../model.ts'
import { contextFor, isSmallStop, timeline, type StateChange, type StateInterval } from '../timeline.ts'

const T0 = Date.parse('2026-06-08T06:00:00Z')
const s = (seconds: number) => T0 + seconds * 1000
const c = (seconds: number, state: MachineState, reason: string | null = null, seq?: number): StateChange => ({ at: s(seconds), state, reason, ...(seq === undefined ? {} : { seq }) })
const brief = (list: StateInterval[]) => list.map((iv) => `${(iv.from - T0) / 1000}-${(iv.to - T0) / 1000} ${iv.state}${iv.reason ? ` ${iv.reason}` : ''}`)

t.test('intervals from state changes', async (t) => {
  const list = timeline([c(0, 'running'), c(60, 'down', 'failure.mechanical'), c(300, 'running')], [], s(600))
  t.same(brief(list), ['0-60 running', '60-300 down failure.mechanical', '300-600 running'])
  t.same(list.map((iv) => iv.reasonSource), [null, 'machine', null])
  t.same(list.map((iv) => iv.settled), [true, true, false], 'the last runs to `until` and is not over')
  t.same(brief(timeline([c(0, 'running'), c(60, 'down', 'failure.mechanical'), c(300, 'running')])), ['0-60 running', '60-300 down failure.mechanical'], 'without until the last state has no interval')
  t.same(brief(timeline([c(0, 'running', 'failure.mechanical')], [], s(10))), ['0-10 running'], 'running carries no reason')
  t.same(timeline([], [], s(10)), [])
  t.same(brief(timeline([c(0, 'running'), c(20, 'idle')], [], s(10))), ['0-20 running'], 'an until before the last change leaves it out')
})

t.test('late changes give the timeline they would have given in order', async (t) => {
  const inOrder = [c(0, 'running'), c(60, 'down'), c(90, 'running'), c(400, 'setup'), c(500, 'running')]
  const late = [inOrder[0]!, inOrder[2]!, inOrder[4]!, inOrder[1]!, inOrder[3]!]
  t.same(timeline(late, [], s(600)), timeline(inOrder, [], s(600)))
})

t.test('two changes at the same instant: the later by seq holds', async (t) => {
  t.same(brief(timeline([c(0, 'running', null, 1), c(10, 'down', null, 2), c(10, 'idle', null, 3)], [], s(20))), ['0-10 running', '10-20 idle'])
  t.same(brief(timeline([c(10, 'idle', null, 3), c(0, 'running', null, 1), c(10, 'down', null, 2)], [], s(20))), ['0-10 running', '10-20 idle'], 'whatever order they came in')
  t.same(brief(timeline([c(0, 'running'), c(10, 'down'), c(10, 'idle')], [], s(20))), ['0-10 running', '10-20 idle'], 'without seqs, in the order given')
})

t.test('down stretches and the micro-stop threshold', async (t) => {
  const list = timeline([c(0, 'running'), c(100, 'down', 'small_stop.jam'), c(130, 'down', 'failure.sensor'), c(200, 'running'), c(300, 'down'), c(420, 'idle'), c(500, 'running')], [], s(600))
  t.same(list.map((iv) => iv.downRunMs), [null, 100_000, 100_000, null, 120_000, null, null], 'a reason change does not break a down stretch; idle does')
  const threshold = 120_000
  t.same(list.map((iv) => isSmallStop(iv, threshold)), [false, true, true, false, false, false, false], 'shorter than the threshold is small; exactly the threshold is not')
  t.same(list.map((iv) => isSmallStop(iv, 120_001)), [false, true, true, false, true, false, false])
  const open = timeline([c(0, 'running'), c(100, 'down')], [], s(130))
  t.equal(open[1]!.downRunMs, 30_000, 'a stop still going on is as long as it is so far')
})

t.test('settled: over, and for down its whole stretch over', async (t) => {
  const changes = [c(0, 'running'), c(10, 'down', 'a'), c(20, 'down', 'b')]
  t.same(timeline(changes).map((iv) => iv.settled), [true, false], 'the down stretch may still go on')
  t.same(timeline([...changes, c(30, 'idle')]).map((iv) => iv.settled), [true, true, true], 'idle ends it')
  t.same(timeline([...changes, c(30, 'idle'), c(30, 'down')]).map((iv) => iv.settled), [true, true, true], 'an idle of no length ends it too; the down after it is a new stretch')
})

t.test('a change of no length ends a stretch or a stop as a real one would', async (t) => {
  const list = timeline([c(0, 'down', 'a', 1), c(10, 'running', null, 2), c(10, 'down', 'a', 3), c(20, 'running', null, 4)])
  t.same(list.map((iv) => iv.downRunMs), [10_000, 10_000], 'two stretches')
  t.same(list.map((iv) => iv.stopStart), [true, true], 'two stops')
  const idle = timeline([c(0, 'down', 'a', 1), c(10, 'idle', null, 2), c(10, 'down', 'a', 3), c(20, 'running', null, 4)])
  t.same(idle.map((iv) => iv.downRunMs), [10_000, 10_000], 'idle breaks the stretch')
  t.same(idle.map((iv) => iv.stopStart), [true, false], 'but the stop with the same reason goes on')
})

t.test('where a stop starts', async (t) => {
  const list = timeline([c(0, 'running'), c(10, 'down'), c(20, 'idle'), c(30, 'idle', 'flow.starved'), c(40, 'blocked', 'flow.starved'), c(50, 'running'), c(60, 'down')], [], s(70))
  t.same(list.map((iv) => iv.stopStart), [false, true, true, true, false, false, true], 'a new state without a reason, a new reason: new stops; the same reason in another state: the same stop')
})

t.test('operator classifications', async (t) => {
  const changes = [c(0, 'running'), c(100, 'down'), c(400, 'running'), c(500, 'idle'), c(600, 'running')]
  const whole = timeline(changes, [{ from: s(100), to: s(400), reason: 'failure.drive' }], s(700))
  t.same(brief(whole), ['0-100 running', '100-400 down failure.drive', '400-500 running', '500-600 idle', '600-700 running'])
  t.equal(whole[1]!.reasonSource, 'operator')
  const split = timeline(changes, [{ from: s(100), to: s(250), reason: 'failure.drive' }, { from: s(250), to: s(400), reason: 'setup.cleaning' }], s(700))
  t.same(brief(split), ['0-100 running', '100-250 down failure.drive', '250-400 down setup.cleaning', '400-500 running', '500-600 idle', '600-700 running'])
  t.same(split.map((iv) => iv.stopStart), [false, true, true, false, true, false])
  t.same(split.map((iv) => iv.downRunMs), [null, 300_000, 300_000, null, null, null], 'a split does not shorten the down stretch')
  const later = timeline(changes, [{ from: s(100), to: s(400), reason: 'failure.drive' }, { from: s(100), to: s(400), reason: 'setup.cleaning' }], s(700))
  t.equal(later[1]!.reason, 'setup.cleaning', 'the later classification wins')
  const overRunning = timeline(changes, [{ from: s(0), to: s(700), reason: 'failure.drive' }], s(700))
  t.same(brief(overRunning), ['0-100 running', '100-400 down failure.drive', '400-500 running', '500-600 idle failure.drive', '600-700 running'], 'running time is never classified')
})

t.test('an open classification holds until the work center runs again', async (t) => {
  const changes = [c(0, 'running'), c(100, 'down'), c(200, 'idle'), c(300, 'running'), c(400, 'down')]
  const list = timeline(changes, [{ from: s(100), to: null, reason: 'failure.drive' }], s(500))
  t.same(brief(list), ['0-100 running', '100-200 down failure.drive', '200-300 idle failure.drive', '300-400 running', '400-500 down'])
  const whileRunning = timeline(changes, [{ from: s(50), to: null, reason: 'failure.drive' }], s(500))
  t.same(brief(whileRunning), brief(timeline(changes, [], s(500))), 'given while running, it covers nothing')
  const stillDown = timeline(changes, [{ from: s(400), to: null, reason: 'failure.drive' }], s(500))
  t.equal(stillDown.at(-1)!.reason, 'failure.drive', 'the stop going on now')
})

t.test('the context an edit needs', async (t) => {
  const changes = [c(0, 'running'), c(100, 'down'), c(200, 'idle'), c(300, 'running'), c(400, 'down'), c(500, 'running'), c(600, 'idle')]
  const at = (ctx: { changes: StateChange[] }) => ctx.changes.map((x) => (x.at - T0) / 1000)
  t.same(at(contextFor(changes, [], { kind: 'state', change: c(150, 'setup') })), [0, 100, 200, 300], 'from the last running before to the first running after')
  t.same(at(contextFor(changes, [], { kind: 'state', change: c(300, 'down') })), [300, 400, 500], 'a running change at the instant itself starts it')
  t.same(at(contextFor(changes, [], { kind: 'state', change: c(650, 'down') })), [500, 600], 'no running after: to the end')
  t.same(at(contextFor(changes, [], { kind: 'state', change: c(-50, 'down') })), [0], 'before everything: from the start')
  const cls = [{ from: s(100), to: s(300), reason: 'x' }, { from: s(450), to: null, reason: 'y' }, { from: s(600), to: s(650), reason: 'z' }]
  const ctx = contextFor(changes, cls, { kind: 'classification', classification: { from: s(420), to: s(480), reason: 'w' } })
  t.same(at(ctx), [300, 400, 500])
  t.same(ctx.classifications.map((x) => x.reason), ['x', 'y'], 'the classifications reaching into it, in log order')
})
