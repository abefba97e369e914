// `npm run bench`: runs the benchmark suite, prints every figure and records the run in docs/benchmarks.md.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { benchB2mmlImport, defaultB2mmlImportOptions } from './b2mml-import.ts'
import { benchCompletions, defaultCompletionsOptions } from './completions.ts'
import { benchDispatchList, defaultDispatchListOptions } from './dispatch-list.ts'
import { cleanupAll } from './lib/cleanup.ts'
import { newestProfile, printProfile, summarizeProfile } from './lib/cpu-profile.ts'
import { printResult, verdict, type BenchResult } from './lib/figures.ts'
import { projectRoot } from './lib/gateway-process.ts'
import { describeLoad, describeMachine } from './lib/machine.ts'
import { renderSection, writeSection } from './lib/report.ts'
import { benchModbusPoll } from './modbus-poll.ts'
import { benchModbusSlave } from './modbus-slave.ts'
import { benchOpcuaItems, quickOpcuaItemsOptions } from './opcua-items.ts'
import { benchOpcuaServer, quickOpcuaServerOptions } from './opcua-server.ts'
import { benchTrace, defaultTraceOptions } from './trace.ts'

const usage = `npm run bench [-- options]

  --only LIST   run only these, comma-separated (see the list below)
  --quick       shorter phases and smaller data sets, for a smoke test (figures not comparable)
  --orders N    spread the completion benchmark's runs over N orders (default 1: one long order)
  --connections N  connections of the completion benchmark's saturation phase (default 32)
  --cpu-prof    profile the gateway during the completion benchmark and print where its time went
                during the saturation phase (profiling slows it down; the figures are marked)
  --no-write    print the results only; leave docs/benchmarks.md alone
  --help        this text
`
const listing = () => `\nbenchmarks:\n${registry.map((r) => `  ${r.name.padEnd(14)}${r.title}`).join('\n')}\n`

interface Registered {
  name: string
  title: string
  run(options: Options): Promise<{ result: BenchResult; extra: string[] }>
}

const only = (result: Promise<BenchResult>) => result.then((r) => ({ result: r, extra: [] }))

/** Every benchmark, in the order a full run takes them; `--only` picks by name. */
const registry: Registered[] = [
  { name: 'completions', title: 'completions: gateway process, HTTP load', run: (o) => completions(o) },
  { name: 'dispatch', title: 'dispatch list', run: (o) => only(benchDispatchList(o.quick ? { orders: 2000, samples: 50 } : defaultDispatchListOptions)) },
  { name: 'trace', title: 'genealogy trace', run: (o) => only(benchTrace(o.quick ? { records: 100_000, samples: 50 } : defaultTraceOptions)) },
  { name: 'modbus-slave', title: 'Modbus simulator: polls per second on one connection, against pymodbus', run: (o) => only(benchModbusSlave(o.quick ? { seconds: 1, warmupSeconds: 0.3, rounds: 1 } : {})) },
  { name: 'opcua', title: 'OPC UA: 5,000 monitored items at 1 s', run: (o) => only(benchOpcuaItems(o.quick ? quickOpcuaItemsOptions : {})) },
  { name: 'opcua-sim', title: 'OPC UA simulator: 10,000 variables changing every second', run: (o) => only(benchOpcuaServer(o.quick ? quickOpcuaServerOptions : {})) },
  { name: 'b2mml', title: 'B2MML import: 1,000 orders × 10 segments', run: (o) => only(benchB2mmlImport(o.quick ? { ...defaultB2mmlImportOptions, orders: 100 } : defaultB2mmlImportOptions)) },
  { name: 'modbus-poll', title: 'Modbus polling: 50 devices × 100 registers every 100 ms', run: (o) => only(benchModbusPoll(o.quick ? { warmupSeconds: 2, seconds: 5 } : {})) },
  // Imported when chosen: its peers (Mosquitto, Node-RED) load only for this run.
  { name: 'telemetry', title: 'QoS 1 telemetry into the historian, against Mosquitto and Node-RED', run: async (o) => { const t = await import('./telemetry.ts'); return only(t.benchTelemetry(o.quick ? t.quickTelemetryOptions : {})) } },
  { name: 'oee-year', title: 'OEE with loss tree: a year of one-second state changes', run: async (o) => { const b = await import('./oee.ts'); return only(b.benchOeeYear(o.quick ? { rounds: 2 } : {})) } },
  { name: 'oee-live', title: 'OEE: machine signal to live OEE on the UNS', run: async (o) => { const b = await import('./oee.ts'); return only(b.benchOeeLive(o.quick ? { samples: 5 } : {})) } },
  // Imported when chosen: it launches Chromium.
  { name: 'sync-catchup', title: 'Cloud sync: catch-up of a 1,000,000-event backlog into PostgreSQL, against COPY', run: async (o) => { const b = await import('./sync-catchup.ts'); return only(b.benchSyncCatchup(o.quick ? { ...b.defaultSyncCatchupOptions, events: 50_000, fanIn: { gateways: 50, eventsEach: 1000 } } : b.defaultSyncCatchupOptions)) } },
  { name: 'sync-downstream', title: 'Cloud sync: an order released in the cloud until the gateway has it', run: async (o) => { const b = await import('./sync-downstream.ts'); return only(b.benchSyncDownstream(o.quick ? { orders: 20 } : b.defaultSyncDownstreamOptions)) } },
  { name: 'hmi', title: 'HMI page in Chromium: operator terminal usable, and its size', run: async (o) => { const b = await import('./hmi-page.ts'); return only(b.benchHmiPage(o.quick ? b.quickHmiPageOptions : b.defaultHmiPageOptions)) } },
]
const benchmarks = registry.map((r) => r.name)
const suiteLimitMs = 30 * 60_000

