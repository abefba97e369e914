// HTTP security: login rate limit per address (429 + Retry-After), security headers on every answer, cross-site writes refused, HTTPS with a self-signed certificate.
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { Hono } from 'hono'
import pino from 'pino'
import t from 'tap'
import { loginRateLimit } from '../../edge/api/rate-limit.ts'
import type { Clock } from '../../edge/core/ports.ts'
import { ConfigError, loadConfig } from '../../edge/config.ts'
import { buildGateway } from '../../edge/gateway.ts'
import { startGateway } from '../../edge/main.ts'
import { uuidv7Ids } from '../../edge/store/ids.ts'
import { adminToken, removeDir } from '../helpers/gateway.ts'
import { password } from '../helpers/line.ts'

class MovedClock implements Clock {
  offsetMs = 0
  now(): Date {
    return new Date(Date.now() + this.offsetMs)
  }
}

function inProcess(t: { teardown(fn: () => unknown): void }, yaml = '') {
  const dir = mkdtempSync(join(tmpdir(), 'takt-sec-'))
  const file = join(dir, 'takt.yaml')
  writeFileSync(file, yaml)
  const clock = new MovedClock()
  const gateway = buildGateway(loadConfig({ file, env: { TAKT_DATA_DIR: dir, TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } }), { clock, ids: uuidv7Ids(clock) })
  t.teardown(() => {
    gateway.close()
    removeDir(dir)
  })
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}, token: string | null = adminToken) => {
    const h: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers }
    if (body !== undefined) h['content-type'] = 'application/json'
    const res = await gateway.app.request(path, { method, headers: h, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    const text = await res.text()
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Record<string, any> }
  }
  return { gateway, clock, call }
}

t.test('login rate limit: failed logins from one address are limited, with Retry-After; successes do not count', async (t) => {
  const { call, clock } = inProcess(t, 'http:\n  loginLimit: { maxFailures: 3, windowSeconds: 60 }\n')
  t.equal((await call('PUT', '/api/v1/people/olga', { id: 'olga', name: 'Olga', roles: ['operator'] })).status, 200)
  t.equal((await call('PUT', '/api/v1/people/olga/password', { password })).status, 200)
  const login = (pw: string) => call('POST', '/api/v1/auth/login', { username: 'olga', password: pw }, {}, null)

  for (let i = 0; i < 5; i++) t.equal((await login(password)).status, 200, `right password ${i + 1}: successes are never limited`)
  for (let i = 1; i <= 3; i++) t.equal((await login('wrong password')).status, 401, `wrong password ${i}: refused by the account check`)
  const limited = await login(password)
  t.equal(limited.status, 429, 'the fourth attempt is refused before the password is even checked, right or not')
  t.match(limited.headers.get('content-type'), /^application\/problem\+json/)
  t.equal(limited.body.code, 'too_many_login_attempts')
  const retryAfter = Number(limited.headers.get('retry-after'))
  t.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter} s, within the window`)
  t.equal(limited.body.retryAfterSeconds, retryAfter)
  const badge = await call('POST', '/api/v1/auth/badge', { badgeId: 'B-1', pin: '4711' }, {}, null)
  t.equal(badge.status, 429, 'badge login shares the limit: a PIN is guessed as easily as a password')

  clock.offsetMs += 61_000
  t.equal((await login(password)).status, 200, 'after the window the address may log in again')
})

t.test('the limit is per address, attempts in parallel are counted before they are answered, and old addresses are dropped', async (t) => {
  let clock = 0
  // The client address taken from a test header: in-process requests have no socket.
  const limit = loginRateLimit({ maxFailures: 2, windowMs: 10_000, now: () => clock, clientOf: (c) => c.req.header('x-test-address') ?? '?', maxClients: 3 })
  const app = new Hono()
  app.post('/login', limit, async (c) => {
    await new Promise((resolve) => setTimeout(resolve, 20))
    return c.json({ ok: c.req.header('x-test-ok') === 'yes' }, c.req.header('x-test-ok') === 'yes' ? 200 : 401)
  })
  const login = (address: string, ok = false) => app.request('/login', { method: 'POST', headers: { 'x-test-address': address, 'x-test-ok': ok ? 'yes' : 'no' } })
  const parallel = await Promise.all([login('10.0.0.1'), login('10.0.0.1'), login('10.0.0.1'), login('10.0.0.1')])
  t.same(parallel.map((r) => r.status), [401, 401, 429, 429], 'four guesses at once: two are tried, two refused')
  t.equal((await login('10.0.0.2')).status, 401, 'another address has its own budget')
  t.equal((await login('10.0.0.2', true)).status, 200, 'and a success there gives its attempt back')
  t.equal((await login('10.0.0.2')).status, 401, 'so one more failure is allowed…')
  t.equal((await login('10.0.0.2')).status, 429, '…and then no more')
  clock = 5_000
  const retry = await login('10.0.0.1')
  t.equal(retry.headers.get('retry-after'), '5', 'Retry-After counts down with the window')
  for (const a of ['10.0.0.3', '10.0.0.4', '10.0.0.5']) await login(a)
  t.equal((await login('10.0.0.1')).status, 401, 'past maxClients the least recently seen address is forgotten (memory stays bounded)')
  clock = 20_000
  t.equal((await login('10.0.0.2')).status, 401, 'after the window an address may try again')
})

t.test('security headers on data, pages and errors; Cache-Control no-store on JSON; no HSTS over plain HTTP', async (t) => {
  const { call } = inProcess(t)
  for (const [what, r] of [
    ['health', await call('GET', '/health', undefined, {}, null)],
    ['a problem', await call('GET', '/api/v1/orders', undefined, {}, null)],
    ['an unknown route', await call('GET', '/api/v1/nothing')],
    ['JSON data', await call('GET', '/api/v1/orders')],
  ] as const) {
    t.equal(r.headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`)
    t.equal(r.headers.get('referrer-policy'), 'no-referrer', `${what}: no referrer`)
    t.equal(r.headers.get('x-frame-options'), 'DENY', `${what}: no framing`)
    t.match(r.headers.get('content-security-policy'), /default-src 'none'.*frame-ancestors 'none'/, `${what}: data policy`)
    t.equal(r.headers.get('cache-control'), 'no-store', `${what}: not cached`)
    t.equal(r.headers.get('strict-transport-security'), null, `${what}: no HSTS over HTTP`)
  }
})

