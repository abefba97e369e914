// The device history / batch record of an order or a unit, read from the projections and the event log: everything as built, every deviation, every signature, and the plan it was built to.
import type Database from 'better-sqlite3'
import type { SignatureManifest } from '../../core/signatures.ts'
import { AuditQueries } from '../../store/audit-queries.ts'

type Row = Record<string, unknown>

export interface PlannedOperation {
  seq: number
  name: string
  workCenterId: string
  components: Array<{ materialId: string; quantityPer: number }>
  measurements: Array<{ name: string; unit: string; lower: number | null; upper: number | null }>
  alternates: Record<string, string[]>
}

export interface RunRecord {
  id: string
  opSeq: number
  unitSerial: string | null
  quantity: number
  workCenterId: string
  workCenterName: string
  operator: string
  state: string
  startedAt: string
  endedAt: string | null
  good: number
  scrap: number
  scrapReasons: Array<{ reason: string; quantity: number }>
  consumptions: Array<{ kind: string; id: string; materialId: string; quantity: number; at: string }>
  measurements: Array<{ seq: number; name: string; value: number; unit: string; lower: number | null; upper: number | null; withinLimits: boolean; at: string }>
  pauses: Array<{ reason: string; at: string; by: string }>
}

export interface Deviation {
  kind: 'refused_scan' | 'order_hold' | 'order_hold_released' | 'unit_hold' | 'unit_hold_released' | 'correction' | 'cancelled'
  at: string
  by: string
  subject: string
  text: string
}

export interface NonconformanceRecord {
  id: string
  opSeq: number
  unitSerial: string | null
  reason: string
  state: string
  openedAt: string
  openedBy: string
  disposition: string | null
  dispositionedAt: string | null
  dispositionedBy: string | null
}

export interface SignatureRecord extends SignatureManifest {
  seq: number
  /** The signature still matches the record it signs (21 CFR 11.70); false names a moved or altered record. */
  valid: boolean
  problem: string | null
}

export interface BatchRecord {
  scope: { kind: 'order'; orderId: string } | { kind: 'unit'; orderId: string; serial: string }
  generatedAt: string
  /** The last event the record includes: a reprint with the same seq shows the same facts. */
  throughSeq: number
  order: {
    id: string
    productId: string
    quantity: number
    serialized: boolean
    state: string
    lineId: string
    outputLot: string
    bomId: string
    bomVersion: string
    routingId: string
    routingVersion: string
    createdAt: string
    dueAt: string | null
  }
  units: Array<{ serial: string; state: string; held: boolean; holdReason: string | null }>
  planned: { operations: PlannedOperation[]; bom: Array<{ materialId: string; quantityPer: number }> | null }
  operations: Array<{ seq: number; name: string; workCenterId: string; state: string; qtyGood: number; qtyScrap: number; startedAt: string | null; completedAt: string | null; runs: RunRecord[] }>
  refusals: Array<{ opSeq: number; runId: string; lotId: string; quantity: number; code: string; reason: string; by: string; at: string }>
  deviations: Deviation[]
  nonconformances: NonconformanceRecord[]
  signatures: SignatureRecord[]
}

const str = (v: unknown) => (v === null || v === undefined ? null : String(v))
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v))

/** Reads batch records; one reader per gateway, its statements prepared once. */
export class BatchRecordReader {
  readonly #db: Database.Database
  readonly #audit: AuditQueries
  readonly #people = new Map<string, string>()
  readonly #s

