// Accounts under 21 CFR 11.300 and 11.10(d), (h): password length, history and expiry, lockout, deactivation instead of deletion, registered terminals.
import t, { type Test } from 'tap'
import type { Reply } from '../helpers/gateway.ts'
import { dispatchedOrder, login, password } from '../helpers/line.ts'
import { part11Gateway } from './part11-gateway.ts'

const gw = await part11Gateway(t, 'accounts:\n  passwordMinLength: 16\n  passwordHistory: 3\n  passwordMaxAgeDays: 90\n  maxFailedLogins: 3\n  lockoutMinutes: 10\n')
const call = gw.call
const day = 86400_000

function isProblem(t: Test, r: Reply, status: number, code: string, what: string): void {
  t.equal(r.status, status, `${what}: ${status} (${JSON.stringify(r.body)})`)
  t.match(r.headers.get('content-type'), /^application\/problem\+json/, `${what}: problem+json`)
  t.equal(r.body.code, code, `${what}: code ${code}`)
}

const setPassword = (id: string, pw: string) => call('PUT', `/api/v1/people/${id}/password`, { password: pw })

t.test('password rules: the configured length, none of the last few again', async (t) => {
  const short = await setPassword('rita', 'fifteen chars!!')
  isProblem(t, short, 422, 'password_too_short', 'a 15-character password under a 16-character rule')
  t.match(short.body.errors, [{ path: 'json.password' }])
  isProblem(t, await setPassword('rita', password), 422, 'password_reused', 'the current password again')
  t.equal((await setPassword('rita', 'second password of rita')).status, 200, 'a new long password')
  t.equal((await setPassword('rita', 'third password of rita!')).status, 200)
  isProblem(t, await setPassword('rita', 'second password of rita'), 422, 'password_reused', 'one of the last three')
  t.equal((await setPassword('rita', 'fourth password of rita')).status, 200)
  t.equal((await setPassword('rita', password)).status, 200, 'the first one is out of the last three: allowed again')
  t.equal((await login(call, 'rita')).status, 200)
})

t.test('expiry: past the maximum age a login must set a new password', async (t) => {
  t.equal((await login(call, 'leo')).status, 200, 'a fresh password logs in')
  gw.clock.advance(89 * day)
  t.equal((await login(call, 'leo')).status, 200, 'day 89: still fine')
  gw.clock.advance(2 * day)
  const expired = await login(call, 'leo')
  isProblem(t, expired, 403, 'password_change_required', 'day 91')
  t.notOk('token' in expired.body, 'no session')
  t.match(expired.body.errors, [{ path: 'json.newPassword' }])
  const change = (pw: string, newPassword: string) => call('POST', '/api/v1/auth/login', { username: 'leo', password: pw, newPassword }, '')
  isProblem(t, await change(password, password), 422, 'password_reused', 'the expired password as the new one')
  isProblem(t, await change(password, 'too short pw'), 422, 'password_too_short', 'a short new password')
  isProblem(t, await change('wrong password here', 'leo has a new password'), 401, 'login_failed', 'a new password without the right current one')
  const changed = await change(password, 'leo has a new password')
  t.equal(changed.status, 200, JSON.stringify(changed.body))
  t.match(changed.body.token, /^takts_/)
  t.equal((await login(call, 'leo', 'leo has a new password')).status, 200, 'the new password logs in')
  isProblem(t, await login(call, 'leo'), 401, 'login_failed', 'the old one does not')
  // Everyone else's password has expired by now too: give the next tests fresh ones.
  for (const id of ['olga', 'quentin', 'paula', 'bea', 'rita']) t.equal((await setPassword(id, `${id} fresh password 2`)).status, 200)
})

t.test('lockout: repeated wrong passwords lock the account, for the configured time', async (t) => {
  const pw = 'olga fresh password 2'
  isProblem(t, await login(call, 'olga', 'wrong one'), 401, 'login_failed', 'first')
  isProblem(t, await login(call, 'olga', 'wrong two'), 401, 'login_failed', 'second')
  const third = await login(call, 'olga', 'wrong three')
  isProblem(t, third, 429, 'account_locked', 'the third locks')
  t.ok(Date.parse(third.body.lockedUntil) > gw.clock.now().getTime())
  isProblem(t, await login(call, 'olga', pw), 429, 'account_locked', 'the right password while locked')
  gw.clock.advance(11 * 60_000)
  t.equal((await login(call, 'olga', pw)).status, 200, 'after ten minutes')
  isProblem(t, await login(call, 'olga', 'wrong again'), 401, 'login_failed', 'a right login cleared the count')
  t.equal((await login(call, 'olga', pw)).status, 200)
})

