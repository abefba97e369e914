// Authentication and roles over HTTP: every route but health and login needs a bearer token, roles gate each action, secrets stay out of logs.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { loadConfig } from '../edge/config.ts'
import { startGateway } from '../edge/main.ts'
import { jsonClient, startChildGateway } from './helpers/client.ts'
import { adminToken, removeDir, type Reply } from './helpers/gateway.ts'
import { dispatchedOrder, eventSeq, login, order, password, lineGateway } from './helpers/line.ts'


function isProblem(t: Test, r: Reply, status: number, code: string, what: string): void {
  t.equal(r.status, status, `${what}: ${status} (${JSON.stringify(r.body)})`)
  t.match(r.headers.get('content-type'), /^application\/problem\+json/, `${what}: problem+json`)
  t.equal(r.body.code, code, `${what}: code ${code}`)
  t.equal(r.body.status, status)
  t.type(r.body.detail, 'string')
}

const gw = await lineGateway(t)
const call = gw.call
const session = async (username: string) => {
  const r = await login(call, username)
  if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body.token as string
}
const olga = await session('olga')
const leo = await session('leo')
const quentin = await session('quentin')
const integration = (await call('POST', '/api/v1/tokens', { name: 'erp', role: 'integration' })).body.token as string

t.test('every route in the OpenAPI document needs a token, except health and login', async (t) => {
  const doc = await call('GET', '/openapi.json')
  t.equal(doc.status, 200)
  t.equal(doc.body.openapi, '3.1.0')
  const anonymousDoc = await call('GET', '/openapi.json', undefined, '')
  isProblem(t, anonymousDoc, 401, 'unauthenticated', 'GET /openapi.json anonymously')

  const seq = await eventSeq(call)
  const routes: Array<[string, string]> = []
  for (const [path, item] of Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(item)) routes.push([method.toUpperCase(), path])
  }
  t.ok(routes.length >= 40, `the document lists ${routes.length} routes`)
  for (const [method, template] of routes) {
    const path = template.replace('{seq}', '10').replace(/\{[^}]+\}/g, 'DUMMY-1')
    const what = `${method} ${path}`
    if (template === '/api/v1/auth/login') {
      const r = await call(method, path, { username: 'nobody', password: 'x' }, '')
      isProblem(t, r, 401, 'login_failed', `${what} is open, and refuses a wrong password`)
      continue
    }
    if (template === '/api/v1/auth/badge') {
      const r = await call(method, path, { badgeId: 'nobody', pin: '0000' }, '')
      isProblem(t, r, 401, 'login_failed', `${what} is open, and refuses an unknown badge`)
      continue
    }
    const anonymous = await call(method, path, undefined, '')
    isProblem(t, anonymous, 401, 'unauthenticated', `${what} anonymously`)
    t.match(anonymous.body.detail, /needs a bearer token/)
    const forged = await call(method, path, undefined, 'takt_not-a-real-token')
    isProblem(t, forged, 401, 'unauthenticated', `${what} with an unknown token`)
    t.match(forged.body.detail, /unknown, revoked or expired/)
    if (template === '/api/v1/live') {
      // An event stream never ends by itself: its head is enough.
      const stream = new AbortController()
      const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${adminToken}` }, signal: stream.signal })
      t.equal(res.status, 200, `${what} as admin opens the stream`)
      stream.abort()
      continue
    }
    // With the admin token the same request reaches its route: no 401, and the route exists.
    const admitted = await call(method, path, undefined, adminToken)
    t.not(admitted.status, 401, `${what} as admin is past authentication`)
    t.not(admitted.body.code, 'route_not_found', `${what} is a real route`)
  }
  t.equal(await eventSeq(call), seq, 'none of these requests recorded anything')

  const health = await call('GET', '/health', undefined, '')
  t.equal(health.status, 200, '/health answers anonymously')
  t.equal(health.body.status, 'ok')
  const unknownRoute = await call('GET', '/api/v1/nothing-here', undefined, '')
  t.equal(unknownRoute.status, 401, 'an unknown route does not tell an anonymous caller whether it exists')
})

t.test('roles: who may act, and who may not', async (t) => {
  await dispatchedOrder(call, 'PO-R', 5)
  const forbidden = async (token: string, method: string, path: string, body: unknown, what: string) => {
    const seq = await eventSeq(call)
    const r = await call(method, path, body, token)
    isProblem(t, r, 403, 'forbidden', what)
    t.match(r.body.detail, /needs one of the roles|Only a lead/, `${what}: the detail names what is needed`)
    t.equal(await eventSeq(call), seq, `${what}: nothing recorded`)
  }
  const allowed = async (token: string, method: string, path: string, body: unknown, status: number, what: string) => {
    const r = await call(method, path, body, token)
    t.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`)
    return r
  }

  // Orders: integration and leads create them, operators and quality do not.
  await forbidden(olga, 'POST', '/api/v1/orders', order('PO-X', 1), 'an operator creating an order')
  await forbidden(quentin, 'POST', '/api/v1/orders', order('PO-X', 1), 'quality creating an order')
  await allowed(leo, 'POST', '/api/v1/orders', order('PO-X', 1), 201, 'a lead creating an order')
  await allowed(integration, 'POST', '/api/v1/orders', order('PO-Y', 1), 201, 'an integration token creating an order')

  // Master data: only integration (and admin) define it.
  const glue = { id: 'GLUE', name: 'Glue', uom: 'kg' }
  await forbidden(olga, 'PUT', '/api/v1/materials/GLUE', glue, 'an operator defining a material')
  await forbidden(leo, 'PUT', '/api/v1/materials/GLUE', glue, 'a lead defining a material')
  await allowed(integration, 'PUT', '/api/v1/materials/GLUE', glue, 200, 'an integration token defining a material')
  await allowed(olga, 'GET', '/api/v1/materials/GLUE', undefined, 200, 'an operator reading a material')

  // Tokens and passwords: admin only.
  await forbidden(olga, 'POST', '/api/v1/tokens', { name: 'mine', role: 'admin' }, 'an operator creating a token')
  await forbidden(integration, 'POST', '/api/v1/tokens', { name: 'mine', role: 'admin' }, 'an integration token creating a token')
  await forbidden(leo, 'PUT', '/api/v1/people/olga/password', { password: 'a brand new password' }, 'a lead setting a password')

  // Holds: a lead holds, quality or a lead releases; an integration token may not release.
  await allowed(leo, 'POST', '/api/v1/orders/PO-R/hold', { reason: 'suspect resin' }, 200, 'a lead holding an order')
  await forbidden(integration, 'POST', '/api/v1/orders/PO-R/release-hold', { reason: 'fine' }, 'an integration token releasing an order hold')
  await forbidden(olga, 'POST', '/api/v1/orders/PO-R/release-hold', { reason: 'fine' }, 'an operator releasing an order hold')
  t.equal((await call('GET', '/api/v1/orders/PO-R')).body.state, 'held', 'the order is still held')
  await allowed(quentin, 'POST', '/api/v1/orders/PO-R/release-hold', { reason: 'resin tested fine' }, 200, 'quality releasing an order hold')
  await forbidden(integration, 'POST', '/api/v1/units/U-1/release-hold', { reason: 'fine' }, 'an integration token releasing a unit hold')
  const unitRelease = await call('POST', '/api/v1/units/U-1/release-hold', { reason: 'fine' }, quentin)
  isProblem(t, unitRelease, 404, 'not_found', 'quality releasing an unknown unit gets past the role check')

  // Booking work: an operator acts as herself only; a lead may book for her.
  await forbidden(olga, 'POST', '/api/v1/orders/PO-R/operations/10/start', { quantity: 1, operatorId: 'leo' }, 'an operator booking for someone else')
  await allowed(olga, 'POST', '/api/v1/orders/PO-R/operations/10/start', { quantity: 1 }, 201, 'an operator starting as herself')
  await allowed(leo, 'POST', '/api/v1/orders/PO-R/operations/10/start', { quantity: 1, operatorId: 'olga' }, 201, 'a lead booking for an operator')
  const tokenStart = await call('POST', '/api/v1/orders/PO-R/operations/10/start', { quantity: 1 }, integration)
  isProblem(t, tokenStart, 422, 'operator_required', 'an integration token naming no operator')

  // Audit: the event log for quality and integration, the chain check for quality.
  await forbidden(olga, 'GET', '/api/v1/events', undefined, 'an operator reading the event log')
  await allowed(integration, 'GET', '/api/v1/events?limit=1', undefined, 200, 'an integration token reading the event log')
  await forbidden(leo, 'GET', '/api/v1/audit/verify', undefined, 'a lead verifying the chain')
  const verified = await allowed(quentin, 'GET', '/api/v1/audit/verify', undefined, 200, 'quality verifying the chain')
  t.equal(verified.body.ok, true)
})

