// The benchmark line set up over a gateway's API for a paced completion load: master data, the operator's login, dispatched orders, runs started.
//
// The same steps as bench/completions.ts takes (which keeps its own copy: it is not this file's to change).
import * as line from './bench-line.ts'
import { inParallel, JsonClient } from './json-client.ts'

export interface PreparedLine {
  admin: JsonClient
  operator: JsonClient
  orders: string[]
}

/** Master data, the operator's login and `orders` dispatched lot-based orders large enough never to complete. */
export async function prepareLine(url: string, adminToken: string, orders: number): Promise<PreparedLine> {
  const admin = new JsonClient(url, adminToken)
  for (const e of line.equipment) await admin.expect('PUT', `/api/v1/equipment/${e.id}`, e)
  for (const m of line.materials) await admin.expect('PUT', `/api/v1/materials/${m.id}`, m)
  await admin.expect('PUT', `/api/v1/boms/${line.bom.id}/${line.bom.version}`, line.bom)
  await admin.expect('PUT', `/api/v1/routings/${line.routing.id}/${line.routing.version}`, line.routing)
  await admin.expect('PUT', `/api/v1/people/${line.operator.id}`, line.operator)
  await admin.expect('PUT', `/api/v1/people/${line.operator.id}/password`, { password: line.operatorPassword })
  for (const l of line.lots) await admin.expect('PUT', `/api/v1/lots/${l.id}`, l)
  const ids = Array.from({ length: orders }, (_, i) => `BENCH-TM-PO-${i + 1}`)
  for (const orderId of ids) {
    await admin.expect('POST', '/api/v1/orders', line.orderRequest(orderId, 5_000_000), [201])
    await admin.expect('POST', `/api/v1/orders/${orderId}/release`, undefined)
    await admin.expect('POST', `/api/v1/orders/${orderId}/dispatch`, undefined)
  }
  const login = await new JsonClient(url, '').expect('POST', '/api/v1/auth/login', { username: line.operator.id, password: line.operatorPassword }, [200])
  return { admin, operator: admin.withToken(String(login.token)), orders: ids }
}

/** Starts `count` runs of quantity 1 on the orders in turn, 32 requests in flight; returns their ids. */
export async function startRuns(prepared: PreparedLine, count: number): Promise<string[]> {
  return inParallel(count, 32, async (i) => {
    const body = await prepared.operator.expect('POST', `/api/v1/orders/${prepared.orders[i % prepared.orders.length]}/operations/${line.opSeq}/start`, { quantity: 1 }, [201])
    return String(body.runId)
  })
}

/** The good quantity recorded on the orders' first operation, to check against the completions acknowledged. */
export async function recordedGood(prepared: PreparedLine): Promise<number> {
  let recorded = 0
  for (const orderId of prepared.orders) {
    const detail = await prepared.admin.expect('GET', `/api/v1/orders/${orderId}`, undefined, [200])
    recorded += (detail.operations as Array<{ qtyGood: number }>)[0]!.qtyGood
  }
  return recorded
}