interface Options {
  only: string[]
  quick: boolean
  orders: number
  connections: number
  cpuProf: boolean
  write: boolean
}

function parseOptions(): Options | null {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, orders: { type: 'string' }, connections: { type: 'string' }, quick: { type: 'boolean' }, 'cpu-prof': { type: 'boolean' }, 'no-write': { type: 'boolean' }, help: { type: 'boolean' } },
  })
  if (values.help) return null
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : [...benchmarks]
  const unknown = only.filter((o) => !benchmarks.includes(o))
  if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(', ')}; choose from ${benchmarks.join(', ')}`)
  const orders = Number(values.orders ?? 1)
  if (!Number.isInteger(orders) || orders < 1 || orders > 1000) throw new Error(`--orders must be a whole number from 1 to 1000, not ${values.orders}`)
  const connections = Number(values.connections ?? defaultCompletionsOptions.saturationConnections)
  if (!Number.isInteger(connections) || connections < 1 || connections > 512) throw new Error(`--connections must be a whole number from 1 to 512, not ${values.connections}`)
  return { only, quick: values.quick ?? false, orders, connections, cpuProf: values['cpu-prof'] ?? false, write: !values['no-write'] }
}

/** The completion benchmark, and with --cpu-prof the profile of its saturation phase as extra markdown. */
async function completions(options: Options): Promise<{ result: BenchResult; extra: string[] }> {
  const profileDir = options.cpuProf ? mkdtempSync(join(tmpdir(), 'takt-bench-profile-')) : undefined
  const quick = options.quick ? { warmupRuns: 1000, saturationSeconds: 4, pacedSeconds: 4, overallRateSeconds: 2 } : {}
  const gatewayNodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []
  const result = await benchCompletions({ ...defaultCompletionsOptions, ...quick, orders: options.orders, saturationConnections: options.connections, gatewayNodeArgs })
  const file = profileDir && newestProfile(profileDir)
  if (!file) return { result, extra: [] }
  const summary = summarizeProfile(file, result.saturationWindow.fromUs, result.saturationWindow.toUs)
  printProfile('saturation phase', summary)
  result.notes.push(`The gateway ran under \`--cpu-prof\` in this run, which slows it down; the profile is ${file}.`)
  const extra = [
    '### Where the gateway spent the saturation phase (CPU profile, self time)',
    '',
    '| Area | Share |  | Function | Share |',
    '| --- | --: | --- | --- | --: |',
    ...summary.areas.map((a, i) => `| ${a.name} | ${a.percent.toFixed(1)}% |  | ${summary.functions[i]?.name ?? ''} | ${summary.functions[i]?.percent.toFixed(1) ?? ''}% |`),
  ]
  return { result, extra }
}

async function main(): Promise<number> {
  const options = parseOptions()
  if (!options) {
    process.stdout.write(usage + listing())
    return 0
  }
  const machine = describeMachine(projectRoot)
  const args = process.argv.slice(2).join(' ')
  const command = process.env.npm_lifecycle_event === 'bench' ? `npm run bench${args ? ` -- ${args}` : ''}` : `node bench/run.ts${args ? ` ${args}` : ''}`
  process.stdout.write(`Takt benchmarks — ${machine.date}\n${machine.cpus} CPUs, ${machine.cpuModel}, ${machine.memory}, Node ${machine.node}, load average ${machine.loadAtStart}; ${machine.memoryMonitor}; ${machine.code}\n`)

  const results: BenchResult[] = []
  const extra: string[] = []
  for (const bench of registry) {
    if (!options.only.includes(bench.name)) continue
    process.stdout.write(`\n-- ${bench.title}\n`)
    const done = await bench.run(options)
    results.push(done.result)
    extra.push(...done.extra)
  }

  for (const r of results) printResult(r)
  const targeted = results.flatMap((r) => r.figures).filter((f) => f.target)
  const missed = targeted.filter((f) => verdict(f) === 'FAIL')
  process.stdout.write(`\n${targeted.length - missed.length} of ${targeted.length} targets met${missed.length ? `; missed: ${missed.map((f) => f.label).join('; ')}` : ''}\n`)
  if (options.write) {
    const file = join(projectRoot, 'docs', 'benchmarks.md')
    writeSection(file, renderSection(command, { ...machine, loadAtEnd: describeLoad() }, results, extra))
    process.stdout.write(`results written to ${file}\n`)
  }
  return 0
}

const watchdog = setTimeout(() => {
  process.stderr.write(`bench: still running after ${suiteLimitMs / 60_000} minutes; stopping\n`)
  void cleanupAll().finally(() => process.exit(1))
}, suiteLimitMs)
watchdog.unref()

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}, cleaning up\n`)
    void cleanupAll().finally(() => process.exit(130))
  })
}

main().then(
  async (code) => {
    await cleanupAll()
    process.exit(code)
  },
  async (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    await cleanupAll()
    process.exit(1)
  },
)
