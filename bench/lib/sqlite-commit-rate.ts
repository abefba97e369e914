// The floor under every durable write: how many one-row commits per second SQLite makes here with synchronous=FULL.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { tempDir } from './cleanup.ts'

export interface CommitRate {
  commits: number
  seconds: number
  perSecond: number
}

/** A temp database in WAL mode with synchronous=FULL for `measure`, removed afterwards. */
async function withDurableDb<T>(name: string, measure: (db: Database.Database) => Promise<T>): Promise<T> {
  const dir = tempDir(name)
  const db = new Database(join(dir.path, `${name}.db`))
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    return await measure(db)
  } finally {
    db.close()
    await dir.remove()
  }
}

/** One small INSERT per transaction in WAL mode with synchronous=FULL, in a temp file, for `seconds` or `maxCommits`. */
export function measureCommitRate(options: { seconds: number; maxCommits: number }): Promise<CommitRate> {
  return withDurableDb('sqlite', async (db) => {
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT NOT NULL, v REAL NOT NULL)')
    const insert = db.prepare('INSERT INTO t (at, v) VALUES (?, ?)')
    const commit = db.transaction((at: string, v: number) => insert.run(at, v))
    for (let i = 0; i < 200; i++) commit(new Date().toISOString(), i)
    const started = performance.now()
    const deadline = started + options.seconds * 1000
    let commits = 0
    while (commits < options.maxCommits && performance.now() < deadline) {
      commit(new Date().toISOString(), commits)
      commits++
    }
    const seconds = (performance.now() - started) / 1000
    return { commits, seconds, perSecond: commits / seconds }
  })
}

export interface PacedCommits {
  commits: number
  pagesPerCommit: number
  /** Each commit's duration, in ms. */
  latencies: number[]
}

/**
 * The floor under a completion's latency: commits that each change `pagesPerCommit` random pages of
 * a 200,000-row table (about what one completion writes to the WAL), one every 1/rate seconds, in
 * WAL mode with synchronous=FULL and no checkpoint (the gateway checkpoints off its event loop).
 * It sees the same disk and the same kernel as the gateway does in the run.
 */
export function measurePacedCommits(options: { rate: number; seconds: number; pagesPerCommit: number }): Promise<PacedCommits> {
  return withDurableDb('sqlite-paced', async (db) => {
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)')
    const rows = 200_000
    const insert = db.prepare('INSERT INTO t (id, v) VALUES (?, ?)')
    db.transaction(() => {
      for (let i = 0; i < rows; i++) insert.run(i, 'x'.repeat(180))
    })()
    db.pragma('wal_checkpoint(TRUNCATE)')
    db.pragma('wal_autocheckpoint = 0')
    const update = db.prepare('UPDATE t SET v = ? WHERE id = ?')
    const commit = db.transaction((n: number) => {
      for (let i = 0; i < options.pagesPerCommit; i++) update.run(`${n}`.padEnd(180, 'y'), Math.floor(Math.random() * rows))
    })
    const count = Math.round(options.rate * options.seconds)
    const latencies: number[] = []
    const started = performance.now()
    for (let i = 0; i < count; i++) {
      const wait = started + (i * 1000) / options.rate - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      const t0 = performance.now()
      commit(i)
      latencies.push(performance.now() - t0)
    }
    return { commits: count, pagesPerCommit: options.pagesPerCommit, latencies }
  })
}
