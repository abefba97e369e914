// B2MML schedules read into order requests: a ProductionRequest / OperationsRequest is an order, each SegmentRequirement one of its operations.
import type { MeasurementSpec } from '../core/model.ts'
import type { Family } from './b2mml.ts'
import { secondsIn } from './intake-master.ts'
import { ignore, type IntakePlan, type MaterialNeed, type RequestPlan, type SegmentPlan } from './plan.ts'
import { atOf, clip, type Reader } from './read.ts'
import type { XmlElement } from './xml.ts'

/** The element names that differ between the two families; the rest of a segment reads the same. */
const names: Record<Family, { request: string; parameter: string; child: string; legacyMaterials: boolean }> = {
  production: { request: 'ProductionRequest', parameter: 'ProductionParameter', child: 'SegmentRequirement', legacyMaterials: true },
  operations: { request: 'OperationsRequest', parameter: 'SegmentParameter', child: 'SegmentRequirementChild', legacyMaterials: false },
}

type Use = 'consumed' | 'produced' | 'consumable' | 'unmappable'

const uses: Array<[RegExp, Use]> = [
  [/^(?:consumed|material consumed)$/i, 'consumed'],
  [/^(?:produced|material produced|yield produced)$/i, 'produced'],
  [/^consumable$/i, 'consumable'],
]

/** Reads a schedule's requests — those not already read one by one while the document streamed in. */
export function readSchedule(r: Reader, family: Family, schedule: XmlElement, plan: IntakePlan): void {
  const name = names[family].request
  if ((schedule.counts?.[name] ?? 0) === 0) r.problem(schedule, 'b2mml_element_missing', `${schedule.name} needs at least one ${name}: each is an order.`)
  for (const req of r.all(schedule, name)) readScheduledRequest(r, family, req, plan)
}

/** A request inside its schedule: the schedule's ID comes before its requests (schema order), so it is known when the request closes. */
export function readScheduledRequest(r: Reader, family: Family, req: XmlElement, plan: IntakePlan): void {
  const schedule = req.parent
  let id = schedule ? scheduleIds.get(schedule) : null
  if (schedule && id === undefined) scheduleIds.set(schedule, (id = r.id(schedule, 'ID', null) ?? null))
  readRequest(r, family, req, id ?? null, plan)
}

/** Read once per schedule, not once per request. */
const scheduleIds = new WeakMap<XmlElement, string | null>()

export const requestElement = (family: Family) => names[family].request

export function readRequest(r: Reader, family: Family, el: XmlElement, scheduleId: string | null, plan: IntakePlan): void {
  const orderId = r.id(el, 'ID', 'it is the order number')
  const scope = r.one(el, 'HierarchyScope') ?? r.one(el, 'Location')
  const lineId = scope ? (r.id(scope, 'EquipmentID', null) ?? null) : null
  const operationsType = r.text(el, 'OperationsType')
  if (operationsType !== undefined && !/^production$/i.test(operationsType)) {
    r.problem(r.one(el, 'OperationsType')!, 'b2mml_unmappable', `Takt runs production operations; a ${clip(operationsType)} request has no place on the line.`)
  }
  const priority = priorityOf(r, el)
  const state = r.text(el, 'RequestState')
  const routingKey = r.id(el, family === 'production' ? 'ProductProductionRuleID' : 'OperationsDefinitionID', null) ?? null
  const segments: SegmentPlan[] = []
  const elements = r.all(el, 'SegmentRequirement')
  if (elements.length === 0 && state === undefined) r.problem(el, 'b2mml_element_missing', `${el.name} needs at least one SegmentRequirement: each is an operation of the order.`)
  const seen = new Set<string>()
  elements.forEach((s, i) => {
    const segment = readSegment(r, family, s, i, plan)
    if (!segment) return
    if (seen.has(segment.segmentId)) r.problem(s, 'b2mml_duplicate', `Segment ${segment.segmentId} appears twice in request ${orderId ?? '?'}.`)
    seen.add(segment.segmentId)
    segments.push(segment)
  })
  if (orderId === undefined || priority === null) return
  plan.requests.push({
    at: atOf(el),
    orderId,
    scheduleId,
    routingKey,
    priority,
    startTime: r.dateTime(el, 'StartTime'),
    endTime: r.dateTime(el, 'EndTime'),
    lineId,
    lineAt: atOf(scope ?? el),
    cancelled: state !== undefined && /^cancell?ed$/i.test(state),
    segments,
  })
}

function priorityOf(r: Reader, el: XmlElement): number | null {
  const target = r.one(el, 'Priority')
  const text = r.text(target)
  if (text === undefined) return 500
  const n = Number(text)
  if (!/^\d+$/.test(text) || n > 1000) {
    r.problem(target!, 'b2mml_value_invalid', `Priority '${clip(text)}' must be a whole number from 0 (first) to 1000.`)
    return null
  }
  return n
}

