// The durable ERP outbox: performance documents derived from the event log (a cursor, so none is missed across restarts), kept until delivered.
import type { Clock } from '../core/ports.ts'
import type { Sqlite } from '../store/database.ts'
import type { PerformanceExport } from './export.ts'
import type { Scope } from './performance.ts'

export type OutboxState = 'pending' | 'delivered' | 'rejected'

export interface OutboxEntry {
  id: number
  kind: 'order' | 'segment'
  orderId: string
  opSeq: number | null
  eventSeq: number
  body: string
  state: OutboxState
  attempts: number
  nextAttemptAt: string
  lastStatus: number | null
  lastError: string | null
  createdAt: string
  deliveredAt: string | null
}

export interface OutboxOptions {
  gatewayId: string
  /** Push each completed operation too (ERP operation confirmations), not only completed orders. */
  segments: boolean
  clock: Clock
  /** Told when a document could not be produced (it is skipped, the cursor moves on). */
  onSkipped?: (message: string) => void
}

type Row = Record<string, unknown>

const entryOf = (r: Row): OutboxEntry => ({
  id: Number(r.id),
  kind: r.kind as OutboxEntry['kind'],
  orderId: String(r.order_id),
  opSeq: r.op_seq === null ? null : Number(r.op_seq),
  eventSeq: Number(r.event_seq),
  body: String(r.body),
  state: r.state as OutboxState,
  attempts: Number(r.attempts),
  nextAttemptAt: String(r.next_attempt_at),
  lastStatus: r.last_status === null ? null : Number(r.last_status),
  lastError: (r.last_error as string | null) ?? null,
  createdAt: String(r.created_at),
  deliveredAt: (r.delivered_at as string | null) ?? null,
})

const cursorName = 'erp-outbox'
export const completionEvents = new Set(['OrderCompleted', 'OperationCompleted', 'OperationClosed'])

export class ErpOutbox {
  readonly #s: Sqlite
  readonly #exporter: PerformanceExport
  readonly #options: OutboxOptions
  readonly #page
  readonly #cursor
  readonly #setCursor
  readonly #insert
  readonly #next
  readonly #produceAll

  constructor(sqlite: Sqlite, exporter: PerformanceExport, options: OutboxOptions) {
    this.#s = sqlite
    this.#exporter = exporter
    this.#options = options
    // Only completions carry their data out of the page: the rest of the log is skipped over by seq.
    this.#page = sqlite.prepare(
      `SELECT seq, type, CASE WHEN type IN ('OrderCompleted', 'OperationCompleted', 'OperationClosed') THEN data END AS data FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
    )
    this.#cursor = sqlite.prepare('SELECT seq FROM erp_cursor WHERE name = ?')
    this.#setCursor = sqlite.prepare('INSERT INTO erp_cursor (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq')
    this.#insert = sqlite.prepare(
      `INSERT OR IGNORE INTO erp_outbox (kind, order_id, op_seq, event_seq, body, state, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
    )
    this.#next = sqlite.prepare(`SELECT * FROM erp_outbox WHERE state = 'pending' ORDER BY id LIMIT 1`)
    this.#produceAll = sqlite.transaction((max: number) => this.#producePage(max))
  }

