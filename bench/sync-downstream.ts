// Issue 7's downstream benchmark: an order released in the cloud until the line's gateway has it, against the same order posted to the gateway itself.
import * as line from '../test/helpers/line.ts'
import { tempDir } from './lib/cleanup.ts'
import { adminToken, freshDatabase, startCloudProcess } from './lib/cloud-process.ts'
import type { BenchResult } from './lib/figures.ts'
import { startGatewayProcess } from './lib/gateway-process.ts'
import { JsonClient } from './lib/json-client.ts'
import { summarize } from './lib/stats.ts'

export interface SyncDownstreamOptions {
  orders: number
}

export const defaultSyncDownstreamOptions: SyncDownstreamOptions = { orders: 200 }

const gatewayAdmin = 'bench-gateway-admin-token-0123456789'
const log = (message: string) => process.stdout.write(`  ${message}\n`)

/** Milliseconds from `send` until the gateway answers 200 for the order (read every 2 ms). */
async function untilVisible(gateway: JsonClient, orderId: string, send: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await send()
  for (;;) {
    if ((await gateway.call('GET', `/api/v1/orders/${orderId}`)).status === 200) return performance.now() - started
    if (performance.now() - started > 30_000) throw new Error(`order ${orderId} never reached the gateway`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

export async function benchSyncDownstream(options: SyncDownstreamOptions = defaultSyncDownstreamOptions): Promise<BenchResult> {
  const dir = tempDir('takt-bench-downstream-').path
  const db = await freshDatabase()
  const cloud = await startCloudProcess(db.url, dir)
  const admin = new JsonClient(cloud.url, adminToken)
  const { token } = (await admin.expect('POST', '/api/v1/gateways', { id: 'bench-gw', lineId: 'L1' })) as { token: string }
  const gateway = await startGatewayProcess({ dataDir: dir, adminToken: gatewayAdmin, config: `gatewayId: bench-gw\nsync:\n  url: ${cloud.url}\n  token: ${token}\n  lineId: L1\n` })
  // ERP's own token on the gateway reads and posts orders (an admin token administers, it does not read production data).
  const erp = (await new JsonClient(gateway.url, gatewayAdmin).expect('POST', '/api/v1/tokens', { name: 'bench-erp', role: 'integration' }, [201])) as { token: string }
  const gw = new JsonClient(gateway.url, erp.token)
  const definitions = [
    ...line.equipment.map((definition) => ({ kind: 'equipment', definition })),
    ...line.materials.map((definition) => ({ kind: 'material', definition })),
    { kind: 'bom', definition: line.bom },
    { kind: 'routing', definition: line.routing },
    { kind: 'lot', definition: line.lot },
  ]
  await untilVisible(gw, 'PO-WARM', () => admin.expect('POST', '/api/v1/lines/L1/definitions', { definitions: [...definitions, { kind: 'order', definition: line.order('PO-WARM', 1) }] }))
  const viaCloud: number[] = []
  const direct: number[] = []
  for (let i = 1; i <= options.orders; i++) {
    viaCloud.push(await untilVisible(gw, `PO-C${i}`, () => admin.expect('POST', '/api/v1/lines/L1/definitions', { definitions: [{ kind: 'order', definition: line.order(`PO-C${i}`, 10) }] })))
    direct.push(await untilVisible(gw, `PO-D${i}`, () => gw.expect('POST', '/api/v1/orders', line.order(`PO-D${i}`, 10), [201])))
  }
  const c = summarize(viaCloud)
  const d = summarize(direct)
  log(`via the cloud: ${options.orders} orders, p50 ${c.p50.toFixed(1)} ms, p99 ${c.p99.toFixed(1)} ms, max ${c.max.toFixed(1)} ms; posted to the gateway: p50 ${d.p50.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms`)
  await gateway.stop()
  await cloud.stop()
  await db.drop()
  return {
    title: 'Cloud sync: an order released in the cloud until the gateway has it',
    figures: [
      { label: 'Order posted to the cloud → on the gateway, p50', value: c.p50, unit: 'ms', digits: 1 },
      { label: 'Order posted to the cloud → on the gateway, p99', value: c.p99, unit: 'ms', digits: 1, target: { kind: 'max', value: 1000 } },
      { label: 'Order posted to the cloud → on the gateway, max', value: c.max, unit: 'ms', digits: 1 },
      { label: 'Peer: the same order posted to the gateway itself, p99', value: d.p99, unit: 'ms', digits: 1 },
      { label: 'Ratio p99 via the cloud ÷ posted to the gateway', value: c.p99 / d.p99, unit: '×', digits: 1 },
    ],
    notes: [
      `${options.orders} orders one after another: each is posted to cloud-sync's line intake (its own process, on a fresh PostgreSQL database) and the time runs until the gateway (its own process, following its line's shape with @electric-sql/client over live long-polls) answers GET /api/v1/orders/{id} with 200, read every 2 ms. The peer posts the same kind of order to the gateway's own API and reads it back the same way.`,
    ],
  }
}
