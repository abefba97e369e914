// Crash safety: SIGKILL the gateway process in the middle of a stream of completions; every acknowledged one survives the restart.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { openDatabase } from '../edge/store/database.ts'
import { verifyChain } from '../edge/store/event-log.ts'
import { dumpProjections, rebuildProjections } from '../edge/store/projections.ts'
import { jsonClient, startChildGateway, type Call, type ChildGateway } from './helpers/client.ts'
import { removeDir } from './helpers/gateway.ts'
import { completion, defineLine, dispatchedOrder, eventSeq, lot } from './helpers/line.ts'

const admin = 'crash-test-admin-token-0123456789abcdef'
const runs = 600
const killAfter = 300
const inFlight = 4

/** Runs `work` over `items` with at most `width` calls in flight. */
async function pool<T>(items: T[], width: number, work: (item: T) => Promise<boolean>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!
      if (!(await work(item))) return
    }
  }
  await Promise.all(Array.from({ length: width }, worker))
}

t.test('every acknowledged completion survives a kill -9', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'takt-crash-'))
  const env = { TAKT_DATA_DIR: dataDir, TAKT_ADMIN_TOKEN: admin, TAKT_LOG_LEVEL: 'warn' }
  const children: ChildGateway[] = []
  t.teardown(async () => {
    for (const child of children) await child.kill('SIGKILL')
    removeDir(dataDir)
  })

  const first = await startChildGateway(env)
  children.push(first)
  const call: Call = jsonClient(first.url, admin)
  await defineLine(call)
  await dispatchedOrder(call, 'PO-C', runs)

  const runIds: string[] = []
  await pool(
    Array.from({ length: runs }, (_, i) => i),
    16,
    async () => {
      const r = await call('POST', '/api/v1/orders/PO-C/operations/10/start', { quantity: 1, operatorId: 'olga' })
      if (r.status !== 201) throw new Error(`start: ${r.status} ${JSON.stringify(r.body)}`)
      runIds.push(r.body.runId as string)
      return true
    },
  )
  t.equal(runIds.length, runs, `${runs} runs started`)
  const streamStart = Date.now()

  // The stream: completions 4 at a time, each acknowledged one noted; kill -9 after enough acknowledgements.
  const acked: string[] = []
  let failedAfterKill = 0
  let killed = false
  await pool(runIds, inFlight, async (runId) => {
    try {
      const r = await call('POST', `/api/v1/runs/${runId}/complete`, completion)
      if (r.status !== 200) throw new Error(`complete ${runId}: ${r.status} ${JSON.stringify(r.body)}`)
      acked.push(runId)
    } catch (error) {
      if (!killed) throw error
      failedAfterKill += 1
      return false
    }
    if (!killed && acked.length >= killAfter) {
      killed = true
      first.child.kill('SIGKILL')
    }
    return !killed
  })
  const exit = await first.exited
  t.equal(exit.signal, 'SIGKILL', 'the gateway was killed, not shut down')
  t.ok(acked.length >= killAfter, `${acked.length} completions acknowledged before the kill`)
  t.ok(acked.length < runs, 'the kill came in the middle of the stream')
  t.comment(`acknowledged ${acked.length} in ${Date.now() - streamStart} ms, ${failedAfterKill} requests cut off by the kill`)

  // Restart on the same data directory.
  const second = await startChildGateway(env)
  children.push(second)
  const again: Call = jsonClient(second.url, admin)
  const notCompleted: string[] = []
  await pool(acked, 8, async (runId) => {
    const r = await again('GET', `/api/v1/runs/${runId}`)
    if (r.status !== 200 || r.body.state !== 'completed') notCompleted.push(`${runId}: ${r.status} ${r.body.state ?? r.body.code}`)
    return true
  })
  t.same(notCompleted, [], 'every acknowledged completion is there')

  // The projections agree with each other: as many good as completed runs, as much resin taken.
  const completed = (again: Call) => again('GET', '/api/v1/orders/PO-C').then((r) => r.body.operations[0].qtyGood as number)
  const good = await completed(again)
  t.ok(good >= acked.length, `${good} completed, at least the ${acked.length} acknowledged`)
  t.ok(good <= acked.length + inFlight, 'and at most the ones in flight besides')
  t.equal((await again('GET', `/api/v1/lots/${lot.id}`)).body.quantity, lot.quantity - good, 'one kg of resin per completion')

  const verified = await again('GET', '/api/v1/audit/verify')
  t.equal(verified.status, 200)
  t.equal(verified.body.ok, true, `the chain verifies: ${JSON.stringify(verified.body)}`)
  t.equal(verified.body.count, await eventSeq(again), 'over every event')

  // The line goes on: a run not completed before the kill completes now.
  const pending = runIds.filter((id) => !acked.includes(id))
  const states = await Promise.all(pending.slice(0, 10).map((id) => again('GET', `/api/v1/runs/${id}`)))
  const stillRunning = pending.slice(0, 10).find((_, i) => states[i]!.body.state === 'running')
  t.ok(stillRunning, 'some started runs were never completed')
  const resumed = await again('POST', `/api/v1/runs/${stillRunning}/complete`, completion)
  t.equal(resumed.status, 200, JSON.stringify(resumed.body))
  t.equal(await completed(again), good + 1)

  const stopped = await second.kill('SIGTERM')
  t.equal(stopped.code, 0, 'a clean shutdown after the restart')

  // Offline: a rebuild of the projections from the log equals the live projections.
  const db = openDatabase(join(dataDir, 'takt.db'))
  try {
    t.equal(verifyChain(db.sqlite).ok, true)
    const live = dumpProjections(db.sqlite)
    t.ok((live.runs ?? []).length === runs, 'every started run is in the projection')
    rebuildProjections(db.sqlite)
    t.same(dumpProjections(db.sqlite), live, 'a rebuilt projection equals the live one')
  } finally {
    db.close()
  }
})
