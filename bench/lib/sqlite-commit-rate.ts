// The floor under every durable write: how many one-row commits per second SQLite makes here with synchronous=FULL.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { tempDir } from './cleanup.ts'

export interface CommitRate {
  commits: number
  seconds: number
  perSecond: number
}

/** One small INSERT per transaction in WAL mode with synchronous=FULL, in a temp file, for `seconds` or `maxCommits`. */
export async function measureCommitRate(options: { seconds: number; maxCommits: number }): Promise<CommitRate> {
  const dir = tempDir('sqlite')
  const db = new Database(join(dir.path, 'commits.db'))
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
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
  } finally {
    db.close()
    await dir.remove()
  }
}
