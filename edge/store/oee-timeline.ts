// Reading a work center's OEE data back from SQLite: timeline contexts by two indexed queries, counts, buckets, definitions.
import { canonicalJson } from '../core/canonical-json.ts'
import type { MachineState } from '../core/model.ts'
import type { OeeBucket } from '../core/oee/buckets.ts'
import type { ShiftCalendar } from '../core/oee/calendar.ts'
import { defaultReasons } from '../core/oee/default-reasons.ts'
import type { ProductionCount } from '../core/oee/oee.ts'
import { reasonTree, type LossClass, type ReasonCode, type ReasonTree } from '../core/oee/reasons.ts'
import type { Classification, StateChange, TimelineContext } from '../core/oee/timeline.ts'
import type { Sqlite } from './database.ts'

/**
 * The micro-stop threshold of a work center without one of its own: a `down` stretch shorter than
 * this is a small stop. It is baked into the buckets (docs/oee.md): changing a work center's
 * threshold rebuilds its buckets from its timeline.
 */
export const defaultMicroStopThresholdMs = 120_000

interface ChangeRow {
  at_ms: number
  event_seq: number
  state: string
  reason: string | null
}

interface BucketRow {
  ms: string
  stops: string
  counts: string
}

/** Bucket JSON with sorted keys: a rebuilt projection is then byte-equal to the live one. */
export function bucketColumns(b: OeeBucket): [string, string, string] {
  return [canonicalJson(b.ms), canonicalJson(b.stops), canonicalJson(b.counts)]
}

export class OeeTimelineReader {
  readonly #lastRunning
  readonly #firstRunningAfter
  readonly #changes
  readonly #changesFrom
  readonly #classifications
  readonly #counts
  readonly #bucket
  readonly #calendar
  readonly #calendars
  readonly #assignment
  readonly #reasons
  readonly #threshold
  readonly #allChanges
  readonly #allClassifications
  readonly #allCounts

