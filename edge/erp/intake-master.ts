// B2MML master data read into Takt definitions: MaterialDefinition, MaterialLot / MaterialSubLot, Equipment (hierarchy), Person.
import type { EquipmentLevel, LotStatus, Qualification, Role } from '../core/model.ts'
import { ignore, type IntakePlan } from './plan.ts'
import { atOf, clip, type Reader } from './read.ts'
import type { XmlElement } from './xml.ts'

const uomProperty = /^(?:base)?unit ?of ?measure$|^uom$/i
const expiryProperty = /^(?:expiration|expiry|shelflifeexpiration)(?:date|time)?$|^bestbefore(?:date)?$/i

const lotStatus: Array<[RegExp, LotStatus]> = [
  [/^(?:released|approved|available|unrestricted|accepted)$/i, 'released'],
  [/^(?:quarantined?|blocked|on ?hold|hold|held|restricted|pending|in ?inspection|quality ?inspection|sampled)$/i, 'quarantined'],
  [/^(?:rejected|scrapped|expired)$/i, 'rejected'],
]

/** Person properties and personnel classes that name a Takt role; anything else is a qualification. */
const roleNames: Record<string, Role> = { operator: 'operator', lead: 'lead', linelead: 'lead', quality: 'quality', maintenance: 'maintenance' }

export function readMaterialDefinition(r: Reader, el: XmlElement, plan: IntakePlan): void {
  const id = r.id(el, 'ID', 'the material number')
  let uom: string | undefined
  let serialized = false
  for (const p of r.all(el, 'MaterialDefinitionProperty')) {
    const pid = r.text(p, 'ID') ?? ''
    const [v] = r.values(p)
    if (uomProperty.test(pid)) uom = (v?.value || v?.uom) ?? undefined
    else if (/^serialized$/i.test(pid)) serialized = /^(?:true|1|yes)$/i.test(v?.value ?? '')
  }
  if (!uom) {
    r.problem(el, 'b2mml_element_missing', `MaterialDefinition${id ? ` '${id}'` : ''} needs a MaterialDefinitionProperty with ID UnitOfMeasure: Takt keeps a unit of measure for every material.`)
    return
  }
  if (id === undefined) return
  plan.materials.push({ at: atOf(el), value: { id, name: (r.description(el) ?? id).slice(0, 200), uom: uom.slice(0, 20), serialized } })
}

function statusOf(r: Reader, el: XmlElement, inherited: LotStatus | null): LotStatus | null {
  const target = r.one(el, 'Status')
  const text = r.text(target)
  if (text === undefined) {
    if (inherited) return inherited
    r.problem(el, 'b2mml_element_missing', `${el.name} needs a Status: Takt must know whether the lot may be used (Released, Quarantined or Rejected).`)
    return null
  }
  const found = lotStatus.find(([pattern]) => pattern.test(text))
  if (!found) r.problem(target!, 'b2mml_value_invalid', `Status '${clip(text)}' is not one Takt knows: use Released, Quarantined (or Blocked, OnHold) or Rejected.`)
  return found ? found[1] : null
}

function expiryOf(r: Reader, el: XmlElement, inherited: string | null): string | null {
  for (const p of r.all(el, 'MaterialLotProperty')) {
    if (!expiryProperty.test(r.text(p, 'ID') ?? '')) continue
    const v = r.one(p, 'Value')
    return v ? r.dateTime(v, 'ValueString') : null
  }
  return inherited
}

function quantityOf(r: Reader, el: XmlElement): number | null {
  const q = r.quantity(el, 'Takt keeps the quantity on hand of every lot')
  if (q === null) return null
  if (q.value < 0) r.problem(q.el, 'b2mml_value_invalid', `A lot quantity cannot be negative (${q.value}).`)
  return q.value < 0 ? null : q.value
}

/**
 * A lot, and its sublots as Takt lots of their own (operators scan the sublot's label). The lot
 * keeps what its sublots do not hold: its quantity less theirs, so nothing is counted twice.
 */
export function readMaterialLot(r: Reader, el: XmlElement, plan: IntakePlan): void {
  const id = r.id(el, 'ID', 'the lot number')
  const materialId = r.id(el, 'MaterialDefinitionID', 'a Takt lot is of one material')
  const status = statusOf(r, el, null)
  const expiresAt = expiryOf(r, el, null)
  const quantity = quantityOf(r, el)
  let inSublots = 0
  for (const sub of r.all(el, 'MaterialSubLot')) {
    const q = readMaterialSubLot(r, sub, plan, { lotId: id ?? null, materialId: materialId ?? null, status, expiresAt })
    inSublots += q ?? 0
  }
  if (id === undefined || materialId === undefined || status === null || quantity === null) return
  plan.lots.push({ at: atOf(el), value: { id, materialId, status, expiresAt, quantity: Math.max(0, quantity - inSublots) }, parentLotId: null })
}

interface LotContext {
  lotId: string | null
  materialId: string | null
  status: LotStatus | null
  expiresAt: string | null
}

