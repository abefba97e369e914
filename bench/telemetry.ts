// Benchmark 3: QoS 1 telemetry into the gateway's historian end to end, against Mosquitto relaying and a Node-RED flow, and what it costs an operator's completion.
import type { BenchResult } from './lib/figures.ts'
import { tempDir } from './lib/cleanup.ts'
import { readCpuTime, sampleRss, type CpuTime } from './lib/proc-stats.ts'
import { ms, summarize } from './lib/stats.ts'
import { runOpenLoopProcess } from './lib/open-loop-process.ts'
import type { WireResult } from './lib/wire-load.ts'
import { completionBody, completionPath } from './lib/bench-line.ts'
import { setTimeout as sleep } from 'node:timers/promises'
import { countRows, historianSamples, spawnNodeScript } from './lib/telemetry-children.ts'
import { startTelemetryGateway, telemetryTopic, type TelemetryGateway } from './lib/telemetry-gateway.ts'
import { prepareLine, recordedGood, startRuns } from './lib/telemetry-line.ts'
import type { PublisherPlan, PublisherReport } from './lib/telemetry-publisher.ts'
import { report, type AckAheadFigures, type CompletionCost, type Throughput } from './lib/telemetry-report.ts'
import { gatewayTarget, nodeRedTarget, relayTarget, type Target, type TargetSetup } from './lib/telemetry-targets.ts'

export interface TelemetryOptions {
  /** Publisher connections, one device (and account) each. */
  connections: number
  /** Unacknowledged QoS 1 messages per connection. */
  window: number
  samplesPerMessage: number
  /** One timed run, per connection; every target first gets a warm-up of `warmupMessages` per connection. */
  messagesPerConnection: number
  warmupMessages: number
  /** Timed runs per target, interleaved (gateway, Mosquitto, Node-RED, then rotated): the best counts. */
  rounds: number
  /** Completions per second, evenly paced, in alternating segments with and without the telemetry load. */
  fixedRate: number
  segmentSeconds: number
  segments: number
  /** Extra node flags for the gateway process, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  gatewayNodeArgs: string[]
}

export const defaultTelemetryOptions: TelemetryOptions = {
  connections: 4,
  window: 100,
  samplesPerMessage: 10,
  messagesPerConnection: 15_000,
  warmupMessages: 3_000,
  rounds: 3,
  fixedRate: 200,
  segmentSeconds: 5,
  segments: 3,
  gatewayNodeArgs: [],
}

const adminToken = 'bench-telemetry-admin-token-0123456789'
const password = 'bench telemetry device secret'
const readerName = 'bench-reader'
const log = (message: string) => process.stdout.write(`  ${message}\n`)
const deviceNames = (o: TelemetryOptions) => Array.from({ length: o.connections }, (_, i) => `tdev${i + 1}`)
const rate = (samples: number, fromMs: number, toMs: number) => samples / ((toMs - fromMs) / 1000)

function planFor(port: number, o: TelemetryOptions, run: { messages: number } | { seconds: number }, valueBase: number): PublisherPlan {
  return {
    host: '127.0.0.1',
    port,
    devices: deviceNames(o).map((d) => ({ clientId: d, username: d, password, topic: telemetryTopic(d) })),
    window: o.window,
    samplesPerMessage: o.samplesPerMessage,
    messagesPerConnection: 'messages' in run ? run.messages : null,
    seconds: 'seconds' in run ? run.seconds : null,
    valueBase,
  }
}

/** Runs the publisher program in its own process and returns its report. */
async function publish(plan: PublisherPlan): Promise<PublisherReport> {
  const child = spawnNodeScript('publisher', 'bench/lib/telemetry-publisher.ts', plan)
  try {
    return await child.line<PublisherReport>((v) => 'acknowledged' in v, 300_000)
  } finally {
    await child.stop()
  }
}

/** The gateway's figures for PUBACKs sent ahead of the disk (GET /metrics). */
async function ackAhead(gw: TelemetryGateway): Promise<AckAheadFigures> {
  const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } })
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`)
  const text = await res.text()
  const value = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `))
    if (line === undefined) throw new Error(`GET /metrics has no ${name}`)
    return Number(line.slice(name.length + 1))
  }
  return { batches: value('takt_historian_ack_ahead_batches_total'), maxMs: value('takt_historian_ack_ahead_max_ms'), lost: value('takt_historian_ack_ahead_lost_total') }
}

const cpuOf = (pids: number[]): CpuTime => pids.map(readCpuTime).reduce((a, b) => ({ user: a.user + b.user, system: a.system + b.system }), { user: 0, system: 0 })

