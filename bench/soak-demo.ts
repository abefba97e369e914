// Soak run of `takt demo`: the whole demo line at raised speed for a long while, the process's memory and open handles sampled, first third against last third.
// node bench/soak-demo.ts [--minutes 30] [--speed 60] [--interval 30]   (not part of CI)
import { readdirSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { demoAdminToken } from '../edge/demo.ts'
import { demoPorts } from '../edge/demo/ports.ts'
import { runTakt } from '../test/helpers/client.ts'
import { cleanupAll, onCleanup, tempDir } from './lib/cleanup.ts'
import { mib, readRssKb } from './lib/proc-stats.ts'

const usage = `node bench/soak-demo.ts [options]

  --minutes N    how long the demo line runs (default 30)
  --speed N      TAKT_DEMO_SPEED: simulated seconds per real second (default 60)
  --interval S   seconds between samples (default 30)
  --help         this text

Samples the demo process (it holds the gateway, the cloud and the simulators): VmRSS from
/proc/PID/status, open file descriptors from /proc/PID/fd, and what the line did (events in the
gateway's log, orders completed). Ends with SIGINT and checks the demo exits 0.
`

export interface SoakSample {
  atS: number
  rssKb: number
  fds: number
  events: number
  completed: number
}

export interface SoakOptions {
  minutes: number
  speed: number
  intervalS: number
}

const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length

async function adminGet(base: string, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${demoAdminToken}` }, signal: AbortSignal.timeout(10_000) })
  return (await res.json()) as Record<string, unknown>
}

const mean = (xs: number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length)

/** The first third of the samples against the last third: a leak shows as a steady rise. */
export function compareThirds(samples: SoakSample[]): Array<{ what: string; first: number; last: number; change: number }> {
  const n = Math.max(1, Math.floor(samples.length / 3))
  const first = samples.slice(0, n)
  const last = samples.slice(-n)
  const row = (what: string, pick: (s: SoakSample) => number) => {
    const a = mean(first.map(pick))
    const b = mean(last.map(pick))
    return { what, first: a, last: b, change: a === 0 ? Number.NaN : (b - a) / a }
  }
  return [row('RSS MiB', (s) => mib(s.rssKb)), row('open fds', (s) => s.fds)]
}

export async function soakDemo(options: SoakOptions): Promise<{ samples: SoakSample[]; exitCode: number | null }> {
  const data = tempDir('soak-demo')
  const env = { ...Object.fromEntries(Object.values(demoPorts).map((p) => [p.variable, '0'])), TAKT_DATA_DIR: data.path, TAKT_DEMO_SPEED: String(options.speed), TAKT_LOG_LEVEL: 'warn', TAKT_ADMIN_TOKEN: '' }
  const demo = runTakt(['demo'], env)
  const pid = demo.child.pid!
  onCleanup(() => void demo.child.kill('SIGKILL'))
  let ended = false
  void demo.exited.then(() => (ended = true))
  for (const deadline = Date.now() + 180_000; !/Ctrl-C stops the demo/.test(demo.stdout()); await new Promise((r) => setTimeout(r, 200))) {
    if (ended || Date.now() > deadline) throw new Error(`the demo did not start:\n${demo.stdout()}\n${demo.stderr()}`)
  }
  const hmi = /HMI\s+(https?:\/\/[^\s/]+)/.exec(demo.stdout())![1]!
  process.stdout.write(`demo running (pid ${pid}, ${options.speed}× real time); sampling every ${options.intervalS} s for ${options.minutes} min\n\n`)
  process.stdout.write(`${'t (s)'.padStart(7)} ${'RSS MiB'.padStart(8)} ${'fds'.padStart(5)} ${'events'.padStart(8)} ${'orders done'.padStart(11)}\n`)
  const samples: SoakSample[] = []
  const startedAt = Date.now()
  const endAt = startedAt + options.minutes * 60_000
  for (;;) {
    if (ended) throw new Error(`the demo ended by itself during the soak:\n${demo.stderr()}`)
    const connectivity = await adminGet(hmi, '/api/v1/connectivity').catch(() => ({}))
    const completed = await adminGet(hmi, '/api/v1/orders?state=completed&limit=10000').catch(() => ({}))
    const sample: SoakSample = {
      atS: Math.round((Date.now() - startedAt) / 1000),
      rssKb: readRssKb(pid),
      fds: fdCount(pid),
      events: Number((connectivity as { sync?: { localSeq?: number } }).sync?.localSeq ?? Number.NaN),
      completed: ((completed as { items?: unknown[] }).items ?? []).length,
    }
    samples.push(sample)
    process.stdout.write(`${String(sample.atS).padStart(7)} ${mib(sample.rssKb).toFixed(1).padStart(8)} ${String(sample.fds).padStart(5)} ${String(sample.events).padStart(8)} ${String(sample.completed).padStart(11)}\n`)
    if (Date.now() + options.intervalS * 1000 > endAt + 1000) break
    await new Promise((r) => setTimeout(r, options.intervalS * 1000))
  }
  demo.child.kill('SIGINT')
  const exit = await demo.exited
  await data.remove()
  return { samples, exitCode: exit.code }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, speed: { type: 'string', default: '60' }, interval: { type: 'string', default: '30' }, help: { type: 'boolean' } } })
  if (values.help) {
    process.stdout.write(usage)
    return
  }
  const options = { minutes: Number(values.minutes), speed: Number(values.speed), intervalS: Number(values.interval) }
  for (const [name, v] of Object.entries(options)) if (!(v > 0)) throw new Error(`--${name === 'intervalS' ? 'interval' : name}: '${v}' is not a number above 0`)
  const { samples, exitCode } = await soakDemo(options)
  process.stdout.write('\nfirst third against last third of the samples:\n')
  for (const r of compareThirds(samples)) process.stdout.write(`  ${r.what.padEnd(9)} ${r.first.toFixed(1).padStart(8)} → ${r.last.toFixed(1).padStart(8)}  (${r.change >= 0 ? '+' : ''}${(r.change * 100).toFixed(1)} %)\n`)
  const work = samples.at(-1)!
  process.stdout.write(`the line recorded ${work.events} events and completed ${work.completed} orders; the demo exited with ${exitCode} on SIGINT\n`)
  if (exitCode !== 0) process.exitCode = 1
}

if (import.meta.main) {
  main()
    .catch((error: unknown) => {
      process.stderr.write(`soak-demo: ${error instanceof Error ? error.message : String(error)}\n`)
      process.exitCode = 1
    })
    .finally(() => cleanupAll())
}
