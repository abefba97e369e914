// Electronic signatures over HTTP (21 CFR 11.50, 11.70, 11.100, 11.200): re-authentication, meaning, binding, two-person rules.
import t, { type Test } from 'tap'
import type { Reply } from '../helpers/gateway.ts'
import { order, password, completion } from '../helpers/line.ts'
import { heldUnits, part11Gateway } from './part11-gateway.ts'

const gw = await part11Gateway(
  t,
  `signatures:
  required: [unit-hold-release, nonconformance-disposition, order-close]
  twoPerson: [unit-hold-release, nonconformance-disposition, order-close, record-approval]
  timeZone: Europe/Berlin
accounts:
  maxFailedLogins: 3
`,
)
const call = gw.call
const paula = await gw.session('paula')
const { serials, ncs } = await heldUnits(call, 'PO-W1', 4, paula)

function isProblem(t: Test, r: Reply, status: number, code: string, what: string): void {
  t.equal(r.status, status, `${what}: ${status} (${JSON.stringify(r.body)})`)
  t.match(r.headers.get('content-type'), /^application\/problem\+json/, `${what}: problem+json`)
  t.equal(r.body.code, code, `${what}: code ${code}`)
}

/** Asserts a refusal wrote nothing to the log. */
async function refusedUnwritten(t: Test, request: () => Promise<Reply>, status: number, code: string, what: string): Promise<Reply> {
  const before = await gw.seq()
  const r = await request()
  isProblem(t, r, status, code, what)
  t.equal(await gw.seq(), before, `${what}: nothing recorded`)
  return r
}

t.test('releasing a held unit: signature required, both components first, the password alone later, a second person', async (t) => {
  const quentin = await gw.session('quentin')
  const release = (serial: string, token: string, signature?: Record<string, unknown>) =>
    call('POST', `/api/v1/units/${serial}/release-hold`, { reason: 'MRB: viscometer out of calibration, re-measured fine', ...(signature ? { signature } : {}) }, token)
  const [u1, u2] = serials as [string, string]

  const missing = await refusedUnwritten(t, () => release(u1, quentin), 422, 'signature_required', 'no signature where one is required')
  t.match(missing.body.errors, [{ path: 'json.signature' }], 'the problem names the field')
  await refusedUnwritten(t, () => release(u1, quentin, { meaning: 'approval', password }), 422, 'signature_incomplete', "the session's first signing with the password alone")
  const wrong = await refusedUnwritten(t, () => release(u1, quentin, { meaning: 'approval', username: 'quentin', password: 'not my password' }), 401, 'signature_failed', 'a wrong password')
  t.match(wrong.body.detail, /wrong; nothing was signed/)
  await refusedUnwritten(t, () => release(u1, quentin, { meaning: 'approval', username: 'rita', password }), 401, 'signature_failed', "someone else's user id in this session")
  await refusedUnwritten(t, () => release(u1, quentin, { meaning: 'blessing', username: 'quentin', password }), 422, 'validation_failed', 'an unknown meaning')
  const performer = await refusedUnwritten(t, () => release(u1, paula, { meaning: 'approval', username: 'paula', password }), 403, 'two_person_rule', 'the performer signing her own release')
  t.match(performer.body.detail, /Paula Performer performed this and may not also sign it/)
  t.equal((await call('GET', `/api/v1/as-built/units/${u1}`)).body.signatures.length, 0, 'no signature was kept from the refusals')

  const before = await gw.seq()
  const ok = await release(u1, quentin, { meaning: 'approval', username: 'quentin', password })
  t.equal(ok.status, 200, JSON.stringify(ok.body))
  const unit = await call('GET', `/api/v1/as-built/units/${u1}`)
  t.equal(unit.status, 200)
  t.equal(unit.body.signatures.length, 1, 'the unit shows its signature')
  const sig = unit.body.signatures[0]
  t.match(sig, {
    signedSeq: before + 1,
    signedType: 'UnitHoldReleased',
    signedSubject: `unit/${u1}`,
    signerId: 'quentin',
    signerName: 'Quentin Quality',
    meaning: 'approval',
    method: 'password',
    components: 'both',
    timeZone: 'Europe/Berlin',
    valid: true,
    problem: null,
  })
  t.match(sig.recordHash, /^[0-9a-f]{64}$/, 'bound to the SHA-256 of the signed record')
  t.match(sig.signedAt, /Z$/, 'UTC time')
  t.match(sig.localTime, /\+0[12]:00$/, 'local time with the offset of Europe/Berlin')
  t.equal(Date.parse(sig.localTime), Date.parse(sig.signedAt), 'the same instant')
  const record = await call('GET', `/api/v1/records/${sig.signedSeq}`)
  t.equal(record.body.record.type, 'UnitHoldReleased')
  t.equal(record.body.signatures.length, 1, 'the record shows its signature')

  const later = await release(u2, quentin, { meaning: 'approval', password })
  t.equal(later.status, 200, `a later signing in the same session needs the password alone: ${JSON.stringify(later.body)}`)
  const second = (await call('GET', `/api/v1/as-built/units/${u2}`)).body.signatures[0]
  t.match(second, { signerId: 'quentin', components: 'secret', valid: true })
  await refusedUnwritten(t, () => release(serials[2]!, quentin, { meaning: 'approval', password: 'still not it' }), 401, 'signature_failed', 'a wrong password at a later signing')
})

