// Benchmark: a real gateway polling 50 Modbus TCP devices × 100 registers every 100 ms from the simulator in its own process: late or missed polls, gateway RSS and CPU.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { onCleanup, tempDir } from './lib/cleanup.ts'
import type { BenchResult } from './lib/figures.ts'
import { freePort, projectRoot } from './lib/gateway-process.ts'
import { JsonClient } from './lib/json-client.ts'
import { cpuSince, mib, readCpuTime, readRssKb, sampleRss } from './lib/proc-stats.ts'
import { startSlaveProcess, type ServerProcess } from './modbus-slave.ts'

export interface ModbusPollOptions {
  devices: number
  registers: number
  intervalMs: number
  warmupSeconds: number
  seconds: number
}

export const defaultModbusPollOptions: ModbusPollOptions = { devices: 50, registers: 100, intervalMs: 100, warmupSeconds: 5, seconds: 30 }

const adminToken = 'bench-admin-token-0123456789abcdef'
const log = (line: string) => process.stdout.write(`  ${line}\n`)

/** A profile of `registers` holding registers, each a uint16 `value` signal, polled every `intervalMs`. */
function profileYaml(o: ModbusPollOptions): string {
  const signals = Array.from({ length: o.registers }, (_, a) => `  - { name: r${String(a).padStart(3, '0')}, kind: value, area: holding_register, address: ${a}, type: uint16 }`)
  return [`profile: bench-modbus-${o.registers}`, 'version: 1', 'protocol: modbus', 'connection:', '  transport: tcp', '  unitId: 1', `  pollIntervalMs: ${o.intervalMs}`, '  timeoutMs: 1000', 'signals:', ...signals, ''].join('\n')
}

function configYaml(o: ModbusPollOptions, profileFile: string, port: number): string {
  const devices = Array.from({ length: o.devices }, (_, i) => `  - { name: dev${String(i + 1).padStart(2, '0')}, workCenterId: WC-BENCH-${i + 1}, profile: ${profileFile}, host: 127.0.0.1, port: ${port}, unitId: ${i + 1} }`)
  return ['mqtt:', '  host: 127.0.0.1', 'devices:', ...devices, ''].join('\n')
}

interface Gateway {
  url: string
  pid: number
  stop(): Promise<void>
}

/**
 * `node bin/takt.ts edge --config FILE` with the bench's devices. bench/lib/gateway-process.ts writes
 * its own config without devices, so this starts the same way with a config of its own.
 */
async function startGateway(dataDir: string, configFile: string): Promise<Gateway> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const env = { ...process.env, TAKT_CONFIG: '', TAKT_DATA_DIR: dataDir, TAKT_HTTP_HOST: '127.0.0.1', TAKT_HTTP_PORT: String(port), TAKT_MQTT_PORT: String(await freePort()), TAKT_LOG_LEVEL: 'warn', TAKT_ADMIN_TOKEN: adminToken }
  const child = spawn(process.execPath, ['bin/takt.ts', 'edge', '--config', configFile], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const pass = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) process.stderr.write(`  [gateway] ${line}\n`)
  }
  child.stdout.on('data', pass)
  child.stderr.on('data', pass)
  let exitCode: number | null | undefined
  const exited = new Promise<void>((resolve) => child.once('exit', (code) => ((exitCode = code), resolve())))
  const stop = onCleanup(async () => {
    if (exitCode !== undefined) return
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(killer)
  })
  for (const deadline = Date.now() + 30_000; ; ) {
    const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false)
    if (ok) break
    if (exitCode !== undefined) throw new Error(`the gateway exited with code ${exitCode} before it was ready`)
    if (Date.now() > deadline) throw new Error('the gateway did not answer /health within 30 s')
    await new Promise((r) => setTimeout(r, 100))
  }
  return { url, pid: child.pid!, stop }
}

interface DeviceStatus {
  device: string
  connected: boolean
  cycles: number
  late: number
  lastError: string | null
}

function ask<T>(slave: ServerProcess, type: string, reply: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { type?: string }) => {
      if (m.type !== reply) return
      slave.child.off('message', on)
      resolve(m as T)
    }
    slave.child.on('message', on)
    slave.child.send({ type })
  })
}

/**
 * Seen from the simulator: a gap of more than 1.5 intervals between two polls of one device means a
 * poll came over half an interval late, or slots were skipped (the collector never catches up a
 * backlog, so a late poll and a missed one look the same here). Lost slots per gap: round(gap/interval) − 1.
 */