t.test('the HMI page keeps its own policy: scripts and styles from the gateway only', async (t) => {
  const { gateway } = inProcess(t)
  const res = await gateway.app.request('/')
  t.equal(res.status, 200)
  t.match(res.headers.get('content-security-policy'), /script-src 'self'.*frame-ancestors 'none'/)
  t.equal(res.headers.get('x-frame-options'), 'DENY')
  t.equal(res.headers.get('cache-control'), 'no-cache', 'the page is revalidated, not stored forever')
})

t.test('cross-site writes from a browser are refused with 403; same-origin and non-browser clients pass', async (t) => {
  const { call, gateway } = inProcess(t)
  const material = { id: 'GLUE', name: 'Glue', uom: 'kg', serialized: false }
  const seq = gateway.store.head().seq
  for (const [what, headers] of [
    ['Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site same-site (another port or subdomain)', { 'sec-fetch-site': 'same-site' }],
    ['an Origin of another site', { origin: 'http://evil.example' }],
    ['Origin null (a sandboxed frame)', { origin: 'null' }],
  ] as const) {
    const r = await call('PUT', '/api/v1/materials/GLUE', material, headers)
    t.equal(r.status, 403, `${what}: 403`)
    t.equal(r.body.code, 'cross_site_request', what)
    t.equal(r.headers.get('x-content-type-options'), 'nosniff', `${what}: the refusal has the headers too`)
  }
  t.equal((await call('POST', '/api/v1/auth/login', { username: 'x', password: 'y' }, { 'sec-fetch-site': 'cross-site' }, null)).status, 403, 'a cross-site login is refused too (login CSRF)')
  t.equal(gateway.store.head().seq, seq, 'nothing recorded')
  t.equal((await call('GET', '/api/v1/materials', undefined, { 'sec-fetch-site': 'cross-site' })).status, 200, 'reads are not state-changing: a cross-site GET reaches its route (and still needs a token)')
  t.equal((await call('PUT', '/api/v1/materials/GLUE', material, { 'sec-fetch-site': 'same-origin' })).status, 200, 'same-origin: the HMI page')
  t.equal((await call('PUT', '/api/v1/materials/GLUE', material, { origin: 'http://localhost' })).status, 200, 'an Origin equal to the gateway’s own')
  t.equal((await call('PUT', '/api/v1/materials/GLUE', material)).status, 200, 'no Origin and no Sec-Fetch-Site: curl, ERP, a script')
})

