// Summaries of timing samples: exact percentiles (nearest rank) over every sample, not histogram buckets.

export interface Summary {
  count: number
  min: number
  p50: number
  p90: number
  p99: number
  max: number
  mean: number
}

/** The nearest-rank percentile `p` (0–100) of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b)
  const sum = sorted.reduce((s, v) => s + v, 0)
  return {
    count: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
  }
}

/** Times `count` sequential runs of `task` (after `warmup` untimed ones), in milliseconds; stops early at `maxMs`. */
export async function timeRepeated(task: () => unknown, options: { count: number; warmup: number; maxMs: number }): Promise<number[]> {
  for (let i = 0; i < options.warmup; i++) await task()
  const samples: number[] = []
  const deadline = performance.now() + options.maxMs
  for (let i = 0; i < options.count && performance.now() < deadline; i++) {
    const started = performance.now()
    await task()
    samples.push(performance.now() - started)
  }
  return samples
}

export const ms = (v: number) => (v < 1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v.toFixed(1))
