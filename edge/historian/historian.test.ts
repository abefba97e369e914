// The historian against a real SQLite file: batching in its writer thread, durability, range queries, downsampling and retention.
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Historian, type Sample } from './historian.ts'
import { storedSampleCount, storedValues } from './sample-blocks.ts'

function tempFile(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'takt-hist-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'historian.db')
}

const T0 = Date.UTC(2026, 10, 24, 8, 0, 0)
const sample = (signal: string, value: Sample['value'], timestamp: number, quality: Sample['quality'] = 'good'): Sample => ({ signal, value, quality, timestamp })

t.test('samples are written in batches and read back by range', async (t) => {
  const file = tempFile(t)
  const h = new Historian({ file, flushIntervalMs: 5, maxBatch: 100 })
  h.record([sample('WC1/speed', 10, T0), sample('WC1/state', 'running', T0 + 1), sample('WC1/speed', 12, T0 + 1000, 'uncertain')])
  t.equal(h.written, 0, 'nothing is written before the flush interval')
  await h.durable()
  t.equal(h.written, 3)
  t.same(h.range('WC1/speed', T0, T0 + 2000), [sample('WC1/speed', 10, T0), sample('WC1/speed', 12, T0 + 1000, 'uncertain')])
  t.same(h.range('WC1/speed', T0 + 1, T0 + 1000), [], 'the range end is exclusive')
  t.same(h.range('WC1/state', T0, T0 + 10), [sample('WC1/state', 'running', T0 + 1)])
  t.same(h.range('unknown', T0, T0 + 10), [])
  for (let i = 0; i < 250; i++) h.record(sample('WC1/count', i, T0 + i))
  const last = h.durable()
  t.equal(h.written, 3, 'the writer thread has not answered yet: nothing new counts as written')
  await last
  t.equal(h.written, 253, 'once durable() resolves, every sample recorded before it is written')
  h.close()
  const reopened = new Historian({ file })
  t.equal(reopened.range('WC1/count', T0, T0 + 1000).length, 250, 'everything is there after a reopen')
  reopened.close()
})

t.test('batches go to the writer at the end of their turn, two at most at once; each is answered only after a WAL sync', async (t) => {
  const file = tempFile(t)
  const h = new Historian({ file })
  t.teardown(() => h.close())
  const turn = () => new Promise((resolve) => setImmediate(resolve))
  h.record(sample('WC1/speed', 1, T0))
  h.record(sample('WC1/speed', 2, T0 + 1))
  const first = h.durable()
  t.equal(h.walSyncs, 0, 'nothing is synced before the writer has the batch')
  await turn()
  // One batch is with the writer: the next still goes at the end of its turn (inserted while the first syncs).
  h.record([sample('WC1/speed', 3, T0 + 2), sample('WC1/state', 'running', T0 + 2)])
  const second = h.durable()
  await turn()
  // Two are out: these wait for an answer and then go as one batch.
  h.record(sample('WC1/on', true, T0 + 3))
  h.record(sample('WC1/speed', 4, T0 + 4))
  const third = h.durable()
  await first
  t.ok(h.written >= 2, `the first batch is on disk when its durable() resolves (${h.written} written)`)
  t.ok(h.walSyncs >= 1, `and the WAL was synced for it (${h.walSyncs} syncs)`)
  await second
  t.ok(h.written >= 4, 'the second batch too')
  await third
  t.equal(h.written, 6)
  t.same(h.range('WC1/speed', T0, T0 + 10).map((s) => s.value), [1, 2, 3, 4])
  t.same(h.range('WC1/state', T0, T0 + 10).map((s) => s.value), ['running'], 'text values travel beside the shared page')
  t.same(h.range('WC1/on', T0, T0 + 10).map((s) => s.value), [1], 'booleans are stored as 1 and 0')
})

t.test('flush() waits for the writer: a query right after it sees every sample', async (t) => {
  const file = tempFile(t)
  const h = new Historian({ file, maxBatch: 1000 })
  t.teardown(() => h.close())
  for (let i = 0; i < 2500; i++) h.record(sample(`WC1/s${i % 7}`, i, T0 + i))
  h.flush()
  t.equal(h.written, 2500, 'written counts every sample once flush() returns')
  const values = Array.from({ length: 7 }, (_, k) => h.range(`WC1/s${k}`, T0, T0 + 3000).map((s) => s.value)).flat()
  t.same([...values].sort((a, b) => Number(a) - Number(b)), Array.from({ length: 2500 }, (_, i) => i), 'every value once, across pages and blocks')
})

