// The ERP routes as the gateway itself serves them (edge/api/app.ts, edge/main.ts), with a push configured in the config file.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../edge/config.ts'
import { startGateway } from '../../edge/main.ts'
import { adminToken, startTestGateway } from '../helpers/gateway.ts'
import { fixture } from './helpers.ts'

// The store's and historian's threads may still be removing their -wal and -shm files just after stop: retry.
const removeDir = (dir: string) => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 })

t.test('startTestGateway serves POST /api/v1/erp/b2mml', async (t) => {
  const gw = await startTestGateway()
  t.teardown(async () => {
    await gw.stop()
    removeDir(gw.dataDir)
  })
  const r = await fetch(`${gw.url}/api/v1/erp/b2mml`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/xml' }, body: fixture('v0600-equipment.xml') })
  t.equal(r.status, 200, await r.clone().text())
  t.match(await r.text(), /ConfirmBOD/)
  t.equal((await gw.call('GET', '/api/v1/equipment/WC-MIX')).body.parentId, 'L1')
  const json = await gw.call('POST', '/api/v1/materials', '<a/>', adminToken, { 'content-type': 'application/xml' })
  t.equal(json.status, 415, 'the JSON routes still refuse XML')
  t.equal((await gw.call('GET', '/api/v1/erp/outbox')).body.configured, false)
})

t.test('erp.push in the config starts the outbox; erp.maxDocumentBytes above http.maxBodyBytes is a config problem', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-wired-'))
  const file = join(dir, 'gw.yaml')
  writeFileSync(file, 'erp:\n  maxDocumentBytes: 2000000\n')
  t.throws(() => loadConfig({ file, env: {} }), /erp.maxDocumentBytes: 2000000 is above http.maxBodyBytes/)
  writeFileSync(file, 'http:\n  maxBodyBytes: 2000000\nerp:\n  maxDocumentBytes: 2000000\n')
  t.equal(loadConfig({ file, env: {} }).erp.maxDocumentBytes, 2000000, 'equal to http.maxBodyBytes is accepted')
  writeFileSync(file, 'erp:\n  defaultVersion: V0300\n  push:\n    url: ftp://erp/in\n    minBackoffMs: 5000\n    maxBackoffMs: 1000\n')
  t.throws(() => loadConfig({ file, env: {} }), /erp.defaultVersion \(file .* line 2\): a B2MML version[\s\S]*erp.push.url \(file .* line 4\): an http:\/\/ or https:\/\/ URL/)
  writeFileSync(file, 'erp:\n  push:\n    url: http://erp/in\n    minBackoffMs: 5000\n    maxBackoffMs: 1000\n')
  t.throws(() => loadConfig({ file, env: {} }), /erp.push.minBackoffMs: above erp.push.maxBackoffMs/)
  writeFileSync(file, 'erp:\n  push:\n    url: http://erp/in\n')
  const fromEnv = loadConfig({ file, env: { TAKT_ERP_PUSH_AUTHORIZATION: 'Basic c2VjcmV0' } })
  t.same([fromEnv.erp.push?.authorization, fromEnv.erp.push?.segments, fromEnv.erp.defaultVersion], ['Basic c2VjcmV0', true, 'V0700'], 'the credentials from the environment, the rest defaults')
  writeFileSync(file, 'mqtt:\n  host: 127.0.0.1\nerp:\n  defaultVersion: V0600\n  push:\n    url: http://127.0.0.1:9/erp\n    authorization: Bearer x\n')
  const config = loadConfig({ file, env: { TAKT_DATA_DIR: join(dir, 'data'), TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } })
  const running = await startGateway(config)
  t.teardown(async () => {
    await running.stop()
    removeDir(dir)
  })
  const r = await fetch(`http://127.0.0.1:${running.port}/api/v1/erp/outbox`, { headers: { authorization: `Bearer ${adminToken}` } })
  t.same(await r.json(), { configured: true, counts: { pending: 0, delivered: 0, rejected: 0 }, items: [] })
})
