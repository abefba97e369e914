// The OEE projection: definitions, the state timeline, counts and minute buckets, kept in the event's own transaction.
import { canonicalJson } from '../core/canonical-json.ts'
import type { RecordedEvent } from '../core/events.ts'
import { applyDelta, bucketsFrom, bucketUnits, countDelta, rollUp, timelineDeltas, type BucketDelta, type OeeBucket } from '../core/oee/buckets.ts'
import type { ProductionCount } from '../core/oee/oee.ts'
import { operatorState, type OperatorAction } from '../core/oee/operator-states.ts'
import { machineReason } from '../core/oee/reasons.ts'
import { timeline, type TimelineEdit } from '../core/oee/timeline.ts'
import { MINUTE_MS } from '../core/oee/zone.ts'
import type { Sqlite } from './database.ts'
import { bucketColumns, OeeTimelineReader } from './oee-timeline.ts'

type Of<T extends RecordedEvent['type']> = Extract<RecordedEvent, { type: T }>
type OperatorEvent = Of<'OperationStarted' | 'OperationPaused' | 'OperationResumed' | 'OperationCompleted'>

/** A delta that moves no time and no stops: a count. */
const countsOnly = (d: BucketDelta) => Object.keys(d.ms).length === 0 && Object.keys(d.stops).length === 0

interface PendingCounts {
  workCenterId: string
  unit: number
  start: number
  counts: OeeBucket['counts']
}

interface LatestChange {
  at: number
  seq: number
  state: string
  reason: string | null
}

/** Pending buckets past which a flush runs anyway (a rebuild replays a whole log through one transaction). */
const maxPendingBuckets = 2048

interface RunContext {
  workCenterId: string
  productId: string
  idealCycleTimeS: number | null
}

/** Adds count lines into `into`; a line that comes to nothing goes. */
function addCounts(into: OeeBucket['counts'], delta: OeeBucket['counts']): void {
  for (const k in delta) {
    const [g, r] = delta[k]!
    const line = into[k]
    const next: [number, number] = line ? [line[0] + g, line[1] + r] : [g, r]
    if (next[0] === 0 && next[1] === 0) delete into[k]
    else into[k] = next
  }
}

export class OeeProjection {
  readonly #runs = new Map<string, RunContext>()
  /** Keyed by order and operation: every run of a started operation shares it. */
  readonly #operations = new Map<string, RunContext>()
  readonly #read: OeeTimelineReader
  readonly #s
  /**
   * Count deltas not yet in oee_buckets, by bucket: a busy work center's every completion adds to
   * the same four buckets, so they are read and written once per transaction instead of once per
   * completion. #pending holds the commands of this transaction that succeeded, #command the one
   * running; flush() writes both, and runs before anything else reads or writes the buckets.
   */
  #pending = new Map<string, PendingCounts>()
  #command = new Map<string, PendingCounts>()
  /** #pending as it was when a flush ran inside the running command: if that command is rolled back, so is what the flush wrote. */
  #beforeFlush: Map<string, PendingCounts> | null = null
  #inCommand = false
  /** Whether a machine reports each work center's states (machine_state_log has a row for it). */
  readonly #machineReports = new Map<string, boolean>()
  /** Each work center's latest state change (or null: none), the answer to "the state at t" for any t at or after it. */
  readonly #latest = new Map<string, LatestChange | null>()

