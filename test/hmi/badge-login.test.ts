// Badge and PIN login for operators: who may set one, PIN rules, hashed at rest, lockout after wrong PINs (also in parallel), expiry, and the roles a PIN may not carry.
import t from 'tap'
import { hmiApp } from './helpers/hmi-gateway.ts'

const badgeLogin = (app: Awaited<ReturnType<typeof hmiApp>>, badgeId: string, pin: string) => app.call('POST', '/api/v1/auth/badge', { badgeId, pin }, '')

t.test('an administrator sets a badge and PIN; a PIN has rules', async (t) => {
  const app = await hmiApp()
  t.teardown(app.close)
  const lea = (await app.call('POST', '/api/v1/auth/login', { username: 'lea', password: 'takt-demo-password' }, '')).body.token as string

  const set = await app.call('PUT', '/api/v1/people/ana/badge', { badgeId: 'B-0100', pin: '4711' })
  t.equal(set.status, 200, JSON.stringify(set.body))
  t.same(set.body, { personId: 'ana', badgeId: 'B-0100', badgeSet: true })

  const byLead = await app.call('PUT', '/api/v1/people/ben/badge', { badgeId: 'B-0200', pin: '4711' }, lea)
  t.equal(byLead.status, 403, 'only an administrator sets badges')
  t.equal(byLead.body.code, 'forbidden')
  t.equal((await app.call('PUT', '/api/v1/people/ben/badge', { badgeId: 'B-0200', pin: '4711' }, '')).status, 401)
  t.equal((await app.call('PUT', '/api/v1/people/nobody/badge', { badgeId: 'B-0300', pin: '4711' })).body.code, 'not_found')

  for (const [pin, why] of [['471', 'three digits'], ['1234567890123', 'thirteen digits'], ['47a1', 'a letter'], ['0000', 'one digit repeated'], ['1234', 'a run up'], ['9876', 'a run down']] as Array<[string, string]>) {
    const r = await app.call('PUT', '/api/v1/people/ben/badge', { badgeId: 'B-0200', pin })
    t.equal(r.status, 422, `refused: ${why}`)
    t.match(r.body.detail, /pin/, why)
  }
  t.equal((await app.call('PUT', '/api/v1/people/ben/badge', { badgeId: 'B-0200', pin: '4712' })).status, 200, 'four digits')
  t.equal((await app.call('PUT', '/api/v1/people/ben/badge', { badgeId: 'B-0200', pin: '471147114711' })).status, 200, 'twelve digits')

  const taken = await app.call('PUT', '/api/v1/people/ben/badge', { badgeId: 'B-0100', pin: '5823' })
  t.equal(taken.status, 409, "another person's badge")
  t.equal(taken.body.code, 'badge_taken')

  t.equal((await app.call('PUT', '/api/v1/people/root/badge', { badgeId: 'B-0900', pin: '5823' })).status, 404)
  t.equal((await app.call('PUT', '/api/v1/people/root', { id: 'root', name: 'Root Admin', roles: ['admin'] })).status, 200)
  const admin = await app.call('PUT', '/api/v1/people/root/badge', { badgeId: 'B-0900', pin: '5823' })
  t.equal(admin.status, 422, 'a PIN is too weak for an administrator')
  t.equal(admin.body.code, 'badge_not_allowed')

  const row = app.gateway.store.db.sqlite.prepare('SELECT * FROM badges WHERE person_id = ?').get('ana') as Record<string, unknown>
  t.match(row.pin_hash, /^scrypt\$16384\$8\$1\$/, 'the PIN is stored as a scrypt hash, like a password')
  t.notMatch(JSON.stringify(row), /4711/, 'and never as itself')
})

t.test('log in with badge and PIN; wrong PIN, unknown badge and inactive person are refused alike', async (t) => {
  const app = await hmiApp()
  t.teardown(app.close)
  await app.call('PUT', '/api/v1/people/ana/badge', { badgeId: 'B-0100', pin: '4711' })

  const ok = await badgeLogin(app, 'B-0100', '4711')
  t.equal(ok.status, 200, JSON.stringify(ok.body))
  t.match(ok.body, { token: /^takts_/, roles: ['operator'] })
  const me = await app.call('GET', '/api/v1/auth/me', undefined, ok.body.token)
  t.match(me.body, { kind: 'person', id: 'ana', roles: ['operator'] })

  const wrong = await badgeLogin(app, 'B-0100', '4712')
  t.equal(wrong.status, 401)
  t.equal(wrong.body.code, 'login_failed')
  const unknown = await badgeLogin(app, 'B-9999', '4711')
  t.equal(unknown.status, 401)
  t.equal(unknown.body.detail, wrong.body.detail, 'an unknown badge reads the same as a wrong PIN')
  t.equal((await badgeLogin(app, 'B-0100', '')).status, 422, 'an empty PIN is not even tried')

  t.equal((await app.call('PUT', '/api/v1/people/ana', { id: 'ana', name: 'Ana Operator', roles: ['operator'], active: false })).status, 200)
  t.equal((await badgeLogin(app, 'B-0100', '4711')).status, 401, 'an inactive person cannot log in')
  t.equal((await app.call('GET', '/api/v1/auth/me', undefined, ok.body.token)).status, 401, 'and their open session ends')
})