t.test('dispositioning a nonconformance: the person who raised it may not sign, another quality engineer may', async (t) => {
  const rita = await gw.session('rita')
  const nc = ncs[0]!
  const dispose = (token: string, signature?: Record<string, unknown>) => call('POST', `/api/v1/nonconformances/${nc}/disposition`, { disposition: 'use_as_is', reason: 'within drawing tolerance after re-measure', ...(signature ? { signature } : {}) }, token)
  await refusedUnwritten(t, () => dispose(rita), 422, 'signature_required', 'a disposition without signature')
  await refusedUnwritten(t, () => dispose(paula, { meaning: 'approval', password }), 403, 'two_person_rule', 'the opener dispositioning her own nonconformance')
  const ok = await dispose(rita, { meaning: 'responsibility', username: 'rita', password, reason: 'MRB decision 42' })
  t.equal(ok.status, 200, JSON.stringify(ok.body))
  const detail = await call('GET', `/api/v1/nonconformances/${nc}`)
  t.match(detail.body, { id: nc, state: 'dispositioned', disposition: 'use_as_is', dispositionedBy: 'person:rita', openedBy: 'person:paula' })
  t.match(detail.body.signatures, [{ signerId: 'rita', meaning: 'responsibility', reason: 'MRB decision 42', signedType: 'NonconformanceDispositioned', valid: true }])
  await refusedUnwritten(t, () => dispose(rita, { meaning: 'approval', password }), 409, 'order_state', 'a second disposition')
})

t.test('closing an order: refused to its operator, signed by a lead', async (t) => {
  const leo = await gw.session('leo')
  const created = await call('POST', '/api/v1/orders', order('PO-L1', 1))
  t.equal(created.status, 201)
  t.equal((await call('POST', '/api/v1/orders/PO-L1/release')).status, 200)
  t.equal((await call('POST', '/api/v1/orders/PO-L1/dispatch')).status, 200)
  const run = await call('POST', '/api/v1/orders/PO-L1/operations/10/start', { quantity: 1 }, paula)
  t.equal((await call('POST', `/api/v1/runs/${run.body.runId}/complete`, completion, paula)).status, 200)
  t.equal((await call('GET', '/api/v1/orders/PO-L1')).body.state, 'completed')

  await refusedUnwritten(t, () => call('POST', '/api/v1/orders/PO-L1/close', undefined, leo), 422, 'signature_required', 'closing without a body')
  await refusedUnwritten(t, () => call('POST', '/api/v1/orders/PO-L1/close', { signature: { meaning: 'approval', username: 'paula', password } }, paula), 403, 'two_person_rule', 'the operator who made it closing it')
  const closed = await call('POST', '/api/v1/orders/PO-L1/close', { signature: { meaning: 'responsibility', username: 'leo', password } }, leo)
  t.equal(closed.status, 200, JSON.stringify(closed.body))
  const detail = await call('GET', '/api/v1/orders/PO-L1')
  t.equal(detail.body.state, 'closed')
  t.match(detail.body.signatures, [{ signerId: 'leo', signerName: 'Leo Lead', signedType: 'OrderClosed', meaning: 'responsibility', valid: true }])
})

