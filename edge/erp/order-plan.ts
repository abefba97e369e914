// A B2MML request as Takt master data and an order: its segments define a routing, its consumed materials a BOM, both under ids derived from the document.
import { canonicalJson } from '../core/canonical-json.ts'
import type { LineView } from '../core/line-view.ts'
import type { Bom, BomItem, ComponentRequirement, Routing, RoutingOperation } from '../core/model.ts'
import type { OrderRequest } from '../core/orders.ts'
import { createHash } from 'node:crypto'
import type { RequestPlan, SegmentPlan } from './plan.ts'
import { problemAt, type At, type Problem } from './read.ts'

export interface DerivedOrder {
  bom: Bom
  routing: Routing
  order: OrderRequest
  /** Where each routing operation and BOM item came from, to place a core refusal in the document. */
  operationAt: At[]
  itemAt: At[]
}

/** Per-unit figures (cycle time, quantity per unit) derived from ERP totals keep six significant digits. */
const perUnit = (total: number, quantity: number) => Number((total / quantity).toPrecision(6))

/**
 * A version that changes exactly when the content does: the same document always derives the
 * same one. Hashed over canonical JSON (key order cannot change it); the many orders of one
 * product that share a routing are recognised by their plain JSON first, which is much cheaper.
 */
export function contentVersion(value: unknown, memo?: Map<string, string>): string {
  const key = memo && JSON.stringify(value)
  const known = key !== undefined ? memo!.get(key) : undefined
  if (known) return known
  const version = 'h' + createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 12)
  if (key !== undefined) memo!.set(key, version)
  return version
}

const problem = (at: At, code: string, message: string): Problem => problemAt(at, code, 422, message)

/** Operation numbers: ERP's own when every segment ID is a whole number and they rise (SAP's 0010, 0020…), else 10, 20, 30. */
function sequenceOf(segments: SegmentPlan[]): number[] {
  const numbers = segments.map((s) => (/^\d{1,6}$/.test(s.segmentId) ? Number(s.segmentId) : Number.NaN))
  const rising = numbers.every((n, i) => Number.isFinite(n) && (i === 0 || n > numbers[i - 1]!))
  return rising ? numbers : segments.map((_, i) => (i + 1) * 10)
}

function components(s: SegmentPlan, quantity: number): ComponentRequirement[] {
  const totals = new Map<string, number>()
  for (const c of s.consumed) totals.set(c.materialId, (totals.get(c.materialId) ?? 0) + c.quantity)
  return [...totals].map(([materialId, total]) => ({ materialId, quantityPer: perUnit(total, quantity) }))
}

function operationOf(s: SegmentPlan, seq: number, quantity: number): RoutingOperation {
  const runS = s.durationS === null ? 0 : s.durationS - s.setupS
  return {
    seq,
    name: s.name,
    workCenterId: s.workCenterId,
    setupTimeS: s.setupS,
    idealCycleTimeS: runS > 0 ? perUnit(runS, quantity) : null,
    components: components(s, quantity),
    measurements: s.measurements,
    qualification: s.qualification,
    allowOverlap: false,
    instructions: s.instructions,
  }
}

/** The one material the request produces, and how many: the produced quantity of the last segment that names it. */
function productOf(req: RequestPlan, problems: Problem[]) {
  const produced = req.segments.flatMap((s) => s.produced)
  const materials = [...new Set(produced.map((p) => p.materialId))]
  if (materials.length !== 1) {
    problems.push(
      materials.length === 0
        ? problem(req.at, 'b2mml_element_missing', `Request ${req.orderId} produces nothing: a segment needs a produced material requirement (the order's product and quantity).`)
        : problem(req.at, 'b2mml_unmappable', `Request ${req.orderId} produces ${materials.join(', ')}; a Takt order makes one product.`),
    )
    return null
  }
  const last = produced.at(-1)!
  if (!Number.isInteger(last.quantity) || last.quantity > 1e7) {
    problems.push(problem(last.at, 'b2mml_value_invalid', `The produced quantity of request ${req.orderId} must be a whole number of at most 10,000,000, not ${last.quantity}.`))
    return null
  }
  return last
}

