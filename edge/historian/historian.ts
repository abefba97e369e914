// The historian: machine samples in their own SQLite file, written in batches so telemetry never touches the MES database.
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

export type Quality = 'good' | 'uncertain' | 'bad'

/** A normalized machine sample: what every collector produces. */
export interface Sample {
  signal: string
  value: number | string | boolean | null
  quality: Quality
  /** Source time, Unix milliseconds. */
  timestamp: number
  /** Why the quality is not good (a timeout, a Modbus exception, an OPC UA status). */
  reason?: string
}

export interface MinuteAggregate {
  signal: string
  minute: number
  count: number
  min: number | null
  max: number | null
  avg: number | null
  last: number | string | null
}

export interface HistorianOptions {
  file: string
  /** Largest batch written in one transaction. */
  maxBatch?: number
  /** Longest a sample waits in memory before its batch is written, ms. */
  flushIntervalMs?: number
  /** Raw samples older than this are deleted by `retain()`, ms; aggregates are kept. */
  rawRetentionMs?: number
}

const qualityCode: Record<Quality, number> = { good: 0, uncertain: 1, bad: 2 }
const qualityName: Quality[] = ['good', 'uncertain', 'bad']

export class Historian {
  readonly #db: Database.Database
  readonly #maxBatch: number
  readonly #flushIntervalMs: number
  readonly #rawRetentionMs: number
  readonly #signalIds = new Map<string, number>()
  readonly #insertSignal
  readonly #insertSample
  #buffer: Sample[] = []
  #timer: NodeJS.Timeout | null = null
  #waiters: Array<() => void> = []
  #written = 0

