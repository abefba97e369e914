// From OEE sums to the figures and the loss tree: full precision, null where a figure has no value, never NaN.
import type { MachineState } from '../model.ts'
import type { OeeTotals } from './oee.ts'
import { rejectLossClass, stopLossClass, type ReasonTree } from './reasons.ts'

/** Time lost to stops of one reason (unexplained stops: of one state). */
export interface StopLoss {
  code: string | null
  name: string
  /** Reason codes from the tree's root to this reason; empty for an unknown or missing reason. */
  path: string[]
  loss: 'breakdown' | 'setup' | 'small_stop' | 'planned' | 'no_data'
  planned: boolean
  states: MachineState[]
  ms: number
  stops: number
}

/** Units lost to quality, by reason. */
export interface RejectLoss {
  code: string | null
  name: string
  path: string[]
  loss: 'startup_reject' | 'production_reject'
  count: number
  /** Ideal time spent making them; null when an ideal cycle time is missing. */
  ms: number | null
}

export interface OeeResult {
  /** The periods' length before planned stops are taken out. */
  scheduledMs: number
  /** Planned production time: the periods less the time the machine was in a planned stop. */
  plannedMs: number
  /** Run time: running plus small stops. */
  runMs: number
  /** Ideal cycle time × total count. */
  idealMs: number | null
  /** Ideal cycle time × good count: OEE = fully productive time / planned production time. */
  fullyProductiveMs: number | null
  availability: number | null
  performance: number | null
  quality: number | null
  oee: number | null
  /** Performance above 100 % is shown as it is: the ideal cycle time is wrong. */
  performanceOver100: boolean
  /** Why a figure has no value. */
  why: {
    availability: 'no_planned_time' | null
    performance: 'no_run_time' | 'no_ideal_cycle_time' | null
    quality: 'no_counts' | null
    oee: 'no_planned_time' | 'no_ideal_cycle_time' | null
  }
  counts: { total: number; good: number; reject: number }
  losses: {
    /** Planned stops inside the periods, taken out of planned production time (no loss). */
    planned: { ms: number; byReason: StopLoss[] }
    availability: { ms: number; byLoss: { breakdown: number; setup: number; no_data: number }; byReason: StopLoss[] }
    performance: { ms: number | null; smallStopsMs: number; smallStops: number; speedLossMs: number | null; smallStopsByReason: StopLoss[] }
    quality: { ms: number | null; byReason: RejectLoss[] }
  }
}

function sortedEntries<V>(map: ReadonlyMap<string, V>): [string, V][] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

function byMsThenCode<T extends { code: string | null; name: string }>(value: (t: T) => number): (a: T, b: T) => number {
  return (a, b) => value(b) - value(a) || (a.code ?? '').localeCompare(b.code ?? '') || a.name.localeCompare(b.name)
}

function stopEntry(tree: ReasonTree, groups: Map<string, StopLoss>, state: MachineState, reason: string | null, loss: StopLoss['loss'], ms: number, stops: number): void {
  const known = reason === null ? undefined : tree.get(reason)
  const key = reason ?? `(${state})`
  let entry = groups.get(key)
  if (!entry) {
    entry = {
      code: reason,
      name: known?.name ?? reason ?? `Unclassified: ${state.replace('_', ' ')}`,
      path: tree.path(reason ?? '').map((r) => r.code),
      loss,
      planned: known?.planned ?? state === 'planned_stop',
      states: [],
      ms: 0,
      stops: 0,
    }
    groups.set(key, entry)
  }
  entry.ms += ms
  entry.stops += stops
  if (!entry.states.includes(state)) entry.states.push(state)
  entry.states.sort()
}

interface TimeSplit {
  runningMs: number
  smallMs: number
  smallStops: number
  knownMs: number
  planned: Map<string, StopLoss>
  availability: Map<string, StopLoss>
  small: Map<string, StopLoss>
}

function splitTime(totals: OeeTotals, tree: ReasonTree): TimeSplit {
  const split: TimeSplit = { runningMs: 0, smallMs: 0, smallStops: 0, knownMs: 0, planned: new Map(), availability: new Map(), small: new Map() }
  for (const [key, ms] of sortedEntries(totals.time)) {
    const [state, reason, small] = JSON.parse(key) as [MachineState, string | null, boolean]
    const stops = totals.stops.get(key) ?? 0
    split.knownMs += ms
    if (state === 'running') split.runningMs += ms
    else if (small) {
      split.smallMs += ms
      split.smallStops += stops
      stopEntry(tree, split.small, state, reason, 'small_stop', ms, stops)
    } else {
      const loss = stopLossClass(tree, state, reason)
      stopEntry(tree, loss === 'planned' ? split.planned : split.availability, state, reason, loss, ms, stops)
    }
  }
  return split
}

interface CountSplit {
  total: number
  good: number
  idealMs: number | null
  fullyProductiveMs: number | null
  cycleTimes: number
  rejects: RejectLoss[]
}

