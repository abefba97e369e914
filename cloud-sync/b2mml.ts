// ERP's B2MML intake at the cloud: a document read by the gateway's own B2MML reader, mapped to the line's definitions (equipment, materials, people, lots, BOMs, routings, orders).
import { and, eq, inArray } from 'drizzle-orm'
import type { LineView } from '../edge/core/line-view.ts'
import type { Bom, Equipment, EquipmentLevel, Order, Routing } from '../edge/core/model.ts'
import { openDocument } from '../edge/erp/envelope.ts'
import { readPlan } from '../edge/erp/intake.ts'
import { deriveOrder } from '../edge/erp/order-plan.ts'
import { emptyPlan, levelUnder, unplaceableWorkCenter, type IntakePlan } from '../edge/erp/plan.ts'
import { problemAt, Reader, type At, type Problem } from '../edge/erp/read.ts'
import type { CloudOrm } from './database.ts'
import { checkDefinition, keyOf, type Definition, type DefinitionKind } from './definitions.ts'
import * as schema from './schema.ts'

export type B2mmlRead =
  | { ok: true; definitions: Definition[]; orders: number; notes: string[]; version: string; noun: string }
  | { ok: false; status: number; problems: Problem[] }

/** What the line already holds that a document's mapping needs: parents of equipment, lots of sublots, the routing and BOM of an order sent again. */
interface Held {
  equipment: Map<string, Equipment>
  lots: Map<string, { materialId: string }>
  orders: Map<string, Order>
  routings: Map<string, Routing>
  boms: Map<string, Bom>
}

const notHeld = (what: string) => () => {
  throw new Error(`${what} is not held centrally`)
}

/**
 * The line as the gateway's order derivation sees it: the definitions the cloud holds for it and
 * those of the document so far. Only definitions are here; the cloud has no execution state.
 */
function viewOf(held: Held): LineView {
  return {
    equipment: (id) => held.equipment.get(id),
    material: () => undefined,
    bom: (id, version) => held.boms.get(`${id}/${version}`),
    routing: (id, version) => held.routings.get(`${id}/${version}`),
    person: () => undefined,
    lot: () => undefined,
    order: (id) => held.orders.get(id),
    operations: () => [],
    unit: notHeld('a unit'),
    run: notHeld('a run'),
    unitRun: notHeld('a run'),
    consumedOnRun: notHeld('a run'),
    measuredOnRun: notHeld('a run'),
    runningRunAt: notHeld('a run'),
    workCenterState: notHeld("a work center's state"),
    heldUnits: notHeld('a unit'),
    dispatchableAt: notHeld('the dispatch list'),
  }
}

/** Reads the line's stored definitions of the kinds and keys a plan refers to: a handful of statements whatever the document's size. */
async function readHeld(orm: CloudOrm, lineId: string, plan: IntakePlan): Promise<Held> {
  const d = schema.lineDefinitions
  const read = async (kind: DefinitionKind, keys: string[]) => {
    if (keys.length === 0) return []
    const rows = await orm.select({ key: d.key, body: d.body }).from(d).where(and(eq(d.lineId, lineId), eq(d.kind, kind), inArray(d.key, [...new Set(keys)])))
    return rows.map((r) => JSON.parse(r.body) as Record<string, unknown>)
  }
  const equipmentIds = [...plan.equipment.flatMap((e) => (e.value.parentId === null ? [] : [e.value.parentId])), ...plan.requests.flatMap((r) => r.segments.map((s) => s.workCenterId))]
  const held: Held = { equipment: new Map(), lots: new Map(), orders: new Map(), routings: new Map(), boms: new Map() }
  for (const e of await read('equipment', equipmentIds)) held.equipment.set(String(e.id), e as unknown as Equipment)
  for (const l of await read('lot', plan.lots.flatMap((l) => (l.parentLotId === null ? [] : [l.parentLotId])))) held.lots.set(String(l.id), { materialId: String(l.materialId) })
  const orders = await read('order', plan.requests.map((r) => r.orderId))
  for (const o of orders) held.orders.set(String(o.id), o as unknown as Order)
  for (const r of await read('routing', orders.map((o) => `${String(o.routingId)}/${String(o.routingVersion)}`))) held.routings.set(`${String(r.id)}/${String(r.version)}`, r as unknown as Routing)
  for (const b of await read('bom', orders.map((o) => `${String(o.bomId)}/${String(o.bomVersion)}`))) held.boms.set(`${String(b.id)}/${String(b.version)}`, b as unknown as Bom)
  return held
}

class Mapping {
  readonly definitions: Definition[] = []
  readonly problems: Problem[] = []
  readonly #seen = new Map<string, string>()

  /** A definition checked by the gateway's own schema, refused at the element it came from. */
  add(kind: DefinitionKind, body: Record<string, unknown>, at: At): boolean {
    const checked = checkDefinition(kind, body)
    if (!checked.ok) {
      for (const issue of checked.errors.slice(0, 3)) this.problems.push(problemAt(at, 'b2mml_value_invalid', 422, `The ${kind} Takt reads here is not valid: ${issue.path}: ${issue.message}`))
      return false
    }
    const key = keyOf(kind, checked.body)
    const id = `${kind}\n${key}`
    // A derived routing or BOM shared by many orders of one product is one definition.
    const before = this.#seen.get(id)
    if (before !== undefined) {
      if (before !== JSON.stringify(checked.body) && kind !== 'routing' && kind !== 'bom') this.problems.push(problemAt(at, 'b2mml_duplicate', 422, `${kind} '${key}' appears twice in the document; send each once.`))
      return true
    }
    this.#seen.set(id, JSON.stringify(checked.body))
    this.definitions.push({ kind, key, body: checked.body })
    return true
  }
}

