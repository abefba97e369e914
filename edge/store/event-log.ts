// The hash-chained, append-only event log: append inside the caller's transaction, verify the whole chain.
import { createHash } from 'node:crypto'
import type { NewEvent, RecordedEvent } from '../core/events.ts'
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
  return createHash('sha256').update(e.prevHash).update('\n').update(body).digest('hex')
}

export interface AppendMeta {
  actor: string
  occurredAt: string
  recordedAt: string
  nextId(): string
}

export class EventLog {
  readonly #head
  readonly #insert

  constructor(sqlite: Sqlite) {
    this.#head = sqlite.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1')
    this.#insert = sqlite.prepare(
      'INSERT INTO events (seq, id, type, subject, data, actor, occurred_at, recorded_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
  }

  head(): { seq: number; hash: string } {
    return this.#head.get() ?? { seq: 0, hash: genesisHash }
  }

  /** Appends events after the current head; call inside a transaction. */
  append(batch: NewEvent[], meta: AppendMeta): RecordedEvent[] {
    let { seq, hash } = this.head()
    const out: RecordedEvent[] = []
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
      this.#insert.run(stored.seq, stored.id, stored.type, stored.subject, stored.data, stored.actor, stored.occurredAt, stored.recordedAt, stored.prevHash, hash)
      out.push({ ...e, seq, id: stored.id, actor: meta.actor, occurredAt: meta.occurredAt, recordedAt: meta.recordedAt, prevHash: stored.prevHash, hash })
    }
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