export function slaveSideLoss(arrivals: Record<string, number[]>, intervalMs: number): { polls: number; lost: number; worstGapMs: number } {
  let polls = 0
  let lost = 0
  let worstGapMs = 0
  for (const times of Object.values(arrivals)) {
    for (let i = 1; i < times.length; i++) {
      const gap = times[i]! - times[i - 1]!
      worstGapMs = Math.max(worstGapMs, gap)
      polls += 1
      if (gap > 1.5 * intervalMs) lost += Math.max(1, Math.round(gap / intervalMs) - 1)
    }
  }
  return { polls, lost, worstGapMs }
}

async function checkValues(admin: JsonClient, o: ModbusPollOptions): Promise<string> {
  const to = new Date()
  const from = new Date(to.getTime() - 2000)
  const address = Math.min(7, o.registers - 1)
  const signal = `dev${String(o.devices).padStart(2, '0')}/r${String(address).padStart(3, '0')}`
  const body = await admin.expect('GET', `/api/v1/historian/samples?signal=${encodeURIComponent(signal)}&from=${from.toISOString()}&to=${to.toISOString()}`, undefined, [200])
  const items = body.items as Array<{ value: number; quality: string }>
  if (items.length === 0 || items.some((s) => s.value !== address || s.quality !== 'good')) throw new Error(`the historian holds unexpected samples of ${signal}: ${JSON.stringify(items.slice(0, 5))}`)
  return `${items.length} good samples of ${signal}, all ${address} as the simulator holds, in the historian over the last 2 s`
}

export async function benchModbusPoll(options: Partial<ModbusPollOptions> = {}): Promise<BenchResult> {
  const o = { ...defaultModbusPollOptions, ...options }
  const dir = tempDir('modbus-poll')
  const slave = await startSlaveProcess(['--units', `1-${o.devices}`, '--size', String(Math.max(o.registers, 1)), '--log-arrivals'])
  try {
    const profileFile = join(dir.path, 'bench-modbus-profile.yaml')
    const configFile = join(dir.path, 'bench-modbus-gateway.yaml')
    writeFileSync(profileFile, profileYaml(o))
    writeFileSync(configFile, configYaml(o, profileFile, slave.port))
    const gateway = await startGateway(join(dir.path, 'data'), configFile)
    try {
      return report(await measure(gateway, slave, o), o)
    } finally {
      await gateway.stop()
    }
  } finally {
    await slave.stop()
    await dir.remove()
  }
}

interface Measured {
  seconds: number
  before: DeviceStatus[]
  after: DeviceStatus[]
  arrivals: Record<string, number[]>
  gatewayCpuSeconds: number
  slaveCpuSeconds: number
  idleKb: number
  rssKb: number[]
  valueCheck: string
}

/** Warms up, then takes every reading over one window: collector status, simulator arrivals, CPU, RSS. */
async function measure(gateway: Gateway, slave: ServerProcess, o: ModbusPollOptions): Promise<Measured> {
  const admin = new JsonClient(gateway.url, adminToken)
  const status = async () => (await admin.expect('GET', '/api/v1/connectivity', undefined, [200])).devices as DeviceStatus[]
  log(`gateway up with ${o.devices} Modbus devices; warming up ${o.warmupSeconds} s`)
  await new Promise((r) => setTimeout(r, o.warmupSeconds * 1000))
  const idleKb = readRssKb(gateway.pid)
  await ask(slave, 'take-arrivals', 'arrivals')
  const before = await status()
  const cpu = readCpuTime(gateway.pid)
  const slaveCpu = readCpuTime(slave.pid)
  const started = performance.now()
  const rss = sampleRss(gateway.pid, 200)
  await new Promise((r) => setTimeout(r, o.seconds * 1000))
  const rssKb = rss.stop()
  const { arrivals } = await ask<{ arrivals: Record<string, number[]> }>(slave, 'take-arrivals', 'arrivals')
  const after = await status()
  const seconds = (performance.now() - started) / 1000
  const used = cpuSince(gateway.pid, cpu)
  const slaveUsed = cpuSince(slave.pid, slaveCpu)
  const valueCheck = await checkValues(admin, o)
  return { seconds, before, after, arrivals, gatewayCpuSeconds: used.user + used.system, slaveCpuSeconds: slaveUsed.user + slaveUsed.system, idleKb, rssKb, valueCheck }
}

