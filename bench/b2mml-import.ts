// Benchmark: a B2MML schedule of 1,000 orders × 10 segments imported through the HTTP API of a gateway process, beside the same orders through the JSON API.
import { tempDir } from './lib/cleanup.ts'
import type { BenchResult } from './lib/figures.ts'
import { projectRoot, startGatewayProcess } from './lib/gateway-process.ts'
import { inParallel, JsonClient } from './lib/json-client.ts'

export interface B2mmlImportOptions {
  orders: number
  segments: number
  /** Orders are spread over this many products; each product's segments make one routing. */
  products: number
  /** Requests in flight for the JSON peer. */
  jsonConcurrency: number
  /** Node flags for the B2MML gateway process, e.g. `--cpu-prof`. */
  nodeArgs?: string[]
}

export const defaultB2mmlImportOptions: B2mmlImportOptions = { orders: 1000, segments: 10, products: 10, jsonConcurrency: 16 }

const adminToken = 'bench-admin-token-0123456789abcdef'
const ns = 'http://www.mesa.org/xml/B2MML'
const lineId = 'BX-L1'
const log = (message: string) => process.stdout.write(`  ${message}\n`)

interface Shape {
  product: string
  quantity: number
}

/** Order i: product i mod products, a quantity that varies but keeps per-unit figures exact (so each product's routing is one version). */
const shapeOf = (i: number, o: B2mmlImportOptions): Shape => ({ product: `BXP-${i % o.products}`, quantity: 10 * (1 + (i % 50)) })
const orderId = (i: number) => `BX-${String(i + 1).padStart(6, '0')}`

/** The bench line's equipment and materials, as two Sync documents. */
export function masterDataDocuments(o: B2mmlImportOptions): string[] {
  const wcs = Array.from({ length: o.segments }, (_, j) => `<Equipment><ID>BX-WC${j + 1}</ID><EquipmentLevel>WorkCell</EquipmentLevel></Equipment>`).join('')
  const equipment = `<Equipment><ID>BX-SITE</ID><EquipmentLevel>Site</EquipmentLevel><Equipment><ID>BX-AREA</ID><EquipmentLevel>Area</EquipmentLevel><Equipment><ID>${lineId}</ID><EquipmentLevel>ProductionLine</EquipmentLevel>${wcs}</Equipment></Equipment></Equipment>`
  const material = (id: string) => `<MaterialDefinition><ID>${id}</ID><MaterialDefinitionProperty><ID>UnitOfMeasure</ID><Value><ValueString>ea</ValueString></Value></MaterialDefinitionProperty></MaterialDefinition>`
  const materials = [...Array.from({ length: o.products }, (_, p) => material(`BXP-${p}`)), ...Array.from({ length: o.segments }, (_, j) => material(`BXC-${j + 1}`))].join('')
  const area = '<ApplicationArea><CreationDateTime>2026-01-01T00:00:00Z</CreationDateTime></ApplicationArea>'
  return [
    `<SyncEquipmentInformation xmlns="${ns}" releaseID="V0701">${area}<DataArea><Sync/><EquipmentInformation>${equipment}</EquipmentInformation></DataArea></SyncEquipmentInformation>`,
    `<SyncMaterialInformation xmlns="${ns}" releaseID="V0701">${area}<DataArea><Sync/><MaterialInformation>${materials}</MaterialInformation></DataArea></SyncMaterialInformation>`,
  ]
}

function segmentXml(j: number, s: Shape, last: boolean): string {
  const seq = (j + 1) * 10
  const produced = last ? `<MaterialRequirement><MaterialDefinitionID>${s.product}</MaterialDefinitionID><MaterialUse>Produced</MaterialUse><Quantity><QuantityString>${s.quantity}</QuantityString><UnitOfMeasure>ea</UnitOfMeasure></Quantity></MaterialRequirement>` : ''
  return (
    `<SegmentRequirement><ID>${seq}</ID><Description>Operation ${seq}</Description><ProcessSegmentID>OP-${seq}</ProcessSegmentID><Duration>PT${300 + 30 * s.quantity}S</Duration>` +
    `<OperationsDefinitionID>RT-${s.product}</OperationsDefinitionID><OperationsSegmentID>RT-${s.product}-${seq}</OperationsSegmentID>` +
    '<SegmentParameter><ID>SetupTime</ID><Value><ValueString>PT300S</ValueString></Value></SegmentParameter>' +
    `<EquipmentRequirement><EquipmentID>BX-WC${j + 1}</EquipmentID></EquipmentRequirement>` +
    `<MaterialRequirement><MaterialDefinitionID>BXC-${j + 1}</MaterialDefinitionID><MaterialUse>Consumed</MaterialUse><Quantity><QuantityString>${s.quantity}</QuantityString><UnitOfMeasure>ea</UnitOfMeasure></Quantity></MaterialRequirement>` +
    `${produced}</SegmentRequirement>`
  )
}

