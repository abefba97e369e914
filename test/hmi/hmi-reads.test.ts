// The HMI's read endpoints: andon with open runs, a run with what it needs and has, reason codes, holds, and the filtered audit trail — each with its roles.
import t, { type Test } from 'tap'
import { recordMachineState } from '../../edge/core/machine.ts'
import { demoEquipment } from '../../edge/demo-line.ts'
import { hmiApp } from './helpers/hmi-gateway.ts'

async function line(t: Test) {
  const app = await hmiApp()
  t.teardown(app.close)
  const token = async (username: string) => (await app.call('POST', '/api/v1/auth/login', { username, password: 'takt-demo-password' }, '')).body.token as string
  return { app, ana: await token('ana'), lea: await token('lea'), quinn: await token('quinn') }
}

/** A work center's tile on the andon. */
const at = (body: Record<string, any>, id: string): Record<string, any> => (body.items as Array<Record<string, any>>).find((w) => w.workCenterId === id)!

t.test('andon: every work center, its state and its open runs', async (t) => {
  const { app, ana } = await line(t)
  t.equal((await app.call('GET', '/api/v1/hmi/andon', undefined, '')).status, 401)
  const before = await app.call('GET', '/api/v1/hmi/andon', undefined, ana)
  t.equal(before.status, 200)
  const workCenters = demoEquipment.filter((e) => e.level === 'work_center').map((e) => e.id)
  t.same(before.body.items.map((w: { workCenterId: string }) => w.workCenterId), [...workCenters].sort(), 'every work center of the line, by id')
  t.match(at(before.body, 'WC-PRESS'), { name: 'Press 1', lineId: 'L1', state: null, since: null, runs: [] })

  const down = app.gateway.store.execute('system:test', (v) => recordMachineState(v, 'WC-PRESS', 'down', 'plc'))
  t.ok(down.ok)
  const start = await app.call('POST', '/api/v1/orders/PO-1001/operations/10/start', { unit: 'PO-1001-0001' }, ana)
  t.equal(start.status, 201, JSON.stringify(start.body))
  const after = await app.call('GET', '/api/v1/hmi/andon', undefined, ana)
  const press = at(after.body, 'WC-PRESS')
  t.match(press, { state: 'down', source: 'plc' })
  t.ok(Date.parse(press.since) > 0)
  t.match(press.runs, [{ runId: start.body.runId, orderId: 'PO-1001', productId: 'BRK-100', opSeq: 10, unitSerial: 'PO-1001-0001', quantity: 1, operatorId: 'ana', state: 'running' }])
  t.same(at(after.body, 'WC-WELD').runs, [], 'other work centers have no run')

  await app.call('POST', `/api/v1/runs/${start.body.runId}/pause`, { reason: 'break' }, ana)
  t.equal(at((await app.call('GET', '/api/v1/hmi/andon', undefined, ana)).body, 'WC-PRESS').runs[0].state, 'paused', 'a paused run is still open')
})