function readSegment(r: Reader, family: Family, el: XmlElement, index: number, plan: IntakePlan): SegmentPlan | null {
  const n = names[family]
  const segmentId = family === 'operations' ? r.id(el, 'ID', 'it identifies the operation in the performance sent back') : (r.id(el, 'ID', null) ?? String((index + 1) * 10))
  const processSegmentId = r.text(el, 'ProcessSegmentID') ?? null
  const descriptions = r.texts(el, 'Description')
  const workCenter = workCenterOf(r, el)
  const parameters = r.all(el, n.parameter).map((p) => (family === 'production' ? (r.one(p, 'Parameter') ?? p) : p))
  const { setupS, measurements, notes } = readParameters(r, parameters)
  const durationEl = r.one(el, 'Duration')
  const durationText = r.text(durationEl)
  const durationS = durationText === undefined ? null : r.duration(durationEl!, durationText)
  const materials = readMaterials(r, el, n.legacyMaterials, plan)
  for (const child of r.all(el, n.child)) r.problem(child, 'b2mml_unmappable', 'Takt routings are flat: send child segments as segments of the request.')
  for (const pa of r.all(el, 'PhysicalAssetRequirement')) r.problem(pa, 'b2mml_unmappable', 'Takt does not schedule physical assets; name the work center in an EquipmentRequirement.')
  const qualification = qualificationOf(r, el)
  if (segmentId === undefined || workCenter === undefined || qualification === undefined) return null
  const name = (descriptions[0] ?? processSegmentId ?? `Segment ${segmentId}`).slice(0, 200)
  const instructions = [...descriptions.slice(1), ...notes].join('\n').slice(0, 10_000)
  return {
    at: atOf(el),
    segmentId,
    processSegmentId,
    operationsDefinitionId: r.text(el, 'OperationsDefinitionID') ?? null,
    operationsSegmentId: r.text(el, 'OperationsSegmentID') ?? null,
    name,
    instructions,
    workCenterId: workCenter.id,
    workCenterAt: workCenter.at,
    setupS,
    durationS,
    consumed: materials.consumed,
    produced: materials.produced,
    measurements,
    qualification,
    earliestStart: r.dateTime(el, 'EarliestStartTime'),
    latestEnd: r.dateTime(el, 'LatestEndTime'),
  }
}

/** Exactly one named piece of equipment: the work center the operation runs on. */
function workCenterOf(r: Reader, el: XmlElement): { id: string; at: SegmentPlan['workCenterAt'] } | undefined {
  const reqs = r.all(el, 'EquipmentRequirement')
  const ids = reqs.flatMap((q) => r.ids(q, 'EquipmentID').map((id) => ({ id, q })))
  if (ids.length === 1) return { id: ids[0]!.id, at: atOf(ids[0]!.q) }
  if (ids.length > 1) r.problem(reqs[0]!, 'b2mml_unmappable', `The segment names ${ids.length} pieces of equipment (${ids.map((x) => x.id).join(', ')}); a Takt operation runs on exactly one work center.`)
  else if (reqs.some((q) => r.all(q, 'EquipmentClassID').length > 0)) r.problem(reqs[0]!, 'b2mml_unmappable', 'Takt runs an operation on a named work center, not an equipment class: send its EquipmentID.')
  else r.problem(el, 'b2mml_element_missing', 'SegmentRequirement needs an EquipmentRequirement with an EquipmentID: the work center the operation runs on.')
  return undefined
}

/** At most one personnel class: the qualification an operator must hold. Named persons are not assigned by ERP. */
function qualificationOf(r: Reader, el: XmlElement): string | null | undefined {
  const classes: string[] = []
  let ok = true
  for (const p of r.all(el, 'PersonnelRequirement')) {
    if (r.all(p, 'PersonID').length > 0) {
      r.problem(p, 'b2mml_unmappable', 'Takt does not assign operations to named persons; send the PersonnelClassID of the qualification needed.')
      ok = false
    }
    classes.push(...r.ids(p, 'PersonnelClassID'))
  }
  if (classes.length > 1) {
    r.problem(r.all(el, 'PersonnelRequirement')[0]!, 'b2mml_unmappable', `The segment asks for ${classes.length} personnel classes (${classes.join(', ')}); a Takt operation requires at most one qualification.`)
    return undefined
  }
  return ok ? (classes[0] ?? null) : undefined
}

/**
 * Parameters Takt understands: SetupTime (a duration, or a number in s, min or h), and
 * measurements to take (a parameter whose Values carry the Keys LowerLimit / UpperLimit, or
 * Measurement, with a UnitOfMeasure). Any other parameter goes into the operator's instructions.
 */
