// Benchmark: Modbus TCP polls per second on one connection, one request in flight, Takt's simulator against Debian's pymodbus server, same client, same run.
import { fork, spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { connect } from 'node:net'
import { join } from 'node:path'
import { ModbusClient } from '../edge/connectivity/modbus/serial-line.ts'
import { ModbusTcpClient } from '../edge/connectivity/modbus/tcp-client.ts'
import { onCleanup } from './lib/cleanup.ts'
import type { BenchResult, Figure } from './lib/figures.ts'
import { freePort, projectRoot } from './lib/gateway-process.ts'
import { cpuSince, readCpuTime } from './lib/proc-stats.ts'
import { ms, summarize } from './lib/stats.ts'

export interface ModbusSlaveOptions {
  /** Measured seconds per server, client and round. */
  seconds: number
  warmupSeconds: number
  /** Rounds alternate the servers, so a slow moment of the machine falls on both. */
  rounds: number
  /** Holding registers each poll reads (FC 0x03 from address 0; pymodbus_server.py holds 100). */
  registers: number
}

export const defaultModbusSlaveOptions: ModbusSlaveOptions = { seconds: 5, warmupSeconds: 1, rounds: 2, registers: 10 }

const log = (line: string) => process.stdout.write(`  ${line}\n`)

export interface ServerProcess {
  port: number
  pid: number
  stop(): Promise<void>
  /** The forked simulator answers IPC messages (see simulators/modbus/cli.ts); pymodbus does not. */
  child: ChildProcess
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())))

function stopper(child: ChildProcess): () => Promise<void> {
  return onCleanup(async () => {
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited(child)
    clearTimeout(killer)
  })
}

/** Takt's simulator in its own process (`node simulators/modbus/slave.ts`), as the bench's PLCs. */
export async function startSlaveProcess(args: string[]): Promise<ServerProcess> {
  const child = fork(join(projectRoot, 'simulators/modbus/slave.ts'), ['--port', '0', ...args], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const stop = stopper(child)
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`the Modbus simulator exited with code ${code} before it listened`)))
    child.on('message', (m: { type?: string; port?: number }) => m.type === 'listening' && resolve(m.port!))
  })
  return { port, pid: child.pid!, stop, child }
}

async function connectable(port: number, deadlineMs: number): Promise<void> {
  for (const deadline = Date.now() + deadlineMs; ; ) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)))
      s.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${deadlineMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Debian's pymodbus TCP server (test/peers/pymodbus_server.py) in its own process. */
async function startPymodbus(): Promise<ServerProcess> {
  const port = await freePort()
  const child = spawn('/usr/bin/python3', [join(projectRoot, 'test/peers/pymodbus_server.py'), String(port)], { stdio: ['ignore', 'ignore', 'pipe'] })
  const stop = stopper(child)
  // pymodbus logs every client that disconnects as an ERROR ("Handler for stream … has been canceled"); keep the rest.
  child.stderr!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() && !/has been cancel+ed/.test(line)) process.stderr.write(`  [pymodbus] ${line}\n`)
  })
  await connectable(port, 10_000)
  return { port, pid: child.pid!, stop, child }
}

type Poll = () => Promise<unknown>

type ClientKind = 'takt' | 'modbus-serial'

async function clientFor(kind: ClientKind, port: number, registers: number): Promise<{ poll: Poll; close: () => void }> {
  if (kind === 'takt') {
    const client = await ModbusTcpClient.connect('127.0.0.1', port, 2000)
    return { poll: () => client.read(1, 'holding_register', 0, registers, 2000), close: () => client.destroy() }
  }
  const client = new ModbusClient()
  await client.connectTCP('127.0.0.1', { port })
  client.setID(1)
  client.setTimeout(2000)
  return { poll: () => client.readHoldingRegisters(0, registers), close: () => client.destroy(() => {}) }
}

interface Run {
  polls: number
  seconds: number
  latencies: number[]
  serverCpuSeconds: number
}

/** Polls back to back for `seconds` after a warm-up; the next request goes out when the answer is in. */
async function pollFor(server: ServerProcess, kind: ClientKind, o: ModbusSlaveOptions): Promise<Run> {
  const { poll, close } = await clientFor(kind, server.port, o.registers)
  try {
    for (const until = performance.now() + o.warmupSeconds * 1000; performance.now() < until; ) await poll()
    const latencies: number[] = []
    const cpu = readCpuTime(server.pid)
    const started = performance.now()
    const until = started + o.seconds * 1000
    for (let t = started; t < until; ) {
      await poll()
      const now = performance.now()
      latencies.push(now - t)
      t = now
    }
    const seconds = (performance.now() - started) / 1000
    const used = cpuSince(server.pid, cpu)
    return { polls: latencies.length, seconds, latencies, serverCpuSeconds: used.user + used.system }
  } finally {
    close()
  }
}

