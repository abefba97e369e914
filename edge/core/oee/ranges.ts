// Half-open time ranges [from, to) in epoch ms, and the few operations OEE needs on them.

export interface Range {
  from: number
  to: number
}

/** What is left of `base` once every cut is taken out, in time order. */
export function subtractRanges(base: Range, cuts: readonly Range[]): Range[] {
  const sorted = cuts.filter((c) => c.to > base.from && c.from < base.to).sort((a, b) => a.from - b.from)
  const left: Range[] = []
  let at = base.from
  for (const cut of sorted) {
    if (cut.from > at) left.push({ from: at, to: cut.from })
    at = Math.max(at, cut.to)
    if (at >= base.to) break
  }
  if (at < base.to) left.push({ from: at, to: base.to })
  return left
}

/** The overlap of a range with a window, or undefined when they do not overlap. */
export function clipRange<R extends Range>(range: R, window: Range): R | undefined {
  const from = Math.max(range.from, window.from)
  const to = Math.min(range.to, window.to)
  return from < to ? { ...range, from, to } : undefined
}

/** Index of the first range in a sorted, disjoint list that ends after `at` (list length when none does). */
export function firstEndingAfter(ranges: readonly Range[], at: number): number {
  let lo = 0
  let hi = ranges.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ranges[mid]!.to > at) hi = mid
    else lo = mid + 1
  }
  return lo
}

/** Each range of a sorted, disjoint list cut to the windows (also sorted and disjoint), keeping its other fields. */
export function intersectRanges<R extends Range>(ranges: readonly R[], windows: readonly Range[]): R[] {
  const out: R[] = []
  for (const w of windows) {
    for (let i = firstEndingAfter(ranges, w.from); i < ranges.length && ranges[i]!.from < w.to; i++) {
      const piece = clipRange(ranges[i]!, w)
      if (piece) out.push(piece)
    }
  }
  return out.sort((a, b) => a.from - b.from)
}

/** Sorted and merged: overlapping or touching ranges become one. */
export function unionRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].filter((r) => r.to > r.from).sort((a, b) => a.from - b.from)
  const out: Range[] = []
  for (const r of sorted) {
    const last = out[out.length - 1]
    if (last && r.from <= last.to) last.to = Math.max(last.to, r.to)
    else out.push({ from: r.from, to: r.to })
  }
  return out
}

export function totalMs(ranges: readonly Range[]): number {
  let sum = 0
  for (const r of ranges) sum += r.to - r.from
  return sum
}
