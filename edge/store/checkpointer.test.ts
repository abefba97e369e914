// WAL checkpoints happen in the worker: the main connection never checkpoints, yet the database file fills.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { defineMaterial } from '../core/master-data.ts'
import { systemClock, uuidv7Ids } from './ids.ts'
import { LineStore } from './line-store.ts'

t.test('the checkpoint worker copies the WAL into the database file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-ckpt-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'takt.db')
  const store = new LineStore({ file, clock: systemClock, ids: uuidv7Ids(systemClock) })
  t.equal(store.db.sqlite.pragma('wal_autocheckpoint', { simple: true }), 0, 'SQLite does not checkpoint on the writer')
  const before = statSync(file).size
  for (let i = 0; i < 500; i++) store.execute('test', (v) => defineMaterial(v, { id: `M${i}`, name: 'x'.repeat(500), uom: 'ea', serialized: false }))
  let after = statSync(file).size
  for (let i = 0; i < 40 && after <= before + 250_000; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    after = statSync(file).size
  }
  t.ok(after > before + 250_000, `the database file grew from ${before} to ${after} bytes without a checkpoint on the writer`)
  await store.closeAsync()
  t.equal(store.db.sqlite.open, false)
})
