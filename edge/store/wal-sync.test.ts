// Durability after the commit: an answer waits for a sync that began after its commit; one sync serves many commits.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { defineMaterial } from '../core/master-data.ts'
import { systemClock, uuidv7Ids } from './ids.ts'
import { LineStore } from './line-store.ts'
import { WalSync, type SyncFile } from './wal-sync.ts'

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'takt-walsync-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A WalSync on a temp WAL file whose syncs finish only when the test says so. */
function heldWalSync(t: { teardown(fn: () => void): void }) {
  const wal = join(tempDir(t), 'takt.db-wal')
  writeFileSync(wal, 'frames')
  const pending: Array<(error: NodeJS.ErrnoException | null) => void> = []
  const sync: SyncFile = (_fd, done) => void pending.push(done)
  const ws = new WalSync(wal, sync)
  return { ws, pending, finish: (error: NodeJS.ErrnoException | null = null) => pending.shift()!(error) }
}

const settled = async (p: Promise<unknown>) => {
  let state = 'pending'
  p.then(() => (state = 'resolved'), () => (state = 'rejected'))
  await new Promise((r) => setImmediate(r))
  return state
}

t.test('a commit made while a sync runs waits for the next sync, which then serves every commit since', async (t) => {
  const held = heldWalSync(t)
  const ws = held.ws
  const first = ws.afterCommit()
  const second = ws.afterCommit()
  const third = ws.afterCommit()
  t.equal(held.pending.length, 1, 'one sync under way')
  t.equal(await settled(second), 'pending', 'a commit after the sync began is not yet durable')
  held.finish()
  t.equal(await settled(first), 'resolved', 'the first commit is durable when its sync finishes')
  t.equal(await settled(second), 'pending', 'the later ones wait for the next sync')
  t.equal(held.pending.length, 1, 'which began at once')
  held.finish()
  t.equal(await settled(second), 'resolved')
  t.equal(await settled(third), 'resolved', 'one sync for both')
  t.equal(ws.syncs, 2)
  ws.close()
})

t.test('a failed sync fails the commits waiting for it', async (t) => {
  const held = heldWalSync(t)
  const ws = held.ws
  const waiting = ws.afterCommit()
  held.finish(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }))
  await t.rejects(waiting, /could not sync .*takt\.db-wal: EIO/)
  t.equal(await settled(ws.afterCommit()), 'pending', 'the next commit gets a new sync')
  held.finish()
  ws.close()
})

t.test('the gateway store answers after the sync; SQLite itself does not sync in COMMIT', async (t) => {
  const file = join(tempDir(t), 'takt.db')
  const store = new LineStore({ file, clock: systemClock, ids: uuidv7Ids(systemClock), sync: 'after-commit' })
  t.teardown(() => store.close())
  t.equal(store.db.sqlite.pragma('synchronous', { simple: true }), 1, 'synchronous=NORMAL: COMMIT writes the WAL without a sync')
  const done = await Promise.all(Array.from({ length: 50 }, (_, i) => store.submit('test', (v) => defineMaterial(v, { id: `M${i}`, name: 'm', uom: 'ea', serialized: false }))))
  t.equal(done.filter((d) => d.ok).length, 50)
  t.ok(store.walSync!.syncs >= 1 && store.walSync!.syncs <= 50, `${store.walSync!.syncs} syncs for 50 commands`)
  const before = store.walSync!.syncs
  store.execute('test', (v) => defineMaterial(v, { id: 'M-sync', name: 'm', uom: 'ea', serialized: false }))
  t.equal(store.walSync!.syncs, before + 1, 'a synchronous execute syncs before it returns')
  const plain = new LineStore({ file: join(tempDir(t), 'plain.db'), clock: systemClock, ids: uuidv7Ids(systemClock) })
  t.equal(plain.db.sqlite.pragma('synchronous', { simple: true }), 2, 'without it, synchronous=FULL as before')
  plain.close()
})
