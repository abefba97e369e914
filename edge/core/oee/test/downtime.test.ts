// Downtime events and the operator's edits on them: classify, split, merge — what each changes, and each refusal.
import t from 'tap'
import type { MachineState } from '../../model.ts'
import { defaultReasons } from '../default-reasons.ts'
import { classifyStop, downtimeEvents, mergeStops, splitStop, type DowntimeEdit } from '../downtime.ts'
import { reasonTree } from '../reasons.ts'
import { timeline, type Classification, type StateChange } from '../timeline.ts'

const tree = reasonTree(defaultReasons)
const T0 = Date.parse('2026-06-08T06:00:00Z')
const s = (seconds: number) => T0 + seconds * 1000
const c = (seconds: number, state: MachineState, reason: string | null = null): StateChange => ({ at: s(seconds), state, reason })
const changes = [c(0, 'running'), c(100, 'down', 'failure.mechanical'), c(160, 'idle'), c(200, 'running'), c(300, 'down'), c(330, 'setup'), c(400, 'running'), c(500, 'down')]
const eventsWith = (cls: Classification[] = []) => downtimeEvents(timeline(changes, cls, s(600)))
const ok = (edit: DowntimeEdit) => {
  if (!edit.ok) throw new Error(edit.message)
  return edit
}

t.test('the stops of a timeline', async (t) => {
  const events = eventsWith()
  t.same(
    events.map((e) => [(e.from - T0) / 1000, (e.to - T0) / 1000, e.reason, e.states, e.open]),
    [
      [100, 160, 'failure.mechanical', ['down'], false],
      [160, 200, null, ['idle'], false],
      [300, 330, null, ['down'], false],
      [330, 400, null, ['setup'], false],
      [500, 600, null, ['down'], true],
    ],
  )
  const sameReason = downtimeEvents(timeline([c(0, 'down', 'flow.starved'), c(50, 'blocked', 'flow.starved'), c(90, 'running')]))
  t.same(sameReason.map((e) => [e.states, (e.to - e.from) / 1000]), [[['down', 'blocked'], 90]], 'one reason across two states: one stop')
})

t.test('classify a stop', async (t) => {
  const edit = ok(classifyStop(tree, eventsWith(), s(160), 'flow.material'))
  t.same(edit.classifications, [{ from: s(160), to: s(200), reason: 'flow.material' }])
  t.same(edit.change, { kind: 'classified', before: [{ from: s(160), to: s(200), reason: null }], after: [{ from: s(160), to: s(200), reason: 'flow.material' }] })
  const after = eventsWith(edit.classifications)
  t.same([after[1]!.reason, after[1]!.reasonSource], ['flow.material', 'operator'])
  t.same(ok(classifyStop(tree, eventsWith(), s(500), 'failure.drive')).classifications, [{ from: s(500), to: null, reason: 'failure.drive' }], 'the open stop: until the work center runs again')
  t.same(ok(classifyStop(tree, eventsWith(), s(100), 'failure.electrical')).change.before[0]!.reason, 'failure.mechanical', 'overriding the machine’s reason')
})

t.test('classify: refusals', async (t) => {
  const fail = (edit: DowntimeEdit) => (edit.ok ? 'ok' : edit.problem)
  t.equal(fail(classifyStop(tree, eventsWith(), s(161), 'flow.material')), 'stop_unknown', 'no stop starts there')
  t.equal(fail(classifyStop(tree, eventsWith(), s(160), 'nope')), 'reason_unknown')
  t.equal(fail(classifyStop(tree, eventsWith(), s(160), 'reject.visual')), 'reason_not_a_stop')
  t.equal(fail(classifyStop(tree, eventsWith(), s(160), 'speed.reduced')), 'reason_not_a_stop')
  t.equal(fail(classifyStop(tree, eventsWith(), s(100), 'failure.mechanical')), 'same_reason')
  t.equal(fail(classifyStop(tree, eventsWith(), s(160), 'planned.no_orders')), 'ok', 'planned time is a stop reason')
  t.equal(fail(classifyStop(tree, eventsWith(), s(160), 'small_stop.jam')), 'ok')
})

