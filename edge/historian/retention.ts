// What leaves the historian and what is kept of it: raw samples folded into 1-minute aggregates, and the oldest raw samples shed when the disk runs low.
import type Database from 'better-sqlite3'
import { blockColumns, decodeBlock, keepOfBlock, maxBlockSpanMs, type BlockRow, type DecodedBlock } from './sample-blocks.ts'

const minute = 60_000

interface Aggregate {
  minute: number
  signal: number
  count: number
  min: number | null
  max: number | null
  sum: number | null
  lastTs: number
  lastValue: number | null
  lastText: string | null
}

/** Folds complete minutes before `until` (rounded down to a minute) that are not folded yet, good-quality samples only. Returns aggregates written. */
export function foldMinutes(db: Database.Database, until: number): number {
  const end = Math.floor(until / minute) * minute
  const mark = (db.prepare(`SELECT ts FROM watermarks WHERE name = 'minutes'`).get() as { ts: number } | undefined)?.ts ?? 0
  if (end <= mark) return 0
  let folded = 0
  db.transaction(() => {
    // Per signal and minute: count of good samples; min, max and sum of their numbers; the newest one.
    const minutes = new Map<string, Aggregate>()
    const blocks = db.prepare('SELECT signal_id, count, ts, value, quality, text FROM blocks WHERE last_ts >= ? AND last_ts < ? AND first_ts < ?')
    for (const row of blocks.iterate(mark, end + maxBlockSpanMs, end) as IterableIterator<BlockRow>) {
      const b = decodeBlock(row)
      for (let i = 0; i < row.count; i++) {
        const ts = b.ts[i]!
        if (ts < mark || ts >= end || b.quality[i] !== 0) continue
        const m = Math.floor(ts / minute) * minute
        const key = `${row.signal_id}:${m}`
        let a = minutes.get(key)
        if (a === undefined) minutes.set(key, (a = { minute: m, signal: row.signal_id, count: 0, min: null, max: null, sum: null, lastTs: Number.NEGATIVE_INFINITY, lastValue: null, lastText: null }))
        a.count += 1
        const text = b.text?.[i] ?? null
        const v = b.value[i]!
        const number = text === null && !Number.isNaN(v) ? v : null
        if (number !== null) {
          a.min = a.min === null ? number : Math.min(a.min, number)
          a.max = a.max === null ? number : Math.max(a.max, number)
          a.sum = (a.sum ?? 0) + number
        }
        if (ts >= a.lastTs) {
          a.lastTs = ts
          a.lastValue = number
          a.lastText = text
        }
      }
    }
    const insert = db.prepare('INSERT OR REPLACE INTO minutes (minute, signal_id, count, min, max, sum, last_value, last_text, last_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    for (const a of minutes.values()) insert.run(a.minute, a.signal, a.count, a.min, a.max, a.sum, a.lastValue, a.lastText, a.lastTs)
    folded = minutes.size
    db.prepare(`INSERT OR REPLACE INTO watermarks (name, ts) VALUES ('minutes', ?)`).run(end)
    // IMMEDIATE: take the write lock first (waiting behind the other connection's write), never fail to upgrade a read.
  }).immediate()
  return folded
}

/**
 * Deletes up to `maxRows` of the oldest raw samples, after folding the minutes they belong to (the
 * aggregates stay), then gives the freed pages back to the filesystem (a file made with
 * auto_vacuum = INCREMENTAL) and truncates the WAL. Returns samples deleted.
 *
 * Whole blocks go oldest first; the block where `maxRows` is reached keeps its newest samples.
 */
export function shedOldestRaw(db: Database.Database, maxRows: number, now: number): number {
  // Oldest by their newest sample (the time index); a block spans less than maxBlockSpanMs.
  const oldest = db.prepare(`SELECT ${blockColumns} FROM blocks ORDER BY last_ts`)
  const whole: number[] = []
  let taken = 0
  let partial: { row: BlockRow; block: DecodedBlock; keep: number[] } | null = null
  let newestShed = Number.NEGATIVE_INFINITY
  for (const row of oldest.iterate() as IterableIterator<BlockRow>) {
    if (taken >= maxRows) break
    const b = decodeBlock(row)
    if (taken + row.count <= maxRows) {
      whole.push(row.id)
      taken += row.count
      for (const t of b.ts) newestShed = Math.max(newestShed, t)
      continue
    }
    // The oldest samples of this block go, the rest stay.
    const order = Array.from(b.ts.keys()).sort((x, y) => b.ts[x]! - b.ts[y]! || x - y)
    const go = maxRows - taken
    for (const k of order.slice(0, go)) newestShed = Math.max(newestShed, b.ts[k]!)
    partial = { row, block: b, keep: order.slice(go).sort((x, y) => x - y) }
    taken += go
  }
  if (taken === 0) return 0
  // Only the minutes about to go are folded: a first shed on a large file does not fold every day at once.
  foldMinutes(db, Math.min(now, newestShed + minute))
  db.transaction(() => {
    const remove = db.prepare('DELETE FROM blocks WHERE id = ?')
    for (const id of whole) remove.run(id)
    if (partial !== null) keepOfBlock(db, partial.row, partial.block, partial.keep)
  })()
  db.pragma('incremental_vacuum')
  db.pragma('wal_checkpoint(TRUNCATE)')
  return taken
}
