// The ERP integration's own records in the MES database: received documents, how imported orders map back, sublots.
import type { Sqlite } from '../store/database.ts'
import type { Problem } from './read.ts'

/** An imported order's operation as the document named it, so that its performance names it the same way. */
export interface SegmentRef {
  seq: number
  segmentId: string
  processSegmentId: string | null
  operationsDefinitionId: string | null
  operationsSegmentId: string | null
}

export interface ErpOrder {
  orderId: string
  namespace: string
  scheduleId: string | null
  segments: SegmentRef[]
}

export type Outcome = 'received' | 'applied' | 'unchanged' | 'refused'

export interface DocumentRecord {
  id: number
  receivedAt: string
  principal: string
  bodId: string | null
  family: string | null
  verb: string | null
  noun: string | null
  sha256: string
  bytes: number
  outcome: Outcome
  status: number
  errors: Problem[]
  lastSeq: number
}

type Row = Record<string, unknown>

const recordOf = (r: Row): DocumentRecord => ({
  id: Number(r.id),
  receivedAt: String(r.received_at),
  principal: String(r.principal),
  bodId: (r.bod_id as string | null) ?? null,
  family: (r.family as string | null) ?? null,
  verb: (r.verb as string | null) ?? null,
  noun: (r.noun as string | null) ?? null,
  sha256: String(r.sha256),
  bytes: Number(r.bytes),
  outcome: r.outcome as Outcome,
  status: Number(r.status),
  errors: JSON.parse(String(r.errors)) as Problem[],
  lastSeq: Number(r.last_seq),
})

/** Documents older than the newest this many are dropped: the log is for integrators, not an archive. */
const keptDocuments = 10_000
const keptErrors = 1000
const keptConfirmation = 256 * 1024

export class ErpRecords {
  readonly #s: Sqlite
  readonly #insertDocument
  readonly #finishDocument
  readonly #pruneDocuments
  readonly #upsertOrder
  readonly #order
  readonly #upsertSublot
  readonly #sublot

  constructor(sqlite: Sqlite) {
    this.#s = sqlite
    this.#insertDocument = sqlite.prepare(
      `INSERT INTO erp_documents (received_at, principal, bod_id, family, verb, noun, sha256, bytes, outcome, status, errors, last_seq, confirmation)
       VALUES (?, ?, NULL, NULL, NULL, NULL, ?, ?, 'received', 0, '[]', 0, '')`,
    )
    this.#finishDocument = sqlite.prepare(
      'UPDATE erp_documents SET bod_id = ?, family = ?, verb = ?, noun = ?, outcome = ?, status = ?, errors = ?, last_seq = ?, confirmation = ? WHERE id = ?',
    )
    this.#pruneDocuments = sqlite.prepare('DELETE FROM erp_documents WHERE id <= ?')
    this.#upsertOrder = sqlite.prepare(
      `INSERT INTO erp_orders (order_id, namespace, schedule_id, segments, document_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (order_id) DO UPDATE SET namespace = excluded.namespace, schedule_id = excluded.schedule_id, segments = excluded.segments,
         document_id = excluded.document_id, updated_at = excluded.updated_at
       WHERE erp_orders.namespace IS NOT excluded.namespace OR erp_orders.schedule_id IS NOT excluded.schedule_id OR erp_orders.segments IS NOT excluded.segments`,
    )
    this.#order = sqlite.prepare('SELECT * FROM erp_orders WHERE order_id = ?')
    this.#upsertSublot = sqlite.prepare('INSERT INTO erp_sublots (sublot_id, lot_id) VALUES (?, ?) ON CONFLICT (sublot_id) DO UPDATE SET lot_id = excluded.lot_id')
    this.#sublot = sqlite.prepare('SELECT lot_id FROM erp_sublots WHERE sublot_id = ?')
  }

  /** Notes a document as received before anything is decided, so that its number can go with the orders it creates. */
  received(at: string, principal: string, sha256: string, bytes: number): number {
    const id = Number(this.#insertDocument.run(at, principal, sha256, bytes).lastInsertRowid)
    if (id > keptDocuments) this.#pruneDocuments.run(id - keptDocuments)
    return id
  }

  /** Completes the record. The log keeps at most 1,000 errors and 256 KiB of confirmation per document; the answer itself had them all. */
  finish(id: number, f: { bodId: string | null; family: string | null; verb: string | null; noun: string | null; outcome: Outcome; status: number; errors: Problem[]; lastSeq: number; confirmation: string }): void {
    const confirmation = f.confirmation.length <= keptConfirmation ? f.confirmation : `(a confirmation of ${f.confirmation.length} characters was sent; the log keeps at most ${keptConfirmation})`
    this.#finishDocument.run(f.bodId, f.family, f.verb, f.noun, f.outcome, f.status, JSON.stringify(f.errors.slice(0, keptErrors)), f.lastSeq, confirmation, id)
  }

  /** Call inside the transaction that records the order's events. */
  saveOrder(o: ErpOrder, documentId: number, at: string): void {
    this.#upsertOrder.run(o.orderId, o.namespace, o.scheduleId, JSON.stringify(o.segments), documentId, at)
  }

  order(orderId: string): ErpOrder | undefined {
    const r = this.#order.get(orderId) as Row | undefined
    if (!r) return undefined
    return { orderId, namespace: String(r.namespace), scheduleId: (r.schedule_id as string | null) ?? null, segments: JSON.parse(String(r.segments)) as SegmentRef[] }
  }

  /** Call inside the transaction that records the sublot's LotDefined event. */
  saveSublot(sublotId: string, lotId: string): void {
    this.#upsertSublot.run(sublotId, lotId)
  }

  lotOfSublot(sublotId: string): string | undefined {
    return (this.#sublot.get(sublotId) as { lot_id: string } | undefined)?.lot_id
  }

  documents(limit: number): DocumentRecord[] {
    return (this.#s.prepare('SELECT * FROM erp_documents ORDER BY id DESC LIMIT ?').all(limit) as Row[]).map(recordOf)
  }

  document(id: number): (DocumentRecord & { confirmation: string }) | undefined {
    const r = this.#s.prepare('SELECT * FROM erp_documents WHERE id = ?').get(id) as Row | undefined
    return r && { ...recordOf(r), confirmation: String(r.confirmation) }
  }
}