t.test('split a stop', async (t) => {
  const edit = ok(splitStop(tree, eventsWith(), s(330), s(350), ['setup.changeover', 'setup.adjustment']))
  t.same(edit.classifications, [
    { from: s(330), to: s(350), reason: 'setup.changeover' },
    { from: s(350), to: s(400), reason: 'setup.adjustment' },
  ])
  t.equal(edit.change.kind, 'split')
  const after = eventsWith(edit.classifications)
  t.same(after.map((e) => [(e.from - T0) / 1000, (e.to - T0) / 1000, e.reason]).slice(2, 5), [
    [300, 330, null],
    [330, 350, 'setup.changeover'],
    [350, 400, 'setup.adjustment'],
  ])
  t.same(ok(splitStop(tree, eventsWith(), s(500), s(550), ['failure.drive', 'flow.operator'])).classifications.at(-1), { from: s(550), to: null, reason: 'flow.operator' }, 'an open stop stays open after the split')
})

t.test('split: refusals', async (t) => {
  const fail = (edit: DowntimeEdit) => (edit.ok ? 'ok' : edit.problem)
  t.equal(fail(splitStop(tree, eventsWith(), s(330), s(330), ['setup.changeover', 'setup.adjustment'])), 'not_inside', 'at the start')
  t.equal(fail(splitStop(tree, eventsWith(), s(330), s(400), ['setup.changeover', 'setup.adjustment'])), 'not_inside', 'at the end')
  t.equal(fail(splitStop(tree, eventsWith(), s(330), s(399), ['setup.changeover', 'setup.adjustment'])), 'ok', 'a second before the end')
  t.equal(fail(splitStop(tree, eventsWith(), s(500), s(10_000), ['failure.drive', 'flow.operator'])), 'ok', 'anywhere after the start of an open stop')
  t.equal(fail(splitStop(tree, eventsWith(), s(330), s(350), ['setup.changeover', 'setup.changeover'])), 'same_reason')
  t.equal(fail(splitStop(tree, eventsWith(), s(330), s(350), ['setup.changeover', 'nope'])), 'reason_unknown')
  t.equal(fail(splitStop(tree, eventsWith(), s(331), s(350), ['setup.changeover', 'setup.adjustment'])), 'stop_unknown')
})

t.test('merge two stops', async (t) => {
  const edit = ok(mergeStops(tree, eventsWith(), s(100)))
  t.same(edit.classifications, [{ from: s(100), to: s(200), reason: 'failure.mechanical' }], 'the first stop’s reason by default')
  t.same(edit.change.before.map((b) => b.reason), ['failure.mechanical', null])
  const merged = eventsWith(edit.classifications)
  t.same([merged[0]!.states, (merged[0]!.to - merged[0]!.from) / 1000], [['down', 'idle'], 100])
  t.same(ok(mergeStops(tree, eventsWith(), s(300), 'setup.changeover')).classifications, [{ from: s(300), to: s(400), reason: 'setup.changeover' }], 'with a reason given')
})

t.test('merge: refusals', async (t) => {
  const fail = (edit: DowntimeEdit) => (edit.ok ? 'ok' : edit.problem)
  t.equal(fail(mergeStops(tree, eventsWith(), s(300))), 'reason_required', 'two unexplained stops')
  t.equal(fail(mergeStops(tree, eventsWith(), s(160))), 'not_adjacent', 'running lies between')
  t.equal(fail(mergeStops(tree, eventsWith(), s(500))), 'not_adjacent', 'the last stop has none after it')
  t.equal(fail(mergeStops(tree, eventsWith(), s(1))), 'stop_unknown')
  t.equal(fail(mergeStops(tree, eventsWith(), s(100), 'reject.visual')), 'reason_not_a_stop')
})
