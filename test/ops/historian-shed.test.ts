// The historian under a full disk, on a real SQLite file: raw storage paused and resumed, the oldest raw samples shed first, aggregates kept, pages given back.
import Database from 'better-sqlite3'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Historian, type Sample } from '../../edge/historian/historian.ts'

const T0 = Date.UTC(2026, 11, 1, 6, 0, 0)
const minute = 60_000

function tempFile(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'takt-shed-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'historian.db')
}

/** `n` samples of one signal spread evenly over `minutes` minutes from T0; the value is the sample's place in time. */
const spread = (signal: string, n: number, minutes: number): Sample[] => Array.from({ length: n }, (_, i) => ({ signal, value: i, quality: 'good', timestamp: T0 + Math.floor((i * minutes * minute) / n) }))

t.test('shedding deletes the oldest raw samples first and keeps their 1-minute aggregates', async (t) => {
  const file = tempFile(t)
  const h = new Historian({ file })
  t.teardown(() => h.close())
  h.record(spread('press/force', 60_000, 10))
  await h.durable()
  const onDisk = () => statSync(file).size + (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0)
  const sizeBefore = onDisk()
  const now = T0 + 60 * minute
  t.equal(await h.shed(15_000, now), 15_000, 'a quarter is shed')
  const left = h.range('press/force', T0, T0 + 10 * minute)
  t.equal(left.length, 45_000)
  t.equal(left[0]!.value, 15_000, 'the oldest samples went: what is left starts where the shed part ended')
  t.equal(left.at(-1)!.value, 59_999, 'the newest sample is kept')
  const folded = h.minutes('press/force', T0, T0 + 10 * minute)
  t.same(folded.map((m) => m.count), [6000, 6000, 6000], 'the minutes that were shed are folded first: 3 whole minutes (the 3rd one in full, though only part of it went)')
  t.same(folded[0], { signal: 'press/force', minute: T0, count: 6000, min: 0, max: 5999, avg: 2999.5, last: 5999 })
  t.equal(await h.shed(1_000_000, now), 45_000, 'the rest goes when asked for more than there is')
  t.equal(h.range('press/force', T0, T0 + 10 * minute).length, 0)
  t.equal(h.minutes('press/force', T0, T0 + 10 * minute).length, 10, 'every minute keeps its aggregate')
  t.equal(await h.shed(1000, now), 0, 'nothing left to shed')
  t.ok(onDisk() < sizeBefore / 4, `the file and its WAL give their pages back (${sizeBefore} → ${onDisk()} bytes)`)
  const db = new Database(file, { readonly: true })
  t.equal(db.pragma('integrity_check', { simple: true }), 'ok')
  db.close()
})

t.test('while raw storage is paused samples are dropped and counted; resumed, they are stored again', async (t) => {
  const file = tempFile(t)
  const h = new Historian({ file })
  t.teardown(() => h.close())
  h.record(spread('oven/temp', 100, 1))
  h.pauseRaw(true)
  t.equal(h.rawPaused, true)
  await h.durable()
  t.equal(h.written, 100, 'what was recorded before the pause is written')
  h.record(spread('oven/temp', 50, 1))
  h.record({ signal: 'oven/temp', value: 1, quality: 'good', timestamp: T0 })
  await h.durable()
  t.equal(h.written, 100, 'nothing recorded during the pause is written')
  t.equal(h.dropped, 51, 'and every dropped sample is counted')
  h.pauseRaw(false)
  h.record(spread('oven/temp', 10, 1))
  await h.durable()
  t.equal(h.written, 110, 'after the pause samples are written again')
  t.equal(h.dropped, 51)
})
