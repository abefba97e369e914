// Sessions that end when idle (21 CFR 11.10(d)), terminals that prove themselves with a secret (11.10(h)), lockouts in the audit trail and as an alert (11.300(d)).
import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import type { Reply } from '../helpers/gateway.ts'
import { dispatchedOrder, login, password } from '../helpers/line.ts'
import { part11Gateway } from './part11-gateway.ts'

const gw = await part11Gateway(t, 'accounts:\n  maxFailedLogins: 3\n  lockoutMinutes: 10\n  sessionIdleMinutes: 5\n')
const call = gw.call
const minute = 60_000
// The lockout event needs its type in the event log's catalogue; until it is there, say so rather than fail.
const lockoutDeclared = readFileSync(new URL('../../edge/core/events.ts', import.meta.url), 'utf8').includes("type: 'AccountLocked'")
const needsLockoutEvent = lockoutDeclared ? {} : { skip: "AccountLocked is not declared in edge/core/events.ts (and handled in edge/store/projections.ts) yet" }

function isProblem(t: Test, r: Reply, status: number, code: string, what: string): void {
  t.equal(r.status, status, `${what}: ${status} (${JSON.stringify(r.body)})`)
  t.match(r.headers.get('content-type'), /^application\/problem\+json/, `${what}: problem+json`)
  t.equal(r.body.code, code, `${what}: code ${code}`)
}

t.test('an idle session ends after accounts.sessionIdleMinutes; activity keeps it; API tokens have no idle time', async (t) => {
  const opened = await login(call, 'leo')
  t.equal(opened.status, 200)
  t.equal(opened.body.idleMinutes, 5, 'the login says the idle time, for the HMI')
  const leo = opened.body.token as string
  const me = () => call('GET', '/api/v1/auth/me', undefined, leo)
  gw.clock.advance(4 * minute)
  t.equal((await me()).status, 200, 'after 4 idle minutes: still open')
  gw.clock.advance(4 * minute)
  t.equal((await me()).status, 200, '8 minutes after the login, 4 after the last request: still open')
  gw.clock.advance(5 * minute + 10_000)
  const expired = await me()
  isProblem(t, expired, 401, 'session_expired', 'past 5 idle minutes')
  t.match(expired.body.detail, /ended after 5 min without activity; log in again/)
  isProblem(t, await me(), 401, 'session_expired', 'asked again: the same answer, the session does not come back')
  t.equal((await call('GET', '/api/v1/terminals')).status, 200, 'the admin API token, idle just as long, still works')
  t.equal((await login(call, 'leo')).status, 200, 'a new login opens a new session')
})

t.test('a session past its lifetime is answered session_expired too', async (t) => {
  const leo = (await login(call, 'leo')).body.token as string
  // Active every 4 minutes, so only the 8-hour lifetime can end it.
  for (let i = 0; i < 121; i++) {
    gw.clock.advance(4 * minute)
    const r = await call('GET', '/api/v1/auth/me', undefined, leo)
    if (r.status !== 200) {
      isProblem(t, r, 401, 'session_expired', `after ${(i + 1) * 4} active minutes`)
      t.match(r.body.detail, /expired at .* \(sessions last 480 min\)/)
      t.ok(i + 1 >= 119, 'not before its 8 hours')
      return
    }
  }
  t.fail('the session outlived its lifetime')
})