t.test('login: wrong password, unknown user and inactive person are refused alike', async (t) => {
  const seq = await eventSeq(call)
  for (const [username, pw, what] of [
    ['olga', 'not the right password', 'a wrong password'],
    ['nobody', password, 'an unknown user'],
    ['ivan', password, 'an inactive person with the right password'],
  ] as const) {
    const r = await login(call, username, pw)
    isProblem(t, r, 401, 'login_failed', what)
    t.notOk('token' in r.body, `${what}: no token`)
  }
  const malformed = await call('POST', '/api/v1/auth/login', { username: 'olga' }, '')
  isProblem(t, malformed, 422, 'validation_failed', 'a login without a password')
  t.equal(await eventSeq(call), seq, 'logins record nothing in the event log')

  const ok = await login(call, 'olga')
  t.equal(ok.status, 200)
  t.same(ok.body.roles, ['operator'])
  t.match(ok.body.token, /^takts_/)
  t.ok(Date.parse(ok.body.expiresAt) > Date.now() + 7 * 3600_000, 'the session lasts the configured 8 hours')
})

t.test('a session works until logout, and ends when the person is made inactive', async (t) => {
  const token = await session('olga')
  const me = await call('GET', '/api/v1/auth/me', undefined, token)
  t.equal(me.status, 200)
  t.same(me.body, { kind: 'person', id: 'olga', name: 'Olga Operator', roles: ['operator'] })
  t.equal((await call('POST', '/api/v1/auth/logout', undefined, token)).status, 200)
  isProblem(t, await call('GET', '/api/v1/auth/me', undefined, token), 401, 'unauthenticated', 'the session after logout')
  t.equal((await call('GET', '/api/v1/auth/me', undefined, olga)).status, 200, 'her other session is untouched')

  const dora = { id: 'dora', name: 'Dora Operator', roles: ['operator'] }
  t.equal((await call('PUT', '/api/v1/people/dora', dora)).status, 200)
  t.equal((await call('PUT', '/api/v1/people/dora/password', { password })).status, 200)
  const doraToken = await session('dora')
  t.equal((await call('GET', '/api/v1/auth/me', undefined, doraToken)).status, 200)
  t.equal((await call('PUT', '/api/v1/people/dora', { ...dora, active: false })).status, 200)
  isProblem(t, await call('GET', '/api/v1/auth/me', undefined, doraToken), 401, 'unauthenticated', 'the session of a person made inactive')
})

