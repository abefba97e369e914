// What leaves the historian and what is kept of it: raw samples folded into 1-minute aggregates, and the oldest raw samples shed when the disk runs low.
import type Database from 'better-sqlite3'

const minute = 60_000

/** Folds complete minutes before `until` (rounded down to a minute) that are not folded yet, good-quality numeric samples only. Returns aggregates written. */
export function foldMinutes(db: Database.Database, until: number): number {
  const end = Math.floor(until / minute) * minute
  const mark = (db.prepare(`SELECT ts FROM watermarks WHERE name = 'minutes'`).get() as { ts: number } | undefined)?.ts ?? 0
  if (end <= mark) return 0
  let folded = 0
  db.transaction(() => {
    const result = db
      .prepare(
        `INSERT OR REPLACE INTO minutes (minute, signal_id, count, min, max, sum, last_value, last_text, last_ts)
         SELECT (ts / 60000) * 60000 AS minute, signal_id, COUNT(*), MIN(value), MAX(value), SUM(value),
                (SELECT s2.value FROM samples s2 WHERE s2.signal_id = s.signal_id AND s2.ts >= (s.ts / 60000) * 60000 AND s2.ts < (s.ts / 60000) * 60000 + 60000 ORDER BY s2.ts DESC LIMIT 1),
                (SELECT s2.text FROM samples s2 WHERE s2.signal_id = s.signal_id AND s2.ts >= (s.ts / 60000) * 60000 AND s2.ts < (s.ts / 60000) * 60000 + 60000 ORDER BY s2.ts DESC LIMIT 1),
                MAX(ts)
         FROM samples s WHERE ts >= ? AND ts < ? AND quality = 0 GROUP BY minute, signal_id`,
      )
      .run(mark, end)
    folded = result.changes
    db.prepare(`INSERT OR REPLACE INTO watermarks (name, ts) VALUES ('minutes', ?)`).run(end)
    // IMMEDIATE: take the write lock first (waiting behind the other connection's write), never fail to upgrade a read.
  }).immediate()
  return folded
}

/**
 * Deletes up to `maxRows` of the oldest raw samples, after folding the minutes they belong to (the
 * aggregates stay), then gives the freed pages back to the filesystem (a file made with
 * auto_vacuum = INCREMENTAL) and truncates the WAL. Returns rows deleted.
 */
export function shedOldestRaw(db: Database.Database, maxRows: number, now: number): number {
  // Only the minutes about to go are folded: a first shed on a large file does not fold every day at once.
  const last = db.prepare<[number], { ts: number }>('SELECT ts FROM samples ORDER BY ts LIMIT 1 OFFSET ?').get(Math.max(0, maxRows - 1))
  foldMinutes(db, Math.min(now, (last?.ts ?? now) + minute))
  const deleted = db.prepare('DELETE FROM samples WHERE rowid IN (SELECT rowid FROM samples ORDER BY ts LIMIT ?)').run(maxRows).changes
  if (deleted > 0) {
    db.pragma('incremental_vacuum')
    db.pragma('wal_checkpoint(TRUNCATE)')
  }
  return deleted
}
