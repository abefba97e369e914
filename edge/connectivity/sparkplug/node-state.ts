// What a Sparkplug edge node keeps on disk: the last bdSeq, each metric's alias and last value, and the store-and-forward backlog.
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

export type StoredValue = number | bigint | string | boolean | null

export interface StoredChange {
  name: string
  datatype: number
  value: StoredValue
  /** Unix milliseconds: when the value was captured. */
  timestamp: number
}

export interface StoredMetric extends StoredChange {
  alias: bigint
}

export interface BacklogRow extends StoredChange {
  id: number
}

interface ValueRow {
  name: string
  datatype: number
  value: string | null
  timestamp: number
}

// Values go to TEXT with a one-letter tag, so a UInt64 above 2^63 or a bigint never meets SQLite's REAL.
function store(value: StoredValue): string | null {
  if (value === null) return null
  switch (typeof value) {
    case 'bigint': return `n${value}`
    case 'number': return `d${value}`
    case 'boolean': return value ? 'b1' : 'b0'
    default: return `s${value}`
  }
}

function restore(text: string | null): StoredValue {
  if (text === null) return null
  const body = text.slice(1)
  switch (text[0]) {
    case 'n': return BigInt(body)
    case 'd': return Number(body)
    case 'b': return body === '1'
    default: return body
  }
}

export class EdgeNodeState {
  readonly #db: Database.Database
  readonly #statements
  #backlog: number

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true })
    this.#db = new Database(file)
    this.#db.pragma('journal_mode = WAL')
    // A bdSeq reused after a power cut would let a host match an old death to a new birth; values offline are the only copy.
    this.#db.pragma('synchronous = FULL')
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS node (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS metrics (name TEXT PRIMARY KEY, alias INTEGER NOT NULL UNIQUE, datatype INTEGER NOT NULL, value TEXT, timestamp INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS backlog (id INTEGER PRIMARY KEY, name TEXT NOT NULL, datatype INTEGER NOT NULL, value TEXT, timestamp INTEGER NOT NULL);
    `)
    this.#statements = {
      bdSeq: this.#db.prepare<[], { value: number }>(`SELECT value FROM node WHERE key = 'bdSeq'`),
      setBdSeq: this.#db.prepare(`INSERT INTO node (key, value) VALUES ('bdSeq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
      metrics: this.#db.prepare<[], ValueRow & { alias: number }>('SELECT name, alias, datatype, value, timestamp FROM metrics ORDER BY alias'),
      upsert: this.#db.prepare('INSERT INTO metrics (name, alias, datatype, value, timestamp) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET datatype = excluded.datatype, value = excluded.value, timestamp = excluded.timestamp'),
      append: this.#db.prepare('INSERT INTO backlog (name, datatype, value, timestamp) VALUES (?, ?, ?, ?)'),
      trim: this.#db.prepare('DELETE FROM backlog WHERE id IN (SELECT id FROM backlog ORDER BY id LIMIT ?)'),
      peek: this.#db.prepare<[number], ValueRow & { id: number }>('SELECT id, name, datatype, value, timestamp FROM backlog ORDER BY id LIMIT ?'),
      remove: this.#db.prepare('DELETE FROM backlog WHERE id <= ?'),
      count: this.#db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM backlog'),
    }
    this.#backlog = this.#statements.count.get()?.n ?? 0
  }

  /** The bdSeq for the next CONNECT, already on disk: 0 the first time, then +1, 255 → 0 (tck-id-payloads-nbirth-bdseq-inc). */
  nextBdSeq(): number {
    return this.#db.transaction(() => {
      const last = this.#statements.bdSeq.get()?.value ?? -1
      const next = (last + 1) % 256
      this.#statements.setBdSeq.run(next)
      return next
    })()
  }

  metrics(): StoredMetric[] {
    return this.#statements.metrics.all().map((r) => ({ name: r.name, alias: BigInt(r.alias), datatype: r.datatype, value: restore(r.value), timestamp: r.timestamp }))
  }

  /** Saves metric definitions and appends values to the backlog in one transaction; returns how many of the oldest were dropped. */
  commit(metrics: readonly StoredMetric[], backlog: readonly StoredChange[], maxBacklog: number): number {
    return this.#db.transaction(() => {
      for (const m of metrics) this.#statements.upsert.run(m.name, m.alias, m.datatype, store(m.value), m.timestamp)
      for (const c of backlog) this.#statements.append.run(c.name, c.datatype, store(c.value), c.timestamp)
      this.#backlog += backlog.length
      const over = Math.max(0, this.#backlog - maxBacklog)
      if (over > 0) this.#backlog -= this.#statements.trim.run(over).changes
      return over
    })()
  }

  /** The oldest backlog values, in the order they were stored. */
  peek(limit: number): BacklogRow[] {
    return this.#statements.peek.all(limit).map((r) => ({ id: r.id, name: r.name, datatype: r.datatype, value: restore(r.value), timestamp: r.timestamp }))
  }

  /** Forgets backlog values up to and including `id`, once the broker has them. */
  remove(throughId: number): void {
    this.#backlog -= this.#statements.remove.run(throughId).changes
  }

  get backlogSize(): number {
    return this.#backlog
  }

  close(): void {
    this.#db.close()
  }
}