/** One run of `messages` per connection into a target, first PUBLISH written to the last sample arrived. */
async function timedRun(target: Target, o: TelemetryOptions, messages: number, valueBase: number): Promise<Throughput> {
  const samples = o.connections * messages * o.samplesPerMessage
  const arrived = await target.arrival(samples)
  const before = cpuOf(target.pids)
  const rss = sampleRss(target.rssPid, 100)
  const [publisher, at] = await Promise.all([publish(planFor(target.port, o, { messages }, valueBase)), arrived()])
  const after = cpuOf(target.pids)
  const cpu = { user: after.user - before.user, system: after.system - before.system }
  return { samples, seconds: (at - publisher.firstSentAt) / 1000, perSecond: rate(samples, publisher.firstSentAt, at), publisher, cpu, rssKb: rss.stop() }
}

/** A warm-up for every target, then `rounds` timed runs each, the order rotated every round. */
async function throughputRounds(targets: Target[], o: TelemetryOptions): Promise<Map<string, { warmup: Throughput; runs: Throughput[] }>> {
  const results = new Map<string, { warmup: Throughput; runs: Throughput[] }>()
  for (const t of targets) results.set(t.name, { warmup: await timedRun(t, o, o.warmupMessages, 0), runs: [] })
  for (let round = 0; round < o.rounds; round++) {
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(i + round) % targets.length]!
      const run = await timedRun(t, o, o.messagesPerConnection, (round + 1) * 1e8)
      results.get(t.name)!.runs.push(run)
      const cpuUs = ((run.cpu.user + run.cpu.system) / run.samples) * 1e6
      log(`round ${round + 1}, ${t.name}: ${run.samples} samples in ${run.seconds.toFixed(2)} s = ${run.perSecond.toFixed(0)}/s, PUBACK p99 ${ms(run.publisher.ackMs.p99)} ms, ${cpuUs.toFixed(2)} µs CPU per sample, RSS peak ${(Math.max(...run.rssKb) / 1024).toFixed(0)} MiB`)
    }
  }
  return results
}

/** Paced completions, one segment at a time, every other segment while the publisher runs flat out into the same gateway. */
async function completionCost(gw: TelemetryGateway, o: TelemetryOptions): Promise<CompletionCost> {
  const prepared = await prepareLine(gw.url, adminToken, 1)
  const perSegment = Math.round(o.fixedRate * o.segmentSeconds)
  const warm = Math.round(o.fixedRate * 3)
  const runs = await startRuns(prepared, warm + 2 * o.segments * perSegment)
  // Setting up wrote a long WAL; give the checkpointer an idle moment so that its catch-up is not what gets measured.
  await sleep(2000)
  const target = { url: gw.url, token: prepared.operator.token, body: completionBody }
  const paced = (runIds: string[], seconds: number) => runOpenLoopProcess({ target, paths: runIds.map(completionPath), rate: o.fixedRate, seconds, maxInFlight: 500 })
  await paced(runs.slice(0, warm), 3)
  const quiet: WireResult[] = []
  const loaded: WireResult[] = []
  const telemetry: PublisherReport[] = []
  // The gateway's CPU (all threads) over each segment: how much of a core the completions take, and what telemetry adds.
  const cpu = { quiet: [] as CpuTime[], loaded: [] as CpuTime[] }
  const segment = async (into: WireResult[], cpuInto: CpuTime[], runIds: string[]) => {
    const before = readCpuTime(gw.pid)
    into.push(await paced(runIds, o.segmentSeconds))
    const after = readCpuTime(gw.pid)
    cpuInto.push({ user: after.user - before.user, system: after.system - before.system })
  }
  let next = warm
  for (let i = 0; i < 2 * o.segments; i++) {
    const runIds = runs.slice(next, (next += perSegment))
    if (i % 2 === 0) {
      await segment(quiet, cpu.quiet, runIds)
      continue
    }
    // The publisher starts a second early, so the completions meet it at full speed, and stops after them.
    const publishing = publish(planFor(gw.mqttPort, o, { seconds: o.segmentSeconds + 1.5 }, (10 + i) * 1e8))
    await sleep(1000)
    await segment(loaded, cpu.loaded, runIds)
    telemetry.push(await publishing)
  }
  const recorded = await recordedGood(prepared)
  const acknowledged = [...quiet, ...loaded].reduce((n, r) => n + r.ok, warm)
  if (recorded < acknowledged) throw new Error(`the gateway acknowledged ${acknowledged} completions but recorded ${recorded}`)
  const cost = { quiet, loaded, telemetry, cpu }
  const share = (c: CpuTime[], r: WireResult[]) => (100 * c.reduce((n, t) => n + t.user + t.system, 0)) / r.reduce((n, p) => n + p.seconds, 0)
  log(`completions at an even ${o.fixedRate}/s: p50 ${ms(summarize(quiet.flatMap((r) => r.latencies)).p50)} / p99 ${ms(summarize(quiet.flatMap((r) => r.latencies)).p99)} ms without telemetry (gateway ${share(cpu.quiet, quiet).toFixed(0)}% of a core), p50 ${ms(summarize(loaded.flatMap((r) => r.latencies)).p50)} / p99 ${ms(summarize(loaded.flatMap((r) => r.latencies)).p99)} ms with it (${share(cpu.loaded, loaded).toFixed(0)}%)`)
  return cost
}

