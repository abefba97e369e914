// Counter deltas across wrap and reset, and state mapping, on both sides of each rule.
import t from 'tap'
import { counterDelta, machineStateOf } from './signals.ts'

t.test('counter deltas', async (t) => {
  t.same(counterDelta(null, { value: 500 }), { delta: 0, event: 'first' }, 'the first reading counts nothing')
  t.same(counterDelta(500, { value: 512 }), { delta: 12, event: 'counted' })
  t.same(counterDelta(500, { value: 500 }), { delta: 0, event: 'counted' })
  t.same(counterDelta(65530, { value: 4, wrap: 65535 }), { delta: 10, event: 'wrapped' }, '65531…65535, 0…4')
  t.same(counterDelta(1000, { value: 4, wrap: 65535 }), { delta: 4, event: 'reset' }, 'far from the top: a reset, not a wrap')
  t.same(counterDelta(65530, { value: 4 }), { delta: 4, event: 'reset' }, 'no wrap configured: a reset')
})

t.test('state mapping', async (t) => {
  const map = { '6': 'running', '4': 'idle', '9': 'down' } as const
  t.equal(machineStateOf(6, map), 'running')
  t.equal(machineStateOf('9', map), 'down')
  t.equal(machineStateOf(7, map), undefined, 'an unmapped value is not guessed')
  t.equal(machineStateOf(null, map), undefined)
})