  constructor(sqlite: Sqlite) {
    this.#read = new OeeTimelineReader(sqlite)
    const p = (sql: string) => sqlite.prepare(sql)
    this.#s = {
      insertChange: p('INSERT INTO oee_state_changes (event_seq, work_center_id, at_ms, state, reason) VALUES (?, ?, ?, ?, ?)'),
      insertCount: p(
        'INSERT INTO oee_counts (event_seq, idx, work_center_id, at_ms, good, reject, ideal_cycle_time_s, product_id, order_id, scrap_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      // Only the ideal cycle time of the operation's definition: SQLite reads it out without parsing the rest in JavaScript.
      runOperation: sqlite.prepare<[string], { work_center_id: string; product_id: string; ideal_cycle_time_s: number | null }>(
        "SELECT r.work_center_id, o.product_id, json_extract(op.definition, '$.idealCycleTimeS') AS ideal_cycle_time_s FROM runs r JOIN order_operations op ON op.order_id = r.order_id AND op.seq = r.op_seq JOIN orders o ON o.id = r.order_id WHERE r.id = ?",
      ),
      machineCounted: sqlite.prepare<[string], { n: number }>('SELECT 1 AS n FROM machine_counts WHERE run_id = ? LIMIT 1'),
      operation: sqlite.prepare<[string, number], { work_center_id: string; product_id: string; ideal_cycle_time_s: number | null }>(
        "SELECT op.work_center_id, o.product_id, json_extract(op.definition, '$.idealCycleTimeS') AS ideal_cycle_time_s FROM order_operations op JOIN orders o ON o.id = op.order_id WHERE op.order_id = ? AND op.seq = ?",
      ),
      orderProduct: sqlite.prepare<[string], { product_id: string }>('SELECT product_id FROM orders WHERE id = ?'),
      bucket: sqlite.prepare<[string, number, number], { ms: string; stops: string; counts: string }>('SELECT ms, stops, counts FROM oee_buckets WHERE work_center_id = ? AND unit = ? AND start = ?'),
      upsertBucket: p(
        'INSERT INTO oee_buckets (work_center_id, unit, start, ms, stops, counts) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (work_center_id, unit, start) DO UPDATE SET ms = excluded.ms, stops = excluded.stops, counts = excluded.counts',
      ),
      deleteBucket: p('DELETE FROM oee_buckets WHERE work_center_id = ? AND unit = ? AND start = ?'),
      insertClassification: p('INSERT INTO downtime_classifications (event_seq, idx, work_center_id, from_ms, to_ms, reason) VALUES (?, ?, ?, ?, ?, ?)'),
      insertEdit: p('INSERT INTO downtime_edits (event_seq, work_center_id, kind, before, after, why, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      upsertCalendar: p('INSERT OR REPLACE INTO shift_calendars (id, time_zone, definition) VALUES (?, ?, ?)'),
      assign: p('INSERT OR REPLACE INTO calendar_assignments (equipment_id, calendar_id, event_seq) VALUES (?, ?, ?)'),
      unassign: p('DELETE FROM calendar_assignments WHERE equipment_id = ?'),
      clearReasons: p('DELETE FROM reason_codes'),
      setThreshold: p('INSERT OR REPLACE INTO oee_settings (work_center_id, micro_stop_threshold_ms, event_seq) VALUES (?, ?, ?)'),
      clearBuckets: p('DELETE FROM oee_buckets WHERE work_center_id = ?'),
      insertReason: p('INSERT INTO reason_codes (position, code, name, parent, loss, planned, packml) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      // Operator-entered states: machine_state_log holds WorkCenterStateChanged alone, so it tells whether a machine reports states.
      machineReports: sqlite.prepare<[string], { n: number }>('SELECT 1 AS n FROM machine_state_log WHERE work_center_id = ? LIMIT 1'),
      machineReportedBefore: sqlite.prepare<[string, number], { n: number }>('SELECT 1 AS n FROM machine_state_log WHERE work_center_id = ? AND event_seq <> ? LIMIT 1'),
      runWorkCenter: sqlite.prepare<[string], { work_center_id: string }>('SELECT work_center_id FROM runs WHERE id = ?'),
      // Whether any run is running or paused, not how many: two index seeks, however many runs are open (a counting scan cost a completion over a millisecond with thousands open).
      openRuns: sqlite.prepare<[string, string], { running: number; paused: number }>(
        "SELECT EXISTS (SELECT 1 FROM runs WHERE work_center_id = ? AND state = 'running') AS running, EXISTS (SELECT 1 FROM runs WHERE work_center_id = ? AND state = 'paused') AS paused",
      ),
      stateAt: sqlite.prepare<[string, number], { state: string; reason: string | null }>(
        'SELECT state, reason FROM oee_state_changes WHERE work_center_id = ? AND at_ms <= ? ORDER BY at_ms DESC, event_seq DESC LIMIT 1',
      ),
      latestChange: sqlite.prepare<[string], { at_ms: number; event_seq: number; state: string; reason: string | null }>(
        'SELECT at_ms, event_seq, state, reason FROM oee_state_changes WHERE work_center_id = ? ORDER BY at_ms DESC, event_seq DESC LIMIT 1',
      ),
      deleteChangesFrom: p('DELETE FROM oee_state_changes WHERE work_center_id = ? AND at_ms >= ?'),
      // A pause's classification is the only one without a downtime_edits row.
      deletePauseReasonsFrom: p('DELETE FROM downtime_classifications WHERE work_center_id = ? AND from_ms >= ? AND event_seq NOT IN (SELECT event_seq FROM downtime_edits)'),
    }
  }

  #apply(workCenterId: string, minuteDeltas: readonly BucketDelta[]): void {
    if (minuteDeltas.length === 0) return
    if (minuteDeltas.every(countsOnly)) return this.#applyCounts(workCenterId, minuteDeltas)
    this.flush()
    for (const unit of bucketUnits) {
      for (const d of rollUp(minuteDeltas, unit)) {
        const row = this.#s.bucket.get(workCenterId, unit, d.start)
        const next = applyDelta(row ? { ms: JSON.parse(row.ms), stops: JSON.parse(row.stops), counts: JSON.parse(row.counts) } : undefined, d)
        if (next === undefined) this.#s.deleteBucket.run(workCenterId, unit, d.start)
        else this.#s.upsertBucket.run(workCenterId, unit, d.start, ...bucketColumns(next))
      }
    }
  }

  /** Counts alone (every completion and machine count): added to the pending buckets, written by flush(). */
  #applyCounts(workCenterId: string, minuteDeltas: readonly BucketDelta[]): void {
    for (const unit of bucketUnits) {
      for (const d of rollUp(minuteDeltas, unit)) {
        const key = `${workCenterId}\u0000${unit}\u0000${d.start}`
        let pending = this.#command.get(key)
        if (!pending) {
          pending = { workCenterId, unit, start: d.start, counts: {} }
          this.#command.set(key, pending)
        }
        addCounts(pending.counts, d.counts)
      }
    }
    if (this.#command.size + this.#pending.size > maxPendingBuckets) this.flush()
  }

  /**
   * Writes the pending counts into oee_buckets: only the counts column is read and written; the
   * time and stop columns keep their stored text, which is what canonicalJson would write again.
   * The store calls it before each commit; the projection before it touches the buckets otherwise.
   */
  flush(): void {
    if (this.#pending.size === 0 && this.#command.size === 0) return
    if (this.#inCommand && this.#beforeFlush === null) this.#beforeFlush = this.#pending
    const pending = this.#pending
    const command = this.#command
    this.#pending = new Map()
    this.#command = new Map()
    for (const [key, p] of pending) {
      const more = command.get(key)
      if (more) {
        addCounts(p.counts, more.counts)
        command.delete(key)
      }
      this.#writeCounts(p)
    }
    for (const p of command.values()) this.#writeCounts(p)
  }

  #writeCounts({ workCenterId, unit, start, counts: delta }: PendingCounts): void {
    const row = this.#s.bucket.get(workCenterId, unit, start)
    const counts: OeeBucket['counts'] = row ? JSON.parse(row.counts) : {}
    addCounts(counts, delta)
    const ms = row?.ms ?? '{}'
    const stops = row?.stops ?? '{}'
    if (ms === '{}' && stops === '{}' && Object.keys(counts).length === 0) this.#s.deleteBucket.run(workCenterId, unit, start)
    else this.#s.upsertBucket.run(workCenterId, unit, start, ms, stops, canonicalJson(counts))
  }

  /** A command begins inside the store's transaction (in its own savepoint when it shares the transaction). */
  beginCommand(): void {
    this.#inCommand = true
    this.#beforeFlush = null
  }

  /** The command's projections stand: its counts join the transaction's. */
  commandDone(): void {
    for (const [key, p] of this.#command) {
      const kept = this.#pending.get(key)
      if (kept) addCounts(kept.counts, p.counts)
      else this.#pending.set(key, p)
    }
    this.#command.clear()
    this.#inCommand = false
    this.#beforeFlush = null
  }

  /** The command's savepoint was rolled back: its counts go, and what a flush inside it wrote is pending again. */
  commandFailed(): void {
    this.#command.clear()
    if (this.#beforeFlush !== null) this.#pending = this.#beforeFlush
    this.#beforeFlush = null
    this.#inCommand = false
    // What the command may have read into them was rolled back with it.
    this.#machineReports.clear()
    this.#latest.clear()
  }

  /** The whole transaction was rolled back: nothing pending, nothing remembered of it. */
  forget(): void {
    this.#pending.clear()
    this.#command.clear()
    this.#beforeFlush = null
    this.#inCommand = false
    this.#machineReports.clear()
    this.#latest.clear()
  }

  #reportsStates(workCenterId: string): boolean {
    let reports = this.#machineReports.get(workCenterId)
    if (reports === undefined) {
      reports = this.#s.machineReports.get(workCenterId) !== undefined
      this.#machineReports.set(workCenterId, reports)
    }
    return reports
  }

  /** The state change in force at `at`: the latest one when `at` is at or after it, otherwise read. */
  #stateAt(workCenterId: string, at: number): { state: string; reason: string | null } | undefined {
    let latest = this.#latest.get(workCenterId)
    if (latest === undefined) {
      const row = this.#s.latestChange.get(workCenterId)
      latest = row ? { at: row.at_ms, seq: row.event_seq, state: row.state, reason: row.reason } : null
      this.#latest.set(workCenterId, latest)
    }
    if (latest === null) return undefined
    if (at >= latest.at) return latest
    return this.#s.stateAt.get(workCenterId, at)
  }

  #insertChange(seq: number, workCenterId: string, at: number, state: string, reason: string | null): void {
    this.#s.insertChange.run(seq, workCenterId, at, state, reason)
    const latest = this.#latest.get(workCenterId)
    // Unknown stays unknown (read at the next need); a known latest is replaced by a later change.
    if (latest === null || (latest !== undefined && (at > latest.at || (at === latest.at && seq > latest.seq)))) this.#latest.set(workCenterId, { at, seq, state, reason })
  }

