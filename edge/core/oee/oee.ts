// OEE of one work center over planned production periods: availability, performance, quality and the loss tree.
import type { MachineState } from '../model.ts'
import { firstEndingAfter, totalMs, type Range } from './ranges.ts'
import type { ReasonTree } from './reasons.ts'
import { isSmallStop, type StateInterval } from './timeline.ts'
import { oeeFromTotals, type OeeResult } from './result.ts'

/** Units a machine or an operator counted at an instant. */
export interface ProductionCount {
  at: number
  good: number
  /** Units not good the first time: scrap and rework. */
  reject: number
  /** From the routing operation; null falls back to the work center's rated cycle time. */
  idealCycleTimeS: number | null
  productId?: string
  orderId?: string
  /** Why the rejects were rejected (a reason code). */
  scrapReason?: string
}

/** Counts only of one order or product (for OEE by order or product). */
export interface CountFilter {
  orderId?: string
  productId?: string
}

export interface OeeSettings {
  /** Planned production periods, sorted and disjoint (plannedPeriods gives them so); clip them to now for a running shift. */
  periods: readonly Range[]
  workCenterRatedCycleTimeS: number | null
  microStopThresholdMs: number
  reasons: ReasonTree
  only?: CountFilter
}

export interface OeeInput extends OeeSettings {
  /** The timeline's intervals, sorted (timeline gives them so), covering at least the periods. */
  intervals: readonly StateInterval[]
  counts: readonly ProductionCount[]
}

/**
 * Sums from which every OEE figure follows. Time is whole ms and counts whole units, so sums are
 * exact in any order; that is what lets buckets and raw intervals give the very same result.
 */
export interface OeeTotals {
  /** Length of the periods: planned production time before planned stops are taken out. */
  scheduledMs: number
  /** ms per time line, key JSON [state, reason, small stop]. */
  time: Map<string, number>
  /** Stops starting inside the periods, per time line. */
  stops: Map<string, number>
  /** [good, reject] per count line, key JSON [ideal cycle time s (resolved) | null, scrap reason | null]. */
  counts: Map<string, [number, number]>
}

export function timeKey(state: MachineState, reason: string | null, small: boolean): string {
  return JSON.stringify([state, state === 'running' ? null : reason, small])
}

/** The ideal cycle time a count is measured against: its own if usable, else the work center's, else none. */
export function resolveCycleTime(ct: number | null | undefined, ratedS: number | null): number | null {
  if (typeof ct === 'number' && Number.isFinite(ct) && ct > 0) return ct
  return typeof ratedS === 'number' && Number.isFinite(ratedS) && ratedS > 0 ? ratedS : null
}

export function emptyTotals(): OeeTotals {
  return { scheduledMs: 0, time: new Map(), stops: new Map(), counts: new Map() }
}

function add(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n)
}

export function addCountLine(totals: OeeTotals, ct: number | null, scrapReason: string | null, good: number, reject: number): void {
  const key = JSON.stringify([ct, scrapReason])
  const line = totals.counts.get(key)
  if (line) {
    line[0] += good
    line[1] += reject
  } else totals.counts.set(key, [good, reject])
}

const sortedIntervals = new WeakMap<readonly StateInterval[], readonly StateInterval[]>()
const sortedCounts = new WeakMap<readonly ProductionCount[], readonly ProductionCount[]>()

// Grouping asks for the same raw arrays once per shift or order: each array is checked (and sorted)
// once, by identity — inputs are read-only, an array changed after a call would be seen stale.
function sortedBy<T extends object>(cache: WeakMap<readonly T[], readonly T[]>, items: readonly T[], at: (item: T) => number): readonly T[] {
  let sorted = cache.get(items)
  if (sorted) return sorted
  sorted = items
  for (let i = 1; i < items.length; i++) {
    if (at(items[i - 1]!) > at(items[i]!)) {
      sorted = [...items].sort((a, b) => at(a) - at(b))
      break
    }
  }
  cache.set(items, sorted)
  return sorted
}

export type IntervalSelection = 'all' | 'settled' | 'unsettled'

/** Adds the parts of intervals inside the ranges (sorted, disjoint); a stop counts where it starts. */
export function addIntervals(totals: OeeTotals, intervals: readonly StateInterval[], ranges: readonly Range[], microStopThresholdMs: number, which: IntervalSelection = 'all'): void {
  const sorted = sortedBy(sortedIntervals, intervals, (iv) => iv.from)
  for (const r of ranges) {
    for (let i = firstEndingAfter(sorted, r.from); i < sorted.length && sorted[i]!.from < r.to; i++) {
      const iv = sorted[i]!
      if (which !== 'all' && iv.settled !== (which === 'settled')) continue
      const key = timeKey(iv.state, iv.reason, isSmallStop(iv, microStopThresholdMs))
      add(totals.time, key, Math.min(iv.to, r.to) - Math.max(iv.from, r.from))
      if (iv.stopStart && iv.from >= r.from) add(totals.stops, key, 1)
    }
  }
}

export function countMatches(only: CountFilter | undefined, productId: string | null | undefined, orderId: string | null | undefined): boolean {
  if (!only) return true
  return (only.orderId === undefined || only.orderId === orderId) && (only.productId === undefined || only.productId === productId)
}

/** Adds the counts inside the ranges (sorted, disjoint) that pass the filter. */
export function addCounts(totals: OeeTotals, counts: readonly ProductionCount[], ranges: readonly Range[], only: CountFilter | undefined, ratedS: number | null): void {
  const sorted = sortedBy(sortedCounts, counts, (c) => c.at)
  for (const r of ranges) {
    let lo = 0
    let hi = sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (sorted[mid]!.at >= r.from) hi = mid
      else lo = mid + 1
    }
    for (let i = lo; i < sorted.length && sorted[i]!.at < r.to; i++) {
      const c = sorted[i]!
      if (!countMatches(only, c.productId, c.orderId)) continue
      addCountLine(totals, resolveCycleTime(c.idealCycleTimeS, ratedS), c.scrapReason ?? null, c.good, c.reject)
    }
  }
}

/** The sums of one work center from its raw timeline and counts. */
export function oeeTotals(input: OeeInput): OeeTotals {
  const totals = emptyTotals()
  totals.scheduledMs = totalMs(input.periods)
  addIntervals(totals, input.intervals, input.periods, input.microStopThresholdMs)
  addCounts(totals, input.counts, input.periods, input.only, input.workCenterRatedCycleTimeS)
  return totals
}

/** Sums over several work centers or periods, e.g. a line's: planned time and fully productive time add up. */
export function combineTotals(list: readonly OeeTotals[]): OeeTotals {
  const out = emptyTotals()
  for (const t of list) {
    out.scheduledMs += t.scheduledMs
    for (const [k, v] of t.time) add(out.time, k, v)
    for (const [k, v] of t.stops) add(out.stops, k, v)
    for (const [k, [g, r]] of t.counts) {
      const [ct, scrap] = JSON.parse(k) as [number | null, string | null]
      addCountLine(out, ct, scrap, g, r)
    }
  }
  return out
}

/** OEE of one work center over the periods, from its raw timeline and counts. */
export function computeOee(input: OeeInput): OeeResult {
  return oeeFromTotals(oeeTotals(input), input.reasons)
}
