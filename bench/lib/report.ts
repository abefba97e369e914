// Writes a run's results as a markdown section into docs/benchmarks.md, newest first, below the hand-written part.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { formatTarget, formatValue, verdict, type BenchResult } from './figures.ts'
import type { Machine } from './machine.ts'

/** New sections go right below this line; everything above it is kept as written. */
export const resultsMarker = '<!-- bench/run.ts writes new results below this line, newest first -->'

export function renderSection(command: string, machine: Machine, results: BenchResult[], extra: string[] = []): string {
  const lines = [
    `## Run of ${machine.date}`,
    '',
    `Command: \`${command}\``,
    '',
    `Code: ${machine.code}.`,
    '',
    `Machine: ${machine.cpus} CPUs (\`nproc\`), ${machine.cpuModel}; ${machine.memory} memory; ${machine.os}; Node ${machine.node}; temp files in ${machine.tempDir}; load average at start ${machine.loadAtStart}${machine.loadAtEnd ? `, at the end ${machine.loadAtEnd}` : ''}; kernel memory monitoring: ${machine.memoryMonitor}.`,
    '',
    '| Benchmark | Figure | Measured | Target | Result |',
    '| --- | --- | --: | --- | --- |',
  ]
  for (const r of results) for (const f of r.figures) lines.push(`| ${r.title} | ${f.label} | ${formatValue(f)} | ${formatTarget(f)} | ${verdict(f) || '—'} |`)
  for (const r of results) {
    lines.push('', `### ${r.title}`, '')
    for (const n of r.notes) lines.push(`- ${n}`)
  }
  if (extra.length > 0) lines.push('', ...extra)
  return `${lines.join('\n')}\n`
}

/** Inserts `section` below the marker of `file`, creating the file with a short heading if it is missing. */
export function writeSection(file: string, section: string): void {
  const current = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmarks\n\nRun them with \`npm run bench\`.\n\n${resultsMarker}\n`
  const at = current.indexOf(resultsMarker)
  const head = at >= 0 ? current.slice(0, at + resultsMarker.length) : `${current.trimEnd()}\n\n${resultsMarker}`
  const tail = at >= 0 ? current.slice(at + resultsMarker.length).replace(/^\n+/, '') : ''
  writeFileSync(file, `${head}\n\n${section}${tail ? `\n${tail}` : ''}`)
}