t.test('five wrong PINs lock the badge for 15 minutes; a right PIN clears the count', async (t) => {
  const app = await hmiApp()
  t.teardown(app.close)
  await app.call('PUT', '/api/v1/people/ana/badge', { badgeId: 'B-0100', pin: '4711' })

  for (let i = 1; i <= 4; i++) t.equal((await badgeLogin(app, 'B-0100', '0815')).status, 401, `wrong PIN ${i}`)
  t.equal((await badgeLogin(app, 'B-0100', '4711')).status, 200, 'four wrong, then right: in')
  for (let i = 1; i <= 4; i++) t.equal((await badgeLogin(app, 'B-0100', '0815')).status, 401, `the count started again: wrong PIN ${i}`)
  const fifth = await badgeLogin(app, 'B-0100', '0815')
  t.equal(fifth.status, 429, 'the fifth wrong PIN locks the badge')
  t.equal(fifth.body.code, 'badge_locked')
  t.equal(fifth.headers.get('retry-after'), '900')
  const locked = await badgeLogin(app, 'B-0100', '4711')
  t.equal(locked.status, 429, 'even the right PIN is refused while locked')
  t.ok(Date.parse(locked.body.lockedUntil) > Date.now() + 14 * 60_000)

  app.clock.offsetMs = 15 * 60_000 - 5_000
  t.equal((await badgeLogin(app, 'B-0100', '4711')).status, 429, 'still locked just before the 15 minutes are up')
  app.clock.offsetMs = 15 * 60_000 + 1_000
  t.equal((await badgeLogin(app, 'B-0100', '0815')).status, 401, 'after the lockout a wrong PIN counts as the first again')
  t.equal((await badgeLogin(app, 'B-0100', '4711')).status, 200, 'and the right PIN lets the operator in')

  // A new PIN from the administrator unlocks at once.
  for (let i = 1; i <= 5; i++) await badgeLogin(app, 'B-0100', '0815')
  t.equal((await badgeLogin(app, 'B-0100', '4711')).status, 429)
  await app.call('PUT', '/api/v1/people/ana/badge', { badgeId: 'B-0100', pin: '5823' })
  t.equal((await badgeLogin(app, 'B-0100', '5823')).status, 200, 'a new PIN clears the lockout')
})

t.test('guesses sent in parallel cannot outrun the lockout', async (t) => {
  const app = await hmiApp()
  t.teardown(app.close)
  await app.call('PUT', '/api/v1/people/ana/badge', { badgeId: 'B-0100', pin: '4711' })
  const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) => badgeLogin(app, 'B-0100', String(5000 + i * 7))))
  const statuses = guesses.map((g) => g.status)
  t.equal(statuses.filter((s) => s === 401).length, 4, 'only four guesses were checked and answered wrong')
  t.equal(statuses.filter((s) => s === 429).length, 16, 'the fifth locked the badge, the rest were not tried')
  t.equal((await badgeLogin(app, 'B-0100', '4711')).status, 429)
})

t.test('a badge session ends with its time; a badge can be taken away', async (t) => {
  const app = await hmiApp()
  t.teardown(app.close)
  await app.call('PUT', '/api/v1/people/ben/badge', { badgeId: 'B-0200', pin: '2580' })
  const session = await badgeLogin(app, 'B-0200', '2580')
  t.equal(session.status, 200)
  const ttl = Date.parse(session.body.expiresAt) - Date.now()
  t.ok(ttl > 7.9 * 3600_000 && ttl <= 8 * 3600_000, 'the gateway session time applies (8 h by default)')
  app.clock.offsetMs = 8 * 3600_000 + 10_000
  t.equal((await app.call('GET', '/api/v1/auth/me', undefined, session.body.token)).status, 401, 'expired after its time')
  app.clock.offsetMs = 0

  t.equal((await app.call('DELETE', '/api/v1/people/ben/badge')).status, 200)
  t.equal((await badgeLogin(app, 'B-0200', '2580')).status, 401, 'a removed badge no longer logs in')
  t.equal((await app.call('DELETE', '/api/v1/people/ben/badge')).status, 404)

  // Someone who became an administrator cannot keep using a PIN.
  await app.call('PUT', '/api/v1/people/ben/badge', { badgeId: 'B-0200', pin: '2580' })
  await app.call('PUT', '/api/v1/people/ben', { id: 'ben', name: 'Ben Operator', roles: ['operator', 'admin'] })
  t.equal((await badgeLogin(app, 'B-0200', '2580')).status, 401, 'an administrator logs in with a password only')
})
