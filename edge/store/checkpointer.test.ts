// WAL checkpoints in the worker: the writer never checkpoints, the database file fills, and under
// sustained writes the WAL still restarts instead of growing without bound.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { defineMaterial } from '../core/master-data.ts'
import { verifyChain } from './event-log.ts'
import { systemClock, uuidv7Ids } from './ids.ts'
import { LineStore } from './line-store.ts'

function tempStore(t: { teardown(fn: () => void): void }, checkpoints: 'worker' | 'writer', walFramesLimit?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'takt-ckpt-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'takt.db')
  const store = new LineStore({ file, clock: systemClock, ids: uuidv7Ids(systemClock), checkpoints, checkpointer: walFramesLimit ? { walFramesLimit } : {} })
  return { file, store }
}

const material = (i: number) => (v: Parameters<typeof defineMaterial>[0]) => defineMaterial(v, { id: `M${i}`, name: `material ${i} ${'x'.repeat(400)}`, uom: 'ea', serialized: false })

const until = async (what: () => boolean, ms = 3000) => {
  for (const end = Date.now() + ms; !what() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20))
  return what()
}

t.test('the worker copies the WAL into the database file; the writer does not checkpoint', async (t) => {
  const { file, store } = tempStore(t, 'worker')
  t.equal(store.db.sqlite.pragma('wal_autocheckpoint', { simple: true }), 0, 'SQLite does not checkpoint on the writer')
  const before = statSync(file).size
  for (let i = 0; i < 300; i++) store.execute('test', material(i))
  t.ok(await until(() => statSync(file).size > before + 150_000), `the database file grew from ${before} to ${statSync(file).size} bytes with no checkpoint on the writer`)
  t.ok(await until(() => store.checkpointer!.last.log > 0 && store.checkpointer!.last.checkpointed === store.checkpointer!.last.log), 'a pass copied the whole WAL')
  store.close()
  const reopened = new LineStore({ file, clock: systemClock, ids: uuidv7Ids(systemClock) })
  t.teardown(() => reopened.close())
  t.equal(reopened.view.material('M299')?.id, 'M299', 'everything written is there after reopening')
  t.equal(verifyChain(reopened.db.sqlite).ok, true, 'and the chain verifies')
})

t.test('under sustained group commits the WAL stays bounded: the writer waits for a complete copy', async (t) => {
  const limit = 200
  const { store } = tempStore(t, 'worker', limit)
  const ck = store.checkpointer!
  await until(() => ck.passes > 0)
  const logs: number[] = []
  let rounds = 0
  // No pause between commits for over a second: SQLite would never find the WAL wholly copied by itself.
  for (const end = Date.now() + 1500; Date.now() < end; rounds++) {
    await Promise.all(Array.from({ length: 5 }, (_, j) => store.submit('test', material(rounds * 5 + j))))
    if (ck.last.log !== logs.at(-1)) logs.push(ck.last.log)
  }
  const restarts = logs.filter((log, i) => i > 0 && log < logs[i - 1]!).length
  const median = [...logs].sort((a, b) => a - b)[logs.length >> 1]!
  t.ok(ck.pauses > 0, `the writer paused for the worker ${ck.pauses} times in ${rounds} group commits`)
  // Without the pauses the WAL restarts only by chance, a few times a second, and grows to thousands
  // of frames (measured: 4 restarts, a median of 3,197 frames). How far it gets between two pauses
  // depends on how busy the machine is; that each pause restarts it does not.
  t.ok(restarts >= Math.max(5, ck.pauses / 2), `the WAL restarted ${restarts} times (${ck.pauses} pauses), at the median ${median} frames, at most ${Math.max(...logs)}`)
  t.equal(store.view.material(`M${rounds * 5 - 1}`)?.id, `M${rounds * 5 - 1}`, 'every command was committed')
  t.equal(verifyChain(store.db.sqlite).ok, true)
  store.close()
})

t.test('without the worker, or after it stops, SQLite checkpoints on the writer', async (t) => {
  const writer = tempStore(t, 'writer').store
  t.equal(writer.checkpointer, undefined)
  t.equal(writer.db.sqlite.pragma('wal_autocheckpoint', { simple: true }), 1000)
  writer.close()
  const { store } = tempStore(t, 'worker')
  store.checkpointer!.stop()
  t.equal(store.db.sqlite.pragma('wal_autocheckpoint', { simple: true }), 1000, 'the writer checkpoints again')
  t.equal(store.checkpointer!.paused, false, 'and no commit waits for a stopped worker')
  store.close()
})