  constructor(sqlite: Sqlite) {
    this.#lastRunning = sqlite.prepare<[string, number], { at_ms: number; event_seq: number }>(
      `SELECT at_ms, event_seq FROM oee_state_changes WHERE work_center_id = ? AND state = 'running' AND at_ms <= ? ORDER BY at_ms DESC, event_seq DESC LIMIT 1`,
    )
    this.#firstRunningAfter = sqlite.prepare<[string, number], { at_ms: number; event_seq: number }>(
      `SELECT at_ms, event_seq FROM oee_state_changes WHERE work_center_id = ? AND state = 'running' AND at_ms > ? ORDER BY at_ms, event_seq LIMIT 1`,
    )
    this.#changes = sqlite.prepare<[string, number, number], ChangeRow>(
      'SELECT at_ms, event_seq, state, reason FROM oee_state_changes WHERE work_center_id = ? AND at_ms >= ? AND at_ms <= ? ORDER BY at_ms, event_seq',
    )
    this.#changesFrom = sqlite.prepare<[string, number], ChangeRow>('SELECT at_ms, event_seq, state, reason FROM oee_state_changes WHERE work_center_id = ? AND at_ms >= ? ORDER BY at_ms, event_seq')
    this.#classifications = sqlite.prepare<[string, number, number], { from_ms: number; to_ms: number | null; reason: string }>(
      'SELECT from_ms, to_ms, reason FROM downtime_classifications WHERE work_center_id = ? AND from_ms <= ? AND (to_ms IS NULL OR to_ms >= ?) ORDER BY event_seq, idx',
    )
    this.#counts = sqlite.prepare<[string, number, number], { at_ms: number; good: number; reject: number; ideal_cycle_time_s: number | null; product_id: string | null; order_id: string | null; scrap_reason: string | null }>(
      'SELECT at_ms, good, reject, ideal_cycle_time_s, product_id, order_id, scrap_reason FROM oee_counts WHERE work_center_id = ? AND at_ms >= ? AND at_ms < ? ORDER BY at_ms, event_seq, idx',
    )
    this.#bucket = sqlite.prepare<[string, number, number], BucketRow>('SELECT ms, stops, counts FROM oee_buckets WHERE work_center_id = ? AND unit = ? AND start = ?')
    this.#calendar = sqlite.prepare<[string], { definition: string }>('SELECT definition FROM shift_calendars WHERE id = ?')
    this.#calendars = sqlite.prepare<[], { id: string }>('SELECT id FROM shift_calendars ORDER BY id')
    this.#assignment = sqlite.prepare<[string], { calendar_id: string }>('SELECT calendar_id FROM calendar_assignments WHERE equipment_id = ?')
    this.#reasons = sqlite.prepare<[], { code: string; name: string; parent: string | null; loss: string; planned: number; packml: number | null }>(
      'SELECT code, name, parent, loss, planned, packml FROM reason_codes ORDER BY position',
    )
    this.#threshold = sqlite.prepare<[string], { micro_stop_threshold_ms: number }>('SELECT micro_stop_threshold_ms FROM oee_settings WHERE work_center_id = ?')
    this.#allChanges = sqlite.prepare<[string], ChangeRow>('SELECT at_ms, event_seq, state, reason FROM oee_state_changes WHERE work_center_id = ? ORDER BY at_ms, event_seq')
    this.#allClassifications = sqlite.prepare<[string], { from_ms: number; to_ms: number | null; reason: string }>(
      'SELECT from_ms, to_ms, reason FROM downtime_classifications WHERE work_center_id = ? ORDER BY event_seq, idx',
    )
    this.#allCounts = sqlite.prepare<[string], { at_ms: number }>('SELECT MIN(at_ms) AS at_ms FROM oee_counts WHERE work_center_id = ?')
  }

  /** The work center's micro-stop threshold: its own, else the default. */
  threshold(workCenterId: string): number {
    return this.#threshold.get(workCenterId)?.micro_stop_threshold_ms ?? defaultMicroStopThresholdMs
  }

  /** The whole timeline and every count of a work center (rebuilding its buckets). */
  everything(workCenterId: string): TimelineContext & { counts: ProductionCount[] } {
    const changes = this.#allChanges.all(workCenterId).map((r) => ({ at: r.at_ms, state: r.state as MachineState, reason: r.reason, seq: r.event_seq }))
    const classifications = this.#allClassifications.all(workCenterId).map((c) => ({ from: c.from_ms, to: c.to_ms, reason: c.reason }))
    const first = this.#allCounts.get(workCenterId)?.at_ms
    return { changes, classifications, counts: first === null || first === undefined ? [] : this.counts(workCenterId, first, Number.MAX_SAFE_INTEGER) }
  }

  /**
   * contextForRange over the store: the changes from the last running change at or before t1
   * (from the first change when there is none) through the first running change after t2 (to the
   * last when there is none), and the classifications, in log order, that overlap that span.
   */
  context(workCenterId: string, t1: number, t2: number): TimelineContext {
    const lo = this.#lastRunning.get(workCenterId, t1)
    const hi = this.#firstRunningAfter.get(workCenterId, t2)
    const rows = hi ? this.#changes.all(workCenterId, lo?.at_ms ?? -Number.MAX_SAFE_INTEGER, hi.at_ms) : this.#changesFrom.all(workCenterId, lo?.at_ms ?? -Number.MAX_SAFE_INTEGER)
    const changes: StateChange[] = []
    for (const r of rows) {
      // At the bounds' own instants, only what sorts at or after lo and at or before hi (by seq) belongs.
      if (lo && r.at_ms === lo.at_ms && r.event_seq < lo.event_seq) continue
      if (hi && r.at_ms === hi.at_ms && r.event_seq > hi.event_seq) continue
      changes.push({ at: r.at_ms, state: r.state as MachineState, reason: r.reason, seq: r.event_seq })
    }
    const start = lo ? lo.at_ms : -Number.MAX_SAFE_INTEGER
    const end = hi ? hi.at_ms : Number.MAX_SAFE_INTEGER
    const classifications: Classification[] = this.#classifications.all(workCenterId, end, start).map((c) => ({ from: c.from_ms, to: c.to_ms, reason: c.reason }))
    return { changes, classifications }
  }

  counts(workCenterId: string, from: number, to: number): ProductionCount[] {
    return this.#counts.all(workCenterId, from, to).map((r) => {
      const c: ProductionCount = { at: r.at_ms, good: r.good, reject: r.reject, idealCycleTimeS: r.ideal_cycle_time_s }
      if (r.product_id !== null) c.productId = r.product_id
      if (r.order_id !== null) c.orderId = r.order_id
      if (r.scrap_reason !== null) c.scrapReason = r.scrap_reason
      return c
    })
  }

  bucket(workCenterId: string, unit: number, start: number): OeeBucket | undefined {
    const row = this.#bucket.get(workCenterId, unit, start)
    return row ? { ms: JSON.parse(row.ms), stops: JSON.parse(row.stops), counts: JSON.parse(row.counts) } : undefined
  }

  calendar(id: string): ShiftCalendar | undefined {
    const row = this.#calendar.get(id)
    return row ? (JSON.parse(row.definition) as ShiftCalendar) : undefined
  }

  calendarIds(): Set<string> {
    return new Set(this.#calendars.all().map((r) => r.id))
  }

  assignedCalendar(equipmentId: string): string | undefined {
    return this.#assignment.get(equipmentId)?.calendar_id
  }

  /** The defined reason tree, or the shipped one while none is defined. */
  reasons(): ReasonCode[] {
    const rows = this.#reasons.all()
    if (rows.length === 0) return [...defaultReasons]
    return rows.map((r) => {
      const code: ReasonCode = { code: r.code, name: r.name, loss: r.loss as LossClass, planned: r.planned === 1 }
      if (r.parent !== null) code.parent = r.parent
      if (r.packml !== null) code.packml = r.packml
      return code
    })
  }

  tree(): ReasonTree {
    return reasonTree(this.reasons())
  }
}
