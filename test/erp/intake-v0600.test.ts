// B2MML V0401–V06xx over HTTP: equipment, materials, lots, people and production schedules imported exactly, resent without effect, confirmed.
import t from 'tap'
import { at, erpGateway, eventSeq, fixture, textAt } from './helpers.ts'

const gw = await erpGateway(t)

t.test('SyncEquipmentInformation: the nested hierarchy below the enterprise, with levels and rated cycle time', async (t) => {
  const r = await gw.post(fixture('v0600-equipment.xml'), { accept: 'application/json' })
  t.equal(r.status, 200, r.text)
  t.equal(r.json!.outcome, 'applied')
  t.equal(r.json!.version, 'V0600')
  t.same(r.json!.applied.definitions, { changed: 5, unchanged: 0 })
  t.match(r.json!.notes, [/Enterprise level/], 'the enterprise is reported as not kept')
  const items = (await gw.call('GET', '/api/v1/equipment')).body.items
  t.same(
    items.map((e: Record<string, unknown>) => [e.id, e.level, e.parentId, e.name, e.ratedCycleTimeS]),
    [
      ['PLANT', 'site', null, 'Plant Springfield', null],
      ['MIXING', 'area', 'PLANT', 'Mixing hall', null],
      ['L1', 'line', 'MIXING', 'Paste line 1', null],
      ['WC-MIX', 'work_center', 'L1', 'Planetary mixer', 40],
      ['WC-FILL', 'work_center', 'L1', 'Tube filler', null],
    ],
  )
})

t.test('SyncMaterialInformation: definitions with their unit, lots with status, expiry and quantity, sublots as lots of their own', async (t) => {
  const r = await gw.post(fixture('v0600-material.xml'), { accept: 'application/json' })
  t.equal(r.status, 200, r.text)
  const materials = (await gw.call('GET', '/api/v1/materials')).body.items
  t.same(materials.map((m: Record<string, unknown>) => [m.id, m.name, m.uom, m.serialized]), [
    ['PASTE', 'Two-part paste', 'kg', false],
    ['RESIN', 'Epoxy resin', 'kg', false],
    ['HARDENER', 'Amine hardener', 'kg', false],
  ])
  const lot = async (id: string) => (await gw.call('GET', `/api/v1/lots/${id}`)).body
  t.same(await lot('RESIN-0001'), { id: 'RESIN-0001', materialId: 'RESIN', status: 'released', expiresAt: '2030-12-31T00:00:00.000Z', quantity: 250, producedByOrder: null }, 'the lot keeps what its sublots do not hold: 500 - 100 - 150')
  t.same(await lot('RESIN-0001-A'), { id: 'RESIN-0001-A', materialId: 'RESIN', status: 'released', expiresAt: '2030-12-31T00:00:00.000Z', quantity: 100, producedByOrder: null }, 'a sublot inherits the lot status and expiry')
  t.equal((await lot('RESIN-0001-B')).status, 'quarantined', 'Blocked is quarantined')
  t.same(await lot('HARD-0002'), { id: 'HARD-0002', materialId: 'HARDENER', status: 'quarantined', expiresAt: null, quantity: 80.5, producedByOrder: null })
  t.equal((await lot('HARD-0001')).status, 'released')
})

t.test('SyncPersonnelInformation: roles from personnel classes, qualifications from passed tests with their expiry', async (t) => {
  const r = await gw.post(fixture('v0600-personnel.xml'), { accept: 'application/json' })
  t.equal(r.status, 200, r.text)
  const people = (await gw.call('GET', '/api/v1/people')).body.items
  const byId = Object.fromEntries(people.map((p: Record<string, unknown>) => [p.id, p]))
  t.same(byId.olga, { id: 'olga', name: 'Olga Operator', roles: ['operator'], qualifications: [{ code: 'MIXER', expiresAt: '2030-01-31T00:00:00.000Z' }], active: true })
  t.same(byId.oskar.qualifications, [{ code: 'FILLER', expiresAt: null }], 'a failed test is no qualification; a class that is not a role is one')
  t.same(byId.leo.roles, ['lead'])
})