  /**
   * Where the producer starts the first time a push is configured: at the head of the log, so
   * orders completed before are not pushed (they can be fetched by GET). Afterwards the cursor
   * persists and a restart catches up from it.
   */
  ensureCursor(): void {
    if (this.#cursor.get(cursorName)) return
    const head = this.#s.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM events').get() as { seq: number }
    this.#setCursor.run(cursorName, head.seq)
  }

  cursor(): number {
    return (this.#cursor.get(cursorName) as { seq: number } | undefined)?.seq ?? 0
  }

  /** Turns the completions recorded since the cursor into outbox documents; the cursor moves in the same transaction. */
  produce(maxEvents = 10_000): number {
    return this.#produceAll(maxEvents) as number
  }

  #producePage(max: number): number {
    const from = this.cursor()
    const rows = this.#page.all(from, max) as Array<{ seq: number; type: string; data: string | null }>
    let added = 0
    const at = this.#options.clock.now().toISOString()
    for (const row of rows) {
      const scope = this.#scopeOf(row)
      if (!scope) continue
      const exported = this.#exporter.noun(scope.orderId, scope.scope, at)
      if (!exported.ok) {
        this.#options.onSkipped?.(`event ${row.seq}: ${exported.message}`)
        continue
      }
      const kind = scope.scope.kind
      const opSeq = scope.scope.kind === 'segment' ? scope.scope.opSeq : null
      // A BODID ERP can rely on: a retried delivery carries the same one.
      const bodId = `takt-${this.#options.gatewayId}-${row.seq}-${kind}`
      added += this.#insert.run(kind, scope.orderId, opSeq, row.seq, this.#exporter.syncBod(exported, at, bodId), at, at).changes
    }
    if (rows.length > 0) this.#setCursor.run(cursorName, rows.at(-1)!.seq)
    return added
  }

  #scopeOf(row: { type: string; data: string | null }): { orderId: string; scope: Scope } | null {
    if (row.data === null) return null
    const d = JSON.parse(row.data) as { orderId: string; opSeq?: number; operationCompleted?: boolean }
    if (row.type === 'OrderCompleted') return { orderId: d.orderId, scope: { kind: 'order' } }
    if (!this.#options.segments) return null
    if (row.type === 'OperationClosed' || (row.type === 'OperationCompleted' && d.operationCompleted)) return { orderId: d.orderId, scope: { kind: 'segment', opSeq: d.opSeq! } }
    return null
  }

  /** The oldest undelivered document: delivery keeps the order they were produced in. */
  next(): OutboxEntry | undefined {
    const r = this.#next.get() as Row | undefined
    return r && entryOf(r)
  }

  delivered(id: number, status: number, at: string): void {
    this.#s.prepare(`UPDATE erp_outbox SET state = 'delivered', attempts = attempts + 1, last_status = ?, last_error = NULL, delivered_at = ? WHERE id = ?`).run(status, at, id)
  }

  failed(id: number, status: number | null, error: string, nextAttemptAt: string): void {
    this.#s.prepare('UPDATE erp_outbox SET attempts = attempts + 1, last_status = ?, last_error = ?, next_attempt_at = ? WHERE id = ?').run(status, error.slice(0, 2000), nextAttemptAt, id)
  }

  /** ERP refused the document itself (a 4xx other than 408/425/429): retrying would not help, so later ones go ahead. */
  rejected(id: number, status: number, error: string): void {
    this.#s.prepare(`UPDATE erp_outbox SET state = 'rejected', attempts = attempts + 1, last_status = ?, last_error = ? WHERE id = ?`).run(status, error.slice(0, 2000), id)
  }

  /** Puts a rejected (or pending) document back in line, to be sent at once. */
  retry(id: number, at: string): boolean {
    return this.#s.prepare(`UPDATE erp_outbox SET state = 'pending', next_attempt_at = ? WHERE id = ? AND state != 'delivered'`).run(at, id).changes > 0
  }

  list(state: OutboxState | undefined, limit: number): OutboxEntry[] {
    const rows = state
      ? this.#s.prepare('SELECT * FROM erp_outbox WHERE state = ? ORDER BY id DESC LIMIT ?').all(state, limit)
      : this.#s.prepare('SELECT * FROM erp_outbox ORDER BY id DESC LIMIT ?').all(limit)
    return (rows as Row[]).map(entryOf)
  }

  counts(): Record<OutboxState, number> {
    const out: Record<OutboxState, number> = { pending: 0, delivered: 0, rejected: 0 }
    for (const r of this.#s.prepare('SELECT state, COUNT(*) AS n FROM erp_outbox GROUP BY state').all() as Array<{ state: OutboxState; n: number }>) out[r.state] = r.n
    return out
  }
}