/** One SyncOperationsSchedule (V0700+) with every order; one document, so one transaction. */
export function scheduleDocument(o: B2mmlImportOptions): string {
  const requests: string[] = []
  for (let i = 0; i < o.orders; i++) {
    const s = shapeOf(i, o)
    const segments = Array.from({ length: o.segments }, (_, j) => segmentXml(j, s, j === o.segments - 1)).join('')
    requests.push(`<OperationsRequest><ID>${orderId(i)}</ID><HierarchyScope><EquipmentID>${lineId}</EquipmentID><EquipmentLevel>ProductionLine</EquipmentLevel></HierarchyScope><OperationsType>Production</OperationsType><Priority>${i % 1000}</Priority><OperationsDefinitionID>RT-${s.product}</OperationsDefinitionID>${segments}</OperationsRequest>\n`)
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<SyncOperationsSchedule xmlns="${ns}" releaseID="V0701"><ApplicationArea><Sender><LogicalID>BENCH-ERP</LogicalID></Sender><CreationDateTime>2026-01-01T00:00:00Z</CreationDateTime><BODID>BENCH-1</BODID></ApplicationArea><DataArea><Sync/><OperationsSchedule><ID>BENCH-WEEK</ID>\n${requests.join('')}</OperationsSchedule></DataArea></SyncOperationsSchedule>\n`
}

/** The same master data and orders as JSON: what an integrator without B2MML sends. */
function jsonLine(o: B2mmlImportOptions) {
  const equipment = [
    { id: 'BX-SITE', level: 'site', name: 'BX-SITE', parentId: null },
    { id: 'BX-AREA', level: 'area', name: 'BX-AREA', parentId: 'BX-SITE' },
    { id: lineId, level: 'line', name: lineId, parentId: 'BX-AREA' },
    ...Array.from({ length: o.segments }, (_, j) => ({ id: `BX-WC${j + 1}`, level: 'work_center', name: `BX-WC${j + 1}`, parentId: lineId })),
  ]
  const materials = [...Array.from({ length: o.products }, (_, p) => `BXP-${p}`), ...Array.from({ length: o.segments }, (_, j) => `BXC-${j + 1}`)].map((id) => ({ id, name: id, uom: 'ea' }))
  const products = Array.from({ length: o.products }, (_, p) => `BXP-${p}`)
  const routings = products.map((product) => ({
    id: `RT-${product}`,
    version: '1',
    productId: product,
    operations: Array.from({ length: o.segments }, (_, j) => ({ seq: (j + 1) * 10, name: `Operation ${(j + 1) * 10}`, workCenterId: `BX-WC${j + 1}`, setupTimeS: 300, idealCycleTimeS: 30, components: [{ materialId: `BXC-${j + 1}`, quantityPer: 1 }] })),
  }))
  const boms = products.map((product) => ({ id: `BOM-${product}`, version: '1', productId: product, items: Array.from({ length: o.segments }, (_, j) => ({ materialId: `BXC-${j + 1}`, quantityPer: 1 })) }))
  const orders = Array.from({ length: o.orders }, (_, i) => {
    const s = shapeOf(i, o)
    return { id: orderId(i), productId: s.product, quantity: s.quantity, bomId: `BOM-${s.product}`, bomVersion: '1', routingId: `RT-${s.product}`, routingVersion: '1', lineId, priority: i % 1000 }
  })
  return { equipment, materials, routings, boms, orders }
}

interface ChildGateway {
  url: string
  stop(): Promise<void>
}

/** The gateway as an installer runs it (`takt edge`), with a body limit big enough for the whole schedule in one document. */
async function startGateway(label: string, nodeArgs: string[]): Promise<ChildGateway> {
  const dir = tempDir(`b2mml-${label}`)
  const config = 'http:\n  maxBodyBytes: 67108864\nerp:\n  maxDocumentBytes: 67108864\n'
  const gw = await startGatewayProcess({ dataDir: dir.path, adminToken, nodeArgs, config })
  return {
    url: gw.url,
    async stop() {
      await gw.stop()
      await dir.remove()
    },
  }
}

async function postXml(url: string, body: string): Promise<{ ms: number; reply: Record<string, any> }> {
  const started = performance.now()
  const res = await fetch(`${url}/api/v1/erp/b2mml`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/xml', accept: 'application/json' }, body })
  const reply = (await res.json()) as Record<string, any>
  const ms = performance.now() - started
  if (res.status !== 200) throw new Error(`the gateway refused the document: ${res.status} ${JSON.stringify(reply).slice(0, 500)}`)
  return { ms, reply }
}

async function countOrders(client: JsonClient): Promise<number> {
  return ((await client.expect('GET', '/api/v1/orders?limit=10000', undefined)).items as unknown[]).length
}

async function jsonPeer(o: B2mmlImportOptions): Promise<number> {
  const gw = await startGateway('json', [])
  try {
    const client = new JsonClient(gw.url, adminToken)
    const data = jsonLine(o)
    for (const e of data.equipment) await client.expect('PUT', `/api/v1/equipment/${e.id}`, e)
    for (const m of data.materials) await client.expect('PUT', `/api/v1/materials/${m.id}`, m)
    const started = performance.now()
    await inParallel(data.routings.length, o.jsonConcurrency, (i) => client.expect('PUT', `/api/v1/routings/${data.routings[i]!.id}/1`, data.routings[i]))
    await inParallel(data.boms.length, o.jsonConcurrency, (i) => client.expect('PUT', `/api/v1/boms/${data.boms[i]!.id}/1`, data.boms[i]))
    await inParallel(data.orders.length, o.jsonConcurrency, (i) => client.expect('POST', '/api/v1/orders', data.orders[i], [201]))
    const ms = performance.now() - started
    const count = await countOrders(client)
    if (count !== o.orders) throw new Error(`the JSON peer made ${count} orders, not ${o.orders}`)
    return ms
  } finally {
    await gw.stop()
  }
}

export async function benchB2mmlImport(options: B2mmlImportOptions = defaultB2mmlImportOptions): Promise<BenchResult> {
  const o = options
  const doc = scheduleDocument(o)
  const mb = Buffer.byteLength(doc) / 1024 / 1024
  log(`schedule: ${o.orders} orders × ${o.segments} segments, ${mb.toFixed(1)} MiB of B2MML`)
  const gw = await startGateway('xml', o.nodeArgs ?? [])
  let importMs: number
  let resendMs: number
  try {
    for (const md of masterDataDocuments(o)) await postXml(gw.url, md)
    const first = await postXml(gw.url, doc)
    importMs = first.ms
    if (first.reply.applied.orders.created !== o.orders) throw new Error(`created ${first.reply.applied.orders.created} orders, not ${o.orders}`)
    const count = await countOrders(new JsonClient(gw.url, adminToken))
    if (count !== o.orders) throw new Error(`the gateway holds ${count} orders, not ${o.orders}`)
    log(`B2MML import: ${importMs.toFixed(0)} ms (last event seq ${first.reply.seq})`)
    const again = await postXml(gw.url, doc)
    if (again.reply.outcome !== 'unchanged') throw new Error(`a resend changed something: ${again.reply.summary}`)
    resendMs = again.ms
    log(`resend (unchanged): ${resendMs.toFixed(0)} ms`)
  } finally {
    await gw.stop()
  }
  const jsonMs = await jsonPeer(o)
  log(`JSON API peer: ${jsonMs.toFixed(0)} ms`)
  const label = `${o.orders.toLocaleString('en-US')} orders × ${o.segments} segments`
  return {
    title: 'B2MML schedule import',
    figures: [
      { label: `B2MML import, ${label}, one document`, value: importMs, unit: 'ms', digits: 0, target: { kind: 'max', value: 2000 } },
      { label: 'the same document again (nothing changes)', value: resendMs, unit: 'ms', digits: 0 },
      { label: `peer: the same orders through the JSON API (${o.jsonConcurrency} in flight)`, value: jsonMs, unit: 'ms', digits: 0 },
      { label: 'B2MML import time / JSON API time', value: importMs / jsonMs, unit: '×', digits: 2 },
      { label: 'document size', value: mb, unit: 'MiB', digits: 1 },
    ],
    notes: [
      `One SyncOperationsSchedule (V0700+) of ${label} over ${o.products} products, POSTed to /api/v1/erp/b2mml of a gateway process (takt edge) and timed from the first byte sent to the JSON confirmation received; the whole document is one transaction: parse, map, every core decision, one commit.`,
      'Each order carries its own segments; the per-unit figures derived from them are the same for orders of one product, so the gateway defines one routing and one BOM per product and 1,000 orders that copy them.',
      `The peer sends the same master data and orders through the JSON API to a fresh gateway process: ${o.products} routings, ${o.products} BOMs, then ${o.orders} POST /api/v1/orders with ${o.jsonConcurrency} in flight (group commit), timed from the first routing to the last order.`,
    ],
  }
}

if (import.meta.main) {
  const { printResult } = await import('./lib/figures.ts')
  const { cleanupAll } = await import('./lib/cleanup.ts')
  try {
    // `node bench/b2mml-import.ts --cpu-prof`: the B2MML gateway writes a .cpuprofile into the project folder.
    const nodeArgs = process.argv.includes('--cpu-prof') ? ['--cpu-prof', '--cpu-prof-dir', projectRoot] : []
    printResult(await benchB2mmlImport({ ...defaultB2mmlImportOptions, nodeArgs }))
  } finally {
    await cleanupAll()
  }
}
