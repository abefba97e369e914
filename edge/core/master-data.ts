// Decisions on master data received from ERP: references checked, an identical definition is a no-op.
import { sameDefinition } from './canonical-json.ts'
import { accept, refuse, type Decision } from './decision.ts'
import { event, type NewEvent } from './events.ts'
import type { LineView } from './line-view.ts'
import type { Bom, Equipment, EquipmentLevel, Material, MaterialLot, Person, Routing } from './model.ts'
import { reject } from './rejection.ts'

export type Definition = { changed: boolean }

const parentLevel: Record<EquipmentLevel, EquipmentLevel | null> = {
  site: null,
  area: 'site',
  line: 'area',
  work_center: 'line',
}

function unchangedOr(existing: unknown, next: unknown, events: () => NewEvent[]): Decision<Definition> {
  if (existing !== undefined && sameDefinition(existing, next)) return accept([], { changed: false })
  return accept(events(), { changed: true })
}

function unknownRef(what: string, id: string, where: string): Decision<never> {
  return refuse(reject('reference_unknown', `${what} '${id}' named in ${where} is not defined; send it first.`, { what, id, where }))
}

export function defineEquipment(view: LineView, eq: Equipment): Decision<Definition> {
  const wanted = parentLevel[eq.level]
  if (wanted === null) {
    if (eq.parentId !== null) return refuse(reject('definition_invalid', 'A site has no parent equipment.', { field: 'parentId' }))
  } else {
    if (eq.parentId === null) {
      return refuse(reject('definition_invalid', `A ${eq.level} needs a parent ${wanted}.`, { field: 'parentId' }))
    }
    const parent = view.equipment(eq.parentId)
    if (!parent) return unknownRef('equipment', eq.parentId, 'parentId')
    if (parent.level !== wanted) {
      return refuse(
        reject('definition_invalid', `The parent of a ${eq.level} must be a ${wanted}, '${parent.id}' is a ${parent.level}.`, {
          field: 'parentId',
        }),
      )
    }
  }
  return unchangedOr(view.equipment(eq.id), eq, () => [event('EquipmentDefined', `equipment/${eq.id}`, eq)])
}

export function defineMaterial(view: LineView, material: Material): Decision<Definition> {
  return unchangedOr(view.material(material.id), material, () => [event('MaterialDefined', `material/${material.id}`, material)])
}

export function defineBom(view: LineView, bom: Bom): Decision<Definition> {
  if (!view.material(bom.productId)) return unknownRef('material', bom.productId, 'productId')
  for (const [i, item] of bom.items.entries()) {
    if (!view.material(item.materialId)) return unknownRef('material', item.materialId, `items[${i}].materialId`)
    for (const [j, alt] of item.alternates.entries()) {
      if (!view.material(alt)) return unknownRef('material', alt, `items[${i}].alternates[${j}]`)
    }
  }
  return unchangedOr(view.bom(bom.id, bom.version), bom, () => [event('BomDefined', `bom/${bom.id}/${bom.version}`, bom)])
}

export function defineRouting(view: LineView, routing: Routing): Decision<Definition> {
  if (!view.material(routing.productId)) return unknownRef('material', routing.productId, 'productId')
  if (routing.operations.length === 0) {
    return refuse(reject('definition_invalid', 'A routing needs at least one operation.', { field: 'operations' }))
  }
  let lastSeq = -Infinity
  for (const [i, op] of routing.operations.entries()) {
    const where = `operations[${i}]`
    if (op.seq <= lastSeq) {
      return refuse(reject('definition_invalid', `Operation sequence numbers must increase; ${where}.seq is ${op.seq}.`, { field: `${where}.seq` }))
    }
    lastSeq = op.seq
    const wc = view.equipment(op.workCenterId)
    if (!wc) return unknownRef('work center', op.workCenterId, `${where}.workCenterId`)
    if (wc.level !== 'work_center') {
      return refuse(reject('definition_invalid', `'${wc.id}' is a ${wc.level}, not a work center.`, { field: `${where}.workCenterId` }))
    }
    for (const [j, c] of op.components.entries()) {
      if (!view.material(c.materialId)) return unknownRef('material', c.materialId, `${where}.components[${j}].materialId`)
    }
    for (const [j, m] of op.measurements.entries()) {
      if (m.lower !== null && m.upper !== null && m.lower > m.upper) {
        return refuse(reject('definition_invalid', `Measurement '${m.name}' has a lower limit above its upper limit.`, { field: `${where}.measurements[${j}]` }))
      }
    }
  }
  return unchangedOr(view.routing(routing.id, routing.version), routing, () => [
    event('RoutingDefined', `routing/${routing.id}/${routing.version}`, routing),
  ])
}

export function definePerson(view: LineView, person: Person): Decision<Definition> {
  return unchangedOr(view.person(person.id), person, () => [event('PersonDefined', `person/${person.id}`, person)])
}

export function defineLot(view: LineView, lot: Omit<MaterialLot, 'producedByOrder'>): Decision<Definition> {
  if (!view.material(lot.materialId)) return unknownRef('material', lot.materialId, 'materialId')
  const existing = view.lot(lot.id)
  if (existing?.producedByOrder) {
    return refuse(reject('definition_invalid', `Lot '${lot.id}' was produced on this line by order '${existing.producedByOrder}'; it is not redefined from outside.`))
  }
  const current = existing && { id: existing.id, materialId: existing.materialId, status: existing.status, expiresAt: existing.expiresAt, quantity: existing.quantity }
  return unchangedOr(current, lot, () => [event('LotDefined', `lot/${lot.id}`, lot)])
}
