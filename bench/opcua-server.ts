// Benchmark: the OPC UA simulator keeps 10,000 variables changing every second without falling behind — round lag, notifications received against changes made, server CPU, and a peer.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pino from 'pino'
import { OpcUaCollector } from '../edge/connectivity/opcua/collector.ts'
import type { Sample } from '../edge/historian/historian.ts'
import { HardwareProfile } from '../hardware-profiles/schema.ts'
import { startMachineProcess } from '../simulators/opcua/machine-process.ts'
import { ProfileServer, type OpcUaProfile } from '../simulators/opcua/profile-server.ts'
import { onCleanup, tempDir } from './lib/cleanup.ts'
import type { BenchResult, Figure } from './lib/figures.ts'
import { freePort, projectRoot } from './lib/gateway-process.ts'
import { cpuSince, mib, readCpuTime, readRssKb } from './lib/proc-stats.ts'
import { summarize } from './lib/stats.ts'

export interface OpcuaServerBenchOptions {
  variables: number
  /** How often every variable changes; also the subscription's publishing interval. */
  intervalMs: number
  warmupSeconds: number
  seconds: number
  /** Also measure the PackML machine server (machine-server.ts --extra N) the same way. */
  peer: boolean
}

export const defaultOpcuaServerOptions: OpcuaServerBenchOptions = { variables: 10_000, intervalMs: 1_000, warmupSeconds: 5, seconds: 30, peer: true }
export const quickOpcuaServerOptions: Partial<OpcuaServerBenchOptions> = { warmupSeconds: 2, seconds: 8 }

const log = (line: string) => process.stdout.write(`  ${line}\n`)
const pad = (i: number) => String(i).padStart(5, '0')

/**
 * N Double variables at ns=2;s=Load.<i> — the same nodes machine-server.ts --extra N has, so one
 * client profile reads both servers. Sampling interval 0: every change is reported (exception-based
 * on MinimumSamplingInterval 0, OPC 10000-4 5.12.1.2), so received ÷ made measures the server, not aliasing.
 */
export function loadProfile(variables: number, intervalMs: number): OpcUaProfile {
  const signals = Array.from({ length: variables }, (_, i) => ({ name: `v${pad(i)}`, kind: 'value', nodeId: `ns=2;s=Load.${i}`, samplingIntervalMs: 0 }))
  const profile = HardwareProfile.parse({ profile: `bench-load-${variables}`, version: 1, protocol: 'opcua', connection: { publishingIntervalMs: intervalMs }, signals })
  if (profile.protocol !== 'opcua') throw new Error('unreachable')
  return profile
}

interface Round {
  round: number
  /** ms behind its intended start (k × interval after the first). */
  lagMs: number
  /** ms to set every variable. */
  applyMs: number
}

interface Served {
  endpoint: string
  pid: number
  /** Rounds the server reported itself (only ours does). */
  rounds: Round[]
  stop(): Promise<void>
}

