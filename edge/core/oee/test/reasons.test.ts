// Reason trees: validation, the shipped tree, look-ups by code and PackML StopReason, where a stop's time goes.
import t from 'tap'
import { defaultReasons } from '../default-reasons.ts'
import { machineReason, reasonTree, rejectLossClass, stopLossClass, validateReasons, type ReasonCode } from '../reasons.ts'

const r = (code: string, more: Partial<ReasonCode> = {}): ReasonCode => ({ code, name: code, loss: 'breakdown', planned: false, ...more })
const tree = reasonTree(defaultReasons)

t.test('the shipped tree is valid and maps the demo line’s stop reasons', async (t) => {
  t.same(validateReasons(defaultReasons), [])
  for (const id of [101, 102, 103, 111, 112, 121]) t.equal(tree.byStopReason(id)?.loss, 'breakdown', `failure ${id}`)
  for (const id of [201, 211, 231]) t.equal(tree.byStopReason(id)?.loss, 'small_stop', `micro-stop ${id}`)
  t.equal(tree.byStopReason(301)?.code, 'setup.changeover')
  t.ok(defaultReasons.every((x) => x.parent === undefined || tree.get(x.parent)?.loss === x.loss), 'children keep their parent’s loss class')
})

t.test('codes', async (t) => {
  t.same(validateReasons([r('a'), r('a')]).map((p) => p.message), ["The code 'a' is used twice."])
  t.same(validateReasons([r(' a')]).map((p) => p.path), ['reasons[0].code'])
  t.same(validateReasons([r('')]).map((p) => p.path), ['reasons[0].code', 'reasons[0].name'])
  t.same(validateReasons([r('packml:7')]).map((p) => p.path), ['reasons[0].code'], 'the prefix for unknown machine reasons is reserved')
  t.same(validateReasons([r('a', { name: ' ' })]).map((p) => p.path), ['reasons[0].name'])
  t.same(validateReasons([r('a', { loss: 'slow' as never })]).map((p) => p.path), ['reasons[0].loss'])
})

t.test('parents', async (t) => {
  t.same(validateReasons([r('a'), r('b', { parent: 'a' })]), [])
  t.same(validateReasons([r('b', { parent: 'nope' })]).map((p) => p.message), ["The parent 'nope' of 'b' is not in the tree."])
  t.same(validateReasons([r('a', { parent: 'b' }), r('b', { parent: 'a' })]).map((p) => p.message), ["'a' is its own ancestor (a → b → a).", "'b' is its own ancestor (b → a → b)."])
  t.same(validateReasons([r('a', { parent: 'a' })]).map((p) => p.path), ['reasons[0].parent'], 'its own parent')
})

t.test('planned and loss class agree', async (t) => {
  t.same(validateReasons([r('p', { loss: 'planned', planned: true })]), [])
  t.same(validateReasons([r('p', { loss: 'planned', planned: false })]).map((p) => p.path), ['reasons[0].planned'])
  t.same(validateReasons([r('b', { loss: 'breakdown', planned: true })]).map((p) => p.path), ['reasons[0].planned'])
  t.same(validateReasons([r('s', { loss: 'setup', planned: true }), r('s2', { loss: 'setup', planned: false })]), [], 'a setup may be planned or not')
})

t.test('PackML StopReason numbers', async (t) => {
  t.same(validateReasons([r('a', { packml: 1 }), r('b', { packml: 2_147_483_647 })]), [])
  t.same(validateReasons([r('a', { packml: 0 })]).map((p) => p.path), ['reasons[0].packml'], '0 means no reason')
  t.same(validateReasons([r('a', { packml: 2_147_483_648 })]).map((p) => p.path), ['reasons[0].packml'], 'INT32')
  t.same(validateReasons([r('a', { packml: 1.5 })]).map((p) => p.path), ['reasons[0].packml'])
  t.same(validateReasons([r('a', { packml: 5 }), r('b', { packml: 5 })]).map((p) => p.message), ["PackML StopReason 5 is mapped to both 'a' and 'b'."])
})

t.test('an invalid tree is refused with every problem', async (t) => {
  t.throws(() => reasonTree([r('a'), r('a'), r('b', { parent: 'x' })]), { message: "The reason tree is invalid: reasons[1].code: The code 'a' is used twice.; reasons[2].parent: The parent 'x' of 'b' is not in the tree." })
})

t.test('look-ups', async (t) => {
  t.equal(tree.get('failure.mechanical')?.name, 'Mechanical failure')
  t.equal(tree.get('nope'), undefined)
  t.same(tree.path('failure.sensor').map((x) => x.code), ['unplanned', 'failure', 'failure.sensor'])
  t.same(tree.path('nope'), [])
  t.same(tree.children('failure').map((x) => x.code), ['failure.mechanical', 'failure.electrical', 'failure.pneumatic', 'failure.drive', 'failure.sensor', 'failure.tooling'])
  t.same(tree.children(null).map((x) => x.code), ['unplanned', 'setup', 'small_stop', 'speed', 'reject', 'startup', 'planned'])
})

t.test('a machine’s stop reason', async (t) => {
  t.equal(machineReason(tree, 101), 'failure.mechanical')
  t.equal(machineReason(tree, 999), 'packml:999', 'unknown to the tree: kept for an operator to classify')
  t.equal(machineReason(tree, 0), null, '0 is no reason')
  t.equal(machineReason(tree, null), null)
})

t.test('where a stop’s time goes', async (t) => {
  t.equal(stopLossClass(tree, 'down', 'failure.mechanical'), 'breakdown')
  t.equal(stopLossClass(tree, 'down', 'setup.changeover'), 'setup', 'the reason decides over the state')
  t.equal(stopLossClass(tree, 'planned_stop', 'failure.mechanical'), 'breakdown', 'even for a planned stop')
  t.equal(stopLossClass(tree, 'down', 'planned.no_orders'), 'planned', 'classified as no orders: not planned production time')
  t.equal(stopLossClass(tree, 'down', 'small_stop.jam'), 'breakdown', 'a jam that outlasts the micro-stop threshold is an unplanned stop')
  t.equal(stopLossClass(tree, 'idle', 'reject.visual'), 'breakdown', 'a quality reason on a stop')
  t.equal(stopLossClass(tree, 'planned_stop', null), 'planned', 'no reason: the state decides')
  t.equal(stopLossClass(tree, 'setup', null), 'setup')
  t.equal(stopLossClass(tree, 'setup', 'packml:999'), 'setup', 'an unknown reason is no reason')
  for (const state of ['down', 'idle', 'starved', 'blocked'] as const) t.equal(stopLossClass(tree, state, null), 'breakdown', state)
})

t.test('a reject’s loss', async (t) => {
  t.equal(rejectLossClass(tree, 'startup.warmup'), 'startup_reject')
  t.equal(rejectLossClass(tree, 'reject.visual'), 'production_reject')
  t.equal(rejectLossClass(tree, null), 'production_reject')
  t.equal(rejectLossClass(tree, 'nope'), 'production_reject')
})
