// One B2MML document as one decision: every definition and order through the same core decisions the JSON API uses, all accepted or all refused.
import { accept, refuse, type Decision } from '../core/decision.ts'
import type { NewEvent } from '../core/events.ts'
import type { LineView } from '../core/line-view.ts'
import { defineBom, defineEquipment, defineLot, defineMaterial, definePerson, defineRouting } from '../core/master-data.ts'
import type { Equipment } from '../core/model.ts'
import { cancelOrder, defineOrder } from '../core/orders.ts'
import { reject } from '../core/rejection.ts'
import type { Decide } from '../store/line-store.ts'
import { DocumentView } from './document-view.ts'
import { deriveOrder, type DerivedOrder } from './order-plan.ts'
import { levelUnder, unplaceableWorkCenter, type IntakePlan, type RequestPlan } from './plan.ts'
import { problemAt, type At, type Problem } from './read.ts'
import type { ErpRecords } from './records.ts'

export interface Applied {
  orders: { created: number; changed: number; unchanged: number; cancelled: number }
  definitions: { changed: number; unchanged: number }
  /** One line per order that changed, for the confirmation. */
  changes: string[]
}

export interface ApplyContext {
  namespace: string
  documentId: number
  records: ErpRecords
  /** When the document is applied (ISO 8601), for the records. */
  now: string
}

/** The outcome of the decide function, read by the caller once the store has run it. */
export interface ApplyOutcome {
  problems: Problem[]
  applied: Applied | null
}

class DocumentDecision {
  readonly view: DocumentView
  readonly events: NewEvent[] = []
  readonly problems: Problem[] = []
  /** Record writes that go with the events; run inside the same transaction, and only if the whole document is accepted. */
  readonly afterAccept: Array<() => void> = []
  readonly applied: Applied = { orders: { created: 0, changed: 0, unchanged: 0, cancelled: 0 }, definitions: { changed: 0, unchanged: 0 }, changes: [] }
  /** Derived routing and BOM versions by content, and those already decided here: a version names its content, so once is enough. */
  readonly versions = new Map<string, string>()
  readonly decided = new Set<string>()

  constructor(base: LineView) {
    this.view = new DocumentView(base)
  }

  /** Keeps an accepted decision's events (and lets later decisions see them); notes a refusal where it applies. */
  take<R>(at: At, d: Decision<R>, placeOf?: (details: Record<string, unknown>) => At | undefined): R | undefined {
    if (!d.ok) {
      const where = (d.rejection.details && placeOf?.(d.rejection.details)) ?? at
      this.problems.push(problemAt(where, d.rejection.code, d.rejection.status, d.rejection.message))
      return undefined
    }
    this.view.absorb(d.events)
    this.events.push(...d.events)
    return d.result
  }

  definition(at: At, d: Decision<{ changed: boolean }>, placeOf?: (details: Record<string, unknown>) => At | undefined): boolean {
    const result = this.take(at, d, placeOf)
    if (result) this.applied.definitions[result.changed ? 'changed' : 'unchanged'] += 1
    return result !== undefined
  }

  duplicate(kind: string, ids: Array<{ id: string; at: At }>): void {
    const seen = new Set<string>()
    for (const { id, at } of ids) {
      if (seen.has(id)) this.problems.push(problemAt(at, 'b2mml_duplicate', 422, `${kind} '${id}' appears twice in the document; send each once.`))
      seen.add(id)
    }
  }
}

function defineMasterData(d: DocumentDecision, plan: IntakePlan, records: ErpRecords): void {
  d.duplicate('Equipment', plan.equipment.map((e) => ({ id: e.value.id, at: e.at })))
  d.duplicate('MaterialDefinition', plan.materials.map((m) => ({ id: m.value.id, at: m.at })))
  d.duplicate('Person', plan.people.map((p) => ({ id: p.value.id, at: p.at })))
  d.duplicate('Material lot or sublot', plan.lots.map((l) => ({ id: l.value.id, at: l.at })))
  // Parents first: the hierarchy's levels in order, whatever order the document listed them in.
  for (const item of [...plan.equipment].sort((a, b) => a.rank - b.rank)) {
    let level = item.value.level
    if (level === 'by-parent') {
      const placed = levelUnder(item.value.parentId === null ? undefined : d.view.equipment(item.value.parentId))
      if (placed === null) {
        d.problems.push(problemAt(item.at, 'b2mml_unmappable', 422, unplaceableWorkCenter(item.value.parentId)))
        continue
      }
      level = placed
    }
    d.definition(item.at, defineEquipment(d.view, { ...item.value, level } as Equipment))
  }
  for (const m of plan.materials) d.definition(m.at, defineMaterial(d.view, m.value))
  for (const p of plan.people) d.definition(p.at, definePerson(d.view, p.value))
  for (const l of plan.lots) {
    const materialId = l.value.materialId ?? (l.parentLotId === null ? undefined : d.view.lot(l.parentLotId)?.materialId)
    if (materialId === undefined) {
      d.problems.push(problemAt(l.at, 'reference_unknown', 422, `Sublot '${l.value.id}' belongs to lot '${l.parentLotId}', which is not on the line; send the lot first, or the sublot inside it.`))
      continue
    }
    if (d.definition(l.at, defineLot(d.view, { ...l.value, materialId })) && l.parentLotId !== null) {
      const { id } = l.value
      const parent = l.parentLotId
      d.afterAccept.push(() => records.saveSublot(id, parent))
    }
  }
}

