// One batch's OEE fold in memory: the events in log order against the runs, operations and work centers they refer to, giving the rows to write.
import type { ProductionCount } from '../../edge/core/oee/oee.ts'
import { operatorState, type OperatorAction } from '../../edge/core/oee/operator-states.ts'
import { machineReason, reasonTree, type ReasonCode, type ReasonTree } from '../../edge/core/oee/reasons.ts'
import type { StateChange } from '../../edge/core/oee/timeline.ts'
import type { CentralEvent, DataOf } from './central-event.ts'

export interface Operation {
  workCenterId: string
  productId: string
  idealCycleTimeS: number | null
}

export interface Run {
  orderId: string
  opSeq: number
  workCenterId: string
  state: string
  machineCounted: boolean
}

export interface WorkCenter {
  ratedCycleTimeS: number | null
  microStopThresholdMs: number | null
  machineReports: boolean
  /** Its line: a calendar assigned to the line is the work center's too, unless it has its own. */
  parentId: string | null
}

export interface CountRow extends ProductionCount {
  eventId: string
  idx: number
  workCenterId: string
}

export type ChangeRow = StateChange & { eventId: string; workCenterId: string }

/** An operator's classification of downtime, in log order (seq, idx) as the timeline applies them. */
export interface ClassificationRow {
  seq: number
  idx: number
  workCenterId: string
  from: number
  to: number | null
  reason: string
}

export const opKey = (orderId: string, opSeq: number) => `${orderId}\u0000${opSeq}`

/** What the batch refers to, read before the fold; the fold updates these maps in place. */
export interface Referenced {
  runs: Map<string, Run>
  operations: Map<string, Operation>
  products: Map<string, string>
  workCenters: Map<string, WorkCenter>
  /** Each operator-run work center's latest state change. */
  lastState: Map<string, { at: number; state: string }>
  reasons: ReasonCode[]
}

export class OeeBatch {
  readonly newOperations = new Map<string, Operation & { orderId: string; opSeq: number }>()
  readonly touchedRuns = new Set<string>()
  readonly touchedWorkCenters = new Set<string>()
  /** Work centers whose buckets are rebuilt from their whole timeline after the batch. */
  readonly rebuild = new Set<string>()
  readonly changes: ChangeRow[] = []
  readonly counts: CountRow[] = []
  readonly classifications: ClassificationRow[] = []
  /** Work centers whose machine reported its first state in this batch, from that instant. */
  readonly supersededFrom = new Map<string, number>()
  newReasons: ReasonCode[] | null = null
  readonly #ref: Referenced
  #tree: ReasonTree

  constructor(referenced: Referenced) {
    this.#ref = referenced
    this.#tree = reasonTree(referenced.reasons)
  }

  fold(e: CentralEvent): void {
    switch (e.type) {
      case 'OrderCreated':
        return this.#orderCreated(e.data)
      case 'OperationStarted':
        this.#ref.runs.set(e.data.runId, { orderId: e.data.orderId, opSeq: e.data.opSeq, workCenterId: e.data.workCenterId, state: 'running', machineCounted: false })
        this.touchedRuns.add(e.data.runId)
        return this.#operatorActed(e, e.data.workCenterId, { kind: 'started' })
      case 'OperationPaused':
        return this.#runAction(e, e.data.runId, 'paused', { kind: 'paused', reason: e.data.reason })
      case 'OperationResumed':
        return this.#runAction(e, e.data.runId, 'running', { kind: 'resumed' })
      case 'MachineCounted':
        return this.#machineCounted(e, e.data)
      case 'OperationCompleted':
        this.#runAction(e, e.data.runId, 'completed', { kind: 'completed' })
        return this.#operatorCompleted(e, e.data)
      case 'WorkCenterStateChanged':
        return this.#stateChanged(e, e.data)
      case 'ReasonCodesDefined':
        this.newReasons = e.data.reasons
        this.#tree = reasonTree(e.data.reasons)
        return
      case 'MicroStopThresholdSet':
        this.#workCenter(e.data.workCenterId).microStopThresholdMs = e.data.thresholdMs
        this.rebuild.add(e.data.workCenterId)
        return
      case 'DowntimeEdited':
        // Rare (an operator's edit): the work center's buckets are rebuilt with it rather than patched.
        e.data.classifications.forEach((c, idx) => this.classifications.push({ seq: e.seq, idx, workCenterId: e.data.workCenterId, from: Date.parse(c.from), to: c.to === null ? null : Date.parse(c.to), reason: c.reason }))
        this.#workCenter(e.data.workCenterId)
        this.rebuild.add(e.data.workCenterId)
        return
      case 'EquipmentDefined':
        if (e.data.level === 'work_center') Object.assign(this.#workCenter(e.data.id), { ratedCycleTimeS: e.data.ratedCycleTimeS, parentId: e.data.parentId })
        return
    }
  }

  #workCenter(id: string): WorkCenter {
    let wc = this.#ref.workCenters.get(id)
    if (!wc) this.#ref.workCenters.set(id, (wc = { ratedCycleTimeS: null, microStopThresholdMs: null, machineReports: false, parentId: null }))
    this.touchedWorkCenters.add(id)
    return wc
  }