t.test('a run: its operation, and what was booked, measured and refused on it', async (t) => {
  const { app, ana, quinn } = await line(t)
  const start = await app.call('POST', '/api/v1/orders/PO-1001/operations/10/start', { unit: 'PO-1001-0001' }, ana)
  const runId = start.body.runId as string
  t.equal((await app.call('POST', `/api/v1/runs/${runId}/consumptions`, { lot: 'BOLT-0001', quantity: 0.5 }, ana)).status, 422)
  t.equal((await app.call('POST', `/api/v1/runs/${runId}/consumptions`, { lot: 'STEEL-0001', quantity: 0.5 }, ana)).status, 201)
  t.equal((await app.call('POST', `/api/v1/runs/${runId}/measurements`, { name: 'thickness', value: 2.02, unit: 'mm' }, ana)).status, 201)

  const detail = await app.call('GET', `/api/v1/hmi/runs/${runId}`, undefined, quinn)
  t.equal(detail.status, 200)
  t.match(detail.body.run, { id: runId, orderId: 'PO-1001', opSeq: 10, unitSerial: 'PO-1001-0001', state: 'running', quantity: 1 })
  t.match(detail.body.order, { id: 'PO-1001', productId: 'BRK-100', serialized: true })
  t.match(detail.body.operation, { seq: 10, name: 'Press', instructions: /Load one blank/, components: [{ materialId: 'STEEL-2MM', quantityPer: 0.5 }], measurements: [{ name: 'thickness', lower: 1.9, upper: 2.1 }] })
  t.match(detail.body.consumptions, [{ lot: 'STEEL-0001', materialId: 'STEEL-2MM', quantity: 0.5, kind: 'lot' }])
  t.match(detail.body.measurements, [{ name: 'thickness', value: 2.02, unit: 'mm', withinLimits: true }])
  t.match(detail.body.refusals, [{ lot: 'BOLT-0001', code: 'lot_wrong_material', reason: /BOLT-M8/ }])
  const missing = await app.call('GET', '/api/v1/hmi/runs/no-such-run', undefined, ana)
  t.equal(missing.status, 404)
  t.equal(missing.body.code, 'not_found')
})

t.test('reason codes: leaves only, stops apart from scrap, from the defined tree', async (t) => {
  const { app, ana, lea } = await line(t)
  const r = await app.call('GET', '/api/v1/hmi/reason-codes', undefined, ana)
  t.equal(r.status, 200)
  const stop = r.body.stop.map((x: { code: string }) => x.code)
  const scrap = r.body.scrap.map((x: { code: string }) => x.code)
  t.ok(stop.includes('failure.mechanical') && stop.includes('planned.break') && stop.includes('setup.changeover'))
  t.notOk(stop.includes('failure') || stop.includes('unplanned'), 'a parent groups, it is not picked')
  t.notOk(stop.some((c: string) => c.startsWith('reject')), 'no scrap reason for a stop')
  t.same(scrap.sort(), ['reject.dimension', 'reject.rework', 'reject.visual', 'reject.weight', 'startup.changeover', 'startup.warmup'])

  // A plant's own tree, once defined, is what the operator picks from.
  const tree = (await app.call('GET', '/api/v1/reason-codes', undefined, ana)).body.items as Array<{ code: string }>
  const own = [...tree, { code: 'failure.die', name: 'Die broken', parent: 'failure', loss: 'breakdown', planned: false }]
  t.equal((await app.call('PUT', '/api/v1/reason-codes', { reasons: own }, lea)).status, 200, 'the lead defines a reason of the plant')
  const after = await app.call('GET', '/api/v1/hmi/reason-codes', undefined, ana)
  t.ok(after.body.stop.some((x: { code: string }) => x.code === 'failure.die'), 'the terminal offers it')
  t.notOk(after.body.scrap.some((x: { code: string }) => x.code === 'failure.die'), 'for stops, not for scrap')
})

t.test('holds: orders and units on hold with reason and who; for quality and leads', async (t) => {
  const { app, ana, lea, quinn } = await line(t)
  await app.call('POST', '/api/v1/orders/PO-1002/hold', { reason: 'drawing revision pending' }, lea)
  const start = await app.call('POST', '/api/v1/orders/PO-1001/operations/10/start', { unit: 'PO-1001-0002' }, ana)
  const out = await app.call('POST', `/api/v1/runs/${start.body.runId}/measurements`, { name: 'thickness', value: 2.5, unit: 'mm' }, ana)
  t.equal(out.status, 201, 'an out-of-limits measurement is recorded and holds the unit')

  t.equal((await app.call('GET', '/api/v1/hmi/holds', undefined, ana)).status, 403, 'not for operators')
  const holds = await app.call('GET', '/api/v1/hmi/holds', undefined, quinn)
  t.equal(holds.status, 200)
  t.match(holds.body.orders, [{ orderId: 'PO-1002', productId: 'BRK-100', heldFrom: 'dispatched', reason: 'drawing revision pending', heldBy: 'person:lea' }])
  t.match(holds.body.units, [{ serial: 'PO-1001-0002', orderId: 'PO-1001', reason: /thickness/ }])
  t.equal((await app.call('GET', '/api/v1/hmi/holds', undefined, lea)).status, 200)

  await app.call('POST', '/api/v1/orders/PO-1002/release-hold', { reason: 'revision B is in' }, lea)
  t.same((await app.call('GET', '/api/v1/hmi/holds', undefined, quinn)).body.orders, [], 'released orders leave the list')
})

