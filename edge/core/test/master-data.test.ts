// Master data from ERP: equipment hierarchy, BOM and routing references, routing rules, no-op redefinition.
import t from 'tap'
import { defineBom, defineEquipment, defineLot, defineMaterial, definePerson, defineRouting } from '../master-data.ts'
import type { Equipment, Routing } from '../model.ts'
import { accepted, masterView, pasteBom, pasteRouting, refusal, widgetBom, widgetRouting } from './fixture.ts'
import { MemoryView } from './memory-view.ts'

const eq = (id: string, level: Equipment['level'], parentId: string | null): Equipment => ({ id, level, name: id, parentId, ratedCycleTimeS: null })

t.test('equipment hierarchy', async (t) => {
  const view = masterView()
  t.test('a site stands alone', async (t) => {
    const { events, result } = accepted(defineEquipment(new MemoryView(), eq('S9', 'site', null)))
    t.same(result, { changed: true })
    t.equal(events.length, 1)
    t.equal(events[0]?.type, 'EquipmentDefined')
    t.equal(events[0]?.subject, 'equipment/S9')
    t.same(events[0]?.data, eq('S9', 'site', null))
  })
  t.test('a site with a parent is refused', async (t) => {
    const { rejection } = refusal(defineEquipment(view, eq('S9', 'site', 'S1')))
    t.equal(rejection.code, 'definition_invalid')
    t.equal(rejection.status, 422)
    t.match(rejection.message, /site has no parent/)
  })
  t.test('an area, a line and a work center each need a parent', async (t) => {
    for (const level of ['area', 'line', 'work_center'] as const) {
      const { rejection } = refusal(defineEquipment(view, eq('X', level, null)))
      t.equal(rejection.code, 'definition_invalid', level)
      t.match(rejection.message, new RegExp(`A ${level} needs a parent`), level)
      t.same(rejection.details, { field: 'parentId' })
    }
  })
  t.test('an unknown parent is a missing reference', async (t) => {
    const { rejection } = refusal(defineEquipment(view, eq('WC-NEW', 'work_center', 'L9')))
    t.equal(rejection.code, 'reference_unknown')
    t.match(rejection.message, /equipment 'L9' named in parentId is not defined/)
  })
  t.test('the parent must be one level up', async (t) => {
    const wcUnderArea = refusal(defineEquipment(view, eq('WC-NEW', 'work_center', 'A1'))).rejection
    t.equal(wcUnderArea.code, 'definition_invalid')
    t.match(wcUnderArea.message, /parent of a work_center must be a line, 'A1' is a area/)
    const lineUnderSite = refusal(defineEquipment(view, eq('L9', 'line', 'S1'))).rejection
    t.equal(lineUnderSite.code, 'definition_invalid')
    t.match(lineUnderSite.message, /'S1' is a site/)
  })
  t.test('each level under the right parent is accepted', async (t) => {
    t.equal(accepted(defineEquipment(view, eq('A2', 'area', 'S1'))).events[0]?.type, 'EquipmentDefined')
    t.equal(accepted(defineEquipment(view, eq('L3', 'line', 'A1'))).events[0]?.type, 'EquipmentDefined')
    t.equal(accepted(defineEquipment(view, eq('WC-NEW', 'work_center', 'L1'))).events[0]?.subject, 'equipment/WC-NEW')
  })
  t.test('an identical redefinition is a no-op; a change is recorded', async (t) => {
    const same = { id: 'WC-CUT', level: 'work_center', name: 'Saw', parentId: 'L1', ratedCycleTimeS: 30 } as const
    t.same(defineEquipment(view, same), { ok: true, events: [], result: { changed: false } })
    const { events, result } = accepted(defineEquipment(view, { ...same, ratedCycleTimeS: 25 }))
    t.same(result, { changed: true })
    t.same(events.map((e) => e.type), ['EquipmentDefined'])
  })
})

t.test('materials', async (t) => {
  const view = masterView()
  t.same(defineMaterial(view, { id: 'RM-BOLT', name: 'RM-BOLT', uom: 'ea', serialized: false }), { ok: true, events: [], result: { changed: false } })
  const changed = accepted(defineMaterial(view, { id: 'RM-BOLT', name: 'M8 bolt', uom: 'ea', serialized: false }))
  t.same(changed.events, [{ type: 'MaterialDefined', subject: 'material/RM-BOLT', data: { id: 'RM-BOLT', name: 'M8 bolt', uom: 'ea', serialized: false } }])
  const fresh = accepted(defineMaterial(view, { id: 'RM-NEW', name: 'New', uom: 'kg', serialized: false }))
  t.same(fresh.result, { changed: true })
})