t.test('an API token from POST /api/v1/tokens acts with its role', async (t) => {
  const created = await call('POST', '/api/v1/tokens', { name: 'line-lead-hmi', role: 'lead' })
  t.equal(created.status, 201)
  t.match(created.body, { name: 'line-lead-hmi', role: 'lead' })
  const token = created.body.token as string
  t.match(token, /^takt_/)
  const me = await call('GET', '/api/v1/auth/me', undefined, token)
  t.same(me.body, { kind: 'token', id: created.body.id, name: 'line-lead-hmi', roles: ['lead'] })
  t.equal((await call('POST', '/api/v1/orders', order('PO-T', 1), token)).status, 201, 'a lead token may create an order')
  isProblem(t, await call('PUT', '/api/v1/materials/GLUE2', { id: 'GLUE2', name: 'Glue', uom: 'kg' }, token), 403, 'forbidden', 'a lead token defining master data')
  t.equal((await call('POST', '/api/v1/auth/logout', undefined, token)).status, 200)
  t.equal((await call('GET', '/api/v1/auth/me', undefined, token)).status, 200, 'logout does not end an API token')
})

t.test('TAKT_ADMIN_TOKEN provisions an admin token on the first start only', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'takt-auth-'))
  const first = 'first-admin-token-0123456789abcdef'
  const second = 'second-admin-token-0123456789abcdef'
  const start = (token: string) => startGateway(loadConfig({ env: { TAKT_DATA_DIR: dataDir, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: token } }))

  const a = await start(first)
  const callA = jsonClient(`http://127.0.0.1:${a.port}`, first)
  const meA = await callA('GET', '/api/v1/auth/me')
  t.equal(meA.status, 200, 'the first start provisions the token')
  t.match(meA.body, { kind: 'token', name: 'bootstrap-admin', roles: ['admin'] })
  await a.stop()

  const b = await start(second)
  t.teardown(async () => {
    await b.stop()
    removeDir(dataDir)
  })
  const callB = jsonClient(`http://127.0.0.1:${b.port}`, second)
  isProblem(t, await callB('GET', '/api/v1/auth/me'), 401, 'unauthenticated', 'a different TAKT_ADMIN_TOKEN on a later start')
  t.equal((await callB('GET', '/api/v1/auth/me', undefined, first)).status, 200, 'the first token still works')
  t.equal(b.gateway.store.db.sqlite.prepare(`SELECT COUNT(*) AS n FROM api_tokens`).pluck().get(), 1, 'one token in the database')
})

