// Readings of another process from /proc: resident memory (VmRSS) and CPU time used, plus a bounded RSS sampler.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

export function readRssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)
  if (!match) throw new Error(`no VmRSS line in /proc/${pid}/status`)
  return Number(match[1])
}

let ticksPerSecond: number | undefined

export interface CpuTime {
  user: number
  system: number
}

/** User and system CPU seconds the process has used, all its threads together (/proc/<pid>/stat fields 14 and 15). */
export function readCpuTime(pid: number): CpuTime {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis are plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { user: Number(fields[11]) / ticksPerSecond, system: Number(fields[12]) / ticksPerSecond }
}

/** CPU time used since `before`. */
export function cpuSince(pid: number, before: CpuTime): CpuTime {
  const now = readCpuTime(pid)
  return { user: now.user - before.user, system: now.system - before.system }
}

export interface RssSampler {
  /** Stops sampling and returns every sample taken, in kB. */
  stop(): number[]
}

/** Samples every `intervalMs` until stopped, at most `maxSamples` times; a read that fails ends sampling. */
export function sampleRss(pid: number, intervalMs = 100, maxSamples = 3000): RssSampler {
  const samples: number[] = []
  let timer: NodeJS.Timeout | undefined
  const take = () => {
    try {
      samples.push(readRssKb(pid))
    } catch {
      return
    }
    if (samples.length < maxSamples) timer = setTimeout(take, intervalMs)
  }
  take()
  return {
    stop() {
      clearTimeout(timer)
      return samples
    },
  }
}

export const mib = (kb: number) => kb / 1024
