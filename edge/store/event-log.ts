// The hash-chained, append-only event log: append inside the caller's transaction, verify the whole chain.
import { hash as digest } from 'node:crypto'
import type { NewEvent, RecordedEvent } from '../core/events.ts'
import type Database from 'better-sqlite3'
import type { Sqlite } from './database.ts'

export const genesisHash = '0'.repeat(64)

export interface StoredEvent {
  seq: number
  id: string
  type: string
  subject: string
  data: string
  actor: string
  occurredAt: string
  recordedAt: string
  prevHash: string
  hash: string
}

/** SHA-256 over the previous hash and the event's stored fields, exactly as stored. */
export function eventHash(e: Omit<StoredEvent, 'hash'>): string {
  const body = JSON.stringify([e.seq, e.id, e.type, e.subject, e.data, e.actor, e.occurredAt, e.recordedAt])
  // One call over one string: the same bytes as hashing the parts in turn, without a Hash object per event.
  return digest('sha256', `${e.prevHash}\n${body}`, 'hex')
}

export interface AppendMeta {
  actor: string
  occurredAt: string
  recordedAt: string
  nextId(): string
}

const columns = '(seq, id, type, subject, data, actor, occurred_at, recorded_at, prev_hash, hash)'
/** Most events written by one INSERT; a command's events usually fit in one. */
const rowsPerInsert = 16

export class EventLog {
  readonly #sqlite: Sqlite
  readonly #head
  readonly #inserts = new Map<number, Database.Statement>()
  /** The head after the last append, so that an append does not read it back; dropped when a transaction rolls back. */
  #known: { seq: number; hash: string } | null = null

  constructor(sqlite: Sqlite) {
    this.#sqlite = sqlite
    this.#head = sqlite.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1')
  }

  head(): { seq: number; hash: string } {
    return this.#known ?? this.#head.get() ?? { seq: 0, hash: genesisHash }
  }

  /** Forget the remembered head: the transaction that appended after it was rolled back. */
  forgetHead(): void {
    this.#known = null
  }

  #insert(rows: number): Database.Statement {
    let stmt = this.#inserts.get(rows)
    if (!stmt) {
      stmt = this.#sqlite.prepare(`INSERT INTO events ${columns} VALUES ${Array(rows).fill('(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`)
      this.#inserts.set(rows, stmt)
    }
    return stmt
  }

  /** Appends events after the current head; call inside a transaction. */
  append(batch: NewEvent[], meta: AppendMeta): RecordedEvent[] {
    let { seq, hash } = this.head()
    const out: RecordedEvent[] = []
    const values: unknown[] = []
    for (const e of batch) {
      seq += 1
      const stored = {
        seq,
        id: meta.nextId(),
        type: e.type,
        subject: e.subject,
        data: JSON.stringify(e.data),
        actor: meta.actor,
        occurredAt: meta.occurredAt,
        recordedAt: meta.recordedAt,
        prevHash: hash,
      }
      hash = eventHash(stored)
      values.push(stored.seq, stored.id, stored.type, stored.subject, stored.data, stored.actor, stored.occurredAt, stored.recordedAt, stored.prevHash, hash)
      out.push({ ...e, seq, id: stored.id, actor: meta.actor, occurredAt: meta.occurredAt, recordedAt: meta.recordedAt, prevHash: stored.prevHash, hash })
    }
    const width = 10
    for (let from = 0; from < out.length; from += rowsPerInsert) {
      const rows = Math.min(rowsPerInsert, out.length - from)
      this.#insert(rows).run(values.slice(from * width, (from + rows) * width))
    }
    this.#known = { seq, hash }
    return out
  }
}

export function toRecorded(row: StoredEvent): RecordedEvent {
  return { ...row, data: JSON.parse(row.data) } as RecordedEvent
}

export function* readEvents(sqlite: Sqlite, afterSeq = 0, limit = Number.MAX_SAFE_INTEGER): Generator<StoredEvent> {
  const stmt = sqlite.prepare<[number, number], StoredEvent>(
    'SELECT seq, id, type, subject, data, actor, occurred_at AS occurredAt, recorded_at AS recordedAt, prev_hash AS prevHash, hash FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
  )
  yield* stmt.iterate(afterSeq, limit)
}

export type ChainReport =
  | { ok: true; count: number; head: string }
  | { ok: false; count: number; broken: { seq: number; id: string; reason: string } }

/** Walks the whole chain and names the first broken link. */
export function verifyChain(sqlite: Sqlite): ChainReport {
  let prev = genesisHash
  let expectedSeq = 1
  let count = 0
  for (const e of readEvents(sqlite)) {
    const broken = (reason: string): ChainReport => ({ ok: false, count, broken: { seq: e.seq, id: e.id, reason } })
    if (e.seq !== expectedSeq) return broken(`sequence gap: expected seq ${expectedSeq}, found ${e.seq}`)
    if (e.prevHash !== prev) return broken(`prev_hash does not match the hash of seq ${e.seq - 1}`)
    if (eventHash(e) !== e.hash) return broken('hash does not match the event contents (the event was altered)')
    prev = e.hash
    expectedSeq += 1
    count += 1
  }
  return { ok: true, count, head: prev }
}
