// The refusal catalogue and the decision constructors.
import t from 'tap'
import { accept, refuse } from '../decision.ts'
import { reject } from '../rejection.ts'

t.test('a rejection carries its code, status and message', async (t) => {
  t.same(reject('not_found', 'There is no order X.'), { code: 'not_found', status: 404, message: 'There is no order X.' })
  t.notOk('details' in reject('not_found', 'x'), 'no details key when none are given')
  t.same(reject('lot_expired', 'expired', { lotId: 'L1' }), { code: 'lot_expired', status: 422, message: 'expired', details: { lotId: 'L1' } })
  t.equal(reject('not_qualified', 'x').status, 403)
  t.equal(reject('out_of_sequence', 'x').status, 409)
})

t.test('decisions', async (t) => {
  t.same(accept([], 7), { ok: true, events: [], result: 7 })
  const r = reject('run_state', 'x')
  t.same(refuse(r), { ok: false, rejection: r, record: [] })
})