t.test('audit: newest first, filtered, paged; for quality only', async (t) => {
  const { app, ana, lea, quinn } = await line(t)
  await app.call('POST', '/api/v1/orders/PO-1002/hold', { reason: 'one' }, lea)
  await app.call('POST', '/api/v1/orders/PO-1002/release-hold', { reason: 'two' }, lea)
  await app.call('POST', '/api/v1/orders/PO-1002/hold', { reason: 'three' }, lea)
  const head = (await app.call('GET', '/health', undefined, '')).body.eventSeq as number

  t.equal((await app.call('GET', '/api/v1/hmi/audit', undefined, ana)).status, 403)
  t.equal((await app.call('GET', '/api/v1/hmi/audit', undefined, lea)).status, 403)
  const all = await app.call('GET', '/api/v1/hmi/audit?limit=2', undefined, quinn)
  t.equal(all.status, 200)
  t.same(all.body.items.map((e: { seq: number }) => e.seq), [head, head - 1], 'newest first')
  t.equal(all.body.next, head - 1, 'next names where the next page starts')
  const page2 = await app.call('GET', `/api/v1/hmi/audit?limit=2&before=${all.body.next}`, undefined, quinn)
  t.same(page2.body.items.map((e: { seq: number }) => e.seq), [head - 2, head - 3])

  const holds = await app.call('GET', '/api/v1/hmi/audit?type=OrderHeld', undefined, quinn)
  t.same(holds.body.items.map((e: { data: { reason: string } }) => e.data.reason), ['three', 'one'])
  t.equal(holds.body.next, null, 'no more pages')
  const bySubject = await app.call('GET', '/api/v1/hmi/audit?subject=order/PO-1002&actor=person:lea', undefined, quinn)
  t.same(bySubject.body.items.map((e: { type: string }) => e.type), ['OrderHeld', 'OrderHoldReleased', 'OrderHeld'])
  t.match(bySubject.body.items[0], { actor: 'person:lea', hash: /^[0-9a-f]{64}$/ })
  t.same((await app.call('GET', '/api/v1/hmi/audit?actor=person:ana', undefined, quinn)).body.items, [])

  const future = new Date(Date.now() + 3600_000).toISOString()
  t.same((await app.call('GET', `/api/v1/hmi/audit?from=${encodeURIComponent(future)}`, undefined, quinn)).body.items, [], 'nothing after now')
  const past = new Date(Date.now() - 3600_000).toISOString()
  t.equal((await app.call('GET', `/api/v1/hmi/audit?from=${encodeURIComponent(past)}&limit=500`, undefined, quinn)).body.items.length, head, 'everything in the last hour')
  const backwards = await app.call('GET', `/api/v1/hmi/audit?from=${encodeURIComponent(future)}&to=${encodeURIComponent(past)}`, undefined, quinn)
  t.equal(backwards.status, 422)
  t.equal(backwards.body.code, 'query_invalid')
  t.equal((await app.call('GET', '/api/v1/hmi/audit?limit=501', undefined, quinn)).status, 422)
  t.equal((await app.call('GET', '/api/v1/hmi/audit?limit=0', undefined, quinn)).status, 422)
})