  constructor(options: HistorianOptions) {
    if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true })
    this.#db = new Database(options.file)
    this.#db.pragma('journal_mode = WAL')
    // Telemetry trades the last few hundred milliseconds on a power cut for throughput; as-built data does not.
    this.#db.pragma('synchronous = NORMAL')
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS signals (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
      CREATE TABLE IF NOT EXISTS samples (ts INTEGER NOT NULL, signal_id INTEGER NOT NULL, value REAL, text TEXT, quality INTEGER NOT NULL);
      -- Time first: new rows land at the end of the index, so inserts stay appends.
      CREATE INDEX IF NOT EXISTS samples_ts ON samples (ts, signal_id);
      CREATE TABLE IF NOT EXISTS minutes (
        minute INTEGER NOT NULL, signal_id INTEGER NOT NULL, count INTEGER NOT NULL,
        min REAL, max REAL, sum REAL, last_value REAL, last_text TEXT, last_ts INTEGER NOT NULL,
        PRIMARY KEY (minute, signal_id)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS watermarks (name TEXT PRIMARY KEY, ts INTEGER NOT NULL);
    `)
    for (const row of this.#db.prepare('SELECT id, name FROM signals').all() as Array<{ id: number; name: string }>) this.#signalIds.set(row.name, row.id)
    this.#insertSignal = this.#db.prepare('INSERT INTO signals (name) VALUES (?)')
    this.#insertSample = this.#db.prepare('INSERT INTO samples (ts, signal_id, value, text, quality) VALUES (?, ?, ?, ?, ?)')
    this.#maxBatch = options.maxBatch ?? 10_000
    this.#flushIntervalMs = options.flushIntervalMs ?? 20
    this.#rawRetentionMs = options.rawRetentionMs ?? 30 * 86400_000
  }

  /** Samples written to disk so far. */
  get written(): number {
    return this.#written
  }

  /** Queues samples; they are written within flushIntervalMs, or at once when a batch is full. */
  record(samples: Sample | Sample[]): void {
    if (Array.isArray(samples)) for (const s of samples) this.#buffer.push(s)
    else this.#buffer.push(samples)
    if (this.#buffer.length >= this.#maxBatch) this.flush()
    else this.#timer ??= setTimeout(() => this.flush(), this.#flushIntervalMs)
  }

  /** Resolves once everything recorded before the call is on disk. */
  durable(): Promise<void> {
    if (this.#buffer.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  /** Writes the queued samples in one transaction. */
  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
    const batch = this.#buffer
    const waiters = this.#waiters
    this.#buffer = []
    this.#waiters = []
    if (batch.length > 0) {
      this.#db.transaction(() => {
        for (const s of batch) {
          const numeric = typeof s.value === 'number' ? s.value : typeof s.value === 'boolean' ? Number(s.value) : null
          const text = typeof s.value === 'string' ? s.value : null
          this.#insertSample.run(s.timestamp, this.#signalId(s.signal), numeric, text, qualityCode[s.quality])
        }
      })()
      this.#written += batch.length
    }
    for (const resolve of waiters) resolve()
  }

  #signalId(name: string): number {
    let id = this.#signalIds.get(name)
    if (id === undefined) {
      id = Number(this.#insertSignal.run(name).lastInsertRowid)
      this.#signalIds.set(name, id)
    }
    return id
  }

  /** Raw samples of one signal in [from, to), oldest first. */
  range(signal: string, from: number, to: number, limit = 100_000): Sample[] {
    const id = this.#signalIds.get(signal)
    if (id === undefined) return []
    const rows = this.#db
      .prepare('SELECT ts, value, text, quality FROM samples WHERE ts >= ? AND ts < ? AND signal_id = ? ORDER BY ts LIMIT ?')
      .all(from, to, id, limit) as Array<{ ts: number; value: number | null; text: string | null; quality: number }>
    return rows.map((r) => ({ signal, value: r.text ?? r.value, quality: qualityName[r.quality] ?? 'bad', timestamp: r.ts }))
  }

  /** Folds complete minutes up to `now` into 1-minute aggregates (good-quality numeric samples only). */
  downsample(now: number): number {
    const until = Math.floor(now / 60_000) * 60_000
    const mark = (this.#db.prepare(`SELECT ts FROM watermarks WHERE name = 'minutes'`).get() as { ts: number } | undefined)?.ts ?? 0
    if (until <= mark) return 0
    let folded = 0
    this.#db.transaction(() => {
      const result = this.#db
        .prepare(
          `INSERT OR REPLACE INTO minutes (minute, signal_id, count, min, max, sum, last_value, last_text, last_ts)
           SELECT (ts / 60000) * 60000 AS minute, signal_id, COUNT(*), MIN(value), MAX(value), SUM(value),
                  (SELECT s2.value FROM samples s2 WHERE s2.signal_id = s.signal_id AND s2.ts >= (s.ts / 60000) * 60000 AND s2.ts < (s.ts / 60000) * 60000 + 60000 ORDER BY s2.ts DESC LIMIT 1),
                  (SELECT s2.text FROM samples s2 WHERE s2.signal_id = s.signal_id AND s2.ts >= (s.ts / 60000) * 60000 AND s2.ts < (s.ts / 60000) * 60000 + 60000 ORDER BY s2.ts DESC LIMIT 1),
                  MAX(ts)
           FROM samples s WHERE ts >= ? AND ts < ? AND quality = 0 GROUP BY minute, signal_id`,
        )
        .run(mark, until)
      folded = result.changes
      this.#db.prepare(`INSERT OR REPLACE INTO watermarks (name, ts) VALUES ('minutes', ?)`).run(until)
    })()
    return folded
  }

  /** 1-minute aggregates of one signal in [from, to). */
  minutes(signal: string, from: number, to: number): MinuteAggregate[] {
    const id = this.#signalIds.get(signal)
    if (id === undefined) return []
    const rows = this.#db.prepare('SELECT * FROM minutes WHERE minute >= ? AND minute < ? AND signal_id = ? ORDER BY minute').all(from, to, id) as Array<Record<string, number | string | null>>
    return rows.map((r) => ({
      signal,
      minute: Number(r.minute),
      count: Number(r.count),
      min: r.min as number | null,
      max: r.max as number | null,
      avg: r.sum === null ? null : Number(r.sum) / Number(r.count),
      last: (r.last_text as string | null) ?? (r.last_value as number | null),
    }))
  }

  /** Deletes raw samples past retention that are already folded into minutes. Returns rows deleted. */
  retain(now: number): number {
    const mark = (this.#db.prepare(`SELECT ts FROM watermarks WHERE name = 'minutes'`).get() as { ts: number } | undefined)?.ts ?? 0
    const cutoff = Math.min(now - this.#rawRetentionMs, mark)
    return this.#db.prepare('DELETE FROM samples WHERE ts < ?').run(cutoff).changes
  }

  close(): void {
    this.flush()
    this.#db.close()
  }
}