t.test('secrets never reach the gateway log, even at debug level', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'takt-logs-'))
  const admin = 'log-test-admin-token-0123456789abcdef'
  const child = await startChildGateway({ TAKT_DATA_DIR: dataDir, TAKT_LOG_LEVEL: 'debug', TAKT_ADMIN_TOKEN: admin })
  t.teardown(async () => {
    await child.kill('SIGKILL')
    removeDir(dataDir)
  })
  const c = jsonClient(child.url, admin)
  const secret = 'secret password never logged'
  const wrong = 'a wrong password never logged'
  t.equal((await c('PUT', '/api/v1/people/pia', { id: 'pia', name: 'Pia', roles: ['quality'] })).status, 200)
  t.equal((await c('PUT', '/api/v1/people/pia/password', { password: secret })).status, 200)
  t.equal((await c('POST', '/api/v1/auth/login', { username: 'pia', password: wrong }, '')).status, 401)
  const loggedIn = await c('POST', '/api/v1/auth/login', { username: 'pia', password: secret }, '')
  t.equal(loggedIn.status, 200)
  const sessionToken = loggedIn.body.token as string
  t.equal((await c('GET', '/api/v1/audit/verify', undefined, sessionToken)).status, 200)
  const apiToken = (await c('POST', '/api/v1/tokens', { name: 'probe', role: 'integration' })).body.token as string
  t.equal((await c('GET', '/api/v1/events?limit=1', undefined, apiToken)).status, 200)
  t.equal((await c('POST', '/api/v1/auth/logout', undefined, sessionToken)).status, 200)
  const exit = await child.kill('SIGTERM')
  t.equal(exit.code, 0, 'a clean shutdown on SIGTERM')

  const log = child.stdout() + child.stderr()
  t.match(log, /gateway listening/, 'the log was captured')
  t.match(log, /provisioned the bootstrap admin API token/)
  t.match(log, /gateway stopped/)
  for (const [name, value] of Object.entries({ admin, secret, wrong, sessionToken, apiToken })) {
    t.notOk(log.includes(value), `the log does not contain the ${name}`)
  }
})
