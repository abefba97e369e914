// Pushing performance to ERP through the durable outbox: a real HTTP endpoint that is down, then up; retries with backoff; order kept; nothing lost across a restart.
import { mkdtempSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { parseXml } from '../../edge/erp/xml.ts'
import { freePort } from '../helpers/client.ts'
import { removeDir } from '../helpers/gateway.ts'
import { erpGateway, fixture, loadPasteLine, textAt, until, type ErpTestGateway } from './helpers.ts'

interface Received {
  headers: IncomingHttpHeaders
  body: string
}

/** A stand-in ERP endpoint on a fixed port; `answer` decides each response's status. */
class ErpEndpoint {
  readonly port: number
  readonly received: Received[] = []
  answer: (n: number) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 })
  #server: Server | null = null

  constructor(port: number) {
    this.port = port
  }

  up(): Promise<void> {
    const server = createServer((req, res) => {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (chunk: string) => (body += chunk))
      req.on('end', () => {
        this.received.push({ headers: req.headers, body })
        const { status, headers } = this.answer(this.received.length)
        res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(status < 300 ? 'ok' : 'not now')
      })
    })
    this.#server = server
    return new Promise((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()))
  }

  down(): Promise<void> {
    const server = this.#server
    this.#server = null
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()))
  }
}

const port = await freePort()
const erp = new ErpEndpoint(port)
t.teardown(() => erp.down())
const push = { url: `http://127.0.0.1:${port}/b2mml/inbound`, authorization: 'Bearer erp-secret', minBackoffMs: 40, maxBackoffMs: 300, idleMs: 100, timeoutMs: 2000 }

async function completeOrder(gw: ErpTestGateway, id: string, kg = 50, resin = [{ lot: 'RESIN-0001', quantity: 2 * kg }]): Promise<void> {
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await gw.call(method, path, body)
    if (r.status >= 300) throw new Error(`${method} ${path}: ${JSON.stringify(r.body)}`)
    return r.body
  }
  await call('POST', `/api/v1/orders/${id}/release`)
  await call('POST', `/api/v1/orders/${id}/dispatch`)
  const mix = await call('POST', `/api/v1/orders/${id}/operations/10/start`, { operatorId: 'olga' })
  await call('POST', `/api/v1/runs/${mix.runId}/complete`, { good: kg, consumptions: [...resin, { lot: 'HARD-0001', quantity: kg / 2 }], measurements: [{ name: 'viscosity', value: 4, unit: 'Pa.s' }] })
  const fill = await call('POST', `/api/v1/orders/${id}/operations/20/start`, { operatorId: 'leo' })
  await call('POST', `/api/v1/runs/${fill.runId}/complete`, { good: kg })
}

const outbox = async (gw: ErpTestGateway, state?: string) => (await gw.call('GET', `/api/v1/erp/outbox${state ? `?state=${state}` : ''}`)).body

t.test('ERP down: documents wait in the outbox and are retried; ERP up: delivered in order, each once', async (t) => {
  // The gateway's whole log, without redaction, to show the ERP credentials never reach it.
  const log: string[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => void log.push(line) })
  const gw = await erpGateway(t, { push }, { parts: { logger } })
  await loadPasteLine(gw)
  await gw.post(fixture('v0600-schedule.xml'))
  await completeOrder(gw, 'PO-101')
  const pending = await until('three documents retried', async () => {
    const box = await outbox(gw)
    return box.items.length === 3 && box.items.at(-1).attempts >= 2 && box
  })
  t.same(pending.counts, { pending: 3, delivered: 0, rejected: 0 })
  t.same(pending.items.map((i: Record<string, unknown>) => [i.kind, i.orderId, i.opSeq]).reverse(), [['segment', 'PO-101', 10], ['segment', 'PO-101', 20], ['order', 'PO-101', null]])
  t.match(pending.items.at(-1).lastError, /ECONNREFUSED/)
  t.equal(pending.items[0].attempts, 0, 'later documents wait behind the first: delivery keeps the order')

  await erp.up()
  await until('all delivered', async () => (await outbox(gw)).counts.delivered === 3)
  t.equal(erp.received.length, 3, 'each delivered once')
  const docs = erp.received.map((r) => parseXml(r.body))
  t.same(docs.map((d) => d.name), ['SyncProductionPerformance', 'SyncProductionPerformance', 'SyncProductionPerformance'])
  t.same(docs.map((d) => textAt(d, 'DataArea', 'ProductionPerformance', 'ID')), ['PO-101-0010', 'PO-101-0020', 'PO-101'])
  t.match(textAt(docs[2], 'ApplicationArea', 'BODID'), /^takt-gateway-1-\d+-order$/, 'a BODID ERP can de-duplicate on')
  t.equal(erp.received[0]!.headers.authorization, 'Bearer erp-secret')
  t.ok(log.some((l) => l.includes('ERP is unreachable')), 'the failed attempts are logged')
  t.ok(log.some((l) => l.includes('"erpPush":"http://127.0.0.1:')), 'the endpoint is logged by its origin')
  t.notOk(log.some((l) => l.includes('erp-secret')), 'the credentials are not')
  t.match(erp.received[0]!.headers['content-type'], /^application\/xml/)
  const full = await gw.get('/api/v1/erp/performance/orders/PO-101')
  t.equal(textAt(parseXml(erp.received[2]!.body), 'DataArea', 'ProductionPerformance', 'ProductionResponse', 'EndTime'), textAt(full.xml, 'DataArea', 'ProductionPerformance', 'ProductionResponse', 'EndTime'), 'the pushed document is the one GET returns')
  await gw.stop()
})