/** Shorter runs for a smoke test (`--quick`): the figures are not comparable. */
export const quickTelemetryOptions: Partial<TelemetryOptions> = { messagesPerConnection: 6_000, warmupMessages: 1_000, rounds: 2, segmentSeconds: 3, segments: 2 }

export async function benchTelemetry(options: Partial<TelemetryOptions> = {}): Promise<BenchResult> {
  const o: TelemetryOptions = { ...defaultTelemetryOptions, ...options }
  const dir = tempDir('telemetry')
  const setup: TargetSetup = { dir: dir.path, devices: deviceNames(o), readerName, password, samplesPerMessage: o.samplesPerMessage }
  const targets: Target[] = []
  try {
    const gw = await startTelemetryGateway({ dataDir: dir.path, adminToken, devices: setup.devices, password, samplesPerMessage: o.samplesPerMessage, workCenterId: 'BWC-TELEMETRY', nodeArgs: o.gatewayNodeArgs })
    targets.push(gatewayTarget(gw))
    const perRun = o.connections * o.messagesPerConnection
    const relay = await relayTarget(setup, Array.from({ length: o.rounds + 1 }, (_, i) => o.connections * o.warmupMessages + i * perRun))
    targets.push(relay)
    const red = await nodeRedTarget(setup)
    targets.push(red)
    const rounds = await throughputRounds(targets, o)
    const cost = await completionCost(gw, o)
    const stored = countRows(gw.historianFile, historianSamples)
    return report({ o, rounds, cost, stored, ackAhead: await ackAhead(gw), mosquittoVersion: relay.version, nodeRed: red.description })
  } finally {
    for (const t of targets.reverse()) await t.stop()
    await dir.remove()
  }
}

/** While working on the ingest path: the gateway's throughput runs and the completions' cost, without the peers. */
async function gatewayOnly(o: TelemetryOptions, withCompletions: boolean): Promise<void> {
  const dir = tempDir('telemetry')
  const gw = await startTelemetryGateway({ dataDir: dir.path, adminToken, devices: deviceNames(o), password, samplesPerMessage: o.samplesPerMessage, workCenterId: 'BWC-TELEMETRY', nodeArgs: o.gatewayNodeArgs })
  try {
    await throughputRounds([gatewayTarget(gw)], o)
    if (withCompletions) await completionCost(gw, o)
    const ahead = await ackAhead(gw)
    log(`PUBACKs ahead of the disk: ${ahead.batches} batches, longest to disk ${ahead.maxMs.toFixed(1)} ms, ${ahead.lost} samples lost`)
  } finally {
    await gw.stop()
    await dir.remove()
  }
}

/**
 * `node bench/telemetry.ts [--quick] [--gateway-only [--no-completions]] [--cpu-prof DIR] [--node-args="FLAGS"]`:
 * this benchmark alone, printed, nothing recorded; the gateway alone while working on its ingest path.
 */
async function main(): Promise<void> {
  const { parseArgs } = await import('node:util')
  const { printResult } = await import('./lib/figures.ts')
  const { cleanupAll } = await import('./lib/cleanup.ts')
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, samples: { type: 'string' }, connections: { type: 'string' }, window: { type: 'string' }, messages: { type: 'string' }, 'gateway-only': { type: 'boolean' }, 'no-completions': { type: 'boolean' }, 'cpu-prof': { type: 'string' }, 'node-args': { type: 'string' } } })
  const o: TelemetryOptions = { ...defaultTelemetryOptions, ...(values.quick ? quickTelemetryOptions : {}) }
  if (values.samples) o.samplesPerMessage = Number(values.samples)
  if (values.connections) o.connections = Number(values.connections)
  if (values.window) o.window = Number(values.window)
  if (values.messages) o.messagesPerConnection = Number(values.messages)
  if (values['cpu-prof']) o.gatewayNodeArgs = ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`]
  if (values['node-args']) o.gatewayNodeArgs = [...o.gatewayNodeArgs, ...values['node-args'].split(' ').filter(Boolean)]
  process.once('SIGINT', () => void cleanupAll().finally(() => process.exit(130)))
  try {
    if (values['gateway-only']) return void (await gatewayOnly(o, !values['no-completions']))
    printResult(await benchTelemetry(o))
  } finally {
    await cleanupAll()
  }
}

if (import.meta.main) await main()