/** Within 1 %: a resent order whose totals ERP rounded differently keeps its routing instead of counting as a routing change. */
const close = (a: number | null, b: number | null) => a === b || (a !== null && b !== null && Math.abs(a - b) <= 0.01 * Math.max(Math.abs(a), Math.abs(b)))

function sameShape(a: Routing, b: Routing): boolean {
  if (a.productId !== b.productId || a.operations.length !== b.operations.length) return false
  const shape = (op: RoutingOperation) => canonicalJson({ ...op, idealCycleTimeS: null, components: op.components.map((c) => c.materialId) })
  return a.operations.every((x, i) => {
    const y = b.operations[i]!
    return shape(x) === shape(y) && close(x.idealCycleTimeS, y.idealCycleTimeS) && x.components.every((c, j) => close(c.quantityPer, y.components[j]!.quantityPer))
  })
}

function sameBom(a: Bom, b: Bom): boolean {
  return a.productId === b.productId && a.items.length === b.items.length && a.items.every((x, i) => x.materialId === b.items[i]!.materialId && close(x.quantityPer, b.items[i]!.quantityPer))
}

export function deriveOrder(view: LineView, req: RequestPlan, problems: Problem[], versions?: Map<string, string>): DerivedOrder | null {
  const product = productOf(req, problems)
  if (!product) return null
  const quantity = product.quantity
  const seqs = sequenceOf(req.segments)
  const operations = req.segments.map((s, i) => operationOf(s, seqs[i]!, quantity))
  const itemTotals = new Map<string, { total: number; at: At }>()
  for (const c of req.segments.flatMap((s) => s.consumed)) {
    const entry = itemTotals.get(c.materialId)
    itemTotals.set(c.materialId, { total: (entry?.total ?? 0) + c.quantity, at: entry?.at ?? c.at })
  }
  const items: BomItem[] = [...itemTotals].map(([materialId, { total }]) => ({ materialId, quantityPer: perUnit(total, quantity), alternates: [] }))
  const productId = product.materialId
  const routingId = `B2MML:${req.routingKey ?? productId}`
  const bomId = `B2MML:${productId}`
  if (routingId.length > 128 || bomId.length > 128) {
    problems.push(problem(req.at, 'b2mml_value_invalid', `The routing and BOM ids Takt derives for request ${req.orderId} (${routingId}) are longer than 128 characters.`))
    return null
  }
  let routing: Routing = { id: routingId, version: contentVersion({ productId, operations }, versions), productId, operations }
  let bom: Bom = { id: bomId, version: contentVersion({ productId, items }, versions), productId, items }
  const existing = view.order(req.orderId)
  if (existing) {
    const current = view.routing(existing.routingId, existing.routingVersion)
    if (current && current.id === routing.id && sameShape(current, routing)) routing = current
    const currentBom = view.bom(existing.bomId, existing.bomVersion)
    if (currentBom && currentBom.id === bom.id && sameBom(currentBom, bom)) bom = currentBom
  }
  const lineId = req.lineId ?? view.equipment(req.segments[0]?.workCenterId ?? '')?.parentId ?? null
  if (lineId === null) {
    const first = req.segments[0]
    problems.push(problem(first?.workCenterAt ?? req.lineAt, 'reference_unknown', `Takt cannot tell the line of request ${req.orderId}: name it in the request's HierarchyScope, or define work center '${first?.workCenterId ?? '?'}' first.`))
    return null
  }
  const starts = req.segments.flatMap((s) => (s.earliestStart ? [s.earliestStart] : [])).sort()
  const ends = req.segments.flatMap((s) => (s.latestEnd ? [s.latestEnd] : [])).sort()
  const order: OrderRequest = {
    id: req.orderId,
    productId,
    quantity,
    serials: product.serials,
    bomId: bom.id,
    bomVersion: bom.version,
    routingId: routing.id,
    routingVersion: routing.version,
    lineId,
    priority: req.priority,
    dueAt: ends.at(-1) ?? req.endTime,
    plannedStartAt: starts[0] ?? req.startTime,
    outputLot: product.lotId,
  }
  return { bom, routing, order, operationAt: req.segments.map((s) => s.at), itemAt: [...itemTotals.values()].map((v) => v.at) }
}