function pymodbusVersion(): string {
  try {
    return execFileSync('/usr/bin/python3', ['-c', 'import pymodbus; print(pymodbus.__version__)'], { encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}

const merge = (runs: Run[]): Run => ({
  polls: runs.reduce((s, r) => s + r.polls, 0),
  seconds: runs.reduce((s, r) => s + r.seconds, 0),
  latencies: runs.flatMap((r) => r.latencies),
  serverCpuSeconds: runs.reduce((s, r) => s + r.serverCpuSeconds, 0),
})

export async function benchModbusSlave(options: Partial<ModbusSlaveOptions> = {}): Promise<BenchResult> {
  const o = { ...defaultModbusSlaveOptions, ...options }
  const version = pymodbusVersion()
  const pymodbus = await startPymodbus()
  const takt = await startSlaveProcess(['--units', '1', '--size', '10000'])
  const runs = { takt: { pymodbus: [] as Run[], takt: [] as Run[] }, 'modbus-serial': { pymodbus: [] as Run[], takt: [] as Run[] } }
  try {
    for (let round = 0; round < o.rounds; round++) {
      for (const kind of ['takt', 'modbus-serial'] as const) {
        for (const [name, server] of [['pymodbus', pymodbus], ['takt', takt]] as const) {
          const run = await pollFor(server, kind, o)
          runs[kind][name].push(run)
          log(`round ${round + 1}, ${kind} client, ${name}: ${(run.polls / run.seconds).toFixed(0)} polls/s, p99 ${ms(summarize(run.latencies).p99)} ms`)
        }
      }
    }
  } finally {
    await takt.stop()
    await pymodbus.stop()
  }
  return report(runs, o, version)
}

function report(runs: Record<ClientKind, Record<'pymodbus' | 'takt', Run[]>>, o: ModbusSlaveOptions, version: string): BenchResult {
  const rate = (r: Run) => r.polls / r.seconds
  const figures: Figure[] = []
  const notes: string[] = [
    `One TCP connection per server on 127.0.0.1, one request in flight: each FC 0x03 read of ${o.registers} holding registers from address 0 goes out when the previous answer is in and checked. ` +
      `Each server runs in its own process: Debian's pymodbus ${version} (\`test/peers/pymodbus_server.py\`, its asyncio TCP server) and Takt's simulator (\`node simulators/modbus/slave.ts\`); the client runs in the bench process. ` +
      `${o.rounds} rounds alternate the servers and the two clients, ${o.seconds} s measured after ${o.warmupSeconds} s of warm-up each; figures are over all rounds.`,
    'Two clients, each against both servers: the Modbus TCP client the gateway\'s collector polls with (edge/connectivity/modbus/tcp-client.ts; transaction id, unit, function and byte count of each answer checked), and modbus-serial 8.0.25 (which the gateway uses for RTU); a client\'s own per-request cost is part of its figures.',
    'Server CPU is the server process\'s user+system time over the measured seconds (/proc/<pid>/stat), all its threads; per poll it is that time divided by the polls answered.',
  ]
  for (const kind of ['takt', 'modbus-serial'] as const) {
    const py = merge(runs[kind].pymodbus)
    const ours = merge(runs[kind].takt)
    const label = kind === 'takt' ? 'Takt client' : 'modbus-serial client'
    figures.push(
      { label: `Polls per second, pymodbus ${version} server, ${label}`, value: rate(py), unit: '/s', digits: 0 },
      { label: `Polls per second, Takt simulator, ${label}`, value: rate(ours), unit: '/s', digits: 0 },
      { label: `Ratio Takt ÷ pymodbus, ${label}`, value: rate(ours) / rate(py), unit: '×', digits: 2, ...(kind === 'takt' ? { target: { kind: 'min' as const, value: 1 } } : {}) },
    )
    if (kind === 'takt') {
      const lp = summarize(py.latencies)
      const lt = summarize(ours.latencies)
      figures.push(
        { label: 'Poll round trip p99, pymodbus, Takt client', value: lp.p99, unit: 'ms', digits: 3 },
        { label: 'Poll round trip p99, Takt simulator, Takt client', value: lt.p99, unit: 'ms', digits: 3 },
        { label: 'Server CPU per poll, pymodbus', value: (py.serverCpuSeconds / py.polls) * 1e6, unit: 'µs', digits: 1 },
        { label: 'Server CPU per poll, Takt simulator', value: (ours.serverCpuSeconds / ours.polls) * 1e6, unit: 'µs', digits: 1 },
      )
      notes.push(`Takt client round trips: pymodbus p50 ${ms(lp.p50)} ms, p99 ${ms(lp.p99)} ms, max ${ms(lp.max)} ms over ${py.polls} polls; Takt p50 ${ms(lt.p50)} ms, p99 ${ms(lt.p99)} ms, max ${ms(lt.max)} ms over ${ours.polls} polls.`)
    }
  }
  return { title: 'Modbus TCP slave: polls per second on one connection', figures, notes }
}

// `node bench/modbus-slave.ts [--quick] [--seconds N]`: this benchmark alone, printed, nothing written.
if (import.meta.main) {
  const quick = process.argv.includes('--quick')
  const at = process.argv.indexOf('--seconds')
  const { printResult } = await import('./lib/figures.ts')
  const { cleanupAll } = await import('./lib/cleanup.ts')
  try {
    const result = await benchModbusSlave({ ...(quick ? { seconds: 1, warmupSeconds: 0.3, rounds: 1 } : {}), ...(at > 0 ? { seconds: Number(process.argv[at + 1]) } : {}) })
    printResult(result)
    for (const n of result.notes) process.stdout.write(`  - ${n}\n`)
  } finally {
    await cleanupAll()
  }
}