function readParameters(r: Reader, parameters: XmlElement[]): { setupS: number; measurements: MeasurementSpec[]; notes: string[] } {
  let setupS = 0
  const measurements: MeasurementSpec[] = []
  const notes: string[] = []
  for (const p of parameters) {
    const id = r.text(p, 'ID')
    const values = r.values(p)
    if (id === undefined) {
      r.problem(p, 'b2mml_element_missing', 'A parameter needs an ID.')
      continue
    }
    if (/^setup(?:time)?$/i.test(id)) {
      const v = values[0]
      const s = !v ? null : v.value.startsWith('P') ? r.duration(v.el, v.value) : secondsIn(r, v.el, v.value, v.uom)
      if (s !== null) setupS = s
      continue
    }
    const keyed = values.filter((v) => /^(?:lowerlimit|upperlimit|measurement)$/i.test(v.key ?? ''))
    if (keyed.length > 0) {
      const spec = measurementOf(r, p, id, keyed)
      if (spec) measurements.push(spec)
      continue
    }
    notes.push(`${id}: ${values.map((v) => `${v.value}${v.uom ? ` ${v.uom}` : ''}`).join(', ')}`)
  }
  return { setupS, measurements, notes }
}

function measurementOf(r: Reader, p: XmlElement, name: string, values: ReturnType<Reader['values']>): MeasurementSpec | null {
  const unit = values.find((v) => v.uom)?.uom
  if (!unit) {
    r.problem(p, 'b2mml_element_missing', `Measurement '${clip(name)}' needs a UnitOfMeasure on its Value: an operator records it in that unit.`)
    return null
  }
  const limit = (key: RegExp) => {
    const v = values.find((x) => key.test(x.key ?? ''))
    return v ? r.decimal(v.el, v.value, `${v.key}`) : null
  }
  const lower = limit(/^lowerlimit$/i)
  const upper = limit(/^upperlimit$/i)
  if (lower !== null && upper !== null && lower > upper) {
    r.problem(p, 'b2mml_value_invalid', `Measurement '${clip(name)}' has its lower limit ${lower} above its upper limit ${upper}.`)
    return null
  }
  return { name: name.slice(0, 100), unit: unit.slice(0, 20), lower, upper }
}

function useOf(r: Reader, m: XmlElement): Use {
  const target = r.one(m, 'MaterialUse')
  const text = r.text(target)
  if (text === undefined) {
    r.problem(m, 'b2mml_element_missing', 'MaterialRequirement needs a MaterialUse (Consumed or Produced): Takt must tell components from the product.')
    return 'unmappable'
  }
  const found = uses.find(([pattern]) => pattern.test(text))
  if (!found) r.problem(target!, 'b2mml_unmappable', `MaterialUse '${clip(text)}' cannot be mapped: a Takt order consumes components and produces one product (co- and by-products are not kept).`)
  return found ? found[1] : 'unmappable'
}

function readNeed(r: Reader, m: XmlElement, produced: boolean, plan: IntakePlan): MaterialNeed | null {
  const ids = r.ids(m, 'MaterialDefinitionID')
  if (ids.length !== 1) {
    if (ids.length > 1) r.problem(m, 'b2mml_unmappable', `A material requirement names ${ids.length} materials; name exactly one MaterialDefinitionID.`)
    else if (r.all(m, 'MaterialClassID').length > 0) r.problem(m, 'b2mml_unmappable', 'Takt needs the material itself, not a material class: send its MaterialDefinitionID.')
    else r.problem(m, 'b2mml_element_missing', `${m.name} needs a MaterialDefinitionID: the material it ${produced ? 'produces' : 'consumes'}.`)
    return null
  }
  const q = r.quantity(m, produced ? 'it is the order quantity' : 'it is how much the operation takes')
  const lots = r.ids(m, 'MaterialLotID')
  if (!produced && lots.length > 0) ignore(plan, 'MaterialLotID on a consumed requirement (Takt checks the lot scanned at the machine instead of reserving one)')
  if (q === null) return null
  if (q.value <= 0) {
    r.problem(q.el, 'b2mml_value_invalid', `A required quantity must be above zero, not ${q.value}.`)
    return null
  }
  return { at: atOf(m), materialId: ids[0]!, quantity: q.value, lotId: produced ? (lots[0] ?? null) : null, serials: produced ? r.ids(m, 'MaterialSubLotID') : [] }
}

function readMaterials(r: Reader, el: XmlElement, legacy: boolean, plan: IntakePlan): { consumed: MaterialNeed[]; produced: MaterialNeed[] } {
  const consumed: MaterialNeed[] = []
  const produced: MaterialNeed[] = []
  const add = (m: XmlElement, use: Use) => {
    if (use === 'consumable') return ignore(plan, 'consumables (Takt does not track them)')
    if (use === 'unmappable') return
    const need = readNeed(r, m, use === 'produced', plan)
    if (need) (use === 'produced' ? produced : consumed).push(need)
  }
  for (const m of r.all(el, 'MaterialRequirement')) add(m, useOf(r, m))
  if (legacy) {
    for (const m of r.all(el, 'MaterialConsumedRequirement')) add(m, 'consumed')
    for (const m of r.all(el, 'MaterialProducedRequirement')) add(m, 'produced')
    for (const _ of r.all(el, 'ConsumableExpectedRequirement')) add(el, 'consumable')
  }
  return { consumed, produced }
}