/** A historian with one sample written, then its blocks table renamed away by a second connection (`side`), so that the next batch fails. */
async function withBlocksTableAway(t: { teardown(fn: () => void): void }, options: { ackWindowMs?: number }): Promise<{ h: Historian; side: Database.Database }> {
  const file = tempFile(t)
  const h = new Historian({ file, ...options })
  t.teardown(() => h.close())
  h.record(sample('WC1/old', 1, T0))
  await h.durable()
  const side = new Database(file)
  t.teardown(() => side.close())
  side.exec('ALTER TABLE blocks RENAME TO blocks_away')
  return { h, side }
}

t.test('a batch the writer cannot write is refused to its waiters; the next one carries its new signals again', async (t) => {
  const { h, side } = await withBlocksTableAway(t, {})
  h.record(sample('WC1/new', 2, T0 + 1))
  await t.rejects(h.durable(), /could not write .*blocks/, 'durable() rejects: the publication would not be acknowledged')
  side.exec('ALTER TABLE blocks_away RENAME TO blocks')
  h.record(sample('WC1/new', 3, T0 + 2))
  await h.durable()
  t.same(h.range('WC1/new', T0, T0 + 10).map((s) => s.value), [3], 'the refused sample is not stored, the next one is')
  t.same(side.prepare(`SELECT name FROM signals ORDER BY id`).pluck().all(), ['WC1/old', 'WC1/new'], 'the new signal was written with the next batch')
})

t.test('a PUBACK runs ahead of the disk only while the writer keeps up, and never with a window of 0', async (t) => {
  const file = tempFile(t)
  const waits = new Historian({ file, ackWindowMs: 0 })
  waits.record(sample('WC1/speed', 1, T0))
  const durable = waits.acknowledgement()
  t.ok(durable instanceof Promise, 'a window of 0: the acknowledgement waits for the sync')
  await durable
  t.equal(waits.written, 1, 'and it resolves once the sample is written')
  t.same(waits.ackAhead, { batches: 0, maxMs: 0, lost: 0 })
  waits.close()

  const h = new Historian({ file, ackWindowMs: 50 })
  t.teardown(() => h.close())
  const turn = () => new Promise((resolve) => setImmediate(resolve))
  t.equal(h.acknowledgement(), undefined, 'nothing recorded: nothing to wait for')
  h.record(sample('WC1/speed', 2, T0 + 1))
  t.equal(h.acknowledgement(), undefined, 'the writer keeps up: the PUBACK goes at once')
  await turn()
  // The batch is with the writer; its answer cannot be taken while the event loop is held past half the window.
  const until = performance.now() + 30
  while (performance.now() < until);
  h.record(sample('WC1/speed', 3, T0 + 2))
  const behind = h.acknowledgement()
  t.ok(behind instanceof Promise, 'a sample recorded before is unwritten after half the window: this PUBACK waits for the disk')
  await behind
  t.equal(h.written, 2)
  t.equal(h.ackAhead.batches, 1, 'one batch was written after a PUBACK ran ahead of it')
  t.ok(h.ackAhead.maxMs >= 30 && h.ackAhead.maxMs < 1000, `its window is measured: ${h.ackAhead.maxMs.toFixed(1)} ms, the held event loop included`)
  h.record(sample('WC1/speed', 4, T0 + 3))
  t.equal(h.acknowledgement(), undefined, 'written again: PUBACKs run ahead again')
  await h.durable()
})