t.test('terminals: a secret issued once at registration, stored hashed; a terminal id without its secret is refused', async (t) => {
  const olga = (await login(call, 'olga')).body.token as string
  const registered = await call('PUT', '/api/v1/terminals/T-01', { name: 'Mixer terminal', location: 'WC-MIX' })
  t.equal(registered.status, 200, JSON.stringify(registered.body))
  const secret = registered.body.secret as string
  t.match(secret, /^taktt_/, 'the secret comes back this once')
  t.match(registered.body, { id: 'T-01', active: true, secretIssued: true })
  const stored = gw.running.gateway.store.db.sqlite.prepare('SELECT secret_hash FROM terminals WHERE id = ?').pluck().get('T-01') as string
  t.match(stored, /^[0-9a-f]{64}$/, 'only a SHA-256 is kept')
  t.not(stored.includes(secret.slice(6, 20)), true)
  const again = await call('PUT', '/api/v1/terminals/T-01', { name: 'Mixer terminal 1', location: 'WC-MIX' })
  t.notOk('secret' in again.body, 'a change of name issues no new secret')
  t.notOk(JSON.stringify((await call('GET', '/api/v1/terminals')).body).includes('secret_hash'), 'the list holds no secret')

  await dispatchedOrder(call, 'PO-T1', 3)
  const start = (headers: Record<string, string>) => call('POST', '/api/v1/orders/PO-T1/operations/10/start', { quantity: 1 }, olga, headers)
  const before = await gw.seq()
  isProblem(t, await start({ 'x-takt-terminal': 'T-01' }), 403, 'terminal_unverified', 'the terminal id alone')
  isProblem(t, await start({ 'x-takt-terminal': 'T-01', 'x-takt-terminal-key': 'taktt_guessed' }), 403, 'terminal_unverified', 'a wrong secret')
  isProblem(t, await start({ 'x-takt-terminal': 'T-02', 'x-takt-terminal-key': secret }), 403, 'terminal_unknown', "T-01's secret under another id")
  t.equal(await gw.seq(), before, 'refused requests record nothing')
  const ok = await start({ 'x-takt-terminal': 'T-01', 'x-takt-terminal-key': secret })
  t.equal(ok.status, 201, JSON.stringify(ok.body))
  const actor = gw.running.gateway.store.db.sqlite.prepare('SELECT actor FROM events WHERE seq = ?').pluck().get(ok.body.seq)
  t.equal(actor, 'person:olga;terminal=T-01', 'the event names the person and the proven terminal')
  t.equal((await start({})).status, 201, 'a request naming no terminal names none (API clients, scripts)')

  const rotated = await call('PUT', '/api/v1/terminals/T-01', { name: 'Mixer terminal 1', location: 'WC-MIX', rotateSecret: true })
  t.match(rotated.body.secret, /^taktt_/)
  t.not(rotated.body.secret, secret)
  isProblem(t, await start({ 'x-takt-terminal': 'T-01', 'x-takt-terminal-key': secret }), 403, 'terminal_unverified', 'the old secret after a new one was issued')
  t.equal((await start({ 'x-takt-terminal': 'T-01', 'x-takt-terminal-key': rotated.body.secret })).status, 201, 'the new secret')
  isProblem(t, await call('POST', '/api/v1/auth/login', { username: 'olga', password }, '', { 'x-takt-terminal': 'T-01', 'x-takt-terminal-key': secret }), 403, 'terminal_unverified', 'a login from a terminal with a stale secret')
  t.equal((await call('POST', '/api/v1/auth/login', { username: 'olga', password }, '', { 'x-takt-terminal': 'T-01', 'x-takt-terminal-key': rotated.body.secret })).status, 200, 'a login from the enrolled terminal')
  t.equal((await call('PUT', '/api/v1/terminals/T-01', { name: 'Mixer terminal 1', location: 'WC-MIX', active: false })).status, 200, 'retired')
  isProblem(t, await start({ 'x-takt-terminal': 'T-01', 'x-takt-terminal-key': rotated.body.secret }), 403, 'terminal_unknown', 'a retired terminal, secret or not')
  isProblem(t, await call('PUT', '/api/v1/terminals/T-03', { name: 'x', location: 'y', rotateSecret: 'yes' }), 422, 'validation_failed', 'rotateSecret must be a boolean')
})