/** A sublot inside its lot, or on its own naming its lot by MaterialLotID (the lot must then be on the line already). */
export function readMaterialSubLot(r: Reader, el: XmlElement, plan: IntakePlan, parent: LotContext | null): number | null {
  const id = r.id(el, 'ID', 'the sublot number')
  const lotId = parent ? parent.lotId : (r.id(el, 'MaterialLotID', 'the lot this sublot belongs to') ?? null)
  const status = statusOf(r, el, parent?.status ?? null)
  const expiresAt = expiryOf(r, el, parent?.expiresAt ?? null)
  const quantity = quantityOf(r, el)
  for (const nested of r.all(el, 'MaterialSubLot')) r.problem(nested, 'b2mml_unmappable', 'Takt keeps one level of sublots; send nested sublots as sublots of the lot.')
  if (id === undefined || lotId === null || status === null || quantity === null) return quantity
  plan.lots.push({ at: atOf(el), value: { id, materialId: parent?.materialId ?? null, status, expiresAt, quantity }, parentLotId: lotId })
  return quantity
}

const levelNames: Record<string, EquipmentLevel | 'enterprise' | 'by-parent'> = {
  enterprise: 'enterprise',
  site: 'site',
  area: 'area',
  productionline: 'line',
  processcell: 'line',
  productionunit: 'line',
  storagezone: 'line',
  workcell: 'work_center',
  unit: 'work_center',
  workunit: 'work_center',
  storageunit: 'work_center',
  workcenter: 'by-parent',
}
const rankOf: Record<EquipmentLevel, number> = { site: 0, area: 1, line: 2, work_center: 3 }

/** The level text: V0600 writes it as the element's text, V0700 as a HierarchyScope with an EquipmentLevel inside. */
function levelText(r: Reader, el: XmlElement): { text: string; el: XmlElement } | null {
  const holder = r.one(el, 'EquipmentLevel') ?? r.one(el, 'EquipmentElementLevel')
  if (!holder) return null
  const inner = r.one(holder, 'EquipmentLevel') ?? r.one(holder, 'EquipmentElementLevel')
  const text = r.text(inner ?? holder)
  return text === undefined ? null : { text, el: inner ?? holder }
}

function ratedCycleTime(r: Reader, el: XmlElement): number | null {
  for (const p of r.all(el, 'EquipmentProperty')) {
    if (!/^ratedcycletime$/i.test(r.text(p, 'ID') ?? '')) continue
    const [v] = r.values(p)
    if (!v) return null
    const seconds = v.value.startsWith('P') ? r.duration(v.el, v.value) : secondsIn(r, v.el, v.value, v.uom)
    return seconds !== null && seconds > 0 ? seconds : null
  }
  return null
}

export function secondsIn(r: Reader, el: XmlElement, value: string, uom: string | null): number | null {
  const n = r.decimal(el, value, 'A time')
  if (n === null) return null
  const factor = { s: 1, sec: 1, min: 60, h: 3600, hr: 3600 }[(uom ?? 's').toLowerCase()]
  if (factor === undefined) {
    r.problem(el, 'b2mml_value_invalid', `Unit '${uom}' is not a unit of time Takt reads (s, min, h).`)
    return null
  }
  return n * factor
}

type ParentEquipment = { id: string; level: EquipmentLevel | null }

/** A WorkCenter's Takt level from its parent's: a line under an area, a work center under a line. */
function byParent(r: Reader, at: XmlElement, parent: ParentEquipment | null): EquipmentLevel | 'by-parent' | null {
  if (!parent || parent.level === null) return 'by-parent'
  if (parent.level === 'area') return 'line'
  if (parent.level === 'line') return 'work_center'
  r.problem(at, 'b2mml_unmappable', `A WorkCenter under a ${parent.level} has no place in Takt's hierarchy (site, area, line, work center).`)
  return null
}

/** One piece of equipment and, recursively, the equipment inside it. */
export function readEquipment(r: Reader, el: XmlElement, plan: IntakePlan, parent: ParentEquipment | null): void {
  const id = r.id(el, 'ID', 'the equipment id')
  const level = levelText(r, el)
  const mapped = level ? levelNames[level.text.replace(/[\s_-]/g, '').toLowerCase()] : undefined
  let resolved: EquipmentLevel | 'by-parent' | null = null
  if (!level) r.problem(el, 'b2mml_element_missing', 'Equipment needs an EquipmentLevel (Site, Area, ProductionLine, WorkCell…): it places the equipment in the line hierarchy.')
  else if (mapped === undefined) r.problem(level.el, 'b2mml_unmappable', `Equipment level '${clip(level.text)}' has no place in Takt's hierarchy (site, area, line, work center).`)
  else if (mapped === 'enterprise') ignore(plan, 'Equipment at the Enterprise level (the hierarchy in Takt starts at the site)')
  else resolved = mapped === 'by-parent' ? byParent(r, level.el, parent) : mapped
  const scopeParent = r.id(r.one(el, 'HierarchyScope') ?? el, 'EquipmentID', null)
  const parentId = parent?.id ?? (scopeParent !== undefined && scopeParent !== id ? scopeParent : null)
  if (id !== undefined && resolved !== null) {
    const rank = resolved === 'by-parent' ? 2.5 : rankOf[resolved]
    plan.equipment.push({ at: atOf(el), rank, value: { id, level: resolved, name: (r.description(el) ?? id).slice(0, 200), parentId, ratedCycleTimeS: ratedCycleTime(r, el) } })
  }
  // Below the enterprise the sites stand alone; below anything else the children hang from this equipment.
  const childParent: ParentEquipment | null = mapped === 'enterprise' || id === undefined ? null : { id, level: resolved === 'by-parent' ? null : resolved }
  for (const child of r.all(el, 'Equipment')) readEquipment(r, child, plan, childParent)
}