t.test('a batch that cannot be written after its PUBACK ran ahead is counted lost, and PUBACKs wait for the disk until one is written', async (t) => {
  const { h, side } = await withBlocksTableAway(t, { ackWindowMs: 50 })
  h.record([sample('WC1/new', 2, T0 + 1), sample('WC1/new', 3, T0 + 2)])
  t.equal(h.acknowledgement(), undefined, 'the writer kept up so far: the PUBACK runs ahead')
  await t.rejects(h.durable(), /could not write/)
  t.equal(h.ackAhead.lost, 2, 'both acknowledged samples are counted lost')
  side.exec('ALTER TABLE blocks_away RENAME TO blocks')
  h.record(sample('WC1/new', 4, T0 + 3))
  const held = h.acknowledgement()
  t.ok(held instanceof Promise, 'after a failed batch the next PUBACK waits for the disk')
  await held
  h.record(sample('WC1/new', 5, T0 + 4))
  t.equal(h.acknowledgement(), undefined, 'a batch was written again: PUBACKs run ahead again')
  await h.durable()
  t.same(h.range('WC1/new', T0, T0 + 10).map((s) => s.value), [4, 5])
})

t.test("samples are stored as a block per signal per batch; each signal's blocks are indexed in time order", async (t) => {
  const file = tempFile(t)
  const h = new Historian({ file })
  h.record([sample('WC1/speed', 1, T0 + 2), sample('WC1/state', 'running', T0), sample('WC1/speed', 2, T0 + 1), sample('WC1/speed', 3, T0 + 3, 'bad')])
  h.close()
  const db = new Database(file, { readonly: true })
  t.teardown(() => db.close())
  const blocks = db.prepare('SELECT g.name, b.first_ts, b.last_ts, b.count FROM blocks b JOIN signals g ON g.id = b.signal_id ORDER BY b.id').all()
  t.same(blocks, [
    { name: 'WC1/speed', first_ts: T0 + 1, last_ts: T0 + 3, count: 3 },
    { name: 'WC1/state', first_ts: T0, last_ts: T0, count: 1 },
  ], 'one row per signal, with the span of its samples')
  t.same(storedValues(db, 'WC1/speed'), [1, 2, 3], 'in the order they came')
  t.same(storedValues(db, 'WC1/state'), ['running'])
  t.equal(storedSampleCount(db), 4)
  t.equal(storedSampleCount(db, 'WC1/speed'), 3)
  const columns = db.prepare(`SELECT name FROM pragma_index_info('blocks_time') ORDER BY seqno`).pluck().all()
  t.same(columns, ['last_ts', 'signal_id'], 'the index is time first: a new block lands at its end')
})

t.test('samples of one signal hours apart in one batch go in a block per hour, and a range finds them all', async (t) => {
  const file = tempFile(t)
  const h = new Historian({ file })
  t.teardown(() => h.close())
  // A device's stored-and-forwarded backlog arriving with live values.
  h.record([sample('WC1/speed', 1, T0), sample('WC1/speed', 2, T0 + 5 * 3_600_000), sample('WC1/speed', 3, T0 + 60_000), sample('WC1/speed', 4, T0 + 5 * 3_600_000 + 1)])
  h.flush()
  const db = new Database(file, { readonly: true })
  t.teardown(() => db.close())
  t.same(db.prepare('SELECT first_ts, last_ts, count FROM blocks ORDER BY first_ts').all(), [
    { first_ts: T0, last_ts: T0 + 60_000, count: 2 },
    { first_ts: T0 + 5 * 3_600_000, last_ts: T0 + 5 * 3_600_000 + 1, count: 2 },
  ], 'no block spans an hour or more')
  t.same(h.range('WC1/speed', T0, T0 + 6 * 3_600_000).map((s) => s.value), [1, 3, 2, 4], 'oldest first')
  t.same(h.range('WC1/speed', T0 + 30_000, T0 + 3_600_000).map((s) => s.value), [3])
})

