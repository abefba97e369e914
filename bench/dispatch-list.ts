// Benchmark 2: the dispatch list of a work center with 10,000 open orders, in-process and over HTTP.
import { defineBom, defineEquipment, defineLot, defineMaterial, definePerson, defineRouting } from '../edge/core/master-data.ts'
import { defineOrder, dispatchOrder, releaseOrder } from '../edge/core/orders.ts'
import { loadConfig } from '../edge/config.ts'
import { buildGateway, type Gateway } from '../edge/gateway.ts'
import type { Decide } from '../edge/store/line-store.ts'
import * as line from './lib/bench-line.ts'
import { tempDir } from './lib/cleanup.ts'
import type { BenchResult } from './lib/figures.ts'
import { startGatewayProcess } from './lib/gateway-process.ts'
import { ms, summarize, timeRepeated } from './lib/stats.ts'

export interface DispatchListOptions {
  orders: number
  samples: number
}

// 1,000 samples: a p99 of 200 is the second-slowest request, one machine pause decides it.
export const defaultDispatchListOptions: DispatchListOptions = { orders: 10_000, samples: 1000 }

const adminToken = 'bench-admin-token-0123456789abcdef'
const log = (message: string) => process.stdout.write(`  ${message}\n`)

/** A small deterministic generator (mulberry32), so every run builds the same line. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Defines the bench line and `count` dispatched orders through core decisions, group-committed like API commands. */
async function populate(gateway: Gateway, count: number): Promise<void> {
  const execute = <R>(decide: Decide<R>) => {
    const done = gateway.store.execute('system:bench', decide)
    if (!done.ok) throw new Error(`bench seed refused: ${done.rejection.message}`)
  }
  for (const e of line.equipment) execute((v) => defineEquipment(v, e))
  for (const m of line.materials) execute((v) => defineMaterial(v, m))
  execute((v) => defineBom(v, line.bom))
  execute((v) => defineRouting(v, line.routing))
  execute((v) => definePerson(v, line.operator))
  for (const l of line.lots) execute((v) => defineLot(v, l))
  const next = random(42)
  const now = Date.now()
  const ids = Array.from({ length: count }, (_, i) => `DL-${String(i + 1).padStart(6, '0')}`)
  const submitAll = async <R>(decide: (id: string, i: number) => Decide<R>) => {
    for (let from = 0; from < ids.length; from += 1000) {
      const batch = ids.slice(from, from + 1000).map((id, j) => gateway.store.submit('system:bench', decide(id, from + j)))
      for (const done of await Promise.all(batch)) if (!done.ok) throw new Error(`bench seed refused: ${done.rejection.message}`)
    }
  }
  // Priorities and due dates spread out, so the list really has to be ordered.
  await submitAll((id) => {
    const priority = Math.floor(next() * 1000)
    const dueAt = next() < 0.1 ? null : new Date(now + Math.floor(next() * 30 * 86400) * 1000).toISOString()
    return (v) => defineOrder(v, line.orderRequest(id, 1 + Math.floor(next() * 500), priority, dueAt))
  })
  await submitAll((id) => (v) => releaseOrder(v, id))
  await submitAll((id) => (v) => dispatchOrder(v, id))
}

/** Populates the line in-process, then times `queries.dispatchList` there: the first 200 items, and the whole list. */
async function measureInProcess(dataDir: string, options: DispatchListOptions): Promise<{ first: number[]; whole: number[] }> {
  const config = loadConfig({ env: { TAKT_DATA_DIR: dataDir, TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } })
  const gateway = buildGateway(config)
  try {
    const started = performance.now()
    await populate(gateway, options.orders)
    log(`setup: ${options.orders} orders defined, released and dispatched in ${((performance.now() - started) / 1000).toFixed(1)} s (untimed)`)
    const open = gateway.store.db.sqlite.prepare(`SELECT COUNT(*) AS n FROM orders WHERE state = 'dispatched'`).get() as { n: number }
    if (open.n !== options.orders) throw new Error(`expected ${options.orders} dispatched orders, found ${open.n}`)
    const items = gateway.queries.dispatchList(line.workCenterId)
    if (items.length !== Math.min(200, options.orders)) throw new Error(`the dispatch list has ${items.length} items`)
    const first = await timeRepeated(() => gateway.queries.dispatchList(line.workCenterId), { count: options.samples, warmup: 20, maxMs: 20_000 })
    const whole = await timeRepeated(() => gateway.queries.dispatchList(line.workCenterId, options.orders), { count: 50, warmup: 5, maxMs: 20_000 })
    return { first, whole }
  } finally {
    gateway.close()
  }
}

