// Benchmarks 1 and 4: durable run completions over HTTP (saturation, fixed 200/s), the raw SQLite commit rate, gateway RSS.
import * as line from './lib/bench-line.ts'
import { tempDir } from './lib/cleanup.ts'
import { runCompletions, type LoadResult } from './lib/completion-load.ts'
import { monotonicMicros } from './lib/cpu-profile.ts'
import type { BenchResult } from './lib/figures.ts'
import { startGatewayProcess, type GatewayProcess } from './lib/gateway-process.ts'
import { inParallel, JsonClient } from './lib/json-client.ts'
import { cpuSince, mib, readCpuTime, readRssKb, sampleRss, type CpuTime } from './lib/proc-stats.ts'
import { measureCommitRate, measurePacedCommits, type CommitRate, type PacedCommits } from './lib/sqlite-commit-rate.ts'
import { ms, summarize } from './lib/stats.ts'
import { setTimeout as sleep } from 'node:timers/promises'
import { runOpenLoopProcess } from './lib/open-loop-process.ts'
import { runClosedLoop, type WireResult } from './lib/wire-load.ts'

export interface CompletionsOptions {
  warmupRuns: number
  /** Aimed length of the saturation phase; it is stopped at twice this whatever is left. */
  saturationSeconds: number
  saturationConnections: number
  /** A second closed-loop phase with fewer connections, for reference: how far a handful of clients takes the gateway. */
  fewConnections: number
  fixedRate: number
  /** Length of the evenly paced fixed-rate phase (the figure with the target). */
  pacedSeconds: number
  /** Length of the autocannon `overallRate` phase (for reference). */
  overallRateSeconds: number
  overallRateConnections: number
  /** Orders the runs are spread over, round robin (1: every run on one order, as a long lot-based order would). */
  orders: number
  /** Extra node flags for the gateway process, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  gatewayNodeArgs: string[]
}

export const defaultCompletionsOptions: CompletionsOptions = {
  warmupRuns: 6_000,
  saturationSeconds: 10,
  saturationConnections: 32,
  fewConnections: 10,
  fixedRate: 200,
  pacedSeconds: 15,
  overallRateSeconds: 10,
  overallRateConnections: 4,
  orders: 1,
  gatewayNodeArgs: [],
}

export interface CompletionsResult extends BenchResult {
  /** Monotonic microseconds around the saturation phase, to cut a CPU profile to it. */
  saturationWindow: { fromUs: number; toUs: number }
}

/** What the phases measured, before it is turned into figures. */
interface Measured {
  idleKb: number
  loadedKb: number
  runsStarted: number
  startsPerSecond: number
  warm: WireResult
  sat: WireResult & { cpu: CpuTime; client: CpuTime; rssKb: number[]; fromUs: number; toUs: number }
  few: WireResult & { cpu: CpuTime }
  paced: WireResult & { cpu: CpuTime; client: CpuTime }
  overall: LoadResult
  recorded: number
}

const adminToken = 'bench-admin-token-0123456789abcdef'
const orderIds = (count: number) => Array.from({ length: count }, (_, i) => `BENCH-PO-${i + 1}`)
const log = (message: string) => process.stdout.write(`  ${message}\n`)

/** Master data, the operator's login and the dispatched lot-based orders, all over the API. */
async function prepareLine(url: string, orders: string[]): Promise<{ admin: JsonClient; operator: JsonClient }> {
  const admin = new JsonClient(url, adminToken)
  for (const e of line.equipment) await admin.expect('PUT', `/api/v1/equipment/${e.id}`, e)
  for (const m of line.materials) await admin.expect('PUT', `/api/v1/materials/${m.id}`, m)
  await admin.expect('PUT', `/api/v1/boms/${line.bom.id}/${line.bom.version}`, line.bom)
  await admin.expect('PUT', `/api/v1/routings/${line.routing.id}/${line.routing.version}`, line.routing)
  await admin.expect('PUT', `/api/v1/people/${line.operator.id}`, line.operator)
  await admin.expect('PUT', `/api/v1/people/${line.operator.id}/password`, { password: line.operatorPassword })
  for (const l of line.lots) await admin.expect('PUT', `/api/v1/lots/${l.id}`, l)
  // Large enough that the runs started never complete the order (its last quantity would).
  for (const orderId of orders) {
    await admin.expect('POST', '/api/v1/orders', line.orderRequest(orderId, 5_000_000), [201])
    await admin.expect('POST', `/api/v1/orders/${orderId}/release`, undefined)
    await admin.expect('POST', `/api/v1/orders/${orderId}/dispatch`, undefined)
  }
  const login = await new JsonClient(url, '').expect('POST', '/api/v1/auth/login', { username: line.operator.id, password: line.operatorPassword }, [200])
  return { admin, operator: admin.withToken(String(login.token)) }
}