function mapMasterData(m: Mapping, plan: IntakePlan, held: Held): void {
  // Parents first, whatever order the document listed them in; a WorkCenter's level follows from its parent's.
  for (const item of [...plan.equipment].sort((a, b) => a.rank - b.rank)) {
    let level: EquipmentLevel | 'by-parent' = item.value.level
    if (level === 'by-parent') {
      const placed = levelUnder(item.value.parentId === null ? undefined : held.equipment.get(item.value.parentId))
      if (placed === null) {
        m.problems.push(problemAt(item.at, 'b2mml_unmappable', 422, unplaceableWorkCenter(item.value.parentId)))
        continue
      }
      level = placed
    }
    const equipment = { ...item.value, level } as Equipment
    if (m.add('equipment', { ...equipment }, item.at)) held.equipment.set(equipment.id, equipment)
  }
  for (const x of plan.materials) m.add('material', { ...x.value }, x.at)
  for (const p of plan.people) m.add('person', { ...p.value }, p.at)
  for (const l of plan.lots) {
    const materialId = l.value.materialId ?? (l.parentLotId === null ? undefined : held.lots.get(l.parentLotId)?.materialId)
    if (materialId === undefined) {
      m.problems.push(problemAt(l.at, 'reference_unknown', 422, `Sublot '${l.value.id}' belongs to lot '${l.parentLotId}', which the line does not hold; send the lot first, or the sublot inside it.`))
      continue
    }
    if (m.add('lot', { ...l.value, materialId }, l.at)) held.lots.set(l.value.id, { materialId })
  }
}

function mapRequests(m: Mapping, plan: IntakePlan, held: Held, lineId: string): number {
  const view = viewOf(held)
  const versions = new Map<string, string>()
  const ids = new Set<string>()
  let orders = 0
  for (const req of plan.requests) {
    if (ids.has(req.orderId)) {
      m.problems.push(problemAt(req.at, 'b2mml_duplicate', 422, `Request '${req.orderId}' appears twice in the document; send each once.`))
      continue
    }
    ids.add(req.orderId)
    if (req.cancelled) {
      // A definition on the line's shape replaces the one before; there is no cancel on it.
      m.problems.push(problemAt(req.at, 'b2mml_unmappable', 422, `Request '${req.orderId}' is cancelled (RequestState Cancelled): through the cloud an order is cancelled on its gateway (POST /api/v1/orders/{id}/cancel or B2MML sent to the gateway).`))
      continue
    }
    const derived = deriveOrder(view, req, m.problems, versions)
    if (!derived) continue
    if (derived.order.lineId !== lineId) {
      m.problems.push(problemAt(req.lineAt, 'b2mml_unmappable', 422, `Request '${req.orderId}' is for line '${derived.order.lineId}', not '${lineId}': post it to that line's intake.`))
      continue
    }
    const ok = m.add('bom', { ...derived.bom }, req.at) && m.add('routing', { ...derived.routing }, req.at) && m.add('order', { ...derived.order }, req.at)
    if (ok) orders += 1
  }
  return orders
}

/**
 * Reads one B2MML document for a line as the gateway would read it, and maps it to definitions of
 * that line. Every problem is listed with the element's path, line and column; any problem refuses
 * the whole document.
 */
export async function readB2mml(orm: CloudOrm, lineId: string, text: string): Promise<B2mmlRead> {
  const opened = openDocument(text)
  if (!opened.ok) return { ok: false, status: opened.problems[0]?.status ?? 422, problems: opened.problems }
  const { envelope } = opened
  if (envelope.kind.kind === 'get-performance') {
    return { ok: false, status: 422, problems: [problemAt({ path: `/${envelope.root.name}`, line: envelope.root.line, column: envelope.root.column }, 'b2mml_document_unsupported', 422, `The cloud holds no performance; send Get${envelope.kind.noun} to the line's gateway.`)] }
  }
  const reader = new Reader(envelope.version.namespace)
  const plan = readPlan(envelope, reader, emptyPlan())
  if (reader.problems.length > 0) return { ok: false, status: reader.problems[0]!.status, problems: reader.problems }
  const held = await readHeld(orm, lineId, plan)
  const m = new Mapping()
  mapMasterData(m, plan, held)
  const orders = mapRequests(m, plan, held, lineId)
  if (m.problems.length > 0) return { ok: false, status: m.problems[0]!.status, problems: m.problems }
  if (m.definitions.length === 0) return { ok: false, status: 422, problems: [problemAt({ path: `/${envelope.root.name}`, line: envelope.root.line, column: envelope.root.column }, 'b2mml_element_missing', 422, 'The document holds nothing Takt keeps: no equipment, material, lot, person or request.')] }
  const notes = [...plan.ignored].map(([what, count]) => `Not kept: ${what} (${count}).`)
  return { ok: true, definitions: m.definitions, orders, notes, version: envelope.version.release, noun: envelope.kind.noun }
}
