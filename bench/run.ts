// `npm run bench`: runs the benchmark suite, prints every figure and records the run in docs/benchmarks.md.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { benchCompletions, defaultCompletionsOptions } from './completions.ts'
import { benchDispatchList, defaultDispatchListOptions } from './dispatch-list.ts'
import { cleanupAll } from './lib/cleanup.ts'
import { newestProfile, printProfile, summarizeProfile } from './lib/cpu-profile.ts'
import { printResult, verdict, type BenchResult } from './lib/figures.ts'
import { projectRoot } from './lib/gateway-process.ts'
import { describeLoad, describeMachine } from './lib/machine.ts'
import { renderSection, writeSection } from './lib/report.ts'
import { benchTrace, defaultTraceOptions } from './trace.ts'

const usage = `npm run bench [-- options]

  --only LIST   run only these, comma-separated: completions, dispatch, trace
  --quick       shorter phases and smaller data sets, for a smoke test (figures not comparable)
  --orders N    spread the completion benchmark's runs over N orders (default 1: one long order)
  --cpu-prof    profile the gateway during the completion benchmark and print where its time went
                during the saturation phase (profiling slows it down; the figures are marked)
  --no-write    print the results only; leave docs/benchmarks.md alone
  --help        this text
`

const benchmarks = ['completions', 'dispatch', 'trace'] as const
const suiteLimitMs = 10 * 60_000

interface Options {
  only: string[]
  quick: boolean
  orders: number
  cpuProf: boolean
  write: boolean
}

function parseOptions(): Options | null {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, orders: { type: 'string' }, quick: { type: 'boolean' }, 'cpu-prof': { type: 'boolean' }, 'no-write': { type: 'boolean' }, help: { type: 'boolean' } },
  })
  if (values.help) return null
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : [...benchmarks]
  const unknown = only.filter((o) => !(benchmarks as readonly string[]).includes(o))
  if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(', ')}; choose from ${benchmarks.join(', ')}`)
  const orders = Number(values.orders ?? 1)
  if (!Number.isInteger(orders) || orders < 1 || orders > 1000) throw new Error(`--orders must be a whole number from 1 to 1000, not ${values.orders}`)
  return { only, quick: values.quick ?? false, orders, cpuProf: values['cpu-prof'] ?? false, write: !values['no-write'] }
}

/** The completion benchmark, and with --cpu-prof the profile of its saturation phase as extra markdown. */
async function completions(options: Options): Promise<{ result: BenchResult; extra: string[] }> {
  const profileDir = options.cpuProf ? mkdtempSync(join(tmpdir(), 'takt-bench-profile-')) : undefined
  const quick = options.quick ? { warmupRuns: 1000, saturationSeconds: 4, pacedSeconds: 4, overallRateSeconds: 2 } : {}
  const gatewayNodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []
  const result = await benchCompletions({ ...defaultCompletionsOptions, ...quick, orders: options.orders, gatewayNodeArgs })
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
    process.stdout.write(usage)
    return 0
  }
  const machine = describeMachine(projectRoot)
  const args = process.argv.slice(2).join(' ')
  const command = process.env.npm_lifecycle_event === 'bench' ? `npm run bench${args ? ` -- ${args}` : ''}` : `node bench/run.ts${args ? ` ${args}` : ''}`
  process.stdout.write(`Takt benchmarks — ${machine.date}\n${machine.cpus} CPUs, ${machine.cpuModel}, ${machine.memory}, Node ${machine.node}, load average ${machine.loadAtStart}; ${machine.memoryMonitor}; ${machine.code}\n`)

  const results: BenchResult[] = []
  const extra: string[] = []
  if (options.only.includes('completions')) {
    process.stdout.write('\n-- completions: gateway process, HTTP load\n')
    const done = await completions(options)
    results.push(done.result)
    extra.push(...done.extra)
  }
  if (options.only.includes('dispatch')) {
    process.stdout.write('\n-- dispatch list\n')
    results.push(await benchDispatchList(options.quick ? { orders: 2000, samples: 50 } : defaultDispatchListOptions))
  }
  if (options.only.includes('trace')) {
    process.stdout.write('\n-- genealogy trace\n')
    results.push(await benchTrace(options.quick ? { records: 100_000, samples: 50 } : defaultTraceOptions))
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