  constructor(db: Database.Database) {
    this.#db = db
    this.#audit = new AuditQueries(db)
    this.#s = {
      order: db.prepare('SELECT * FROM orders WHERE id = ?'),
      unit: db.prepare('SELECT * FROM units WHERE serial = ?'),
      units: db.prepare('SELECT * FROM units WHERE order_id = ? ORDER BY serial'),
      operations: db.prepare('SELECT * FROM order_operations WHERE order_id = ? ORDER BY position'),
      runs: db.prepare('SELECT * FROM runs WHERE order_id = ? ORDER BY start_seq'),
      consumptions: db.prepare('SELECT * FROM consumptions WHERE order_id = ? ORDER BY event_seq'),
      measurements: db.prepare('SELECT * FROM measurements WHERE order_id = ? ORDER BY event_seq'),
      refusals: db.prepare('SELECT * FROM refusals WHERE order_id = ? ORDER BY event_seq'),
      nonconformances: db.prepare('SELECT * FROM nonconformances WHERE order_id = ? ORDER BY opened_at, id'),
      bom: db.prepare('SELECT items FROM boms WHERE id = ? AND version = ?'),
      workCenter: db.prepare('SELECT name FROM equipment WHERE id = ?'),
      person: db.prepare('SELECT name FROM people WHERE id = ?'),
      // The events a record tells as deviations: holds, releases, pauses, corrections, a cancellation.
      events: db.prepare(
        `SELECT seq, type, subject, data, actor, occurred_at FROM events WHERE subject IN (SELECT value FROM json_each(?))
         AND type IN ('OrderHeld', 'OrderHoldReleased', 'UnitHeld', 'UnitHoldReleased', 'OperationPaused', 'AsBuiltCorrected', 'OrderCancelled') ORDER BY seq`,
      ),
      head: db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM events'),
    }
  }

  /** The record of an order and all its units; undefined when there is no such order. */
  order(orderId: string, now: Date): BatchRecord | undefined {
    return this.#read(orderId, null, now)
  }

  /** The record of one unit: its runs, lots, measurements and deviations, with the order's plan. */
  unit(serial: string, now: Date): BatchRecord | undefined {
    const unit = this.#s.unit.get(serial) as Row | undefined
    return unit ? this.#read(String(unit.order_id), serial, now) : undefined
  }

  /** "Olga Operator (olga)" for `person:olga;terminal=T1`; other actors (tokens, devices) as they are. */
  who(actor: string): string {
    const [principal = actor, terminal] = actor.split(';terminal=')
    const [kind, id = ''] = principal.split(':')
    const name = kind === 'person' ? this.#personName(id) : null
    const shown = name ? `${name} (${id})` : principal
    return terminal ? `${shown}, terminal ${terminal}` : shown
  }

  #personName(id: string): string | null {
    if (!this.#people.has(id)) this.#people.set(id, str((this.#s.person.get(id) as Row | undefined)?.name) ?? '')
    return this.#people.get(id) || null
  }

  #read(orderId: string, serial: string | null, now: Date): BatchRecord | undefined {
    // One read transaction: every part of the record is of the same moment of the log.
    return this.#db.transaction(() => {
      const o = this.#s.order.get(orderId) as Row | undefined
      if (!o) return undefined
      const throughSeq = Number((this.#s.head.get() as Row).seq)
      const mine = (unitSerial: unknown) => serial === null || unitSerial === serial
      const allRuns = (this.#s.runs.all(orderId) as Row[]).filter((r) => mine(r.unit_serial))
      const runIds = new Set(allRuns.map((r) => String(r.id)))
      const consumptions = (this.#s.consumptions.all(orderId) as Row[]).filter((c) => runIds.has(String(c.run_id)))
      const measurements = (this.#s.measurements.all(orderId) as Row[]).filter((m) => runIds.has(String(m.run_id)))
      const units = (this.#s.units.all(orderId) as Row[]).filter((u) => mine(u.serial))
      const nonconformances = (this.#s.nonconformances.all(orderId) as Row[]).filter((n) => mine(n.unit_serial))
      const subjects = [`order/${orderId}`, ...units.map((u) => `unit/${String(u.serial)}`), ...[...runIds].map((id) => `run/${id}`), ...nonconformances.map((n) => `nonconformance/${String(n.id)}`)]
      const events = this.#s.events.all(JSON.stringify(subjects)) as Row[]
      const pauses = new Map<string, RunRecord['pauses']>()
      for (const e of events.filter((x) => x.type === 'OperationPaused')) {
        const d = JSON.parse(String(e.data)) as { runId: string; reason: string }
        pauses.set(d.runId, [...(pauses.get(d.runId) ?? []), { reason: d.reason, at: String(e.occurred_at), by: this.who(String(e.actor)) }])
      }
      const runs = allRuns.map((r) => this.#run(r, consumptions, measurements, pauses.get(String(r.id)) ?? []))
      const planned = (this.#s.operations.all(orderId) as Row[]).map((op) => ({ row: op, plan: planOf(op) }))
      const bomRow = this.#s.bom.get(String(o.bom_id), String(o.bom_version)) as Row | undefined
      return {
        scope: serial === null ? { kind: 'order' as const, orderId } : { kind: 'unit' as const, orderId, serial },
        generatedAt: now.toISOString(),
        throughSeq,
        order: orderFacts(o),
        units: units.map((u) => ({ serial: String(u.serial), state: String(u.state), held: u.held === 1, holdReason: str(u.hold_reason) })),
        planned: { operations: planned.map((p) => p.plan), bom: bomRow ? (JSON.parse(String(bomRow.items)) as Array<{ materialId: string; quantityPer: number }>) : null },
        operations: planned.map(({ row, plan }) => ({
          seq: plan.seq,
          name: plan.name,
          workCenterId: plan.workCenterId,
          state: String(row.state),
          qtyGood: Number(row.qty_good),
          qtyScrap: Number(row.qty_scrap),
          startedAt: str(row.started_at),
          completedAt: str(row.completed_at),
          runs: runs.filter((r) => r.opSeq === plan.seq),
        })),
        refusals: (this.#s.refusals.all(orderId) as Row[]).filter((f) => runIds.has(String(f.run_id))).map((f) => this.#refusal(f)),
        deviations: events.filter((e) => e.type !== 'OperationPaused').map((e) => this.#deviation(e)),
        nonconformances: nonconformances.map((n) => this.#nonconformance(n)),
        signatures: this.signatures(subjects),
      }
    })()
  }

  /**
   * Every electronic signature on the record's subjects (the order, its units, runs and
   * nonconformances), oldest first, each checked against the record it signs.
   */
  signatures(subjects: string[]): SignatureRecord[] {
    return subjects.flatMap((s) => this.#audit.signaturesOf(s)).sort((a, b) => a.seq - b.seq)
  }

  #refusal(f: Row): BatchRecord['refusals'][number] {
    return { opSeq: Number(f.op_seq), runId: String(f.run_id), lotId: String(f.lot_id), quantity: Number(f.quantity), code: String(f.code), reason: String(f.reason), by: this.who(String(f.actor)), at: String(f.at) }
  }

  #nonconformance(n: Row): NonconformanceRecord {
    return {
      id: String(n.id),
      opSeq: Number(n.op_seq),
      unitSerial: str(n.unit_serial),
      reason: String(n.reason),
      state: String(n.state),
      openedAt: String(n.opened_at),
      openedBy: this.who(String(n.opened_by)),
      disposition: str(n.disposition),
      dispositionedAt: str(n.dispositioned_at),
      dispositionedBy: n.dispositioned_by === null || n.dispositioned_by === undefined ? null : this.who(String(n.dispositioned_by)),
    }
  }

  #run(r: Row, consumptions: Row[], measurements: Row[], pauses: RunRecord['pauses']): RunRecord {
    const id = String(r.id)
    const wc = String(r.work_center_id)
    return {
      id,
      opSeq: Number(r.op_seq),
      unitSerial: str(r.unit_serial),
      quantity: Number(r.quantity),
      workCenterId: wc,
      workCenterName: str((this.#s.workCenter.get(wc) as Row | undefined)?.name) ?? wc,
      operator: this.who(`person:${String(r.operator_id)}`),
      state: String(r.state),
      startedAt: String(r.started_at),
      endedAt: str(r.ended_at),
      good: Number(r.good),
      scrap: Number(r.scrap),
      scrapReasons: JSON.parse(String(r.scrap_reasons)) as Array<{ reason: string; quantity: number }>,
      consumptions: consumptions.filter((c) => c.run_id === id).map((c) => ({ kind: String(c.consumed_kind), id: String(c.consumed_id), materialId: String(c.material_id), quantity: Number(c.quantity), at: String(c.at) })),
      measurements: measurements
        .filter((m) => m.run_id === id)
        .map((m) => ({ seq: Number(m.event_seq), name: String(m.name), value: Number(m.value), unit: String(m.unit), lower: num(m.lower), upper: num(m.upper), withinLimits: m.within_limits === 1, at: String(m.at) })),
      pauses,
    }
  }

  #deviation(e: Row): Deviation {
    const d = JSON.parse(String(e.data)) as Record<string, unknown>
    const base = { at: String(e.occurred_at), by: this.who(String(e.actor)), subject: String(e.subject) }
    switch (e.type) {
      case 'OrderHeld':
        return { ...base, kind: 'order_hold', text: String(d.reason) }
      case 'OrderHoldReleased':
        return { ...base, kind: 'order_hold_released', text: String(d.reason) }
      case 'UnitHeld':
        return { ...base, kind: 'unit_hold', text: d.ncId ? `${String(d.reason)} (nonconformance ${String(d.ncId)})` : String(d.reason) }
      case 'UnitHoldReleased':
        return { ...base, kind: 'unit_hold_released', text: String(d.reason) }
      case 'OrderCancelled':
        return { ...base, kind: 'cancelled', text: String(d.reason) }
      default:
        // AsBuiltCorrected: a new record naming the corrected one (21 CFR 11.10(e)); both values stay on record.
        return { ...base, kind: 'correction', text: `event ${String(d.correctsSeq)} (${String(d.correctsType)}) ${String(d.field)}: ${JSON.stringify(d.from)} → ${JSON.stringify(d.to)}; ${String(d.reason)}` }
    }
  }
}

function orderFacts(o: Row): BatchRecord['order'] {
  return {
    id: String(o.id),
    productId: String(o.product_id),
    quantity: Number(o.quantity),
    serialized: o.serialized === 1,
    state: String(o.state),
    lineId: String(o.line_id),
    outputLot: String(o.output_lot),
    bomId: String(o.bom_id),
    bomVersion: String(o.bom_version),
    routingId: String(o.routing_id),
    routingVersion: String(o.routing_version),
    createdAt: String(o.created_at),
    dueAt: str(o.due_at),
  }
}

/** The operation as the order was planned: the routing's operation copied into the order when it was created. */
function planOf(op: Row): PlannedOperation {
  const d = JSON.parse(String(op.definition)) as Partial<PlannedOperation>
  return {
    seq: Number(op.seq),
    name: String(op.name),
    workCenterId: String(op.work_center_id),
    components: d.components ?? [],
    measurements: d.measurements ?? [],
    alternates: d.alternates ?? {},
  }
}