/** Times sequential GETs of the dispatch list from a gateway process serving the same database. */
async function measureOverHttp(dataDir: string, samples: number): Promise<{ times: number[]; bytes: number }> {
  const server = await startGatewayProcess({ dataDir, adminToken })
  let bytes = 0
  try {
    const url = `${server.url}/api/v1/work-centers/${line.workCenterId}/dispatch-list`
    const headers = { authorization: `Bearer ${adminToken}` }
    const times = await timeRepeated(
      async () => {
        const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) })
        const body = await res.text()
        if (res.status !== 200) throw new Error(`GET dispatch-list answered ${res.status}: ${body.slice(0, 200)}`)
        bytes = body.length
      },
      { count: samples, warmup: 20, maxMs: 30_000 },
    )
    return { times, bytes }
  } finally {
    await server.stop()
  }
}

export async function benchDispatchList(options: DispatchListOptions = defaultDispatchListOptions): Promise<BenchResult> {
  const dataDir = tempDir('dispatch')
  try {
    const inProcess = await measureInProcess(dataDir.path, options)
    const overHttp = await measureOverHttp(dataDir.path, options.samples)
    const http = summarize(overHttp.times)
    const local = summarize(inProcess.first)
    const whole = summarize(inProcess.whole)
    log(`GET dispatch-list over HTTP: p50 ${ms(http.p50)} ms, p99 ${ms(http.p99)} ms (${http.count} requests, ${overHttp.bytes} bytes each)`)
    log(`queries.dispatchList in-process: p50 ${ms(local.p50)} ms, p99 ${ms(local.p99)} ms; all ${options.orders} rows: p50 ${ms(whole.p50)} ms`)
    return {
      title: `Dispatch list of a work center with ${options.orders.toLocaleString('en-US')} open orders`,
      notes: [
        `${options.orders} lot-based orders, each with one operation at ${line.workCenterId}, priorities 0–999 and due dates over 30 days (10% none), defined, released and dispatched through core decisions in-process (group-committed through LineStore.submit), untimed. ` +
          `The list is ordered by rank, priority and due date; the API returns its first 200 items (LineQueries.dispatchList's default limit; ${overHttp.bytes} bytes of JSON).`,
        `Over HTTP: ${http.count} sequential \`GET /api/v1/work-centers/${line.workCenterId}/dispatch-list\` (fetch, keep-alive, admin token) to a gateway process serving the same database, after 20 untimed; time to the full body. ` +
          `In-process: ${local.count} calls of \`queries.dispatchList(id)\` after 20 untimed; the whole list of ${options.orders} rows (limit ${options.orders}) took p50 ${ms(whole.p50)} ms, p99 ${ms(whole.p99)} ms.`,
      ],
      figures: [
        { label: 'GET dispatch-list over HTTP, p50', value: http.p50, unit: 'ms', digits: 2, target: { kind: 'max', value: 10 } },
        { label: 'GET dispatch-list over HTTP, p99', value: http.p99, unit: 'ms', digits: 2, target: { kind: 'max', value: 10 } },
        { label: 'queries.dispatchList in-process, p50', value: local.p50, unit: 'ms', digits: 2, target: { kind: 'max', value: 10 } },
        { label: 'queries.dispatchList in-process, p99', value: local.p99, unit: 'ms', digits: 2, target: { kind: 'max', value: 10 } },
        { label: `Whole list (${options.orders.toLocaleString('en-US')} rows) in-process, p50`, value: whole.p50, unit: 'ms', digits: 2 },
      ],
    }
  } finally {
    await dataDir.remove()
  }
}