t.test('approving a master-data change: its author cannot, quality can', async (t) => {
  const ada = await gw.session('ada')
  const routingC = { id: 'RT-PASTE', version: 'C', productId: 'PASTE', operations: [{ seq: 10, name: 'Mix', workCenterId: 'WC-MIX', components: [{ materialId: 'RESIN', quantityPer: 1 }], instructions: 'Mix, version C.' }] }
  const defined = await call('PUT', '/api/v1/routings/RT-PASTE/C', routingC, ada)
  t.equal(defined.status, 200)
  const seq = defined.body.seq as number
  await refusedUnwritten(t, () => call('POST', `/api/v1/records/${seq}/signatures`, { signature: { meaning: 'approval', username: 'ada', password } }, ada), 403, 'two_person_rule', 'the author approving her own routing')
  await refusedUnwritten(t, () => call('POST', `/api/v1/records/${seq}/signatures`, { signature: { meaning: 'approval', username: 'quentin', password } }), 403, 'signature_needs_person', 'an API token signing')
  await refusedUnwritten(t, () => call('POST', '/api/v1/records/999999/signatures', { signature: { meaning: 'approval', password } }, ada), 404, 'not_found', 'signing a record that does not exist')
  const rita = await gw.session('rita')
  const approved = await call('POST', `/api/v1/records/${seq}/signatures`, { signature: { meaning: 'approval', username: 'rita', password } }, rita)
  t.equal(approved.status, 201, JSON.stringify(approved.body))
  t.match(approved.body.signature, { signedSeq: seq, signedType: 'RoutingDefined', signedSubject: 'routing/RT-PASTE/C', signerId: 'rita' })
  const record = await call('GET', `/api/v1/records/${seq}`)
  t.match(record.body, { record: { seq, type: 'RoutingDefined' }, signatures: [{ signerId: 'rita', meaning: 'approval', valid: true }] })
})

t.test('a badge + PIN session signs with badge and PIN first, the PIN alone later', async (t) => {
  t.equal((await call('PUT', '/api/v1/people/bea/badge', { badgeId: 'B-0077', pin: '4826' })).status, 200)
  const login = await call('POST', '/api/v1/auth/badge', { badgeId: 'B-0077', pin: '4826' }, '')
  t.equal(login.status, 200)
  const bea = login.body.token as string
  const release = (serial: string, signature: Record<string, unknown>) => call('POST', `/api/v1/units/${serial}/release-hold`, { reason: 're-measured', signature }, bea)
  await refusedUnwritten(t, () => release(serials[2]!, { meaning: 'approval', pin: '4826' }), 422, 'signature_incomplete', 'the first signing with the PIN alone')
  await refusedUnwritten(t, () => release(serials[2]!, { meaning: 'approval', badgeId: 'B-0077', pin: '0000' }), 401, 'signature_failed', 'a wrong PIN')
  t.equal((await release(serials[2]!, { meaning: 'approval', badgeId: 'B-0077', pin: '4826' })).status, 200, 'badge and PIN')
  t.equal((await release(serials[3]!, { meaning: 'approval', pin: '4826' })).status, 200, 'the PIN alone later')
  const sigs = [(await call('GET', `/api/v1/as-built/units/${serials[2]}`)).body.signatures[0], (await call('GET', `/api/v1/as-built/units/${serials[3]}`)).body.signatures[0]]
  t.match(sigs, [{ signerId: 'bea', method: 'badge', components: 'both' }, { signerId: 'bea', method: 'badge', components: 'secret' }])
})

t.test('wrong signing passwords count toward the account lockout', async (t) => {
  const rita = await gw.session('rita')
  const sign = (pw: string) => call('POST', `/api/v1/records/1/signatures`, { signature: { meaning: 'review', username: 'rita', password: pw } }, rita)
  isProblem(t, await sign('wrong 1'), 401, 'signature_failed', 'first wrong password')
  isProblem(t, await sign('wrong 2'), 401, 'signature_failed', 'second wrong password')
  const before = await gw.seq()
  const locked = await sign('wrong 3')
  isProblem(t, locked, 429, 'account_locked', 'the third locks the account')
  t.equal(await gw.seq(), before + 1, 'the lockout itself is recorded, and nothing else')
  t.equal(locked.body.recordedSeq, before + 1, 'the answer names the AccountLocked record')
  await refusedUnwritten(t, () => sign(password), 429, 'account_locked', 'the right password while locked')
  const login = await call('POST', '/api/v1/auth/login', { username: 'rita', password }, '')
  isProblem(t, login, 429, 'account_locked', 'a login while locked')
  t.ok(Number(login.headers.get('retry-after')) > 0, 'retry-after says when')
  gw.clock.advance(16 * 60_000)
  t.equal((await call('POST', '/api/v1/auth/login', { username: 'rita', password }, '')).status, 200, 'the lockout runs out')
})

t.test('the chain and every signature verify', async (t) => {
  const verified = await call('GET', '/api/v1/audit/verify', undefined, await gw.session('quentin'))
  t.match(verified.body, { ok: true })
  t.ok(verified.body.signatures >= 6, `${verified.body.signatures} signatures checked`)
})