t.test('a lockout is an AccountLocked event (no password in it) in the audit trail, and an alert for leads until unlocked', needsLockoutEvent, async (t) => {
  const terminal = await call('PUT', '/api/v1/terminals/T-LOCK', { name: 'Lock terminal', location: 'WC-MIX' })
  const headers = { 'x-takt-terminal': 'T-LOCK', 'x-takt-terminal-key': terminal.body.secret as string }
  const wrong = (pw: string) => call('POST', '/api/v1/auth/login', { username: 'olga', password: pw }, '', headers)
  isProblem(t, await wrong('first wrong guess'), 401, 'login_failed', 'first')
  isProblem(t, await wrong('second wrong guess'), 401, 'login_failed', 'second')
  const locked = await wrong('third wrong guess')
  isProblem(t, locked, 429, 'account_locked', 'the third locks')
  t.match(locked.body.detail, /until .*ask an administrator to unlock it by setting a new password/, 'says until when and who unlocks')
  t.type(locked.body.recordedSeq, 'number', 'the answer names the event it recorded')
  const still = await wrong('fourth while locked')
  isProblem(t, still, 429, 'account_locked', 'while locked')
  t.notOk('recordedSeq' in still.body, 'an attempt on a locked account records no second lockout')

  const quentin = await gw.session('quentin')
  const trail = await call('GET', '/api/v1/audit/trail?type=AccountLocked', undefined, quentin)
  t.equal(trail.status, 200)
  t.equal(trail.body.items.length, 1, 'one lockout, one event')
  t.match(trail.body.items[0], { seq: locked.body.recordedSeq, type: 'AccountLocked', subject: 'person/olga', actor: 'anonymous;terminal=T-LOCK' })
  const row = gw.running.gateway.store.db.sqlite.prepare('SELECT data, actor, occurred_at FROM events WHERE seq = ?').get(locked.body.recordedSeq) as { data: string; actor: string; occurred_at: string }
  t.match(JSON.parse(row.data), { personId: 'olga', credential: 'password', via: 'login', failures: 3, terminal: 'T-LOCK', lockedUntil: locked.body.lockedUntil })
  t.ok(row.occurred_at, 'with its time')
  for (const guess of ['first wrong guess', 'second wrong guess', 'third wrong guess']) t.notOk(row.data.includes(guess), `no password material (${guess})`)
  const review = await call('GET', '/api/v1/hmi/audit?type=AccountLocked', undefined, quentin)
  t.match(review.body.items, [{ type: 'AccountLocked', subject: 'person/olga' }], 'the HMI audit review shows it')

  const leo = await gw.session('leo')
  const alerts = await call('GET', '/api/v1/hmi/alerts', undefined, leo)
  t.equal(alerts.status, 200)
  t.match(alerts.body.items, [{ type: 'AccountLocked', personId: 'olga', name: 'Olga Operator', credential: 'password', terminal: 'T-LOCK', active: true, unlock: /administrator unlocks it now by setting a new password/ }])
  const olgaSession = await call('POST', '/api/v1/auth/login', { username: 'olga', password }, '', headers)
  isProblem(t, olgaSession, 429, 'account_locked', 'the right password while locked')
  isProblem(t, await call('GET', '/api/v1/hmi/alerts', undefined, ''), 401, 'unauthenticated', 'alerts without a token')
  const olgaPw = 'olga unlocked password'
  t.equal((await call('PUT', '/api/v1/people/olga/password', { password: olgaPw })).status, 200, 'an administrator sets a new password')
  const olga = (await login(call, 'olga', olgaPw)).body.token as string
  isProblem(t, await call('GET', '/api/v1/hmi/alerts', undefined, olga), 403, 'forbidden', 'an operator does not see the alerts')
  const after = await call('GET', '/api/v1/hmi/alerts', undefined, leo)
  t.match(after.body.items, [{ personId: 'olga', active: false }], 'unlocked: the alert stays in the history, no longer active')
})

t.test('a lockout at signing and one of a badge are recorded the same way, with the session as actor', needsLockoutEvent, async (t) => {
  const rita = await gw.session('rita')
  const sign = (pw: string) => call('POST', '/api/v1/records/1/signatures', { signature: { meaning: 'review', username: 'rita', password: pw } }, rita)
  isProblem(t, await sign('wrong one'), 401, 'signature_failed', 'first wrong signing password')
  isProblem(t, await sign('wrong two'), 401, 'signature_failed', 'second')
  const locked = await sign('wrong three')
  isProblem(t, locked, 429, 'account_locked', 'the third locks the account')
  t.type(locked.body.recordedSeq, 'number')
  const row = gw.running.gateway.store.db.sqlite.prepare('SELECT data, actor, type FROM events WHERE seq = ?').get(locked.body.recordedSeq) as { data: string; actor: string; type: string }
  t.equal(row.type, 'AccountLocked')
  t.equal(row.actor, 'person:rita', 'the session that signed')
  t.match(JSON.parse(row.data), { personId: 'rita', credential: 'password', via: 'signing', terminal: null })
  t.notOk(/wrong (one|two|three)/.test(row.data), 'no password material')

  t.equal((await call('PUT', '/api/v1/people/paula/badge', { badgeId: 'B-0777', pin: '5830' })).status, 200)
  let badgeLocked: Reply | undefined
  for (let i = 0; i < 5; i++) badgeLocked = await call('POST', '/api/v1/auth/badge', { badgeId: 'B-0777', pin: '0000' }, '')
  isProblem(t, badgeLocked!, 429, 'badge_locked', 'the fifth wrong PIN locks the badge')
  const badgeRow = gw.running.gateway.store.db.sqlite.prepare('SELECT data, actor FROM events WHERE seq = ?').get(badgeLocked!.body.recordedSeq) as { data: string; actor: string }
  t.equal(badgeRow.actor, 'anonymous')
  t.match(JSON.parse(badgeRow.data), { personId: 'paula', credential: 'pin', via: 'badge', failures: 5 })
  t.notOk(badgeRow.data.includes('0000'), 'no PIN in it')
  const leo = await gw.session('leo')
  const alerts = await call('GET', '/api/v1/hmi/alerts', undefined, leo)
  t.match(
    alerts.body.items.filter((a: { active: boolean }) => a.active),
    [
      { personId: 'paula', credential: 'pin', unlock: /new PIN/ },
      { personId: 'rita', credential: 'password' },
    ],
    'both show as active alerts, newest first',
  )
})