t.test('503 with Retry-After is retried; a 400 is kept as rejected, the next documents go on, and a retry sends it again', async (t) => {
  erp.received.length = 0
  erp.answer = (n) => (n === 1 ? { status: 503, headers: { 'retry-after': '0' } } : n === 2 ? { status: 400 } : { status: 200 })
  const gw = await erpGateway(t, { push })
  await loadPasteLine(gw)
  await gw.post(fixture('v0600-schedule.xml'))
  await completeOrder(gw, 'PO-101')
  const box = await until('delivered or rejected', async () => {
    const b = await outbox(gw)
    return b.counts.delivered === 2 && b.counts.rejected === 1 && b
  })
  const rejected = box.items.find((i: { state: string }) => i.state === 'rejected')
  t.match(rejected, { kind: 'segment', opSeq: 10, lastStatus: 400, attempts: 2 }, 'the first document: 503 (retried), then 400 (rejected)')
  t.match(rejected.lastError, /ERP refused the document with 400/)
  t.equal(erp.received.length, 4)
  const retry = await gw.call('POST', `/api/v1/erp/outbox/${rejected.id}/retry`)
  t.equal(retry.status, 200)
  await until('retried document delivered', async () => (await outbox(gw)).counts.delivered === 3)
  t.equal(textAt(parseXml(erp.received.at(-1)!.body), 'DataArea', 'ProductionPerformance', 'ID'), 'PO-101-0010')
  t.equal((await gw.call('POST', `/api/v1/erp/outbox/${rejected.id}/retry`)).status, 404, 'a delivered document is not sent again')
  await gw.stop()
})

t.test('nothing is lost across a restart: pending documents, and completions recorded while the pusher was stopped', async (t) => {
  await erp.down()
  erp.received.length = 0
  erp.answer = () => ({ status: 200 })
  const dataDir = mkdtempSync(join(tmpdir(), 'takt-erp-restart-'))
  t.teardown(() => removeDir(dataDir))
  const first = await erpGateway(t, { push }, { dataDir })
  await loadPasteLine(first)
  await first.post(fixture('v0600-schedule.xml'))
  await completeOrder(first, 'PO-101')
  await until('PO-101 documents waiting', async () => (await outbox(first)).counts.pending === 3)
  // The pusher stops; PO-100 completes with nobody producing its documents — they come from the event log later.
  await first.running.gateway.erpPush!.stop()
  await completeOrder(first, 'PO-100', 100, [{ lot: 'RESIN-0001-A', quantity: 100 }, { lot: 'RESIN-0001', quantity: 100 }])
  t.equal((await outbox(first)).counts.pending, 3)
  await first.stop()

  const second = await erpGateway(t, { push }, { dataDir })
  await erp.up()
  await until('all six delivered', async () => (await outbox(second)).counts.delivered === 6)
  t.same(erp.received.map((r) => textAt(parseXml(r.body), 'DataArea', 'ProductionPerformance', 'ID')), ['PO-101-0010', 'PO-101-0020', 'PO-101', 'PO-100-0010', 'PO-100-0020', 'PO-100'])
  await second.stop()
})

t.test('without a push configured the outbox says so', async (t) => {
  const gw = await erpGateway(t)
  t.same(await outbox(gw), { configured: false, counts: null, items: [] })
  t.equal((await gw.call('POST', '/api/v1/erp/outbox/1/retry')).status, 404)
})