function qualificationsOf(r: Reader, el: XmlElement, classes: string[]): { roles: Role[]; qualifications: Qualification[]; active: boolean } {
  const roles: Role[] = []
  const qualifications: Qualification[] = []
  for (const c of classes) {
    const role = roleNames[c.toLowerCase()]
    if (role) roles.includes(role) || roles.push(role)
    else qualifications.push({ code: c, expiresAt: null })
  }
  let active = true
  for (const p of r.all(el, 'PersonProperty')) {
    const code = r.id(p, 'ID', null)
    if (code === undefined) continue
    if (/^active$/i.test(code)) {
      active = !/^(?:false|0|no)$/i.test(r.values(p)[0]?.value ?? 'true')
      continue
    }
    const results = r.all(p, 'TestResult')
    if (results.length === 0) continue
    // A qualification is held when a test passed; it lasts until the latest expiration of the passed tests.
    // V0700 writes the verdict as EvaluatedCriterionResult and the end as Expiration; V0600 as Result and ExpirationTime.
    const verdict = (t: XmlElement) => r.text(t, 'EvaluatedCriterionResult') ?? r.text(r.one(t, 'Result'), 'ValueString') ?? ''
    const passed = results.filter((t) => !/fail|reject/i.test(verdict(t)))
    if (passed.length === 0) continue
    const expiries = passed.map((t) => (r.one(t, 'Expiration') ? r.dateTime(t, 'Expiration') : r.dateTime(t, 'ExpirationTime')))
    const expiresAt = expiries.some((e) => e === null) ? null : expiries.sort().at(-1)!
    qualifications.push({ code, expiresAt })
  }
  return { roles: roles.length > 0 ? roles : ['operator'], qualifications, active }
}

export function readPerson(r: Reader, el: XmlElement, plan: IntakePlan): void {
  const id = r.id(el, 'ID', 'the person id')
  const classes = r.ids(el, 'PersonnelClassID')
  const held = qualificationsOf(r, el, classes)
  if (id === undefined) return
  const name = (r.text(el, 'PersonName') ?? r.description(el) ?? id).slice(0, 200)
  plan.people.push({ at: atOf(el), value: { id, name, ...held } })
}

/** The units of an …Information noun, read one by one (as the document streams in, for a large one). */
export function readMasterUnit(r: Reader, noun: string, el: XmlElement, plan: IntakePlan): boolean {
  if (noun === 'MaterialInformation') {
    if (el.name === 'MaterialDefinition') readMaterialDefinition(r, el, plan)
    else if (el.name === 'MaterialLot') readMaterialLot(r, el, plan)
    else if (el.name === 'MaterialSubLot') readMaterialSubLot(r, el, plan, null)
    else if (el.name === 'MaterialClass') ignore(plan, `MaterialClass (Takt has no material classes; '${r.text(el, 'ID') ?? '?'}' was not kept)`)
    else return false
    return true
  }
  if (noun === 'EquipmentInformation' && el.name === 'Equipment') return (readEquipment(r, el, plan, null), true)
  if (noun === 'PersonnelInformation' && el.name === 'Person') return (readPerson(r, el, plan), true)
  return false
}

/** Reads one master-data noun (or what is left of an …Information noun after streaming) into the plan. */
export function readMasterNoun(r: Reader, noun: XmlElement, plan: IntakePlan): void {
  switch (noun.name) {
    case 'MaterialInformation':
    case 'EquipmentInformation':
    case 'PersonnelInformation':
      for (const unit of noun.children) if (unit.ns === r.ns) readMasterUnit(r, noun.name, unit, plan)
      return
    case 'MaterialDefinition':
      return readMaterialDefinition(r, noun, plan)
    case 'MaterialLot':
      return readMaterialLot(r, noun, plan)
    case 'MaterialSubLot':
      return void readMaterialSubLot(r, noun, plan, null)
    case 'Equipment':
      return readEquipment(r, noun, plan, null)
    case 'Person':
      return readPerson(r, noun, plan)
  }
}
