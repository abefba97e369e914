// A work center's state timeline: state changes and operator classifications become intervals with their reasons.
import type { MachineState } from '../model.ts'

/** A work center entered a state at an instant (epoch ms); the machine may say why it stopped. */
export interface StateChange {
  at: number
  state: MachineState
  /** A reason code (see machineReason); ignored while running. */
  reason?: string | null
  /** The event log's sequence number: of two changes at the same instant the later one holds. */
  seq?: number
}

/**
 * An operator's reason for the stop time in [from, to). `to: null` classifies a stop still going on:
 * it holds until the work center next runs. Running time is never classified; a later classification
 * overrides an earlier one where they overlap.
 */
export interface Classification {
  from: number
  to: number | null
  reason: string
}

export type ReasonSource = 'machine' | 'operator'

export interface StateInterval {
  from: number
  to: number
  state: MachineState
  reason: string | null
  reasonSource: ReasonSource | null
  /** Length of the unbroken `down` stretch this interval is part of (so far, while it lasts); null when not down. */
  downRunMs: number | null
  /** A downtime event starts here: a stop is counted once, where it starts. */
  stopStart: boolean
  /** The interval, and its whole `down` stretch, have ended: the bucket projection holds it. */
  settled: boolean
}

/** State changes in time order; at the same instant, by seq, else in the order given (the later one holds). */
export function sortChanges(changes: readonly StateChange[]): StateChange[] {
  return [...changes].sort((a, b) => a.at - b.at || (a.seq !== undefined && b.seq !== undefined ? a.seq - b.seq : 0))
}

interface Piece {
  from: number
  to: number
  state: MachineState
  reason: string | null
  reasonSource: ReasonSource | null
  /** A change follows it (without `until` the last state has no end, and no piece). */
  closed: boolean
  /** States of zero-length changes just before it: a running one still ends a stop, a non-down one a down stretch. */
  skipped: MachineState[]
}

function rawPieces(sorted: readonly StateChange[], until: number | undefined): { pieces: Piece[]; trailing: MachineState[] } {
  const pieces: Piece[] = []
  let skipped: MachineState[] = []
  for (let i = 0; i < sorted.length; i++) {
    const c = sorted[i]!
    const next = sorted[i + 1]
    const to = next ? next.at : until
    if (to === undefined || to <= c.at) {
      skipped.push(c.state)
      continue
    }
    const reason = c.state === 'running' ? null : (c.reason ?? null)
    pieces.push({ from: c.at, to, state: c.state, reason, reasonSource: reason === null ? null : 'machine', closed: next !== undefined, skipped })
    skipped = []
  }
  return { pieces, trailing: skipped }
}

interface Effective {
  from: number
  to: number
  reason: string
  order: number
}

/** Index of the last change at or before `at` in sorted changes, -1 when none is. */
function lastAtOrBefore(sorted: readonly StateChange[], at: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]!.at <= at) lo = mid + 1
    else hi = mid
  }
  return lo - 1
}

/**
 * An open classification ends at the first running change at or after it, even one of no length
 * (contexts start at running changes, so nothing may reach across one); given while the work
 * center runs, it covers nothing.
 */
function openEnd(sorted: readonly StateChange[], runningAts: readonly number[], from: number): number {
  const i = lastAtOrBefore(sorted, from)
  if (i >= 0 && sorted[i]!.state === 'running') return from
  let lo = 0
  let hi = runningAts.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (runningAts[mid]! >= from) hi = mid
    else lo = mid + 1
  }
  return runningAts[lo] ?? Infinity
}

function effectiveClassifications(sorted: readonly StateChange[], classifications: readonly Classification[]): Effective[] {
  const runningAts = sorted.filter((c) => c.state === 'running').map((c) => c.at)
  const out: Effective[] = []
  for (const [order, c] of classifications.entries()) {
    const to = c.to ?? openEnd(sorted, runningAts, c.from)
    if (to > c.from) out.push({ from: c.from, to, reason: c.reason, order })
  }
  return out.sort((a, b) => a.from - b.from)
}

function cutAt(pieces: readonly Piece[], cuts: readonly number[]): Piece[] {
  const out: Piece[] = []
  let k = 0
  for (const p of pieces) {
    if (p.state === 'running') {
      out.push(p)
      continue
    }
    while (k < cuts.length && cuts[k]! <= p.from) k++
    let from = p.from
    let skipped = p.skipped
    for (let j = k; j < cuts.length && cuts[j]! < p.to; j++) {
      out.push({ ...p, from, to: cuts[j]!, skipped })
      from = cuts[j]!
      skipped = []
    }
    out.push({ ...p, from, to: p.to, skipped })
  }
  return out
}