/** The profile server in a child process of its own (this file with --server-process), reporting every round on stdout. */
async function startProfileServerProcess(o: OpcuaServerBenchOptions, pkiDir: string): Promise<Served> {
  const args = [join(projectRoot, 'bench/opcua-server.ts'), '--server-process', '--variables', String(o.variables), '--interval', String(o.intervalMs), '--pki', pkiDir]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  })
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(`  [server] ${chunk.toString('utf8')}`))
  const rounds: Round[] = []
  let buffered = ''
  const ready = new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the profile server exited with code ${code} before it was ready`)))
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      const lines = buffered.split('\n')
      buffered = lines.pop()!
      for (const line of lines) {
        const message = JSON.parse(line) as { ready?: boolean; endpoint?: string } & Partial<Round>
        if (message.ready) resolve(message.endpoint!)
        else if (message.round !== undefined) rounds.push(message as Round)
      }
    })
  })
  const endpoint = await ready
  return { endpoint, pid: child.pid!, rounds, stop }
}

/** Counts what the gateway's collector receives, by round: each value is index + round, so every notification says which change it is. */
class Tally {
  readonly perRound = new Map<number, { count: number; sourceTime: number }>()
  /** Change-to-arrival times of the values whose source time lies in the window. */
  readonly latencyMs: number[] = []
  window = { from: Infinity, to: Infinity }
  #signals = new Set<string>()

  sink(samples: Sample[]): void {
    const now = Date.now()
    for (const s of samples) {
      if (s.quality !== 'good' || typeof s.value !== 'number') continue
      this.#signals.add(s.signal)
      const round = s.value - Number(s.signal.slice(s.signal.lastIndexOf('/') + 2))
      const r = this.perRound.get(round)
      if (r) r.count += 1
      else this.perRound.set(round, { count: 1, sourceTime: s.timestamp })
      if (s.timestamp >= this.window.from && s.timestamp < this.window.to) this.latencyMs.push(now - s.timestamp)
    }
  }

  get signals(): number {
    return this.#signals.size
  }
}

interface Measured {
  name: string
  received: number
  made: number
  rounds: number
  /** Client side: how far the last measured round's source time is from first + k × interval. */
  driftMs: number
  cpuPct: number
  rssMiB: number
  latency: ReturnType<typeof summarize>
  late: number
  server: Round[]
}

/** Subscribes to every variable, waits until each has a value, warms up, then counts one window's rounds. */
async function measure(name: string, served: Served, o: OpcuaServerBenchOptions, clientPki: string): Promise<Measured> {
  const tally = new Tally()
  const collector = new OpcUaCollector({ device: 'bench', endpoint: served.endpoint, pkiDir: clientPki, profile: loadProfile(o.variables, o.intervalMs), logger: pino({ level: 'warn' }, pino.destination(2)), sink: (s) => tally.sink(s) })
  collector.start()
  try {
    const startedAt = Date.now()
    while (tally.signals < o.variables) {
      if (Date.now() - startedAt > 180_000) throw new Error(`${name}: after 180 s only ${tally.signals} of ${o.variables} variables had a value`)
      await new Promise((r) => setTimeout(r, 250))
    }
    log(`${name}: all ${o.variables} variables subscribed after ${((Date.now() - startedAt) / 1000).toFixed(1)} s; warming up ${o.warmupSeconds} s`)
    await new Promise((r) => setTimeout(r, o.warmupSeconds * 1000))
    const from = Date.now()
    tally.window.from = from
    const cpu = readCpuTime(served.pid)
    const lateBefore = collector.status().late
    await new Promise((r) => setTimeout(r, o.seconds * 1000))
    const to = Date.now()
    tally.window.to = to
    const used = cpuSince(served.pid, cpu)
    const rssMiB = mib(readRssKb(served.pid))
    // Rounds made inside the window; their last notifications may still be on the way.
    await new Promise((r) => setTimeout(r, 3 * o.intervalMs + 1000))
    const rounds = [...tally.perRound.entries()].filter(([, r]) => r.sourceTime >= from && r.sourceTime < to).sort((a, b) => a[0] - b[0])
    if (rounds.length < 2) throw new Error(`${name}: fewer than two rounds arrived in the ${o.seconds} s window`)
    const [firstRound, first] = rounds[0]!
    const [lastRound, last] = rounds.at(-1)!
    return {
      name,
      received: rounds.reduce((n, [, r]) => n + r.count, 0),
      made: rounds.length * o.variables,
      rounds: rounds.length,
      driftMs: last.sourceTime - (first.sourceTime + (lastRound - firstRound) * o.intervalMs),
      cpuPct: (100 * (used.user + used.system)) / ((to - from) / 1000),
      rssMiB,
      latency: summarize(tally.latencyMs),
      late: collector.status().late - lateBefore,
      server: served.rounds.filter((r) => r.round >= firstRound && r.round <= lastRound),
    }
  } finally {
    await collector.stop()
  }
}

function figures(m: Measured, o: OpcuaServerBenchOptions, ours: boolean): Figure[] {
  const who = ours ? 'profile server' : 'peer (machine-server.ts)'
  const out: Figure[] = []
  if (ours) {
    const lag = summarize(m.server.map((r) => r.lagMs))
    const apply = summarize(m.server.map((r) => r.applyMs))
    out.push(
      { label: `Update rounds started late, ${o.variables.toLocaleString('en-US')} variables every ${o.intervalMs} ms: lag behind schedule, p50`, value: lag.p50, unit: 'ms', digits: 1 },
      { label: 'Update round lag behind schedule, max (falling behind: ≥ one interval)', value: lag.max, unit: 'ms', digits: 1, target: { kind: 'max', value: o.intervalMs } },
      { label: `Time to set all ${o.variables.toLocaleString('en-US')} variables, p50`, value: apply.p50, unit: 'ms', digits: 1 },
      { label: 'Time to set all variables, max', value: apply.max, unit: 'ms', digits: 1, target: { kind: 'max', value: o.intervalMs } },
    )
  }
  out.push(
    { label: `${who}: notifications received ÷ changes made`, value: m.received / m.made, unit: '×', digits: 4, ...(ours ? { target: { kind: 'min' as const, value: 0.999 } } : {}) },
    { label: `${who}: drift of round times seen by the client over the window`, value: m.driftMs, unit: 'ms', digits: 0 },
    { label: `${who}: change to notification received, p50`, value: m.latency.p50, unit: 'ms', digits: 0 },
    { label: `${who}: change to notification received, p99`, value: m.latency.p99, unit: 'ms', digits: 0 },
    { label: `${who}: CPU, share of one core`, value: m.cpuPct, unit: '%', digits: 0 },
    { label: `${who}: RSS at the end`, value: m.rssMiB, unit: 'MiB', digits: 0 },
  )
  return out
}

export async function benchOpcuaServer(options: Partial<OpcuaServerBenchOptions> = {}): Promise<BenchResult> {
  const o = { ...defaultOpcuaServerOptions, ...options }
  const dir = tempDir('opcua-server')
  try {
    const results: Measured[] = []
    const ours = await startProfileServerProcess(o, join(dir.path, 'server-pki'))
    try {
      results.push(await measure('profile server', ours, o, join(dir.path, 'client-pki')))
    } finally {
      await ours.stop()
    }
    if (o.peer) {
      const peer = await startMachineProcess({ port: await freePort(), pkiDir: join(dir.path, 'peer-pki'), extraVariables: o.variables, extraIntervalMs: o.intervalMs, cycleTimeMs: 1000 })
      const stopPeer = onCleanup(() => peer.kill())
      try {
        results.push(await measure('peer', { endpoint: peer.endpoint, pid: peer.pid, rounds: [], stop: stopPeer }, o, join(dir.path, 'client-pki')))
      } finally {
        await stopPeer()
      }
    }
    for (const m of results) log(`${m.name}: ${m.received}/${m.made} notifications over ${m.rounds} rounds, drift ${m.driftMs} ms, CPU ${m.cpuPct.toFixed(0)}%, p99 latency ${m.latency.p99} ms, sequence gaps ${m.late}`)
    const [mine, peer] = results
    return {
      title: `OPC UA simulator: ${o.variables.toLocaleString('en-US')} variables changing every ${o.intervalMs / 1000} s`,
      figures: [...figures(mine!, o, true), ...(peer ? figures(peer, o, false) : [])],
      notes: [
        `The server is simulators/opcua/profile-server.ts in a process of its own (\`node bench/opcua-server.ts --server-process\`), serving a profile of ${o.variables} Double variables (AnalogItems, ns=2;s=Load.<i>, MinimumSamplingInterval 0, security None). Every ${o.intervalMs} ms it sets every variable to index + round with one source timestamp per round; rounds are scheduled on absolute times (start + k × interval), and it reports each round's lag behind that time and how long setting all variables took.`,
        `The client is the gateway's own OpcUaCollector in the bench process: one session, one subscription at ${o.intervalMs} ms, ${o.variables} monitored items at sampling interval 0 (exception-based: every change is reported). Each notification's value says which round it belongs to; received ÷ made counts, for every round whose source time lies in the ${o.seconds} s window (after ${o.warmupSeconds} s of warm-up), the notifications that arrived within ${3 * o.intervalMs + 1000} ms after the window against rounds × variables. Drift: the last round's source time against the first's plus k × interval, as the client sees it.`,
        `Server CPU is user + system time of the server process (/proc/<pid>/stat) over the window. Client and server share the machine's cores, so the client's work (${o.variables} samples a second) competes with the server's.`,
        ...(peer
          ? [`The peer is the PackML machine server (simulators/opcua/machine-server.ts --extra ${o.variables} --extra-interval ${o.intervalMs}, its own process), measured right after with the same client and profile; it changes its load variables from a plain setInterval and reports no rounds of its own, so only the client-side figures exist for it. ${peer.late + mine!.late} notification sequence gaps were seen in all.`]
          : []),
      ],
    }
  } finally {
    await dir.remove()
  }
}

