// Benchmark: 5,000 OPC UA monitored items changing every second, from the simulator in its own process: CPU of the process that collects them, samples stored per second.
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pino from 'pino'
import { OpcUaCollector } from '../edge/connectivity/opcua/collector.ts'
import { Historian } from '../edge/historian/historian.ts'
import { storedSampleCount } from '../edge/historian/sample-blocks.ts'
import { checkProfileFile } from '../hardware-profiles/load.ts'
import { startMachineProcess, type MachineProcess } from '../simulators/opcua/machine-process.ts'
import { onCleanup, tempDir } from './lib/cleanup.ts'
import type { BenchResult } from './lib/figures.ts'
import { freePort, projectRoot } from './lib/gateway-process.ts'
import { cpuSince, mib, readCpuTime, readRssKb, sampleRss } from './lib/proc-stats.ts'

export interface OpcuaItemsOptions {
  items: number
  /** Sampling and publishing interval, and how often every simulated value changes. */
  intervalMs: number
  securityMode: 'None' | 'SignAndEncrypt'
  warmupSeconds: number
  seconds: number
  /**
   * What is measured: 'collector' is a process running only the OPC UA collector into a real
   * Historian; 'gateway' is `takt edge` with the device in its config, once OPC UA devices are
   * wired into line-connectivity — then this default flips and nothing else changes.
   */
  measured: 'collector' | 'gateway'
}

export const defaultOpcuaItemsOptions: OpcuaItemsOptions = { items: 5_000, intervalMs: 1_000, securityMode: 'None', warmupSeconds: 5, seconds: 30, measured: 'gateway' }
export const quickOpcuaItemsOptions: Partial<OpcuaItemsOptions> = { warmupSeconds: 2, seconds: 8 }

const adminToken = 'bench-admin-token-0123456789abcdef'
const log = (line: string) => process.stdout.write(`  ${line}\n`)

function profileYaml(o: OpcuaItemsOptions): string {
  const policy = o.securityMode === 'None' ? 'None' : 'Basic256Sha256'
  const signals = Array.from({ length: o.items }, (_, i) => `  - { name: v${String(i).padStart(5, '0')}, kind: value, nodeId: "ns=2;s=Load.${i}", samplingIntervalMs: ${o.intervalMs} }`)
  return [`profile: bench-opcua-${o.items}`, 'version: 1', 'protocol: opcua', 'connection:', `  securityMode: ${o.securityMode}`, `  securityPolicy: ${policy}`, `  publishingIntervalMs: ${o.intervalMs}`, 'signals:', ...signals, ''].join('\n')
}

/** The gateway configuration of one OPC UA device, in the form `takt edge` takes. */
function gatewayYaml(profileFile: string, endpoint: string): string {
  return ['mqtt:', '  host: 127.0.0.1', 'devices:', `  - { name: bench, workCenterId: WC-BENCH, profile: ${JSON.stringify(profileFile)}, endpoint: ${JSON.stringify(endpoint)} }`, ''].join('\n')
}

interface Measured {
  pid: number
  /** Where its historian is: samples are counted there, as stored. */
  historianFile: string
  stop(): Promise<void>
}

/** Spawns a node process and waits for the line that says it is ready (or for /health to answer). */
async function spawnMeasured(args: string[], env: NodeJS.ProcessEnv, ready: (out: string) => boolean | Promise<boolean>, historianFile: string): Promise<Measured> {
  const child = spawn(process.execPath, args, { cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out = (out + chunk.toString('utf8')).slice(-10_000)))
  child.stderr.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) process.stderr.write(`  [measured] ${line}\n`)
  })
  let exitCode: number | null | undefined
  const exited = new Promise<void>((resolve) => child.once('exit', (code) => ((exitCode = code), resolve())))
  const stop = onCleanup(async () => {
    if (exitCode !== undefined) return
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(killer)
  })
  for (const deadline = Date.now() + 30_000; !(await ready(out)); ) {
    if (exitCode !== undefined) throw new Error(`the measured process exited with code ${exitCode} before it was ready`)
    if (Date.now() > deadline) throw new Error('the measured process was not ready within 30 s')
    await new Promise((r) => setTimeout(r, 100))
  }
  return { pid: child.pid!, historianFile, stop }
}