function splitCounts(totals: OeeTotals, tree: ReasonTree): CountSplit {
  const byCt = new Map<number | null, { total: number; good: number }>()
  const byReason = new Map<string, RejectLoss & { perCt: Map<number | null, number> }>()
  let total = 0
  let good = 0
  for (const [key, [g, r]] of sortedEntries(totals.counts)) {
    const [ct, scrap] = JSON.parse(key) as [number | null, string | null]
    total += g + r
    good += g
    const c = byCt.get(ct) ?? { total: 0, good: 0 }
    c.total += g + r
    c.good += g
    byCt.set(ct, c)
    if (r === 0) continue
    const known = scrap === null ? undefined : tree.get(scrap)
    const entry = byReason.get(scrap ?? '') ?? {
      code: scrap,
      name: known?.name ?? scrap ?? 'Unclassified reject',
      path: tree.path(scrap ?? '').map((x) => x.code),
      loss: rejectLossClass(tree, scrap),
      count: 0,
      ms: 0,
      perCt: new Map<number | null, number>(),
    }
    entry.count += r
    entry.perCt.set(ct, (entry.perCt.get(ct) ?? 0) + r)
    byReason.set(scrap ?? '', entry)
  }
  const used = [...byCt.entries()].filter(([, c]) => c.total > 0)
  const unknown = used.some(([ct]) => ct === null)
  // One canonical order (by cycle time) for the only sums that are not whole numbers.
  const ordered = used.filter(([ct]) => ct !== null).sort(([a], [b]) => a! - b!) as [number, { total: number; good: number }][]
  const idealMs = unknown ? null : ordered.reduce((sum, [ct, c]) => sum + ct * c.total * 1000, 0)
  const fullyProductiveMs = unknown ? null : ordered.reduce((sum, [ct, c]) => sum + ct * c.good * 1000, 0)
  const rejects = [...byReason.values()].map(({ perCt, ...loss }) => {
    const cts = [...perCt.entries()].sort(([a], [b]) => (a ?? 0) - (b ?? 0))
    const ms = cts.some(([ct]) => ct === null) ? null : cts.reduce((sum, [ct, n]) => sum + ct! * n * 1000, 0)
    return { ...loss, ms }
  })
  return { total, good, idealMs, fullyProductiveMs, cycleTimes: used.length, rejects: rejects.sort(byMsThenCode((x) => x.count)) }
}

/**
 * The figures from the sums. With one ideal cycle time quality is good / total; when products with
 * different ideal cycle times mix, quality is good ideal time / total ideal time, so that
 * A × P × Q is always fully productive time / planned production time.
 */
export function oeeFromTotals(totals: OeeTotals, tree: ReasonTree): OeeResult {
  const time = splitTime(totals, tree)
  const counts = splitCounts(totals, tree)
  const excludedMs = [...time.planned.values()].reduce((s, e) => s + e.ms, 0)
  const plannedMs = totals.scheduledMs - excludedMs
  const runMs = time.runningMs + time.smallMs
  const noDataMs = totals.scheduledMs - time.knownMs
  if (noDataMs > 0) {
    time.availability.set('(no data)', { code: null, name: 'No data: the state was not known', path: [], loss: 'no_data', planned: false, states: [], ms: noDataMs, stops: 0 })
  }
  const availabilityLosses = [...time.availability.values()].sort(byMsThenCode((x) => x.ms))
  const byLoss = { breakdown: 0, setup: 0, no_data: 0 }
  for (const e of availabilityLosses) byLoss[e.loss as keyof typeof byLoss] += e.ms
  const { idealMs, fullyProductiveMs, total, good } = counts
  const availability = plannedMs > 0 ? runMs / plannedMs : null
  const performance = idealMs !== null && runMs > 0 ? idealMs / runMs : null
  const quality = total > 0 ? (counts.cycleTimes > 1 && idealMs !== null && fullyProductiveMs !== null ? fullyProductiveMs / idealMs : good / total) : null
  const oee = plannedMs > 0 && fullyProductiveMs !== null ? fullyProductiveMs / plannedMs : null
  const performanceMs = idealMs === null ? null : runMs - idealMs
  return {
    scheduledMs: totals.scheduledMs,
    plannedMs,
    runMs,
    idealMs,
    fullyProductiveMs,
    availability,
    performance,
    quality,
    oee,
    performanceOver100: performance !== null && performance > 1,
    why: {
      availability: availability === null ? 'no_planned_time' : null,
      performance: performance !== null ? null : idealMs === null ? 'no_ideal_cycle_time' : 'no_run_time',
      quality: quality === null ? 'no_counts' : null,
      oee: oee !== null ? null : plannedMs > 0 ? 'no_ideal_cycle_time' : 'no_planned_time',
    },
    counts: { total, good, reject: total - good },
    losses: {
      planned: { ms: excludedMs, byReason: [...time.planned.values()].sort(byMsThenCode((x) => x.ms)) },
      availability: { ms: availabilityLosses.reduce((s, e) => s + e.ms, 0), byLoss, byReason: availabilityLosses },
      performance: {
        ms: performanceMs,
        smallStopsMs: time.smallMs,
        smallStops: time.smallStops,
        speedLossMs: performanceMs === null ? null : performanceMs - time.smallMs,
        smallStopsByReason: [...time.small.values()].sort(byMsThenCode((x) => x.ms)),
      },
      quality: { ms: idealMs === null || fullyProductiveMs === null ? null : idealMs - fullyProductiveMs, byReason: counts.rejects },
    },
  }
}

/** A figure for people: rounded only here, '—' for no value. */
export function formatPercent(value: number | null, decimals = 1): string {
  return value === null ? '—' : `${(value * 100).toFixed(decimals)} %`
}