t.test('deactivation instead of deletion: no logins, no signatures, the history stays', async (t) => {
  const pw = 'paula fresh password 2'
  const paula = (await login(call, 'paula', pw)).body.token as string
  await dispatchedOrder(call, 'PO-D1', 1)
  t.equal((await call('POST', '/api/v1/orders/PO-D1/operations/10/start', { quantity: 1 }, paula)).status, 201, 'Paula works')
  const before = await gw.seq()
  isProblem(t, await call('POST', '/api/v1/people/paula/deactivate', {}, paula), 422, 'validation_failed', 'deactivation without a reason')
  isProblem(t, await call('POST', '/api/v1/people/paula/deactivate', { reason: 'left' }, paula), 403, 'forbidden', 'deactivation by a non-admin')
  t.equal(await gw.seq(), before, 'refusals record nothing')
  const done = await call('POST', '/api/v1/people/paula/deactivate', { reason: 'left the company' })
  t.equal(done.status, 200, JSON.stringify(done.body))
  t.match(done.body, { personId: 'paula', active: false, sessionsEnded: 1 })
  isProblem(t, await call('GET', '/api/v1/auth/me', undefined, paula), 401, 'unauthenticated', 'her open session')
  isProblem(t, await login(call, 'paula', pw), 401, 'login_failed', 'her login')
  isProblem(t, await call('POST', '/api/v1/people/paula/deactivate', { reason: 'again' }), 409, 'already_inactive', 'a second deactivation')
  const person = await call('GET', '/api/v1/people/paula')
  t.match(person.body, { id: 'paula', name: 'Paula Performer', active: false }, 'the person is kept')
  const quentin = (await login(call, 'quentin', 'quentin fresh password 2')).body.token as string
  const trail = await call('GET', '/api/v1/audit/trail?actor=paula', undefined, quentin)
  t.match(trail.body.items, [{ type: 'OperationStarted', personId: 'paula' }], 'what she did stays in the trail')
  const why = await call('GET', '/api/v1/audit/trail?type=PersonDeactivated', undefined, quentin)
  t.match(why.body.items, [{ subject: 'person/paula', reason: 'left the company', actor: /^token:/ }], 'who deactivated her and why')
})

t.test('a deactivated person with a badge cannot sign or log in with it', async (t) => {
  t.equal((await call('PUT', '/api/v1/people/bea/badge', { badgeId: 'B-0042', pin: '5830' })).status, 200)
  const bea = (await call('POST', '/api/v1/auth/badge', { badgeId: 'B-0042', pin: '5830' }, '')).body.token as string
  t.equal((await call('POST', '/api/v1/people/bea/deactivate', { reason: 'transferred' })).status, 200)
  isProblem(t, await call('POST', '/api/v1/records/1/signatures', { signature: { meaning: 'review', badgeId: 'B-0042', pin: '5830' } }, bea), 401, 'unauthenticated', 'signing from her ended session')
  isProblem(t, await call('POST', '/api/v1/auth/badge', { badgeId: 'B-0042', pin: '5830' }, ''), 401, 'login_failed', 'her badge login')
})

t.test('terminals: registered by an administrator, named with each action, unknown ones refused', async (t) => {
  const olga = (await login(call, 'olga', 'olga fresh password 2')).body.token as string
  await dispatchedOrder(call, 'PO-T1', 1)
  const start = (terminal: string, key?: string) => call('POST', '/api/v1/orders/PO-T1/operations/10/start', { quantity: 1 }, olga, { 'x-takt-terminal': terminal, ...(key ? { 'x-takt-terminal-key': key } : {}) })
  const before = await gw.seq()
  isProblem(t, await start('T-99'), 403, 'terminal_unknown', 'an unregistered terminal')
  t.equal(await gw.seq(), before, 'nothing recorded')
  isProblem(t, await call('PUT', '/api/v1/terminals/T-02', { name: 'Press terminal', location: 'WC-MIX' }, olga), 403, 'forbidden', 'an operator registering a terminal')
  isProblem(t, await call('PUT', '/api/v1/terminals/T-02', { name: 'Press terminal' }), 422, 'validation_failed', 'a terminal without a location')
  const registered = await call('PUT', '/api/v1/terminals/T-02', { name: 'Press terminal', location: 'WC-MIX' })
  t.match(registered.body, { id: 'T-02', active: true, registeredBy: /^token:/ })
  const secret = registered.body.secret as string
  const ok = await start('T-02', secret)
  t.equal(ok.status, 201)
  const logged = gw.running.gateway.store.db.sqlite.prepare('SELECT actor FROM events WHERE seq = ?').pluck().get(ok.body.seq)
  t.equal(logged, 'person:olga;terminal=T-02', 'the event names the person and the terminal')
  t.match((await call('GET', '/api/v1/auth/me', undefined, olga, { 'x-takt-terminal': 'T-02', 'x-takt-terminal-key': secret })).body, { id: 'olga', terminal: 'T-02' })
  t.equal((await call('PUT', '/api/v1/terminals/T-02', { name: 'Press terminal', location: 'WC-MIX', active: false })).status, 200, 'retired')
  isProblem(t, await start('T-02', secret), 403, 'terminal_unknown', 'a retired terminal')
  t.match((await call('GET', '/api/v1/terminals')).body.items, [{ id: 'T-02', active: false }])
})

t.test('a password set by an administrator is replaced by its owner at the first login, when configured', async (t) => {
  const strict = await part11Gateway(t, 'accounts:\n  changeAdminSetPasswords: true\n')
  const first = await login(strict.call, 'quentin')
  isProblem(t, first, 403, 'password_change_required', 'the first login with the password the administrator set')
  t.match(first.body.detail, /set by an administrator/)
  const own = 'quentin chose this himself'
  const changed = await strict.call('POST', '/api/v1/auth/login', { username: 'quentin', password, newPassword: own }, '')
  t.equal(changed.status, 200, JSON.stringify(changed.body))
  const session = changed.body.token as string
  t.equal((await login(strict.call, 'quentin', own)).status, 200, 'his own password logs in from then on')
  const sign = (pw: string) => strict.call('POST', '/api/v1/records/1/signatures', { signature: { meaning: 'review', username: 'quentin', password: pw } }, session)
  t.equal((await sign(own)).status, 201, 'and signs')
  t.equal((await strict.call('PUT', '/api/v1/people/quentin/password', { password: 'reset by the admin again' })).status, 200)
  const before = await strict.seq()
  isProblem(t, await sign('reset by the admin again'), 403, 'password_change_required', 'signing with a password an administrator set')
  t.equal(await strict.seq(), before, 'nothing signed')
  isProblem(t, await login(strict.call, 'quentin', 'reset by the admin again'), 403, 'password_change_required', 'after a reset, again')
})