function httpsGet(port: number, path: string, ca: Buffer): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', servername: 'localhost', port, path, ca, agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('HTTPS: a self-signed certificate made at first start, its fingerprint logged, reused later; a readable key refused', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'takt-tls-'))
  t.teardown(() => removeDir(dataDir))
  let log = ''
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _e, done) => ((log += String(chunk)), done()) }))
  const config = loadConfig({ env: { TAKT_DATA_DIR: dataDir, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_HTTP_TLS: 'self-signed', TAKT_ADMIN_TOKEN: adminToken } })
  const first = await startGateway(config, { logger })
  const certFile = join(dataDir, 'tls', 'own', 'certs', 'gateway.pem')
  const keyFile = join(dataDir, 'tls', 'own', 'private', 'private_key.pem')
  t.equal(first.scheme, 'https')
  t.equal(statSync(keyFile).mode & 0o777, 0o600, 'the private key is written for its owner only')
  const cert = readFileSync(certFile)
  const health = await httpsGet(first.port, '/health', cert)
  t.equal(health.status, 200, 'the certificate verifies for localhost')
  t.match(String(health.headers['strict-transport-security']), /^max-age=\d+/, 'HSTS over TLS')
  const fingerprint = /"fingerprint256":"([0-9A-F:]+)"/.exec(log)?.[1]
  t.match(fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/, 'the SHA-256 fingerprint is in the log at start')
  await first.stop()

  log = ''
  const second = await startGateway(config, { logger })
  t.equal(/"fingerprint256":"([0-9A-F:]+)"/.exec(log)?.[1], fingerprint, 'a later start reuses the certificate: the fingerprint stays')
  await second.stop()

  chmodSync(keyFile, 0o644)
  const refused = await startGateway(config, { logger }).then(
    () => null,
    (error: unknown) => error,
  )
  t.ok(refused instanceof ConfigError, 'a key readable by others stops the start')
  t.match((refused as ConfigError).message, new RegExp(`${keyFile.replaceAll('/', '\\/')}.*readable by its group or others.*chmod 600`))
})

t.test('HTTPS with your own certificate files, and plain HTTP on loopback by default', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'takt-tls-own-'))
  t.teardown(() => removeDir(dataDir))
  t.equal(loadConfig({ env: {} }).http.tls, 'auto')
  const plain = await startGateway(loadConfig({ env: { TAKT_DATA_DIR: join(dataDir, 'plain'), TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent' } }))
  t.equal(plain.scheme, 'http', 'auto on 127.0.0.1: plain HTTP (a demo, a test, a proxy beside it)')
  await plain.stop()
  // A certificate made elsewhere: here the one a first start made, copied as "your own".
  const made = await startGateway(loadConfig({ env: { TAKT_DATA_DIR: join(dataDir, 'made'), TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_HTTP_TLS: 'self-signed' } }))
  await made.stop()
  const certFile = join(dataDir, 'own.pem')
  const keyFile = join(dataDir, 'own.key')
  writeFileSync(certFile, readFileSync(join(dataDir, 'made', 'tls', 'own', 'certs', 'gateway.pem')))
  writeFileSync(keyFile, readFileSync(join(dataDir, 'made', 'tls', 'own', 'private', 'private_key.pem')), { mode: 0o600 })
  const file = join(dataDir, 'takt.yaml')
  writeFileSync(file, `http:\n  tls: { certFile: ${certFile}, keyFile: ${keyFile} }\n`)
  const own = await startGateway(loadConfig({ file, env: { TAKT_DATA_DIR: join(dataDir, 'own'), TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent' } }))
  t.teardown(() => own.stop())
  t.equal(own.scheme, 'https')
  t.equal((await httpsGet(own.port, '/health', readFileSync(certFile))).status, 200, 'served with the given certificate')
})

t.test('a configuration file that holds a secret and is readable by others is warned about at start', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-conf-mode-'))
  t.teardown(() => removeDir(dir))
  const file = join(dir, 'takt.yaml')
  const token = 'sync-token-in-a-readable-file-0123'
  writeFileSync(file, `sync:\n  url: http://127.0.0.1:9/ingest\n  token: ${token}\n  idleMs: 3600000\n`, { mode: 0o644 })
  chmodSync(file, 0o644)
  const start = async () => {
    let log = ''
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _e, done) => ((log += String(chunk)), done()) }))
    const running = await startGateway(loadConfig({ file, env: { TAKT_DATA_DIR: join(dir, 'data'), TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0' } }), { logger })
    await running.stop()
    return log
  }
  const readable = await start()
  t.match(readable, /the configuration file holds a secret and its group or others may read it/)
  t.notOk(readable.includes(token), 'the warning names the file, not the secret')
  chmodSync(file, 0o600)
  t.notMatch(await start(), /holds a secret/, 'no warning once the file is the owner’s alone')
})