t.test('BOM references', async (t) => {
  const view = masterView()
  t.test('product, item and alternate must be defined', async (t) => {
    const product = refusal(defineBom(view, { ...widgetBom, productId: 'FG-NOPE' })).rejection
    t.equal(product.code, 'reference_unknown')
    t.match(product.message, /material 'FG-NOPE' named in productId/)
    const item = refusal(defineBom(view, { ...widgetBom, items: [{ materialId: 'RM-NOPE', quantityPer: 1, alternates: [] }] })).rejection
    t.equal(item.code, 'reference_unknown')
    t.match(item.message, /'RM-NOPE' named in items\[0\]\.materialId/)
    const alt = refusal(defineBom(view, { ...widgetBom, items: [{ materialId: 'RM-STEEL', quantityPer: 1, alternates: ['RM-STEEL-ALT', 'RM-GONE'] }] })).rejection
    t.equal(alt.code, 'reference_unknown')
    t.match(alt.message, /'RM-GONE' named in items\[0\]\.alternates\[1\]/)
  })
  t.test('a new version is defined; the same one again is a no-op', async (t) => {
    const v2 = { ...widgetBom, version: '2' }
    const { events } = accepted(defineBom(view, v2))
    t.same(events, [{ type: 'BomDefined', subject: 'bom/B-W/2', data: v2 }])
    t.same(accepted(defineBom(view, widgetBom)).events, [])
    t.same(accepted(defineBom(view, { ...pasteBom, items: [{ materialId: 'RM-RESIN', quantityPer: 0.6, alternates: [] }] })).result, { changed: true })
  })
})

const withOps = (ops: Partial<Routing['operations'][number]>[]): Routing => ({
  ...widgetRouting,
  version: '9',
  operations: ops.map((o, i) => ({ ...widgetRouting.operations[0]!, ...o, seq: o.seq ?? (i + 1) * 10 })),
})

