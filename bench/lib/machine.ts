// The machine a run was measured on: what the figures depend on, in words a reader can compare.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { availableParallelism, loadavg, release, tmpdir, totalmem } from 'node:os'

export interface Machine {
  date: string
  cpus: number
  cpuModel: string
  memory: string
  node: string
  os: string
  tempDir: string
  /** The commit measured, and whether the working tree had changes on top of it. */
  code: string
  loadAtStart: string
  loadAtEnd?: string
  /** Kernel memory monitoring that touches every process's pages (DAMON), which lengthens latency tails. */
  memoryMonitor: string
}

function run(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(command, args, { encoding: 'utf8', timeout: 5000 }).trim()
  } catch {
    return undefined
  }
}

/** The filesystem type holding `dir`, from /proc/mounts (the longest mount point that contains it). */
function filesystemOf(dir: string): string {
  try {
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' '))
    const best = mounts.filter((m) => m[1] && (dir === m[1] || dir.startsWith(m[1] === '/' ? '/' : `${m[1]}/`))).sort((a, b) => b[1]!.length - a[1]!.length)[0]
    return best ? `${best[2]} on ${best[0]}` : 'unknown filesystem'
  } catch {
    return 'unknown filesystem'
  }
}

/**
 * DAMON (kdamond) running on the machine: every sampling interval it clears the accessed bits of
 * sampled pages, and on a virtual machine each page a process touches next costs it time. It shows
 * as pauses at that interval, so a run records it.
 */
function describeMemoryMonitor(): string {
  const root = '/sys/kernel/mm/damon/admin/kdamonds'
  try {
    const count = Number(readFileSync(`${root}/nr_kdamonds`, 'utf8'))
    const on: string[] = []
    for (let i = 0; i < count; i++) {
      if (readFileSync(`${root}/${i}/state`, 'utf8').trim() !== 'on') continue
      const ctx = `${root}/${i}/contexts/0`
      const ops = readFileSync(`${ctx}/operations`, 'utf8').trim()
      const sampleMs = Number(readFileSync(`${ctx}/monitoring_attrs/intervals/sample_us`, 'utf8')) / 1000
      on.push(`kdamond ${i} (${ops}, sampling every ${sampleMs} ms)`)
    }
    return on.length > 0 ? `DAMON on: ${on.join(', ')}` : 'DAMON off'
  } catch {
    return 'no DAMON'
  }
}

export function describeLoad(): string {
  const [one, five] = loadavg()
  return `${one!.toFixed(2)} (1 min), ${five!.toFixed(2)} (5 min)`
}

function describeCode(root: string): string {
  const commit = run('git', ['-C', root, 'rev-parse', '--short', 'HEAD'])
  if (!commit) return 'not a git checkout'
  const changed = run('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'])
  return changed ? `commit ${commit} with uncommitted changes` : `commit ${commit}`
}

export function describeMachine(root: string): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown CPU'
  const mhz = /^cpu MHz\s*:\s*([\d.]+)$/m.exec(cpuinfo)?.[1]
  return {
    date: run('date', ['-u']) ?? new Date().toUTCString(),
    cpus: Number(run('nproc', [])) || availableParallelism(),
    cpuModel: mhz ? `${model} (${Number(mhz).toFixed(0)} MHz)` : model,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    os: `Linux ${release()}`,
    tempDir: `${tmpdir()} (${filesystemOf(tmpdir())})`,
    code: describeCode(root),
    loadAtStart: describeLoad(),
    memoryMonitor: describeMemoryMonitor(),
  }
}
