// End to end over HTTP: master data, an order with three operations, dispatch, execution with every rule, traces, chain, rebuild.
import t from 'tap'
import { demoBom, demoEquipment, demoLots, demoMaterials, demoPeople, demoRouting } from '../edge/demo-line.ts'
import { verifyChain } from '../edge/store/event-log.ts'
import { dumpProjections, rebuildProjections } from '../edge/store/projections.ts'
import { removeDir, startTestGateway } from './helpers/gateway.ts'

t.test('an order from master data to as-built record, over HTTP', async (t) => {
  const gw = await startTestGateway()
  t.teardown(async () => {
    await gw.stop()
    removeDir(gw.dataDir)
  })
  const now = new Date()
  const put = async (path: string, body: unknown) => {
    const r = await gw.call('PUT', path, body)
    t.equal(r.status, 200, `PUT ${path}: ${JSON.stringify(r.body)}`)
    return r
  }
  for (const e of demoEquipment) await put(`/api/v1/equipment/${e.id}`, e)
  for (const m of demoMaterials) await put(`/api/v1/materials/${m.id}`, m)
  await put(`/api/v1/boms/${demoBom.id}/${demoBom.version}`, demoBom)
  await put(`/api/v1/routings/${demoRouting.id}/${demoRouting.version}`, demoRouting)
  for (const p of demoPeople(now)) {
    await put(`/api/v1/people/${p.id}`, p)
    await put(`/api/v1/people/${p.id}/password`, { password: 'correct horse battery' })
  }
  for (const l of demoLots(now)) await put(`/api/v1/lots/${l.id}`, l)

  const login = async (username: string) => {
    const r = await gw.call('POST', '/api/v1/auth/login', { username, password: 'correct horse battery' }, '')
    t.equal(r.status, 200, `login ${username}`)
    return r.body.token as string
  }
  const ana = await login('ana')
  const ben = await login('ben')
  const lea = await login('lea')
  const quinn = await login('quinn')

  const order = { id: 'PO-1001', productId: 'BRK-100', quantity: 2, bomId: 'BOM-BRK-100', bomVersion: 'A', routingId: 'RT-BRK-100', routingVersion: 'A', lineId: 'L1', priority: 10 }
  const created = await gw.call('POST', '/api/v1/orders', order)
  t.equal(created.status, 201)
  t.equal((await gw.call('POST', '/api/v1/orders', order)).status, 200, 'the same order twice is one order')
  t.equal((await gw.call('GET', '/api/v1/orders?limit=10')).body.items.length, 1)

  t.equal((await gw.call('POST', '/api/v1/orders/PO-1001/release', undefined, lea)).status, 200)
  t.equal((await gw.call('POST', '/api/v1/orders/PO-1001/dispatch', undefined, lea)).status, 200)
  const detail = await gw.call('GET', '/api/v1/orders/PO-1001', undefined, ana)
  const [u1, u2] = detail.body.units.map((u: { serial: string }) => u.serial) as [string, string]
  t.same([u1, u2], ['PO-1001-0001', 'PO-1001-0002'])
  const list = await gw.call('GET', '/api/v1/work-centers/WC-PRESS/dispatch-list', undefined, ana)
  t.equal(list.body.items[0].orderId, 'PO-1001')

  // Sequencing: the weld cannot start before the press is done on this unit.
  const early = await gw.call('POST', '/api/v1/orders/PO-1001/operations/20/start', { unit: u1 }, ana)
  t.equal(early.status, 409)
  t.equal(early.body.code, 'out_of_sequence')
  t.match(early.headers.get('content-type'), /application\/problem\+json/)

  const runOp = async (seq: number, unit: string, token: string, complete: Record<string, unknown>) => {
    const start = await gw.call('POST', `/api/v1/orders/PO-1001/operations/${seq}/start`, { unit }, token)
    t.equal(start.status, 201, `start ${seq} ${unit}: ${JSON.stringify(start.body)}`)
    const runId = start.body.runId as string
    return { runId, done: await gw.call('POST', `/api/v1/runs/${runId}/complete`, complete, token) }
  }

  // Press unit 1: a wrong lot and an expired lot are refused, and the refusals are recorded.
  const press = await gw.call('POST', '/api/v1/orders/PO-1001/operations/10/start', { unit: u1 }, ana)
  const pressRun = press.body.runId as string
  const wrong = await gw.call('POST', `/api/v1/runs/${pressRun}/consumptions`, { lot: 'BOLT-0001', quantity: 0.5 }, ana)
  t.equal(wrong.status, 422)
  t.equal(wrong.body.code, 'lot_wrong_material')
  t.ok(wrong.body.recordedSeq > 0, 'the refused scan is recorded')
  const expired = await gw.call('POST', `/api/v1/runs/${pressRun}/consumptions`, { lot: 'STEEL-0002-OLD', quantity: 0.5 }, ana)
  t.equal(expired.body.code, 'lot_expired')
  const pressed = await gw.call('POST', `/api/v1/runs/${pressRun}/complete`, { good: 1, consumptions: [{ lot: 'STEEL-0001', quantity: 0.5 }], measurements: [{ name: 'thickness', value: 2.0, unit: 'mm' }] }, ana)
  t.equal(pressed.status, 200, JSON.stringify(pressed.body))
  t.equal(pressed.body.operationCompleted, false, 'one of two units pressed')

  // Ben's weld qualification expired last month.
  const unqualified = await gw.call('POST', '/api/v1/orders/PO-1001/operations/20/start', { unit: u1 }, ben)
  t.equal(unqualified.body.code, 'not_qualified')
  const weld1 = await runOp(20, u1, ana, { good: 1, consumptions: [{ lot: 'BOLT-0001', quantity: 1 }, { lot: 'BOLTB-0001', quantity: 1 }], measurements: [{ name: 'torque', value: 25, unit: 'Nm' }] })
  t.equal(weld1.done.status, 200, 'an approved alternate bolt is accepted')
  const test1 = await runOp(30, u1, ana, { good: 1, measurements: [{ name: 'leak_rate', value: 0.002, unit: 'mbar*l/s' }] })
  t.equal(test1.done.status, 200)

  // Unit 2: out-of-limit thickness puts it on hold and opens a nonconformance.
  const press2 = await runOp(10, u2, ana, { good: 1, consumptions: [{ lot: 'STEEL-0001', quantity: 0.5 }], measurements: [{ name: 'thickness', value: 2.4, unit: 'mm' }] })
  t.equal(press2.done.status, 200)
  t.equal(press2.done.body.nonconformances.length, 1)
  const held = await gw.call('POST', '/api/v1/orders/PO-1001/operations/20/start', { unit: u2 }, ana)
  t.equal(held.body.code, 'unit_on_hold')
  t.equal((await gw.call('POST', `/api/v1/units/${u2}/release-hold`, { reason: 'MRB: use as is' }, ana)).status, 403, 'an operator cannot release a hold')
  t.equal((await gw.call('POST', `/api/v1/units/${u2}/release-hold`, { reason: 'MRB: use as is' }, quinn)).status, 200)
  const weld2 = await runOp(20, u2, ana, { good: 1, consumptions: [{ lot: 'BOLT-0001', quantity: 2 }], measurements: [{ name: 'torque', value: 22, unit: 'Nm' }] })
  t.equal(weld2.done.status, 200)
  const test2 = await runOp(30, u2, ana, { good: 1, measurements: [{ name: 'leak_rate', value: 0.004, unit: 'mbar*l/s' }] })
  t.equal(test2.done.body.orderCompleted, true)
  t.equal((await gw.call('GET', '/api/v1/orders/PO-1001', undefined, lea)).body.state, 'completed')

  // Traces return exactly the as-built.
  const back = await gw.call('GET', `/api/v1/genealogy/backward?unit=${u1}`, undefined, quinn)
  t.same(
    back.body.edges.map((e: { consumedId: string; quantity: number; opSeq: number }) => [e.opSeq, e.consumedId, e.quantity]),
    [[10, 'STEEL-0001', 0.5], [20, 'BOLT-0001', 1], [20, 'BOLTB-0001', 1]],
  )
  const fwd = await gw.call('GET', '/api/v1/genealogy/forward?lot=STEEL-0001', undefined, quinn)
  t.same(fwd.body.units, [u1, u2])
  t.same(fwd.body.orders, ['PO-1001'])
  const fwdBolt = await gw.call('GET', '/api/v1/genealogy/forward?lot=BOLTB-0001', undefined, quinn)
  t.same(fwdBolt.body.units, [u1])
  const asBuilt = await gw.call('GET', `/api/v1/as-built/units/${u2}`, undefined, quinn)
  t.same(asBuilt.body.runs.map((r: { opSeq: number; operatorId: string }) => [r.opSeq, r.operatorId]), [[10, 'ana'], [20, 'ana'], [30, 'ana']])
  t.same(asBuilt.body.measurements.map((m: { name: string; withinLimits: boolean }) => [m.name, m.withinLimits]), [['thickness', false], ['torque', true], ['leak_rate', true]])
  t.equal((await gw.call('GET', '/api/v1/refusals', undefined, quinn)).body.items.length, 2)
  const lot = await gw.call('GET', '/api/v1/lots/STEEL-0001', undefined, quinn)
  t.equal(lot.body.quantity, 4999, 'consumed quantity taken from the lot')

  // The chain verifies, and a rebuild from the log equals the live projections.
  t.same((await gw.call('GET', '/api/v1/audit/verify', undefined, quinn)).body.ok, true)
  const sqlite = gw.running.gateway.store.db.sqlite
  t.equal(verifyChain(sqlite).ok, true)
  const live = dumpProjections(sqlite)
  rebuildProjections(sqlite)
  t.same(dumpProjections(sqlite), live, 'a rebuilt projection equals the live one')
})
