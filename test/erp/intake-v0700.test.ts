// B2MML V0700 and later over HTTP: a flat equipment list, materials with a serialized product, a standalone sublot, and an OperationsSchedule acknowledged.
import t from 'tap'
import { at, erpGateway, eventSeq, fixture, kids, textAt } from './helpers.ts'

const gw = await erpGateway(t)

t.test('SyncEquipmentInformation, flat: parents from HierarchyScope, WorkCenter placed by its parent, children sent first', async (t) => {
  const r = await gw.post(fixture('v0700-equipment.xml'), { accept: 'application/json' })
  t.equal(r.status, 200, r.text)
  t.equal(r.json!.version, 'V0701')
  const items = (await gw.call('GET', '/api/v1/equipment')).body.items
  t.same(items.map((e: Record<string, unknown>) => [e.id, e.level, e.parentId]).sort(), [
    ['BA', 'area', 'BS'],
    ['BL', 'line', 'BA'],
    ['BS', 'site', null],
    ['WC-ASSY', 'work_center', 'BL'],
    ['WC-PRESS', 'work_center', 'BL'],
  ])
})

t.test('ProcessMaterialInformation: acknowledged; a serialized product; a sublot naming its lot is a lot of that material', async (t) => {
  const r = await gw.post(fixture('v0700-material.xml'))
  t.equal(r.status, 200, r.text)
  t.equal(r.xml!.name, 'AcknowledgeMaterialInformation', 'Process is answered by an Acknowledge of the same noun')
  t.equal(r.xml!.attrs.releaseID, 'V0701')
  t.equal(at(r.xml, 'DataArea', 'Acknowledge', 'ResponseCriteria', 'ResponseExpression')!.attrs.actionCode, 'Accepted')
  t.equal(textAt(r.xml, 'DataArea', 'Acknowledge', 'OriginalApplicationArea', 'BODID'), 'MAT-7-0001')
  t.equal(kids(at(r.xml, 'DataArea', 'MaterialInformation'), 'MaterialDefinition').length, 3, 'the noun is acknowledged back')
  t.same((await gw.call('GET', '/api/v1/materials/BRK-100')).body, { id: 'BRK-100', name: 'Brake caliper', uom: 'ea', serialized: true })
  t.equal((await gw.call('GET', '/api/v1/materials/STEEL')).body.uom, 'kg', 'BaseUnitOfMeasure works too')
  t.match((await gw.call('GET', '/api/v1/lots/STEEL-0001')).body, { status: 'released', quantity: 1000, expiresAt: '2031-06-30T00:00:00.000Z' })
  t.match((await gw.call('GET', '/api/v1/lots/BOLT-0001-BOX7')).body, { materialId: 'BOLT', status: 'released', quantity: 500 })
  t.equal((await gw.call('GET', '/api/v1/lots/BOLT-0001')).body.quantity, 5000, 'a sublot sent on its own does not change its lot')
})

t.test('SyncPersonnelInformation: a qualification from a passed test, with its expiration', async (t) => {
  t.equal((await gw.post(fixture('v0700-personnel.xml'))).status, 200)
  t.same((await gw.call('GET', '/api/v1/people/ana')).body.qualifications, [{ code: 'PRESS', expiresAt: '2030-06-01T00:00:00.000Z' }])
})

t.test('ProcessOperationsSchedule: a serialized order with ERP serial numbers, acknowledged with the schedule', async (t) => {
  const before = await eventSeq(gw)
  const r = await gw.post(fixture('v0700-schedule.xml'))
  t.equal(r.status, 200, r.text)
  t.equal(r.xml!.name, 'AcknowledgeOperationsSchedule')
  t.equal(r.xml!.ns, 'http://www.mesa.org/xml/B2MML')
  t.equal(textAt(r.xml, 'DataArea', 'OperationsSchedule', 'OperationsRequest', 'ID'), 'WO-7001')
  t.match(textAt(r.xml, 'DataArea', 'Acknowledge', 'ResponseCriteria', 'ChangeStatus', 'Description'), /1 created/)
  t.ok((await eventSeq(gw)) > before)
  const wo = (await gw.call('GET', '/api/v1/orders/WO-7001')).body
  t.match(wo, { productId: 'BRK-100', quantity: 4, serialized: true, serials: ['SN-7001-1', 'SN-7001-2', 'SN-7001-3', 'SN-7001-4'], lineId: 'BL', priority: 5 })
  t.equal(wo.routingId, 'B2MML:RT-BRK', 'the routing id comes from the request OperationsDefinitionID')
  t.equal(wo.plannedStartAt, '2026-04-02T06:00:00.000Z')
  t.equal(wo.dueAt, '2026-04-02T14:00:00.000Z')
  t.same(
    wo.operations.map((o: Record<string, unknown>) => [o.seq, o.name, o.workCenterId, o.idealCycleTimeS, o.qualification, o.components, o.measurements]),
    [
      [10, 'Press the housing', 'WC-PRESS', 300, 'PRESS', [{ materialId: 'STEEL', quantityPer: 0.5 }], [{ name: 'thickness', unit: 'mm', lower: 1.9, upper: 2.1 }]],
      [20, 'Assemble', 'WC-ASSY', 600, null, [{ materialId: 'BOLT', quantityPer: 4 }], [{ name: 'torque', unit: 'Nm', lower: 20, upper: 30 }]],
    ],
  )
  t.equal((await gw.call('POST', '/api/v1/orders/WO-7001/release')).status, 200)
  const units = (await gw.call('GET', '/api/v1/orders/WO-7001')).body.units.map((u: { serial: string }) => u.serial)
  t.same(units, ['SN-7001-1', 'SN-7001-2', 'SN-7001-3', 'SN-7001-4'], 'released with ERP serials, not numbered by Takt')
  const again = await gw.post(fixture('v0700-schedule.xml'), { accept: 'application/json' })
  t.equal(again.json!.outcome, 'unchanged', 'resent after release: nothing to change')
})