  /** The buckets' change is computed from the context without the edit, then the edit is stored: late or not, the same buckets. */
  #edit(workCenterId: string, edit: TimelineEdit, store: () => void): void {
    const [t1, t2] = edit.kind === 'state' ? [edit.change.at, edit.change.at] : [edit.classification.from, edit.classification.to ?? edit.classification.from]
    const deltas = timelineDeltas(this.#read.context(workCenterId, t1, t2), edit, this.#read.threshold(workCenterId))
    store()
    this.#apply(workCenterId, deltas)
  }

  stateChanged(e: Of<'WorkCenterStateChanged'>): void {
    const d = e.data
    const at = Date.parse(e.occurredAt)
    // The machine's reason through the reason tree as defined at this point of the log, so a rebuild maps it the same way.
    const reason = d.stopReason === undefined ? null : machineReason(this.#read.tree(), d.stopReason)
    // The projections have logged this state in machine_state_log already.
    this.#machineReports.set(d.workCenterId, true)
    if (!this.#s.machineReportedBefore.get(d.workCenterId, e.seq)) {
      // The machine's first state: from its time on the timeline is the machine's, so the operator-entered states there go.
      const superseded = this.#s.deleteChangesFrom.run(d.workCenterId, at).changes + this.#s.deletePauseReasonsFrom.run(d.workCenterId, at).changes
      this.#latest.delete(d.workCenterId)
      if (superseded > 0) {
        this.#insertChange(e.seq, d.workCenterId, at, d.state, reason)
        return this.#rebuildBuckets(d.workCenterId, this.#read.threshold(d.workCenterId))
      }
    }
    this.#edit(d.workCenterId, { kind: 'state', change: { at, state: d.state, reason, seq: e.seq } }, () => this.#insertChange(e.seq, d.workCenterId, at, d.state, reason))
  }

  /**
   * Where no machine reports states for the work center (none has, up to this point of the log), the
   * operators' actions are its state timeline: see operatorState. Called after the runs table has the
   * action, so the open runs counted include it; a rebuild replays the log in order and counts the same.
   */
  operatorActed(e: OperatorEvent): void {
    // A run works at its operation's work center (edge/core/execution.ts), which does not change once the operation has started.
    const workCenterId =
      e.type === 'OperationStarted'
        ? e.data.workCenterId
        : e.type === 'OperationCompleted'
          ? this.#operation(e.data.orderId, e.data.opSeq)?.workCenterId
          : this.#s.runWorkCenter.get(e.data.runId)?.work_center_id
    if (workCenterId === undefined || this.#reportsStates(workCenterId)) return
    const action: OperatorAction =
      e.type === 'OperationStarted' ? { kind: 'started' } : e.type === 'OperationResumed' ? { kind: 'resumed' } : e.type === 'OperationPaused' ? { kind: 'paused', reason: e.data.reason } : { kind: 'completed' }
    const open = this.#s.openRuns.get(workCenterId, workCenterId)
    const next = operatorState(() => this.#read.tree(), action, { running: open?.running ?? 0, paused: open?.paused ?? 0 })
    const at = Date.parse(e.occurredAt)
    const now = this.#stateAt(workCenterId, at)
    // The same state again records nothing, as for a machine (a pause while another run still runs).
    if (now?.state === next.state) return
    this.#edit(workCenterId, { kind: 'state', change: { at, state: next.state, reason: null, seq: e.seq } }, () => this.#insertChange(e.seq, workCenterId, at, next.state, null))
    // The operator gave the reason: it classifies the stop (reason source 'operator') until the work center runs again, and a later classification still wins.
    if (next.reason !== null) {
      const classification = { from: at, to: null, reason: next.reason }
      this.#edit(workCenterId, { kind: 'classification', classification }, () => this.#s.insertClassification.run(e.seq, 0, workCenterId, at, null, next.reason))
    }
  }

  counted(e: Of<'MachineCounted'>): void {
    const d = e.data
    const count = this.#count(Date.parse(e.occurredAt), d.runId === null ? undefined : this.#run(d.runId), d.orderId)
    this.#book(e.seq, d.workCenterId, [{ ...count, good: d.good, reject: d.reject }])
  }

  /**
   * An operator's completion counts where no machine counted the run (a work center without a
   * connected machine, or one whose machine does not count): the good parts, and each scrap reason as
   * its own row, so quality losses carry their reasons. Where a machine counted, its counts stand.
   */
  operatorCompleted(e: Of<'OperationCompleted'>): void {
    const d = e.data
    // A run completes once: what was kept of it goes.
    this.#runs.delete(d.runId)
    if (d.good + d.scrap === 0) return
    const run = this.#operation(d.orderId, d.opSeq)
    if (!run || this.#s.machineCounted.get(d.runId)) return
    const wc = run.workCenterId
    const count = this.#count(Date.parse(e.occurredAt), run, d.orderId)
    const reasoned = d.scrapReasons.reduce((n, s) => n + s.quantity, 0)
    const rows: ProductionCount[] = []
    if (d.good > 0 || d.scrap > reasoned) rows.push({ ...count, good: d.good, reject: Math.max(0, d.scrap - reasoned) })
    for (const s of d.scrapReasons) if (s.quantity > 0) rows.push({ ...count, good: 0, reject: s.quantity, scrapReason: s.reason })
    this.#book(e.seq, wc, rows)
  }

  /** A count's time, ideal cycle time, product and order; good and reject are the caller's. */
  #count(at: number, run: RunContext | undefined, orderId: string | null): ProductionCount {
    const count: ProductionCount = { at, good: 0, reject: 0, idealCycleTimeS: null }
    // The ideal cycle time is the run's routing operation's; without one the query falls back to the rated speed.
    if (run) {
      count.idealCycleTimeS = run.idealCycleTimeS
      count.productId = run.productId
    } else if (orderId !== null) {
      const order = this.#s.orderProduct.get(orderId)
      if (order) count.productId = order.product_id
    }
    if (orderId !== null) count.orderId = orderId
    return count
  }

  /**
   * A run's work center, product and ideal cycle time, read once per run: a started run's operation
   * does not change (a change to a started operation is refused).
   */
  #run(runId: string): RunContext | undefined {
    const kept = this.#runs.get(runId)
    if (kept) return kept
    const op = this.#s.runOperation.get(runId)
    if (!op) return undefined
    const ct = op.ideal_cycle_time_s
    const run = { workCenterId: op.work_center_id, productId: op.product_id, idealCycleTimeS: typeof ct === 'number' ? ct : null }
    // Runs that never complete (cancelled orders) must not grow this without end.
    if (this.#runs.size >= 10_000) this.#runs.clear()
    this.#runs.set(runId, run)
    return run
  }

  /**
   * An order operation's work center, product and ideal cycle time, read at its first completion:
   * by then it has started, and a started operation does not change.
   */
  #operation(orderId: string, opSeq: number): RunContext | undefined {
    const key = `${orderId}\u0000${opSeq}`
    const kept = this.#operations.get(key)
    if (kept) return kept
    const op = this.#s.operation.get(orderId, opSeq)
    if (!op) return undefined
    const ct = op.ideal_cycle_time_s
    const operation = { workCenterId: op.work_center_id, productId: op.product_id, idealCycleTimeS: typeof ct === 'number' ? ct : null }
    if (this.#operations.size >= 10_000) this.#operations.clear()
    this.#operations.set(key, operation)
    return operation
  }

  #book(seq: number, workCenterId: string, rows: ProductionCount[]): void {
    rows.forEach((c, idx) => this.#s.insertCount.run(seq, idx, workCenterId, c.at, c.good, c.reject, c.idealCycleTimeS, c.productId ?? null, c.orderId ?? null, c.scrapReason ?? null))
    this.#apply(workCenterId, rows.map(countDelta))
  }

  downtimeEdited(e: Of<'DowntimeEdited'>): void {
    const d = e.data
    // One classification after another: each one's context holds the ones before it, as the log will on a rebuild.
    d.classifications.forEach((c, idx) => {
      const classification = { from: Date.parse(c.from), to: c.to === null ? null : Date.parse(c.to), reason: c.reason }
      this.#edit(d.workCenterId, { kind: 'classification', classification }, () =>
        this.#s.insertClassification.run(e.seq, idx, d.workCenterId, classification.from, classification.to, c.reason),
      )
    })
    this.#s.insertEdit.run(e.seq, d.workCenterId, d.kind, JSON.stringify(d.before), JSON.stringify(d.after), d.why, e.actor, e.occurredAt)
  }

  calendarDefined(e: Of<'ShiftCalendarDefined'>): void {
    const c = e.data.calendar
    this.#s.upsertCalendar.run(c.id, c.timeZone, JSON.stringify(c))
  }

  calendarAssigned(e: Of<'ShiftCalendarAssigned'>): void {
    if (e.data.calendarId === null) this.#s.unassign.run(e.data.equipmentId)
    else this.#s.assign.run(e.data.equipmentId, e.data.calendarId, e.seq)
  }

  reasonsDefined(e: Of<'ReasonCodesDefined'>): void {
    this.#s.clearReasons.run()
    e.data.reasons.forEach((r, i) => this.#s.insertReason.run(i, r.code, r.name, r.parent ?? null, r.loss, r.planned ? 1 : 0, r.packml ?? null))
  }


  /** The threshold is baked into the buckets: a new one rebuilds the work center's buckets from its whole timeline. */
  thresholdSet(e: Of<'MicroStopThresholdSet'>): void {
    const { workCenterId, thresholdMs } = e.data
    this.#s.setThreshold.run(workCenterId, thresholdMs, e.seq)
    this.#rebuildBuckets(workCenterId, thresholdMs)
  }

  /** A work center's buckets anew from its whole timeline and counts. */
  #rebuildBuckets(workCenterId: string, thresholdMs: number): void {
    this.flush()
    this.#s.clearBuckets.run(workCenterId)
    const all = this.#read.everything(workCenterId)
    const minutes = bucketsFrom(timeline(all.changes, all.classifications), all.counts, thresholdMs)
    this.#apply(workCenterId, [...minutes].sort(([a], [b]) => a - b).map(([start, b]) => ({ unit: MINUTE_MS, start, ...b })))
  }
}