t.test('a range reads across blocks, oldest first, bounded by its limit', async (t) => {
  const file = tempFile(t)
  const h = new Historian({ file, maxBatch: 100 })
  t.teardown(() => h.close())
  // Three pages of 100; times out of order within a page, and a late sample older than the pages before it.
  for (let i = 0; i < 300; i++) h.record(sample('WC1/speed', i, T0 + 1000 + (i % 100 === 0 ? i + 50 : i)))
  h.record(sample('WC1/speed', -1, T0 + 500))
  h.flush()
  const all = h.range('WC1/speed', T0, T0 + 10_000)
  t.equal(all.length, 301)
  t.same(all.slice(0, 2).map((s) => s.value), [-1, 1], 'the late sample first, then by time')
  t.ok(all.every((s, i) => i === 0 || all[i - 1]!.timestamp <= s.timestamp), 'oldest first')
  t.same(h.range('WC1/speed', T0, T0 + 10_000, 10).map((s) => s.value), all.slice(0, 10).map((s) => s.value), 'a limit keeps the oldest')
  t.same(h.range('WC1/speed', T0 + 1100, T0 + 1103).map((s) => s.value), [101, 102], 'inside a block: only the samples in the range, the end exclusive (100 is at 1150)')
})

t.test('a historian file of the earlier layout, a row per sample, is converted to blocks at the first open', async (t) => {
  const file = tempFile(t)
  const old = new Database(file)
  old.exec(`
    CREATE TABLE signals (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE samples (ts INTEGER NOT NULL, signal_id INTEGER NOT NULL, value REAL, text TEXT, quality INTEGER NOT NULL);
    CREATE INDEX samples_ts ON samples (ts, signal_id);
    INSERT INTO signals VALUES (1, 'WC1/speed'), (2, 'WC1/state');
  `)
  const insert = old.prepare('INSERT INTO samples VALUES (?, ?, ?, ?, ?)')
  old.transaction(() => {
    for (let i = 0; i < 120_000; i++) insert.run(T0 + i, 1, i, null, i % 1000 === 0 ? 2 : 0)
    insert.run(T0 + 5, 2, null, 'running', 0)
  })()
  old.close()
  const h = new Historian({ file })
  t.teardown(() => h.close())
  const speed = h.range('WC1/speed', T0, T0 + 200_000, 200_000)
  t.equal(speed.length, 120_000, 'every sample is there, across chunks of the conversion')
  t.same(speed.slice(0, 2), [sample('WC1/speed', 0, T0, 'bad'), sample('WC1/speed', 1, T0 + 1)], 'with its value, time and quality')
  t.same(h.range('WC1/state', T0, T0 + 10), [sample('WC1/state', 'running', T0 + 5)], 'text values too')
  const db = new Database(file, { readonly: true })
  t.teardown(() => db.close())
  t.equal(db.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'samples'`).pluck().get(), 0, 'the old table is gone')
  t.equal(storedSampleCount(db), 120_001)
  h.record(sample('WC1/speed', -1, T0 + 300_000))
  await h.durable()
  t.equal(h.range('WC1/speed', T0 + 300_000, T0 + 300_001).length, 1, 'and new samples are written as before')
})

t.test('complete minutes fold into aggregates of good samples; retention keeps the aggregates', async (t) => {
  const file = tempFile(t)
  const h = new Historian({ file, rawRetentionMs: 60_000 })
  h.record([
    sample('WC1/temp', 20, T0 + 1_000),
    sample('WC1/temp', 30, T0 + 59_000),
    sample('WC1/temp', 999, T0 + 30_000, 'bad'),
    sample('WC1/temp', 40, T0 + 61_000),
    sample('WC1/temp', 50, T0 + 125_000),
  ])
  h.flush()
  t.equal(h.downsample(T0 + 30_000), 0, 'an unfinished minute is not folded')
  t.equal(h.downsample(T0 + 120_000), 2, 'two complete minutes')
  t.same(h.minutes('WC1/temp', T0, T0 + 180_000), [
    { signal: 'WC1/temp', minute: T0, count: 2, min: 20, max: 30, avg: 25, last: 30 },
    { signal: 'WC1/temp', minute: T0 + 60_000, count: 1, min: 40, max: 40, avg: 40, last: 40 },
  ])
  t.equal(h.downsample(T0 + 120_000), 0, 'folding is idempotent up to the watermark')
  const deleted = h.retain(T0 + 300_000)
  t.equal(deleted, 4, 'raw samples past retention and already folded are deleted')
  t.same(h.range('WC1/temp', T0, T0 + 200_000).map((s) => s.value), [50], 'the unfolded minute keeps its raw samples')
  t.equal(h.minutes('WC1/temp', T0, T0 + 180_000).length, 2, 'aggregates stay')
  h.close()
})
