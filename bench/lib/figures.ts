// What a benchmark reports: figures with a unit and, where the issue sets one, a target and a verdict.

export interface Target {
  /** 'min': the figure must reach the value; 'max': it must stay under it. */
  kind: 'min' | 'max'
  value: number
}

export interface Figure {
  label: string
  value: number
  unit: string
  /** Decimal places when printed. */
  digits: number
  target?: Target
}

export interface BenchResult {
  title: string
  figures: Figure[]
  /** How the figures were obtained, in a sentence or two each. */
  notes: string[]
}

export function verdict(f: Figure): 'PASS' | 'FAIL' | '' {
  if (!f.target) return ''
  if (!Number.isFinite(f.value)) return 'FAIL'
  const ok = f.target.kind === 'min' ? f.value >= f.target.value : f.value < f.target.value
  return ok ? 'PASS' : 'FAIL'
}

const grouped = (v: number, digits: number) => v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

export function formatValue(f: Figure): string {
  return Number.isFinite(f.value) ? `${grouped(f.value, f.digits)} ${f.unit}` : 'n/a'
}

export function formatTarget(f: Figure): string {
  if (!f.target) return '—'
  return `${f.target.kind === 'min' ? '≥' : '<'} ${grouped(f.target.value, Number.isInteger(f.target.value) ? 0 : f.digits)} ${f.unit}`
}

/** A plain-text table of one result, for the console. */
export function printResult(result: BenchResult): void {
  const rows = result.figures.map((f) => [f.label, formatValue(f), formatTarget(f), verdict(f)])
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)))
  process.stdout.write(`\n== ${result.title}\n`)
  for (const r of rows) process.stdout.write(`  ${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padStart(widths[1]!)}  ${r[2]!.padEnd(widths[2]!)}  ${r[3]}\n`)
}