/** Starts `count` runs of quantity 1 on the orders in turn, 32 requests in flight, and returns their ids. */
async function startRuns(operator: JsonClient, orders: string[], count: number): Promise<{ ids: string[]; perSecond: number }> {
  const started = performance.now()
  const ids = await inParallel(count, 32, async (i) => {
    const body = await operator.expect('POST', `/api/v1/orders/${orders[i % orders.length]}/operations/${line.opSeq}/start`, { quantity: 1 }, [201])
    return String(body.runId)
  })
  const perSecond = count / ((performance.now() - started) / 1000)
  log(`setup: started ${count} runs at ${perSecond.toFixed(0)}/s (untimed)`)
  return { ids, perSecond }
}

async function measure(gateway: GatewayProcess, o: CompletionsOptions): Promise<Measured> {
  const orders = orderIds(o.orders)
  const { admin, operator } = await prepareLine(gateway.url, orders)
  const idleKb = readRssKb(gateway.pid)
  log(`gateway idle after master data: RSS ${mib(idleKb).toFixed(1)} MiB`)
  const load = { url: gateway.url, token: operator.token }
  const wire = { ...load, body: line.completionBody }
  const paths = (ids: string[]) => ids.map(line.completionPath)

  // The warm-up also tells how many runs the saturation phase needs for its aimed length.
  const warmIds = (await startRuns(operator, orders, o.warmupRuns)).ids
  const warm = await runClosedLoop(wire, paths(warmIds), o.saturationConnections, 60)
  log(`warm-up: ${warm.ok} completions at ${(warm.ok / warm.seconds).toFixed(0)}/s`)
  const satRuns = Math.min(80_000, Math.max(2_000, Math.round((warm.ok / warm.seconds) * o.saturationSeconds * 1.4)))
  const pacedRuns = Math.round(o.fixedRate * o.pacedSeconds)
  const starts = await startRuns(operator, orders, 2 * satRuns + pacedRuns + Math.round(o.fixedRate * o.overallRateSeconds))
  const loadedKb = readRssKb(gateway.pid)
  // Each timed phase starts on a caught-up WAL, not on the backlog that starting the runs (or the phase before) left the checkpoint worker.
  const settle = () => sleep(3000)

  await settle()
  const rss = sampleRss(gateway.pid, 100)
  let cpu = readCpuTime(gateway.pid)
  const client = readCpuTime(process.pid)
  const fromUs = monotonicMicros()
  const satLoad = await runClosedLoop(wire, paths(starts.ids.slice(0, satRuns)), o.saturationConnections, o.saturationSeconds * 2)
  const sat = { ...satLoad, fromUs, toUs: monotonicMicros(), cpu: cpuSince(gateway.pid, cpu), client: cpuSince(process.pid, client), rssKb: rss.stop() }
  log(`saturation, ${o.saturationConnections} connections: ${sat.ok} completions in ${sat.seconds.toFixed(2)} s = ${(sat.ok / sat.seconds).toFixed(0)}/s, gateway CPU ${((100 * (sat.cpu.user + sat.cpu.system)) / sat.seconds).toFixed(0)}% of a core`)

  cpu = readCpuTime(gateway.pid)
  const fewLoad = await runClosedLoop(wire, paths(starts.ids.slice(satRuns, 2 * satRuns)), o.fewConnections, o.saturationSeconds * 2)
  const few = { ...fewLoad, cpu: cpuSince(gateway.pid, cpu) }
  log(`closed loop, ${o.fewConnections} connections: ${few.ok} completions in ${few.seconds.toFixed(2)} s = ${(few.ok / few.seconds).toFixed(0)}/s`)

  await settle()
  cpu = readCpuTime(gateway.pid)
  const pacedLoad = await runOpenLoopProcess({ target: wire, paths: paths(starts.ids.slice(2 * satRuns, 2 * satRuns + pacedRuns)), rate: o.fixedRate, seconds: o.pacedSeconds, maxInFlight: 500 })
  const paced = { ...pacedLoad, cpu: cpuSince(gateway.pid, cpu) }
  log(`evenly paced ${o.fixedRate}/s: ${paced.ok} completions, p50 ${ms(summarize(paced.latencies).p50)} ms, p99 ${ms(summarize(paced.latencies).p99)} ms`)

  const overallIds = starts.ids.slice(2 * satRuns + pacedRuns)
  const overall = await runCompletions({ ...load, runIds: overallIds, connections: o.overallRateConnections, amount: overallIds.length, overallRate: o.fixedRate, maxSeconds: o.overallRateSeconds + 10 })
  log(`autocannon overallRate ${o.fixedRate}/s: ${overall.ok} completions, p50 ${ms(summarize(overall.latencies).p50)} ms, p99 ${ms(summarize(overall.latencies).p99)} ms`)

  // Every acknowledged completion must be recorded; requests left without an answer (a phase stopped on time,
  // a timeout) may have been recorded too.
  let recorded = 0
  for (const orderId of orders) {
    const detail = await admin.expect('GET', `/api/v1/orders/${orderId}`, undefined, [200])
    recorded += (detail.operations as Array<{ qtyGood: number }>)[0]!.qtyGood
  }
  const acknowledged = warm.ok + sat.ok + few.ok + paced.ok + overall.ok
  const noAnswer = [warm, sat, few, paced].reduce((n, r) => n + (r.statusCodes['0'] ?? 0), 0)
  const unanswered = noAnswer + overall.errors + 2 * (o.saturationConnections + o.fewConnections)
  if (recorded < acknowledged || recorded > acknowledged + unanswered) {
    throw new Error(`the gateway acknowledged ${acknowledged} completions but recorded ${recorded}`)
  }
  return { idleKb, loadedKb, runsStarted: warmIds.length + starts.ids.length, startsPerSecond: starts.perSecond, warm, sat, few, paced, overall, recorded }
}