/** Routing and BOM refusals name a field like operations[2].workCenterId: place them at that segment or item. */
function placeIn(list: At[], pattern: RegExp) {
  return (details: Record<string, unknown>) => {
    const field = String(details.field ?? details.where ?? '')
    const m = pattern.exec(field)
    return m ? list[Number(m[1])] : undefined
  }
}

function changeNote(orderId: string, events: NewEvent[]): string {
  const parts = events.map((e) => {
    if (e.type === 'OrderQuantityChanged') return `quantity ${e.data.from} → ${e.data.to}`
    if (e.type === 'OrderPlanChanged') return `priority ${e.data.priority}, due ${e.data.dueAt ?? 'none'}, planned start ${e.data.plannedStartAt ?? 'none'}`
    if (e.type === 'OrderCreated') return 're-planned before release (product, BOM, routing, line or serials changed)'
    return e.type
  })
  return `Order ${orderId}: ${parts.join('; ')}`
}

function defineRequest(d: DocumentDecision, req: RequestPlan, ctx: ApplyContext): void {
  if (req.cancelled) return cancelRequest(d, req)
  const derived: DerivedOrder | null = deriveOrder(d.view, req, d.problems, d.versions)
  if (!derived) return
  const once = <R>(key: string, decide: () => R | undefined) => {
    if (d.decided.has(key)) return true
    const ok = decide() !== undefined
    if (ok) d.decided.add(key)
    return ok
  }
  const { bom, routing } = derived
  const bomOk = once(`bom\n${bom.id}\n${bom.version}`, () => d.take(req.at, defineBom(d.view, bom), placeIn(derived.itemAt, /items\[(\d+)\]/)))
  const routingOk = once(`routing\n${routing.id}\n${routing.version}`, () => d.take(req.at, defineRouting(d.view, routing), placeIn(derived.operationAt, /operations\[(\d+)\]/)))
  if (!bomOk || !routingOk) return
  const before = d.events.length
  const outcome = d.take(req.at, defineOrder(d.view, derived.order), placeIn(derived.operationAt, /operations\[(\d+)\]/))
  if (!outcome) return
  const counts = d.applied.orders
  if (outcome.created) counts.created += 1
  else if (outcome.changed) {
    counts.changed += 1
    d.applied.changes.push(changeNote(req.orderId, d.events.slice(before)))
  } else counts.unchanged += 1
  const segments = req.segments.map((s, i) => ({
    seq: derived.routing.operations[i]!.seq,
    segmentId: s.segmentId,
    processSegmentId: s.processSegmentId,
    operationsDefinitionId: s.operationsDefinitionId,
    operationsSegmentId: s.operationsSegmentId,
  }))
  const record = { orderId: req.orderId, namespace: ctx.namespace, scheduleId: req.scheduleId, segments }
  d.afterAccept.push(() => ctx.records.saveOrder(record, ctx.documentId, ctx.now))
}

/** RequestState Cancelled: the order is cancelled by the single-writer rules (refused once work has started on it). */
function cancelRequest(d: DocumentDecision, req: RequestPlan): void {
  const existing = d.view.order(req.orderId)
  if (!existing || existing.state === 'cancelled') {
    d.applied.orders.unchanged += 1
    return
  }
  if (d.take(req.at, cancelOrder(d.view, req.orderId, 'Cancelled by ERP (B2MML RequestState Cancelled)')) !== undefined) {
    d.applied.orders.cancelled += 1
    d.applied.changes.push(`Order ${req.orderId}: cancelled`)
  }
}

/**
 * The decide function for one document. It runs inside the store's transaction: the events it
 * returns, the integration records written for them and the projections commit together, or
 * nothing does. `outcome` is filled when it has run.
 */
export function applyPlan(plan: IntakePlan, ctx: ApplyContext): { decide: Decide<Applied>; outcome: ApplyOutcome } {
  const outcome: ApplyOutcome = { problems: [], applied: null }
  const decide: Decide<Applied> = (view) => {
    const d = new DocumentDecision(view)
    defineMasterData(d, plan, ctx.records)
    d.duplicate('Request', plan.requests.map((r) => ({ id: r.orderId, at: r.at })))
    for (const req of plan.requests) defineRequest(d, req, ctx)
    outcome.problems = d.problems
    if (d.problems.length > 0) {
      const first = d.problems[0]!
      return refuse(reject('definition_invalid', `The document was refused as a whole: ${first.message}`, { problems: d.problems.length }))
    }
    for (const write of d.afterAccept) write()
    outcome.applied = d.applied
    return accept(d.events, d.applied)
  }
  return { decide, outcome }
}