/** The server process: the profile server and its update loop, one JSON line per round on stdout. */
async function serverProcess(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(3), options: { variables: { type: 'string' }, interval: { type: 'string' }, pki: { type: 'string' } } })
  const variables = Number(values.variables)
  const intervalMs = Number(values.interval)
  const profile = loadProfile(variables, intervalMs)
  const server = new ProfileServer({ profile, port: 0, pkiDir: values.pki!, ranges: {} })
  const endpoint = await server.start()
  const names = profile.signals.map((s) => s.name)
  process.stdout.write(`${JSON.stringify({ ready: true, endpoint })}\n`)
  const t0 = performance.now() + intervalMs
  let timer: NodeJS.Timeout | undefined
  const round = (k: number) => {
    const started = performance.now()
    const lagMs = started - (t0 + (k - 1) * intervalMs)
    const sourceTimestamp = new Date()
    for (let i = 0; i < names.length; i++) server.set(names[i]!, i + k, { sourceTimestamp })
    const applyMs = performance.now() - started
    process.stdout.write(`${JSON.stringify({ round: k, lagMs, applyMs })}\n`)
    // The next round at its own time, not "interval after this one": a slow round must not push every later one back.
    timer = setTimeout(() => round(k + 1), Math.max(0, t0 + k * intervalMs - performance.now()))
  }
  timer = setTimeout(() => round(1), intervalMs)
  process.once('SIGTERM', () => {
    clearTimeout(timer)
    void server.stop().then(() => process.exit(0))
  })
}

if (import.meta.main && process.argv[2] === '--server-process') {
  serverProcess().catch((error: unknown) => {
    process.stderr.write(`profile server process: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}

if (import.meta.main && process.argv[2] !== '--server-process') {
  const { printResult } = await import('./lib/figures.ts')
  const { cleanupAll } = await import('./lib/cleanup.ts')
  const quick = process.argv.includes('--quick')
  try {
    printResult(await benchOpcuaServer(quick ? quickOpcuaServerOptions : {}))
  } finally {
    await cleanupAll()
  }
}