/** A note on anything but 2xx answers in a phase (status 0: no answer at all). */
function failures(phase: string, statusCodes: Record<string, number>, errors = 0): string | null {
  const bad = Object.entries(statusCodes).filter(([code]) => !code.startsWith('2'))
  if (bad.length === 0 && errors === 0) return null
  return `${phase}: answers other than 2xx ${JSON.stringify(Object.fromEntries(bad))}, connection errors ${errors}.`
}

function report(m: Measured, raw: CommitRate, rawPaced: PacedCommits, o: CompletionsOptions): CompletionsResult {
  const { warm, sat, few, paced, overall } = m
  const fewRate = few.ok / few.seconds
  const fewLat = summarize(few.latencies)
  const fewCpuPerCompletion = ((few.cpu.user + few.cpu.system) / few.ok) * 1e6
  const satRate = sat.ok / sat.seconds
  const satLat = summarize(sat.latencies)
  const pacedLat = summarize(paced.latencies)
  const overallLat = summarize(overall.latencies)
  const rawPacedLat = summarize(rawPaced.latencies)
  const satCpu = sat.cpu.user + sat.cpu.system
  const cpuPerCompletion = (satCpu / sat.ok) * 1e6
  const acknowledged = warm.ok + sat.ok + few.ok + paced.ok + overall.ok
  const notes = [
    `Each \`POST /api/v1/runs/{runId}/complete\` carries good 1, 2 lot consumptions and 3 measurements within limits; the gateway records 6 hash-chained events and their projections in one transaction and answers once a sync of the WAL that began after the commit has finished (see docs/storage.md). ` +
      `Runs were started beforehand, untimed (${m.runsStarted} \`POST …/operations/10/start {quantity: 1}\` ${o.orders === 1 ? 'on one lot-based order' : `spread over ${o.orders} lot-based orders`} of 5,000,000, ${m.startsPerSecond.toFixed(0)}/s), and ${warm.ok} completions warmed the gateway up. ` +
      `The gateway (\`node bin/takt.ts edge\`) and the load generator are separate processes on 127.0.0.1. The generator (bench/lib/wire-load.ts) writes each request's bytes straight to a keep-alive socket and reads the answer by its status line and length, so that it stays a small load beside the gateway on the same 2 cores (its own CPU time is given below). Afterwards the recorded good quantity (${m.recorded}) was checked against the ${acknowledged} completions acknowledged.`,
    `Saturation: ${o.saturationConnections} connections in a closed loop (each sends its next completion once the last is answered), no pipelining, ${sat.ok} completions in ${sat.seconds.toFixed(2)} s, first request to last response; latency p50 ${ms(satLat.p50)} ms, p99 ${ms(satLat.p99)} ms. ` +
      `The gateway process used ${satCpu.toFixed(2)} CPU-seconds (${((100 * satCpu) / sat.seconds).toFixed(0)}% of one core, all its threads; /proc/<pid>/stat), ${cpuPerCompletion.toFixed(0)} µs per completion, ${((100 * sat.cpu.system) / satCpu).toFixed(0)}% of it in the kernel; the load generator used ${(((sat.client.user + sat.client.system) / sat.ok) * 1e6).toFixed(0)} µs per completion.`,
    `With ${o.fewConnections} connections, for reference (the same closed loop, right after): ${few.ok} completions at ${fewRate.toFixed(0)}/s, p50 ${ms(fewLat.p50)} ms, p99 ${ms(fewLat.p99)} ms, ${fewCpuPerCompletion.toFixed(0)} µs of gateway CPU per completion. ` +
      `Every request waits for the disk (a WAL sync, about 1 ms here) before its answer, so a handful of clients leaves the gateway idle part of the time and its commits small; with more clients in flight each group commit carries more completions and costs less per completion.`,
    `Fixed rate, the figure with the target: an open-loop generator in a process of its own (bench/lib/open-loop-process.ts) sends one completion every ${(1000 / o.fixedRate).toFixed(1)} ms for ${o.pacedSeconds} s and never waits for answers (a request due while every connection waits for its answer goes on a new connection); latency is from writing the request to the end of its answer. ` +
      `p50 ${ms(pacedLat.p50)} ms, p90 ${ms(pacedLat.p90)} ms, p99 ${ms(pacedLat.p99)} ms, max ${ms(pacedLat.max)} ms over ${paced.ok} completions; the generator sent at most ${ms(paced.worstSendLagMs)} ms late; the gateway used ${((100 * (paced.cpu.user + paced.cpu.system)) / paced.seconds).toFixed(0)}% of one core, the generator ${((100 * (paced.client.user + paced.client.system)) / paced.seconds).toFixed(0)}%.`,
    `Fixed rate with autocannon \`overallRate\` ${o.fixedRate}/s over ${o.overallRateConnections} connections, for reference: p50 ${ms(overallLat.p50)} ms, p99 ${ms(overallLat.p99)} ms over ${overall.ok} completions. ` +
      `autocannon paces each connection per whole second — it sends the connection's share back to back at the start of the second, then waits — so this load arrives as a burst of ${o.fixedRate} every second and measures queueing behind the burst, not latency at an even ${o.fixedRate}/s. ` +
      `All percentiles here are exact, over every response time; autocannon's own histogram truncates to whole milliseconds and, with a rate set, adds coordinated-omission samples at 1 ms steps.`,
    `Raw SQLite: better-sqlite3 in the bench process, WAL, synchronous=FULL, one INSERT per transaction into a temp file, for ${raw.seconds.toFixed(1)} s (${raw.commits} commits), just before the gateway started. ` +
      `A ratio above 1 would be possible: the gateway commits concurrent requests together (group commit).`,
    `Raw SQLite at the fixed rate, the floor under the latency figures: in the bench process, before the gateway started, ${rawPaced.commits} commits at an even ${o.fixedRate}/s, each changing ${rawPaced.pagesPerCommit} random pages of a 200,000-row table (a completion writes about 25 WAL pages), WAL, synchronous=FULL, no checkpoint; each commit timed alone: ` +
      `p50 ${ms(rawPacedLat.p50)} ms, p99 ${ms(rawPacedLat.p99)} ms, max ${ms(rawPacedLat.max)} ms. Pauses this floor shows come from the machine (disk, kernel), not from Takt.`,
    `Memory: VmRSS of the gateway process (/proc/<pid>/status): idle after master data and login; sampled every 100 ms during the saturation phase (${sat.rssKb.length} samples); ${mib(m.loadedKb).toFixed(1)} MiB just before it, with ${m.runsStarted} runs started.`,
  ]
  const phases = [failures('warm-up', warm.statusCodes), failures('saturation', sat.statusCodes), failures(`${o.fewConnections} connections`, few.statusCodes), failures('evenly paced', paced.statusCodes), failures('overallRate', overall.statusCodes, overall.errors)]
  for (const f of phases) if (f) notes.push(f)
  if (paced.notSent > 0) notes.push(`Evenly paced: the gateway fell 500 requests behind, so ${paced.notSent} of the ${paced.notSent + paced.ok + paced.failed} planned requests were not sent.`)
  const meanKb = sat.rssKb.reduce((s, v) => s + v, 0) / Math.max(1, sat.rssKb.length)
  return {
    title: 'Durable operation completions over HTTP',
    notes,
    saturationWindow: { fromUs: sat.fromUs, toUs: sat.toUs },
    figures: [
      { label: `Completions per second at saturation (${o.saturationConnections} connections)`, value: satRate, unit: '/s', digits: 0, target: { kind: 'min', value: 1500 } },
      { label: `Completions per second, ${o.fewConnections} connections (closed loop)`, value: fewRate, unit: '/s', digits: 0 },
      { label: `p50 latency at an even ${o.fixedRate}/s`, value: pacedLat.p50, unit: 'ms', digits: 2 },
      { label: `p99 latency at an even ${o.fixedRate}/s`, value: pacedLat.p99, unit: 'ms', digits: 2, target: { kind: 'max', value: 10 } },
      { label: `p50 latency at autocannon overallRate ${o.fixedRate}/s (bursts)`, value: overallLat.p50, unit: 'ms', digits: 2 },
      { label: `p99 latency at autocannon overallRate ${o.fixedRate}/s (bursts)`, value: overallLat.p99, unit: 'ms', digits: 2 },
      { label: 'Raw SQLite commits per second (WAL, synchronous=FULL)', value: raw.perSecond, unit: '/s', digits: 0 },
      { label: 'Ratio completions/s ÷ raw commits/s', value: satRate / raw.perSecond, unit: '×', digits: 2 },
      { label: `Raw SQLite ${rawPaced.pagesPerCommit}-page commit at an even ${o.fixedRate}/s, p99`, value: rawPacedLat.p99, unit: 'ms', digits: 2 },
      { label: `Ratio p99 completion ÷ p99 raw commit at ${o.fixedRate}/s`, value: pacedLat.p99 / rawPacedLat.p99, unit: '×', digits: 2 },
      { label: 'Gateway CPU time per completion at saturation', value: cpuPerCompletion, unit: 'µs', digits: 0 },
      { label: 'Gateway RSS, idle', value: mib(m.idleKb), unit: 'MiB', digits: 1 },
      { label: 'Gateway RSS under completion load, mean', value: mib(meanKb), unit: 'MiB', digits: 1 },
      { label: 'Gateway RSS under completion load, peak', value: mib(Math.max(...sat.rssKb)), unit: 'MiB', digits: 1 },
    ],
  }
}

export async function benchCompletions(options: CompletionsOptions = defaultCompletionsOptions): Promise<CompletionsResult> {
  const raw = await measureCommitRate({ seconds: 3, maxCommits: 100_000 })
  log(`raw SQLite commits (WAL, synchronous=FULL, one INSERT per transaction): ${raw.perSecond.toFixed(0)}/s`)
  const rawPaced = await measurePacedCommits({ rate: options.fixedRate, seconds: options.pacedSeconds, pagesPerCommit: 25 })
  log(`raw SQLite 25-page commits at an even ${options.fixedRate}/s: p50 ${ms(summarize(rawPaced.latencies).p50)} ms, p99 ${ms(summarize(rawPaced.latencies).p99)} ms`)
  const dataDir = tempDir('completions')
  try {
    const gateway = await startGatewayProcess({ dataDir: dataDir.path, adminToken, nodeArgs: options.gatewayNodeArgs })
    try {
      return report(await measure(gateway, options), raw, rawPaced, options)
    } finally {
      await gateway.stop()
    }
  } finally {
    await dataDir.remove()
  }
}
