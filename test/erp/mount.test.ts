// Mounting the ERP routes on an app built like edge/api/app.ts: before the JSON body limit and content-type check, XML gets through; the JSON routes keep both.
import { OpenAPIHono } from '@hono/zod-openapi'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bodyLimit } from 'hono/body-limit'
import t from 'tap'
import { ProblemError, problem } from '../../edge/api/problem.ts'
import { erpRoutes } from '../../edge/api/routes/erp.ts'
import type { AuthEnv } from '../../edge/api/auth.ts'
import { loadConfig } from '../../edge/config.ts'
import { operationsNamespace } from '../../edge/erp/index.ts'
import { buildGateway } from '../../edge/gateway.ts'
import { systemClock, uuidv7Ids } from '../../edge/store/ids.ts'
import { adminToken, removeDir } from '../helpers/gateway.ts'
import { fixture } from './helpers.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'takt-erp-mount-'))
const config = loadConfig({ env: { TAKT_DATA_DIR: dataDir, TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } })
const ids = uuidv7Ids(systemClock)
const gateway = buildGateway(config, { clock: systemClock, ids })
t.teardown(() => {
  gateway.close()
  removeDir(dataDir)
})

const jsonLimit = 1024
const app = new OpenAPIHono<AuthEnv>()
app.onError((error, c) => problem(c, error instanceof ProblemError ? error : new ProblemError(500, 'internal', String(error))))
// As edge/api/app.ts should: the ERP routes first, then the gateway's own middleware.
erpRoutes(app, { store: gateway.store, queries: gateway.queries, accounts: gateway.accounts, clock: systemClock, ids, historian: gateway.historian, connectivity: gateway.connectivity }, { maxDocumentBytes: 64 * 1024, gatewayId: 'gw-mount', defaultNamespace: operationsNamespace })
app.use('*', bodyLimit({ maxSize: jsonLimit, onError: () => { throw new ProblemError(413, 'body_too_large', 'JSON limit') } }))
app.use('/api/*', async (c, next) => {
  if (c.req.method === 'POST' && !/^application\/json\b/i.test(c.req.header('content-type') ?? '')) throw new ProblemError(415, 'unsupported_media_type', 'JSON only')
  return next()
})
app.post('/api/v1/things', (c) => c.json({ ok: true }, 200))
app.doc31('/openapi.json', { openapi: '3.1.0', info: { title: 't', version: '1' } })

const auth = { authorization: `Bearer ${adminToken}` }

t.test('a B2MML document over the JSON limit, as XML, reaches the ERP route', async (t) => {
  const doc = fixture('v0600-equipment.xml')
  t.ok(doc.length > jsonLimit)
  const r = await app.request('/api/v1/erp/b2mml', { method: 'POST', headers: { ...auth, 'content-type': 'application/xml' }, body: doc })
  t.equal(r.status, 200, await r.clone().text())
  t.match(await r.text(), /<ConfirmBOD xmlns="http:\/\/www.mesa.org\/xml\/B2MML-V0600">/)
  t.equal(gateway.store.view.equipment('WC-MIX')?.parentId, 'L1')
})

t.test('the other routes keep the JSON content type and body limit', async (t) => {
  const xml = await app.request('/api/v1/things', { method: 'POST', headers: { ...auth, 'content-type': 'application/xml' }, body: '<a/>' })
  t.equal(xml.status, 415)
  const big = await app.request('/api/v1/things', { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'content-length': String(jsonLimit + 1) }, body: ' '.repeat(jsonLimit + 1) })
  t.equal(big.status, 413)
  t.equal((await app.request('/api/v1/things', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 200)
})

t.test('the ERP routes are in the OpenAPI document', async (t) => {
  const doc = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, unknown> }
  t.ok(doc.paths['/api/v1/erp/b2mml'])
  t.ok(doc.paths['/api/v1/erp/performance/orders/{id}'])
})
