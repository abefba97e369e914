// `takt audit verify --cloud` on the machine's PostgreSQL: every gateway's stored chain intact, then one row edited and named.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import t from 'tap'
import { buildCloudApi } from '../../cloud-sync/app.ts'
import { ensureAdminToken } from '../../cloud-sync/credentials.ts'
import { backends } from '../../cloud-sync/test/backends.ts'
import { logOf, openLine, recordFiller, recordOrder } from '../../cloud-sync/test/line.ts'
import { runTakt } from '../helpers/client.ts'
import { removeDir } from '../helpers/gateway.ts'

// Each check starts a `takt` process; on a loaded machine they take longer than tap's default 30 s.
t.setTimeout(180_000)

const admin = 'cloud-audit-admin-token-0123456789'
const test = await backends.find((b) => b.name === 'postgres')!.open()
await ensureAdminToken(test.db.orm, admin)
const app = buildCloudApi(test.db, { version: 'test' })
const lineDir = mkdtempSync(join(tmpdir(), 'takt-cloud-audit-line-'))
const line = openLine(lineDir)
t.teardown(async () => {
  line.close()
  removeDir(lineDir)
  await test.dispose()
})

const call = async (method: string, path: string, body: unknown, token: string) => {
  const res = await app.request(path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, body: (await res.json()) as Record<string, any> }
}

recordOrder(line, 'PO-1', 10, { done: true })
recordFiller(line, 20, 10)
for (const gatewayId of ['gw-a', 'gw-b']) {
  const registered = await call('POST', '/api/v1/gateways', { id: gatewayId, lineId: 'L1' }, admin)
  if (registered.status !== 201) throw new Error(JSON.stringify(registered.body))
  const pushed = await call('POST', `/api/v1/gateways/${gatewayId}/events`, { epoch: 1, events: logOf(line) }, registered.body.token as string)
  if (pushed.status !== 200) throw new Error(JSON.stringify(pushed.body))
}

const verify = async () => {
  const run = runTakt(['audit', 'verify', '--cloud'], { DATABASE_URL: test.databaseUrl! })
  const { code } = await run.exited
  return { code, stdout: run.stdout(), stderr: run.stderr() }
}

t.test('intact: exit 0, one line per gateway', async (t) => {
  const r = await verify()
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /gateway gw-a epoch 1: intact: 24 events/)
  t.match(r.stdout, /gateway gw-b epoch 1: intact: 24 events/)
  t.match(r.stdout, /2 gateways, 2 intact, 0 broken \(DATABASE_URL\)/)
  t.notOk(r.stdout.includes(test.databaseUrl!), 'the database URL is not printed')
})

t.test('an edited row in the central database is named, with its gateway', async (t) => {
  const client = new pg.Client({ connectionString: test.databaseUrl! })
  await client.connect()
  try {
    await client.query(`UPDATE events SET data = replace(data, '"quantity":10', '"quantity":1000') WHERE gateway_id = 'gw-b' AND epoch = 1 AND seq = 1`)
  } finally {
    await client.end()
  }
  const r = await verify()
  t.equal(r.code, 1)
  t.match(r.stderr, /gateway gw-b epoch 1: BROKEN at seq 1: the hash does not match the stored event/)
  t.match(r.stdout, /gateway gw-a epoch 1: intact/, 'the other gateway is still intact')
  t.match(r.stdout, /2 gateways, 1 intact, 1 broken/)
})

t.test('no central database to check is a usage error', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'takt-no-cloud-'))
  t.teardown(() => removeDir(empty))
  const run = runTakt(['audit', 'verify', '--cloud'], { TAKT_DATA_DIR: empty, DATABASE_URL: '' })
  t.equal((await run.exited).code, 2)
  t.match(run.stderr(), /there is no central database/)
})