t.test('routing validation', async (t) => {
  const view = masterView()
  t.test('the product must be defined', async (t) => {
    const { rejection } = refusal(defineRouting(view, { ...widgetRouting, productId: 'FG-NOPE' }))
    t.equal(rejection.code, 'reference_unknown')
    t.match(rejection.message, /'FG-NOPE'/)
  })
  t.test('at least one operation', async (t) => {
    const { rejection } = refusal(defineRouting(view, { ...widgetRouting, operations: [] }))
    t.equal(rejection.code, 'definition_invalid')
    t.match(rejection.message, /at least one operation/)
  })
  t.test('sequence numbers must strictly increase', async (t) => {
    const equal = refusal(defineRouting(view, withOps([{ seq: 10 }, { seq: 10 }]))).rejection
    t.equal(equal.code, 'definition_invalid')
    t.match(equal.message, /must increase; operations\[1\]\.seq is 10/)
    t.same(equal.details, { field: 'operations[1].seq' })
    const down = refusal(defineRouting(view, withOps([{ seq: 20 }, { seq: 30 }, { seq: 25 }]))).rejection
    t.match(down.message, /operations\[2\]\.seq is 25/)
    t.ok(defineRouting(view, withOps([{ seq: 5 }, { seq: 7 }, { seq: 100 }])).ok)
  })
  t.test('an operation runs on a known work center', async (t) => {
    const unknown = refusal(defineRouting(view, withOps([{ workCenterId: 'WC-NOPE' }]))).rejection
    t.equal(unknown.code, 'reference_unknown')
    t.match(unknown.message, /work center 'WC-NOPE' named in operations\[0\]\.workCenterId/)
    const line = refusal(defineRouting(view, withOps([{}, { workCenterId: 'L1' }]))).rejection
    t.equal(line.code, 'definition_invalid')
    t.match(line.message, /'L1' is a line, not a work center/)
    t.same(line.details, { field: 'operations[1].workCenterId' })
  })
  t.test('components must be defined materials', async (t) => {
    const { rejection } = refusal(defineRouting(view, withOps([{ components: [{ materialId: 'RM-STEEL', quantityPer: 1 }, { materialId: 'RM-NOPE', quantityPer: 1 }] }])))
    t.equal(rejection.code, 'reference_unknown')
    t.match(rejection.message, /'RM-NOPE' named in operations\[0\]\.components\[1\]\.materialId/)
  })
  t.test('a measurement lower limit may not exceed its upper one', async (t) => {
    const bad = refusal(defineRouting(view, withOps([{ measurements: [{ name: 'ok', unit: 'mm', lower: 1, upper: 2 }, { name: 'bore', unit: 'mm', lower: 5.1, upper: 5 }] }]))).rejection
    t.equal(bad.code, 'definition_invalid')
    t.match(bad.message, /Measurement 'bore' has a lower limit above its upper limit/)
    t.same(bad.details, { field: 'operations[0].measurements[1]' })
    const point = defineRouting(view, withOps([{ measurements: [{ name: 'bore', unit: 'mm', lower: 5, upper: 5 }] }]))
    t.ok(point.ok, 'equal limits are a valid single-value spec')
    const open = defineRouting(view, withOps([{ measurements: [{ name: 'bore', unit: 'mm', lower: null, upper: 5 }, { name: 'len', unit: 'mm', lower: 9, upper: null }] }]))
    t.ok(open.ok, 'one-sided limits are valid')
  })
  t.test('a valid routing is defined once; the same again is a no-op', async (t) => {
    const v2 = withOps([{}, { workCenterId: 'WC-ASM' }])
    const { events, result } = accepted(defineRouting(view, v2))
    t.same(result, { changed: true })
    t.same(events, [{ type: 'RoutingDefined', subject: 'routing/R-W/9', data: v2 }])
    t.same(accepted(defineRouting(view, pasteRouting)), { events: [], result: { changed: false } })
    const reordered = { operations: pasteRouting.operations, productId: 'FG-PASTE', version: '1', id: 'R-P' }
    t.same(accepted(defineRouting(view, reordered)).events, [], 'key order does not make a change')
  })
})

t.test('people', async (t) => {
  const view = masterView()
  const anna = view.person('P-ANNA')!
  t.same(accepted(definePerson(view, { ...anna, qualifications: [...anna.qualifications] })).events, [])
  const renewed = { ...anna, qualifications: [{ code: 'CUT', expiresAt: '2031-01-01T00:00:00.000Z' }] }
  t.same(accepted(definePerson(view, renewed)).events, [{ type: 'PersonDefined', subject: 'person/P-ANNA', data: renewed }])
})

t.test('lots', async (t) => {
  const view = masterView()
  const steel = { id: 'LOT-STEEL', materialId: 'RM-STEEL', status: 'released', expiresAt: '2030-01-01T00:00:00.000Z', quantity: 10 } as const
  t.test('the material must be defined', async (t) => {
    const { rejection } = refusal(defineLot(view, { ...steel, id: 'LOT-X', materialId: 'RM-NOPE' }))
    t.equal(rejection.code, 'reference_unknown')
    t.match(rejection.message, /material 'RM-NOPE' named in materialId/)
  })
  t.test('the same lot again is a no-op; a status change is recorded', async (t) => {
    t.same(accepted(defineLot(view, steel)), { events: [], result: { changed: false } })
    const quarantined = { ...steel, status: 'quarantined' as const }
    t.same(accepted(defineLot(view, quarantined)).events, [{ type: 'LotDefined', subject: 'lot/LOT-STEEL', data: quarantined }])
    t.same(accepted(defineLot(view, { ...steel, id: 'LOT-NEW' })).result, { changed: true })
  })
  t.test('a lot made on this line is not redefined from outside', async (t) => {
    view.putLot({ id: 'P1-OUT', materialId: 'FG-PASTE', status: 'released', expiresAt: null, quantity: 90, producedByOrder: 'P1' })
    const { rejection } = refusal(defineLot(view, { id: 'P1-OUT', materialId: 'FG-PASTE', status: 'released', expiresAt: null, quantity: 90 }))
    t.equal(rejection.code, 'definition_invalid')
    t.match(rejection.message, /Lot 'P1-OUT' was produced on this line by order 'P1'/)
  })
})
