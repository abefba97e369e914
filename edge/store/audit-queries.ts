// The audit trail read from the event log (21 CFR 11.10(e)): who, when, what (old and new value), why; signatures with their records.
import { checkSignature, personOfActor, type SignableRecord, type SignatureManifest } from '../core/signatures.ts'
import type { Sqlite } from './database.ts'
import { toRecorded, type StoredEvent } from './event-log.ts'

export interface AuditFilter {
  from?: string | undefined
  to?: string | undefined
  /** An actor as logged (`person:olga`), or a person id; matches whatever terminal they acted from. */
  actor?: string | undefined
  type?: string | undefined
  subject?: string | undefined
}

export interface AuditEntry {
  seq: number
  id: string
  recordedAt: string
  occurredAt: string
  actor: string
  personId: string | null
  /** The person's name as the people table holds it now (their name at the time is in the PersonDefined events). */
  personName: string | null
  terminal: string | null
  type: string
  subject: string
  action: 'create' | 'change' | 'record'
  /** Why, in the person's words, when the event carries a reason. */
  reason: string | null
  /** The value before and after, for changes; for a redefinition, the whole previous definition. */
  previous: unknown
  current: unknown
  /** The event a correction or signature refers to. */
  refersToSeq: number | null
  data: unknown
  hash: string
}

const columns = 'seq, id, type, subject, data, actor, occurred_at AS occurredAt, recorded_at AS recordedAt, prev_hash AS prevHash, hash'

/** Definitions that replace the previous one of the same subject: the audit trail shows both. */
const definitions = new Set(['EquipmentDefined', 'MaterialDefined', 'BomDefined', 'RoutingDefined', 'PersonDefined', 'LotDefined', 'OrderCreated', 'ShiftCalendarDefined', 'ReasonCodesDefined'])

export class AuditQueries {
  readonly #s: Sqlite
  readonly #previous
  readonly #bySeq
  readonly #signatures
  readonly #personName

  constructor(sqlite: Sqlite) {
    this.#s = sqlite
    this.#previous = sqlite.prepare<[string, string, number], { data: string }>('SELECT data FROM events WHERE subject = ? AND type = ? AND seq < ? ORDER BY seq DESC LIMIT 1')
    this.#bySeq = sqlite.prepare<[number], StoredEvent>(`SELECT ${columns} FROM events WHERE seq = ?`)
    this.#signatures = sqlite.prepare<[string], StoredEvent>(`SELECT ${columns} FROM events WHERE subject = ? AND type = 'RecordSigned' ORDER BY seq`)
    this.#personName = sqlite.prepare<[string], string>('SELECT name FROM people WHERE id = ?').pluck()
  }

  event(seq: number): StoredEvent | undefined {
    return this.#bySeq.get(seq)
  }

  /** Entries in seq order after `after`, at most `limit`, and the cursor of the next page (null at the end). */
  page(filter: AuditFilter, after: number, limit: number): { items: AuditEntry[]; next: number | null } {
    const where = ['seq > ?']
    const args: unknown[] = [after]
    if (filter.type) (where.push('type = ?'), args.push(filter.type))
    if (filter.subject) (where.push('subject = ?'), args.push(filter.subject))
    if (filter.actor) {
      const actor = filter.actor.includes(':') ? filter.actor : `person:${filter.actor}`
      where.push(`(actor = ? OR actor LIKE ? ESCAPE '\\')`)
      args.push(actor, `${actor.replace(/[\\%_]/g, (ch) => `\\${ch}`)};%`)
    }
    // Stored times are ISO strings in UTC: normalized, they compare as text.
    if (filter.from) (where.push('recorded_at >= ?'), args.push(new Date(filter.from).toISOString()))
    if (filter.to) (where.push('recorded_at < ?'), args.push(new Date(filter.to).toISOString()))
    const rows = this.#s.prepare(`SELECT ${columns} FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`).all(...args, limit + 1) as StoredEvent[]
    const items = rows.slice(0, limit).map((r) => this.#entry(r))
    return { items, next: rows.length > limit ? items.at(-1)!.seq : null }
  }

  #entry(row: StoredEvent): AuditEntry {
    const data = JSON.parse(row.data) as Record<string, unknown>
    const terminal = /;terminal=([^;]+)/.exec(row.actor)?.[1] ?? null
    let action: AuditEntry['action'] = 'record'
    let previous: unknown = null
    let current: unknown = null
    let refersToSeq: number | null = null
    if (definitions.has(row.type)) {
      const before = this.#previous.get(row.subject, row.type, row.seq)
      previous = before ? JSON.parse(before.data) : null
      current = data
      action = before ? 'change' : 'create'
    } else if ('from' in data && ('to' in data || 'state' in data)) {
      // OrderQuantityChanged, WorkCenterStateChanged, AsBuiltCorrected: the event states both values.
      action = 'change'
      previous = data.from
      current = 'to' in data ? data.to : data.state
    }
    if (typeof data.correctsSeq === 'number') refersToSeq = data.correctsSeq
    if (typeof data.signedSeq === 'number') refersToSeq = data.signedSeq
    const reason = typeof data.reason === 'string' ? data.reason : typeof data.why === 'string' ? data.why : null
    const personId = personOfActor(row.actor)
    return {
      seq: row.seq,
      id: row.id,
      recordedAt: row.recordedAt,
      occurredAt: row.occurredAt,
      actor: row.actor,
      personId,
      personName: personId === null ? null : (this.#personName.get(personId) ?? null),
      terminal,
      type: row.type,
      subject: row.subject,
      action,
      reason,
      previous,
      current,
      refersToSeq,
      data,
      hash: row.hash,
    }
  }

  /** The signatures filed under a subject, each checked against the record it names. */
  signaturesOf(subject: string): Array<SignatureManifest & { seq: number; valid: boolean; problem: string | null }> {
    return this.#signatures.all(subject).map((row) => {
      const manifest = JSON.parse(row.data) as SignatureManifest
      const check = checkSignature(manifest, this.#signable(manifest.signedSeq))
      return { seq: row.seq, ...manifest, valid: check.ok, problem: check.ok ? null : check.reason }
    })
  }

  #signable(seq: number): SignableRecord | undefined {
    const row = this.#bySeq.get(seq)
    return row && { seq: row.seq, type: row.type, subject: row.subject, data: toRecorded(row).data }
  }

  /** Checks every signature in the log against its record; names the first that does not hold. */
  verifySignatures(): { ok: true; count: number } | { ok: false; count: number; broken: { seq: number; id: string; reason: string } } {
    let count = 0
    const rows = this.#s.prepare<[], StoredEvent>(`SELECT ${columns} FROM events WHERE type = 'RecordSigned' ORDER BY seq`).all()
    for (const row of rows) {
      let manifest: SignatureManifest
      try {
        manifest = JSON.parse(row.data) as SignatureManifest
      } catch {
        return { ok: false, count, broken: { seq: row.seq, id: row.id, reason: 'the signature is not valid JSON' } }
      }
      const check = checkSignature(manifest, this.#signable(manifest.signedSeq))
      if (!check.ok) return { ok: false, count, broken: { seq: row.seq, id: row.id, reason: `signature ${manifest.signatureId} by ${manifest.signerId}: ${check.reason}` } }
      count += 1
    }
    return { ok: true, count }
  }
}
