// Where the gateway's CPU time went during a time window, from a V8 .cpuprofile written by `node --cpu-prof`.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { projectRoot } from './gateway-process.ts'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  startTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface Share {
  name: string
  percent: number
}

export interface ProfileSummary {
  file: string
  sampledMs: number
  /** Self time by area of the code (package, edge/ module, GC, idle). */
  areas: Share[]
  /** Self time by function (native calls such as a statement's `run` count as their JS caller's). */
  functions: Share[]
}

/** The monotonic clock V8 stamps profile samples with, in microseconds. */
export const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n)

function area(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : `(native) ${functionName}`
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return pkg[1]!
  if (url.startsWith('node:')) return url.replace(/^node:internal\/(deps\/)?/, 'node:').split('/').slice(0, 2).join('/')
  const root = `${pathToFileURL(projectRoot).href}/`
  if (url.startsWith(root)) return url.slice(root.length)
  return /([^/]+\/[^/]+)$/.exec(url)?.[1] ?? url
}

const top = (m: Map<string, number>, total: number, n: number): Share[] =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, t]) => ({ name, percent: (100 * t) / total }))

/** Summarizes the samples of `file` taken between `fromUs` and `toUs` (monotonic microseconds). */
export function summarizeProfile(file: string, fromUs: number, toUs: number, topN = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  let at = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0
    at += delta
    if (at < fromUs || at > toUs) continue
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + delta)
  }
  const areas = new Map<string, number>()
  const functions = new Map<string, number>()
  let total = 0
  for (const [id, t] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame
    total += t
    const a = area(url, functionName)
    areas.set(a, (areas.get(a) ?? 0) + t)
    const f = url === '' ? a : `${functionName || '(anonymous)'} (${a}:${lineNumber + 1})`
    functions.set(f, (functions.get(f) ?? 0) + t)
  }
  return { file, sampledMs: total / 1000, areas: top(areas, total, topN), functions: top(functions, total, topN) }
}

/**
 * The main thread's profile: Node writes one file per thread (CPU.<date>.<time>.<pid>.<thread>.<n>),
 * and the gateway's checkpoint worker is a thread of its own; the main thread is thread 0.
 */
export function newestProfile(dir: string): string | undefined {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()
  const main = files.filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f))
  const pick = main.at(-1) ?? files.at(-1)
  return pick ? join(dir, pick) : undefined
}

export function printProfile(title: string, s: ProfileSummary): void {
  process.stdout.write(`\n  CPU profile of the gateway, ${title} (${s.sampledMs.toFixed(0)} ms sampled, ${s.file}):\n`)
  process.stdout.write('    self time by area:\n')
  for (const a of s.areas) process.stdout.write(`      ${a.percent.toFixed(1).padStart(5)}%  ${a.name}\n`)
  process.stdout.write('    self time by function:\n')
  for (const f of s.functions) process.stdout.write(`      ${f.percent.toFixed(1).padStart(5)}%  ${f.name}\n`)
}