async function startMeasured(o: OpcuaItemsOptions, dataDir: string, profileFile: string, endpoint: string): Promise<Measured> {
  const historianFile = join(dataDir, 'historian.db')
  if (o.measured === 'collector') {
    const configFile = join(dataDir, 'collector.json')
    writeFileSync(configFile, JSON.stringify({ dataDir, profileFile, endpoint }))
    return spawnMeasured(['bench/opcua-items.ts', '--collector-process', configFile], {}, (out) => out.includes('{"ready":true}'), historianFile)
  }
  const configFile = join(dataDir, 'gateway.yaml')
  writeFileSync(configFile, gatewayYaml(profileFile, endpoint))
  const url = `http://127.0.0.1:${await freePort()}`
  const env = { TAKT_CONFIG: '', TAKT_DATA_DIR: dataDir, TAKT_HTTP_HOST: '127.0.0.1', TAKT_HTTP_PORT: url.split(':')[2]!, TAKT_MQTT_PORT: String(await freePort()), TAKT_LOG_LEVEL: 'warn', TAKT_ADMIN_TOKEN: adminToken }
  const healthy = () => fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false)
  return spawnMeasured(['bin/takt.ts', 'edge', '--config', configFile], env, healthy, historianFile)
}

/** Samples in the historian and signals that have any, read from the file the measured process writes (WAL: readers see every commit). */
function countStored(file: string): { samples: number; signals: number } {
  let db: Database.Database
  try {
    db = new Database(file, { readonly: true, fileMustExist: true })
  } catch {
    return { samples: 0, signals: 0 }
  }
  try {
    const samples = storedSampleCount(db)
    const signals = (db.prepare('SELECT count(DISTINCT signal_id) AS n FROM blocks').get() as { n: number }).n
    return { samples, signals }
  } catch {
    return { samples: 0, signals: 0 }
  } finally {
    db.close()
  }
}

async function measure(measured: Measured, server: MachineProcess, o: OpcuaItemsOptions, startedAt: number): Promise<BenchResult> {
  for (const deadline = Date.now() + 120_000; countStored(measured.historianFile).signals < o.items; ) {
    if (Date.now() > deadline) throw new Error(`after 120 s only ${countStored(measured.historianFile).signals} of ${o.items} items had a sample in the historian`)
    await new Promise((r) => setTimeout(r, 250))
  }
  const subscribedSeconds = (Date.now() - startedAt) / 1000
  log(`all ${o.items} items stored after ${subscribedSeconds.toFixed(1)} s; warming up ${o.warmupSeconds} s`)
  await new Promise((r) => setTimeout(r, o.warmupSeconds * 1000))
  const before = countStored(measured.historianFile)
  const cpu = readCpuTime(measured.pid)
  const serverCpu = readCpuTime(server.pid)
  const started = performance.now()
  const rss = sampleRss(measured.pid, 250)
  await new Promise((r) => setTimeout(r, o.seconds * 1000))
  const rssKb = rss.stop()
  const seconds = (performance.now() - started) / 1000
  const used = cpuSince(measured.pid, cpu)
  const serverUsed = cpuSince(server.pid, serverCpu)
  const after = countStored(measured.historianFile)
  const perSecond = (after.samples - before.samples) / seconds
  const cpuPct = (100 * (used.user + used.system)) / seconds
  const serverPct = (100 * (serverUsed.user + serverUsed.system)) / seconds
  const expected = (o.items * 1000) / o.intervalMs
  log(`${perSecond.toFixed(0)} samples/s stored (${expected.toFixed(0)} expected), CPU ${cpuPct.toFixed(1)}% of a core, server ${serverPct.toFixed(0)}%`)
  const what =
    o.measured === 'collector'
      ? 'The measured process runs only the OPC UA collector (`node bench/opcua-items.ts --collector-process`) into a real Historian (its own SQLite file, batched), as `takt edge` will once OPC UA devices are wired into its connectivity; until then it is not the gateway, and its CPU leaves out signal rules and the UNS.'
      : 'The measured process is the gateway (`node bin/takt.ts edge --config FILE`) with one OPC UA device in its `devices:`.'
  return {
    title: `OPC UA: ${o.items.toLocaleString('en-US')} monitored items at ${o.intervalMs / 1000} s`,
    notes: [
      `${what} One session, one subscription (publishing interval ${o.intervalMs} ms), ${o.items} monitored items (sampling interval ${o.intervalMs} ms, security ${o.securityMode}) on the Takt PackML simulator (\`node simulators/opcua/machine-server.ts --extra ${o.items}\`, node-opcua, its own process), whose ${o.items} Double variables all change every ${o.intervalMs} ms.`,
      `Every item had a sample in the historian ${subscribedSeconds.toFixed(1)} s after the measured process started (certificate, session, subscription, CreateMonitoredItems in calls of up to 1,000). Measured for ${seconds.toFixed(1)} s after ${o.warmupSeconds} s more: samples counted in the historian file before and after (${after.samples - before.samples} rows), CPU as user+system time of each process, all threads (/proc/<pid>/stat); RSS every 250 ms.`,
      `The simulator used ${serverPct.toFixed(0)}% of one core over the same window, for context: it is a node-opcua server doing ${expected.toFixed(0)} value writes and notifications a second.`,
      `The RSS includes loading node-opcua-client (about 90 MiB in a process of its own), the Historian and the ${o.items}-signal profile as parsed; the session and its items add about 45 MiB.`,
    ],
    figures: [
      { label: `CPU of the collecting process, ${o.items} items at ${o.intervalMs / 1000} s, share of one core`, value: cpuPct, unit: '%', digits: 1, target: { kind: 'max', value: 15 } },
      { label: 'Samples stored per second', value: perSecond, unit: '/s', digits: 0 },
      { label: 'Samples stored ÷ value changes on the server', value: perSecond / expected, unit: '×', digits: 3 },
      { label: 'Time until every item had a sample', value: subscribedSeconds, unit: 's', digits: 1 },
      { label: 'RSS of the collecting process, peak', value: mib(Math.max(...rssKb, readRssKb(measured.pid))), unit: 'MiB', digits: 1 },
      { label: 'Simulator (OPC UA server) CPU, share of one core', value: serverPct, unit: '%', digits: 0 },
    ],
  }
}

