// A small lot-based test line: one work center mixing paste from resin, one measurement, people with passwords.
import type { Call } from './client.ts'
import { removeDir, startTestGateway, type Reply, type TestGateway } from './gateway.ts'

export const password = 'correct horse battery staple'

export const equipment = [
  { id: 'SITE', level: 'site', name: 'Test plant', parentId: null },
  { id: 'AREA', level: 'area', name: 'Mixing', parentId: 'SITE' },
  { id: 'L1', level: 'line', name: 'Paste line', parentId: 'AREA' },
  { id: 'WC-MIX', level: 'work_center', name: 'Mixer', parentId: 'L1', ratedCycleTimeS: 10 },
]
export const materials = [
  { id: 'PASTE', name: 'Paste', uom: 'kg', serialized: false },
  { id: 'RESIN', name: 'Resin', uom: 'kg', serialized: false },
  { id: 'WIDGET', name: 'Widget', uom: 'ea', serialized: true },
]
export const bom = { id: 'BOM-PASTE', version: 'A', productId: 'PASTE', items: [{ materialId: 'RESIN', quantityPer: 1 }] }
export const bomWidget = { id: 'BOM-WIDGET', version: 'A', productId: 'WIDGET', items: [{ materialId: 'RESIN', quantityPer: 1 }] }

const mixing = (instructions: string) => ({
  seq: 10,
  name: 'Mix',
  workCenterId: 'WC-MIX',
  components: [{ materialId: 'RESIN', quantityPer: 1 }],
  measurements: [{ name: 'viscosity', unit: 'Pa.s', lower: 1, upper: 10 }],
  instructions,
})
export const routing = { id: 'RT-PASTE', version: 'A', productId: 'PASTE', operations: [mixing('Mix one batch.')] }
export const routingB = { id: 'RT-PASTE', version: 'B', productId: 'PASTE', operations: [mixing('Mix one batch, slower.')] }
export const routingWidget = { id: 'RT-WIDGET', version: 'A', productId: 'WIDGET', operations: [mixing('Mix one widget.')] }

export const people = [
  { id: 'olga', name: 'Olga Operator', roles: ['operator'] },
  { id: 'leo', name: 'Leo Lead', roles: ['lead'] },
  { id: 'quentin', name: 'Quentin Quality', roles: ['quality'] },
  { id: 'ivan', name: 'Ivan Inactive', roles: ['operator'], active: false },
]
export const lot = { id: 'RESIN-001', materialId: 'RESIN', status: 'released', quantity: 1_000_000 }

export const order = (id: string, quantity: number, extra: Record<string, unknown> = {}) => ({
  id,
  productId: 'PASTE',
  quantity,
  bomId: 'BOM-PASTE',
  bomVersion: 'A',
  routingId: 'RT-PASTE',
  routingVersion: 'A',
  lineId: 'L1',
  ...extra,
})

/** A completion that satisfies the operation: one kg of resin and an in-limit viscosity. */
export const completion = { good: 1, consumptions: [{ lot: 'RESIN-001', quantity: 1 }], measurements: [{ name: 'viscosity', value: 5, unit: 'Pa.s' }] }

async function expectOk(r: Promise<Reply>, what: string, status = 200): Promise<Reply> {
  const reply = await r
  if (reply.status !== status) throw new Error(`${what}: expected ${status}, got ${reply.status} ${JSON.stringify(reply.body)}`)
  return reply
}

/** Defines the whole line through the API with the caller's (admin) token; passwords for every person. */
export async function defineLine(call: Call): Promise<void> {
  for (const e of equipment) await expectOk(call('PUT', `/api/v1/equipment/${e.id}`, e), `equipment ${e.id}`)
  for (const m of materials) await expectOk(call('PUT', `/api/v1/materials/${m.id}`, m), `material ${m.id}`)
  for (const b of [bom, bomWidget]) await expectOk(call('PUT', `/api/v1/boms/${b.id}/${b.version}`, b), `BOM ${b.id}`)
  for (const r of [routing, routingB, routingWidget]) await expectOk(call('PUT', `/api/v1/routings/${r.id}/${r.version}`, r), `routing ${r.id} ${r.version}`)
  for (const p of people) {
    await expectOk(call('PUT', `/api/v1/people/${p.id}`, p), `person ${p.id}`)
    await expectOk(call('PUT', `/api/v1/people/${p.id}/password`, { password }), `password ${p.id}`)
  }
  await expectOk(call('PUT', `/api/v1/lots/${lot.id}`, lot), `lot ${lot.id}`)
}

/** Creates, releases and dispatches a lot-based order; returns nothing but fails loudly. */
export async function dispatchedOrder(call: Call, id: string, quantity: number): Promise<void> {
  await expectOk(call('POST', '/api/v1/orders', order(id, quantity)), `order ${id}`, 201)
  await expectOk(call('POST', `/api/v1/orders/${id}/release`), `release ${id}`)
  await expectOk(call('POST', `/api/v1/orders/${id}/dispatch`), `dispatch ${id}`)
}

/** Starts a run for one kg of an order's mixing operation, booked for Olga; returns the run id. */
export async function startRun(call: Call, orderId: string): Promise<string> {
  const r = await expectOk(call('POST', `/api/v1/orders/${orderId}/operations/10/start`, { quantity: 1, operatorId: 'olga' }), `start ${orderId}`, 201)
  return r.body.runId as string
}

export async function eventSeq(call: Call): Promise<number> {
  return (await call('GET', '/health', undefined, '')).body.eventSeq as number
}

export async function login(call: Call, username: string, pw = password): Promise<Reply> {
  return call('POST', '/api/v1/auth/login', { username, password: pw }, '')
}

/** A gateway on a free port with the test line defined; stopped and its data removed when `t` ends. */
export async function lineGateway(t: { teardown(fn: () => Promise<void>): void }): Promise<TestGateway> {
  const gw = await startTestGateway()
  t.teardown(async () => {
    await gw.stop()
    removeDir(gw.dataDir)
  })
  await defineLine(gw.call)
  return gw
}