function classify(pieces: readonly Piece[], classifications: readonly Classification[], sorted: readonly StateChange[]): Piece[] {
  if (classifications.length === 0) return [...pieces]
  const effective = effectiveClassifications(sorted, classifications)
  const cuts = [...new Set(effective.flatMap((e) => [e.from, e.to]).filter(Number.isFinite))].sort((a, b) => a - b)
  const cut = cutAt(pieces, cuts)
  // A sweep: every classification active where a piece starts covers all of it, since pieces are cut at every boundary.
  let active: Effective[] = []
  let next = 0
  for (const p of cut) {
    while (next < effective.length && effective[next]!.from <= p.from) active.push(effective[next++]!)
    active = active.filter((e) => e.to > p.from)
    if (p.state === 'running' || active.length === 0) continue
    const latest = active.reduce((a, b) => (b.order > a.order ? b : a))
    p.reason = latest.reason
    p.reasonSource = 'operator'
  }
  return cut
}

// Contexts start at running changes, so a running change, even one of no length, must end a stop.
function sameStop(prev: Piece, p: Piece): boolean {
  if (prev.state === 'running' || p.skipped.includes('running')) return false
  return prev.reason === p.reason && (p.reason !== null || prev.state === p.state)
}

function sameDownRun(prev: Piece, p: Piece): boolean {
  return prev.state === 'down' && p.state === 'down' && p.skipped.every((s) => s === 'down')
}

/**
 * The intervals of a timeline, in time order. Late changes may come in any order: the changes are
 * sorted first, so the timeline is the one they would have made in order. Without `until` the last
 * state's interval is left out (its end is not known); with it, that interval runs to `until`.
 */
export function timeline(changes: readonly StateChange[], classifications: readonly Classification[] = [], until?: number): StateInterval[] {
  const sorted = sortChanges(changes)
  const { pieces: raw, trailing } = rawPieces(sorted, until)
  const pieces = classify(raw, classifications, sorted)
  const out: StateInterval[] = []
  for (let i = 0; i < pieces.length; ) {
    let j = i + 1
    while (j < pieces.length && sameDownRun(pieces[j - 1]!, pieces[j]!)) j++
    const last = pieces[j - 1]!
    const runMs = last.to - pieces[i]!.from
    // A down stretch has ended once a later piece exists, or a non-down change follows its last piece.
    const runClosed = last.closed && (j < pieces.length || trailing.some((s) => s !== 'down'))
    for (let k = i; k < j; k++) {
      const p = pieces[k]!
      const prev = pieces[k - 1]
      out.push({
        from: p.from,
        to: p.to,
        state: p.state,
        reason: p.reason,
        reasonSource: p.reasonSource,
        downRunMs: p.state === 'down' ? runMs : null,
        stopStart: p.state !== 'running' && !(prev && sameStop(prev, p)),
        settled: p.closed && (p.state !== 'down' || runClosed),
      })
    }
    i = j
  }
  return out
}

/** A `down` interval in a stretch shorter than the threshold is a small stop: run time lost to speed, not to availability. */
export function isSmallStop(interval: StateInterval, microStopThresholdMs: number): boolean {
  return interval.state === 'down' && interval.downRunMs !== null && interval.downRunMs < microStopThresholdMs
}

export type TimelineEdit = { kind: 'state'; change: StateChange } | { kind: 'classification'; classification: Classification }

/** The slice of a timeline an edit can change, with the classifications that reach into it. */
export interface TimelineContext {
  changes: StateChange[]
  classifications: Classification[]
}

/**
 * What must be read for [t1, t2] to come out as in the whole timeline: the state changes from the
 * last `running` change at or before t1 (from the first change when there is none) through the
 * first `running` change after t2 (to the last change when there is none), and every
 * classification, in log order, that overlaps that span. Nothing reaches across a running change:
 * a down stretch, a stop and an open classification all end there. The store does the same with
 * two indexed queries.
 */
export function contextForRange(changes: readonly StateChange[], classifications: readonly Classification[], t1: number, t2: number): TimelineContext {
  const sorted = sortChanges(changes)
  let lo = -1
  for (let i = sorted.length - 1; i >= 0; i--) {
    if (sorted[i]!.at <= t1 && sorted[i]!.state === 'running') {
      lo = i
      break
    }
  }
  // No running change before: the context is the log from its start, and so are the classifications.
  const start = lo < 0 ? -Infinity : sorted[lo]!.at
  lo = Math.max(lo, 0)
  let hi = -1
  for (let i = lo; i < sorted.length; i++) {
    if (sorted[i]!.at > t2 && sorted[i]!.state === 'running') {
      hi = i
      break
    }
  }
  const slice = hi < 0 ? sorted.slice(lo) : sorted.slice(lo, hi + 1)
  const end = hi < 0 ? Infinity : sorted[hi]!.at
  return { changes: slice, classifications: classifications.filter((c) => c.from <= end && (c.to === null || c.to >= start)) }
}

/** What the bucket projection must read around an edit (contextForRange over the span the edit touches). */
export function contextFor(changes: readonly StateChange[], classifications: readonly Classification[], edit: TimelineEdit): TimelineContext {
  if (edit.kind === 'state') return contextForRange(changes, classifications, edit.change.at, edit.change.at)
  return contextForRange(changes, classifications, edit.classification.from, edit.classification.to ?? edit.classification.from)
}