export async function benchOpcuaItems(options: Partial<OpcuaItemsOptions> = {}): Promise<BenchResult> {
  const o = { ...defaultOpcuaItemsOptions, ...options }
  const dir = tempDir('opcua-items')
  try {
    const server = await startMachineProcess({ port: await freePort(), pkiDir: join(dir.path, 'server-pki'), extraVariables: o.items, extraIntervalMs: o.intervalMs, cycleTimeMs: 1000 })
    const stopServer = onCleanup(() => server.kill())
    try {
      const profileFile = join(dir.path, 'bench-opcua-profile.yaml')
      writeFileSync(profileFile, profileYaml(o))
      const dataDir = join(dir.path, 'data')
      mkdirSync(dataDir, { recursive: true })
      if (o.securityMode !== 'None') trustSimulator(server, dataDir)
      const startedAt = Date.now()
      const measured = await startMeasured(o, dataDir, profileFile, server.endpoint)
      try {
        return await measure(measured, server, o, startedAt)
      } finally {
        await measured.stop()
      }
    } finally {
      await stopServer()
    }
  } finally {
    await dir.remove()
  }
}

/** With security on, the gateway's PKI trusts the simulator beforehand, as a technician would. */
function trustSimulator(server: MachineProcess, dataDir: string): void {
  const trusted = join(dataDir, 'opcua-pki', 'trusted', 'certs')
  mkdirSync(trusted, { recursive: true })
  writeFileSync(join(trusted, 'simulator.pem'), readFileSync(server.certificateFile))
}

/** The measured process when it is not the gateway: the collector, a Historian, nothing else. */
async function collectorProcess(configFile: string): Promise<void> {
  const { dataDir, profileFile, endpoint } = JSON.parse(readFileSync(configFile, 'utf8')) as { dataDir: string; profileFile: string; endpoint: string }
  const loaded = checkProfileFile(profileFile)
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => `${p.file}:${p.line ?? '?'} ${p.path}: ${p.message}`).join('\n'))
  if (loaded.profile.protocol !== 'opcua') throw new Error(`${profileFile}: not an OPC UA profile`)
  const historian = new Historian({ file: join(dataDir, 'historian.db') })
  const logger = pino({ level: 'warn' }, pino.destination(2))
  const collector = new OpcUaCollector({
    device: 'bench',
    endpoint,
    pkiDir: join(dataDir, 'opcua-pki'),
    profile: loaded.profile,
    logger,
    sink: (samples) => {
      historian.record(samples)
      return historian.durable()
    },
  })
  collector.start()
  process.stdout.write('{"ready":true}\n')
  process.once('SIGTERM', () => {
    void collector.stop().then(() => {
      historian.flush()
      historian.close()
      process.exit(0)
    })
  })
}

if (import.meta.main && process.argv[2] === '--collector-process') {
  collectorProcess(process.argv[3]!).catch((error: unknown) => {
    process.stderr.write(`collector process: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