t.test('SyncProductionSchedule: requests become orders, segments a derived routing, consumed materials a BOM', async (t) => {
  const before = await eventSeq(gw)
  const r = await gw.post(fixture('v0600-schedule.xml'))
  t.equal(r.status, 200, r.text)
  t.match(r.contentType, /^application\/xml/)
  t.equal(r.xml!.name, 'ConfirmBOD', 'Sync is answered by a ConfirmBOD')
  t.equal(r.xml!.ns, 'http://www.mesa.org/xml/B2MML-V0600')
  t.equal(textAt(r.xml, 'DataArea', 'Confirm', 'OriginalApplicationArea', 'BODID'), 'SCHED-2026-0001')
  t.equal(textAt(r.xml, 'ApplicationArea', 'Receiver', 'LogicalID'), 'SAP-ERP-PRD')
  t.equal(at(r.xml, 'DataArea', 'Confirm', 'ResponseCriteria', 'ResponseExpression')!.attrs.actionCode, 'Accepted')
  t.match(textAt(r.xml, 'DataArea', 'BOD', 'Description'), /2 created/)
  t.ok((await eventSeq(gw)) > before)

  const po = (await gw.call('GET', '/api/v1/orders/PO-100')).body
  t.match(po, { id: 'PO-100', productId: 'PASTE', quantity: 100, lineId: 'L1', priority: 10, outputLot: 'PASTE-L100', state: 'created' })
  t.equal(po.plannedStartAt, '2026-03-02T05:00:00.000Z', 'the earliest segment start, in UTC')
  t.equal(po.dueAt, '2026-03-02T08:00:00.000Z', 'the latest segment end')
  t.equal(po.routingId, 'B2MML:RT-PASTE', 'the routing id comes from ProductProductionRuleID')
  t.equal(po.bomId, 'B2MML:PASTE')
  t.same(
    po.operations.map((o: Record<string, unknown>) => [o.seq, o.name, o.workCenterId, o.setupTimeS, o.idealCycleTimeS, o.qualification]),
    [
      [10, 'Mix resin and hardener', 'WC-MIX', 600, 36, 'MIXER'],
      [20, 'Fill into drums', 'WC-FILL', 0, 30, null],
    ],
    'ERP operation numbers, setup from SetupTime, cycle time = (duration - setup) / quantity',
  )
  const mix = po.operations[0]
  t.same(mix.components, [{ materialId: 'RESIN', quantityPer: 2 }, { materialId: 'HARDENER', quantityPer: 0.5 }], 'totals per unit of product')
  t.same(mix.measurements, [{ name: 'viscosity', unit: 'Pa.s', lower: 1, upper: 10 }])
  t.equal(mix.instructions, 'Add the hardener slowly.\nMixerSpeed: 120 rpm', 'further descriptions and other parameters are instructions')
  const bom = (await gw.call('GET', `/api/v1/boms/B2MML:PASTE/${po.bomVersion}`)).body
  t.same(bom.items, [{ materialId: 'RESIN', quantityPer: 2, alternates: [] }, { materialId: 'HARDENER', quantityPer: 0.5, alternates: [] }])

  const other = (await gw.call('GET', '/api/v1/orders/PO-101')).body
  t.match(other, { quantity: 50, priority: 500, outputLot: 'PO-101-OUT', plannedStartAt: '2026-03-03T06:00:00.000Z', dueAt: '2026-03-03T09:00:00.000Z' })
  t.equal(other.routingVersion, po.routingVersion, 'the same segments per unit make the same routing version: one routing for both')
  t.equal(other.bomVersion, po.bomVersion)
  t.equal((await gw.call('GET', '/api/v1/routings')).body.items.length, 1)
})

t.test('resending a document changes nothing, and the confirmation says so', async (t) => {
  for (const name of ['v0600-equipment.xml', 'v0600-material.xml', 'v0600-personnel.xml', 'v0600-schedule.xml']) {
    const before = await eventSeq(gw)
    const r = await gw.post(fixture(name), { accept: 'application/json' })
    t.equal(r.status, 200, name)
    t.equal(r.json!.outcome, 'unchanged', name)
    t.equal(r.json!.seq, 0)
    t.match(r.json!.summary, /^Nothing changed/)
    t.equal(await eventSeq(gw), before, `${name}: no event recorded`)
  }
})

t.test('V0401: a bare ProductionSchedule with Location and MaterialUse, segment IDs that are not numbers', async (t) => {
  const r = await gw.post(fixture('v0401-schedule.xml'))
  t.equal(r.status, 200, r.text)
  t.equal(r.xml!.name, 'ConfirmBOD', 'a bare noun is answered by a ConfirmBOD')
  t.equal(r.xml!.ns, 'http://www.mesa.org/xml/B2MML-V0401')
  t.notOk(at(r.xml, 'DataArea', 'Confirm', 'OriginalApplicationArea'), 'there was no ApplicationArea to quote')
  const po = (await gw.call('GET', '/api/v1/orders/PO-200')).body
  t.match(po, { productId: 'PASTE', quantity: 200, lineId: 'L1', priority: 20, plannedStartAt: '2026-03-09T06:00:00.000Z', dueAt: '2026-03-09T18:00:00.000Z' })
  t.equal(po.routingId, 'B2MML:PASTE', 'without a ProductProductionRuleID the routing is named after the product')
  t.same(po.operations.map((o: Record<string, unknown>) => [o.seq, o.name, o.idealCycleTimeS]), [[10, 'Mix resin and hardener', 36], [20, 'FILL', null]], 'positions 10, 20; no duration, no cycle time')
})

t.test('the document log keeps every document with its outcome and confirmation', async (t) => {
  const list = (await gw.call('GET', '/api/v1/erp/documents?limit=50')).body.items
  t.equal(list.length, 9)
  t.same(list.map((d: Record<string, unknown>) => d.outcome).reverse(), ['applied', 'applied', 'applied', 'applied', 'unchanged', 'unchanged', 'unchanged', 'unchanged', 'applied'])
  t.match(list.at(-1), { bodId: 'EQ-2026-0001', verb: 'Sync', noun: 'EquipmentInformation', family: 'http://www.mesa.org/xml/B2MML-V0600', status: 200, errors: [] })
  const one = (await gw.call('GET', `/api/v1/erp/documents/${list[0].id}`)).body
  t.match(one.confirmation, /^<\?xml/)
})