  #addChange(c: ChangeRow): void {
    this.changes.push(c)
    const last = this.#ref.lastState.get(c.workCenterId)
    if (!last || c.at >= last.at) this.#ref.lastState.set(c.workCenterId, { at: c.at, state: c.state })
  }

  #orderCreated(d: DataOf<'OrderCreated'>): void {
    for (const op of d.operations) {
      const row = { orderId: d.id, opSeq: op.seq, workCenterId: op.workCenterId, productId: d.productId, idealCycleTimeS: op.idealCycleTimeS }
      this.#ref.operations.set(opKey(row.orderId, row.opSeq), row)
      this.newOperations.set(opKey(row.orderId, row.opSeq), row)
    }
    this.#ref.products.set(d.id, d.productId)
  }

  /**
   * Where no machine reports states for the work center (none has, up to this point of the log), the
   * operators' actions are its state timeline (operatorState, as edge/store/oee-projection.ts does).
   * The pause reason stays on the stop's own state change, not as a classification (docs/cloud.md).
   */
  #operatorActed(e: CentralEvent, workCenterId: string, action: OperatorAction): void {
    if (this.#workCenter(workCenterId).machineReports) return
    const open = { running: 0, paused: 0 }
    for (const run of this.#ref.runs.values()) {
      if (run.workCenterId !== workCenterId) continue
      if (run.state === 'running') open.running++
      else if (run.state === 'paused') open.paused++
    }
    const next = operatorState(this.#tree, action, open)
    // The same state again records nothing, as for a machine (a pause while another run still runs).
    if (this.#ref.lastState.get(workCenterId)?.state === next.state) return
    this.#addChange({ eventId: e.id, workCenterId, at: Date.parse(e.occurredAt), state: next.state, reason: next.reason, seq: e.seq })
  }

  #runAction(e: CentralEvent, runId: string, state: string, action: OperatorAction): void {
    const run = this.#ref.runs.get(runId)
    if (!run) return
    run.state = state
    this.touchedRuns.add(runId)
    this.#operatorActed(e, run.workCenterId, action)
  }

  #machineCounted(e: CentralEvent, d: DataOf<'MachineCounted'>): void {
    const run = d.runId === null ? undefined : this.#ref.runs.get(d.runId)
    const count: CountRow = { eventId: e.id, idx: 0, workCenterId: d.workCenterId, at: Date.parse(e.occurredAt), good: d.good, reject: d.reject, idealCycleTimeS: null }
    // As the gateway counts it (edge/store/oee-projection.ts): the run's routing operation gives the ideal cycle time and product.
    if (run) {
      run.machineCounted = true
      this.touchedRuns.add(d.runId!)
      const op = this.#ref.operations.get(opKey(run.orderId, run.opSeq))
      if (op) {
        count.idealCycleTimeS = op.idealCycleTimeS
        count.productId = op.productId
      }
    } else if (d.orderId !== null && this.#ref.products.has(d.orderId)) count.productId = this.#ref.products.get(d.orderId)!
    if (d.orderId !== null) count.orderId = d.orderId
    this.#workCenter(d.workCenterId)
    this.counts.push(count)
  }

  /** An operator's completion counts where no machine counted the run: the good parts, and each scrap reason as its own row. */
  #operatorCompleted(e: CentralEvent, d: DataOf<'OperationCompleted'>): void {
    if (d.good + d.scrap === 0) return
    const op = this.#ref.operations.get(opKey(d.orderId, d.opSeq))
    // Where a machine counted the run its counts stand; the operator's completion would count twice.
    if (!op || this.#ref.runs.get(d.runId)?.machineCounted) return
    const base = { eventId: e.id, workCenterId: op.workCenterId, at: Date.parse(e.occurredAt), idealCycleTimeS: op.idealCycleTimeS, productId: op.productId, orderId: d.orderId }
    const reasoned = d.scrapReasons.reduce((n, s) => n + s.quantity, 0)
    let idx = 0
    if (d.good > 0 || d.scrap > reasoned) this.counts.push({ ...base, idx: idx++, good: d.good, reject: Math.max(0, d.scrap - reasoned) })
    for (const s of d.scrapReasons) if (s.quantity > 0) this.counts.push({ ...base, idx: idx++, good: 0, reject: s.quantity, scrapReason: s.reason })
    this.#workCenter(op.workCenterId)
  }

  #stateChanged(e: CentralEvent, d: DataOf<'WorkCenterStateChanged'>): void {
    const at = Date.parse(e.occurredAt)
    // The machine's reason through the reason tree as defined at this point of the log, so a rebuild maps it the same way.
    const reason = d.stopReason === undefined ? null : machineReason(this.#tree, d.stopReason)
    const wc = this.#workCenter(d.workCenterId)
    if (!wc.machineReports) {
      // The machine's first state: from its time on the timeline is the machine's, so the operator-entered states there go.
      wc.machineReports = true
      this.supersededFrom.set(d.workCenterId, at)
      for (let i = this.changes.length - 1; i >= 0; i--) if (this.changes[i]!.workCenterId === d.workCenterId && this.changes[i]!.at >= at) this.changes.splice(i, 1)
    }
    this.#addChange({ eventId: e.id, workCenterId: d.workCenterId, at, state: d.state, reason, seq: e.seq })
  }
}
