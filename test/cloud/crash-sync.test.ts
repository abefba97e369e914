// kill -9 on both sides of upstream sync: cloud-sync in the middle of a batch, the gateway in the middle of a push. Nothing lost, nothing doubled; on PostgreSQL and on PGlite.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { backends } from '../../cloud-sync/test/backends.ts'
import { openLine, recordFiller, recordOrder } from '../../cloud-sync/test/line.ts'
import { freePort, runTakt, startChildGateway, type ChildGateway } from '../helpers/client.ts'
import { until } from '../helpers/until.ts'

const adminToken = 'crash-sync-admin-token-0123456789abcdef'
const backlog = 40_000

type Cloud = { url: string; kill(): Promise<unknown> }

/** `takt cloud` as a child process on `port`, answering /health. */
async function startCloud(env: Record<string, string>, port: number): Promise<Cloud> {
  const run = runTakt(['cloud'], { TAKT_HTTP_PORT: String(port), TAKT_LOG_LEVEL: 'warn', TAKT_ADMIN_TOKEN: adminToken, ...env })
  const url = `http://127.0.0.1:${port}`
  let ended = false
  void run.exited.then(() => (ended = true))
  await until('cloud-sync answering', async () => {
    if (ended) throw new Error(`takt cloud exited: ${run.stderr()}`)
    try {
      return (await fetch(`${url}/health`)).status === 200
    } catch {
      return false
    }
  })
  return { url, kill: () => (ended ? run.exited : (run.child.kill('SIGKILL'), run.exited)) }
}

const admin = (cloud: Cloud, path: string, body?: unknown) =>
  fetch(cloud.url + path, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? null : JSON.stringify(body) }).then(
    async (r) => ({ status: r.status, body: (await r.json()) as Record<string, any> }),
  )

const centralHead = async (cloud: Cloud, id: string) => ((await admin(cloud, '/api/v1/gateways')).body.gateways as Array<{ id: string; headSeq: number; headHash: string }>).find((g) => g.id === id)!

for (const backend of backends) {
  t.test(`${backend.name}: the cloud killed mid-batch, then the gateway killed mid-push; the chain arrives whole, once`, async (t) => {
    // PostgreSQL: a fresh database of the machine's server. PGlite: opened by the cloud process itself in its own data directory.
    const db = backend.name === 'postgres' ? await backend.open() : null
    const cloudDir = mkdtempSync(join(tmpdir(), 'takt-crash-cloud-'))
    const lineDir = mkdtempSync(join(tmpdir(), 'takt-crash-line-'))
    const cloudEnv: Record<string, string> = db?.databaseUrl ? { DATABASE_URL: db.databaseUrl, TAKT_DATA_DIR: cloudDir } : { TAKT_DATA_DIR: cloudDir }
    const port = await freePort()
    let cloud = await startCloud(cloudEnv, port)
    let gateway: ChildGateway | null = null
    t.teardown(async () => {
      await gateway?.kill('SIGKILL')
      await cloud.kill()
      await db?.dispose()
      rmSync(cloudDir, { recursive: true, force: true })
      rmSync(lineDir, { recursive: true, force: true })
    })
    const { token } = (await admin(cloud, '/api/v1/gateways', { id: 'gw-crash', lineId: 'L1' })).body as { token: string }

    // The line's backlog, recorded through the gateway's own event log before the gateway starts.
    const store = openLine(lineDir)
    recordOrder(store, 'PO-1', 5, { done: true })
    recordFiller(store, backlog, 500)
    const local = store.head()
    store.close()
    writeFileSync(join(lineDir, 'takt.yaml'), `gatewayId: gw-crash\nsync:\n  url: ${cloud.url}\n  maxBatch: 1000\n  minBackoffMs: 50\n  maxBackoffMs: 500\n`)
    const gatewayEnv = { TAKT_DATA_DIR: lineDir, TAKT_CONFIG: join(lineDir, 'takt.yaml'), TAKT_SYNC_TOKEN: token, TAKT_ADMIN_TOKEN: 'crash-sync-gateway-admin-0123456789', TAKT_LOG_LEVEL: 'warn' }
    gateway = await startChildGateway(gatewayEnv)

    // kill -9 of the cloud while batches arrive: some acknowledged, the one in flight cut off.
    await until('the first batches acknowledged', async () => (await centralHead(cloud, 'gw-crash')).headSeq >= 3000)
    await cloud.kill()
    const atCloudKill = (await (async () => ((cloud = await startCloud(cloudEnv, port)), centralHead(cloud, 'gw-crash')))()).headSeq
    t.ok(atCloudKill < local.seq, `the cloud was killed mid-backlog (head ${atCloudKill} of ${local.seq})`)

    // kill -9 of the gateway while it pushes to the restarted cloud.
    await until('pushing again after the cloud came back', async () => (await centralHead(cloud, 'gw-crash')).headSeq > atCloudKill + 2000)
    await gateway.kill('SIGKILL')
    const atGatewayKill = (await centralHead(cloud, 'gw-crash')).headSeq
    t.ok(atGatewayKill < local.seq, `the gateway was killed mid-push (head ${atGatewayKill} of ${local.seq})`)
    gateway = await startChildGateway(gatewayEnv)

    await until('caught up after both restarts', async () => (await centralHead(cloud, 'gw-crash')).headSeq === local.seq, 240_000)
    const head = await centralHead(cloud, 'gw-crash')
    t.same([head.headSeq, head.headHash], [local.seq, local.hash], 'the cloud holds the gateway chain head')
    const verify = (await admin(cloud, '/api/v1/gateways/gw-crash/verify')).body
    t.match(verify, { ok: true, count: local.seq, head: local.hash }, 'every seq from 1 once, each hash its own and chained: nothing lost, nothing doubled')
  })
}