function report(m: Measured, o: ModbusPollOptions): BenchResult {
  const { seconds, rssKb } = m
  const byDevice = new Map(m.before.map((d) => [d.device, d]))
  const cycles = m.after.reduce((s, d) => s + d.cycles - (byDevice.get(d.device)?.cycles ?? 0), 0)
  const late = m.after.reduce((s, d) => s + d.late - (byDevice.get(d.device)?.late ?? 0), 0)
  const unhealthy = m.after.filter((d) => !d.connected || d.lastError).map((d) => `${d.device}: ${d.lastError ?? 'not connected'}`)
  const expected = (o.devices * seconds * 1000) / o.intervalMs
  const seen = slaveSideLoss(m.arrivals, o.intervalMs)
  const cpuPct = (100 * m.gatewayCpuSeconds) / seconds
  const peakKb = Math.max(...rssKb)
  const meanKb = rssKb.reduce((s, v) => s + v, 0) / Math.max(1, rssKb.length)
  log(`${cycles} cycles (${expected.toFixed(0)} slots), ${late} late; simulator saw ${seen.polls} polls, ${seen.lost} slots lost; CPU ${cpuPct.toFixed(0)}%, RSS peak ${mib(peakKb).toFixed(1)} MiB`)
  const notes = [
    `The gateway (\`node bin/takt.ts edge --config FILE\`, its own process) polls ${o.devices} devices, each a \`devices:\` entry with host, port and unit id 1–${o.devices} and one generated profile of ${o.registers} holding registers as uint16 \`value\` signals, pollIntervalMs ${o.intervalMs}, timeoutMs 1000. ` +
      `The devices are unit ids of one Takt Modbus simulator (\`node simulators/modbus/slave.ts\`) in its own process; each collector has its own TCP connection, and its ${o.registers} registers coalesce into ${Math.ceil(o.registers / 125)} FC 0x03 request(s) per cycle. ` +
      `Every sample (${((cycles * o.registers) / seconds).toFixed(0)} per second) goes to the historian; ${m.valueCheck}. Measured for ${seconds.toFixed(1)} s after ${o.warmupSeconds} s of warm-up.`,
    `Gateway side, from \`GET /api/v1/connectivity\` (each collector's \`status()\`) before and after: ${cycles} cycles in ${expected.toFixed(0)} slots of the window (the two snapshots are not taken at one instant, so this agrees only within ±1 per device), ${late} late cycles (a cycle that started after its slot, by any amount). ` +
      (unhealthy.length > 0 ? `Devices not connected at the end or with an error since they started (warm-up included): ${unhealthy.slice(0, 5).join('; ')}${unhealthy.length > 5 ? ` and ${unhealthy.length - 5} more` : ''}.` : 'Every device connected with no error at the end.'),
    `Simulator side, an independent count: each request's arrival time per unit id; ${seen.polls} gaps between polls, ${seen.lost} slots lost (a gap over 1.5 intervals loses round(gap/interval) − 1 slots), the longest gap ${seen.worstGapMs.toFixed(0)} ms. The simulator used ${((100 * m.slaveCpuSeconds) / seconds).toFixed(0)}% of one core.`,
    `Gateway CPU: user+system time of the process over the window, all threads (/proc/<pid>/stat). RSS: VmRSS every 200 ms (${rssKb.length} samples); ${mib(m.idleKb).toFixed(1)} MiB just before the window, ${mib(rssKb[0] ?? 0).toFixed(1)} MiB at its start and ${mib(rssKb.at(-1) ?? 0).toFixed(1)} MiB at its end.`,
  ]
  return {
    title: `Modbus polling: ${o.devices} devices × ${o.registers} registers every ${o.intervalMs} ms`,
    notes,
    figures: [
      { label: 'Late poll cycles, gateway status', value: (100 * late) / cycles, unit: '%', digits: 2, target: { kind: 'max', value: 1 } },
      { label: 'Polls late or missed, seen by the simulator (gap > 1.5 intervals)', value: (100 * seen.lost) / (seen.polls + seen.lost), unit: '%', digits: 2, target: { kind: 'max', value: 1 } },
      { label: 'Poll cycles per second, all devices', value: cycles / seconds, unit: '/s', digits: 0 },
      { label: 'Gateway CPU, share of one core', value: cpuPct, unit: '%', digits: 0 },
      { label: 'Gateway RSS under polling load, mean', value: mib(meanKb), unit: 'MiB', digits: 1 },
      { label: 'Gateway RSS under polling load, peak', value: mib(peakKb), unit: 'MiB', digits: 1, target: { kind: 'max', value: 250 } },
    ],
  }
}

// `node bench/modbus-poll.ts [--quick] [--seconds N]`: this benchmark alone, printed, nothing written.
if (import.meta.main) {
  const quick = process.argv.includes('--quick')
  const at = process.argv.indexOf('--seconds')
  const { printResult } = await import('./lib/figures.ts')
  const { cleanupAll } = await import('./lib/cleanup.ts')
  try {
    const result = await benchModbusPoll({ ...(quick ? { warmupSeconds: 2, seconds: 5 } : {}), ...(at > 0 ? { seconds: Number(process.argv[at + 1]) } : {}) })
    printResult(result)
    for (const n of result.notes) process.stdout.write(`  - ${n}\n`)
  } finally {
    await cleanupAll()
  }
}
