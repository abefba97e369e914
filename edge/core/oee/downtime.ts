// Downtime events an operator sees and classifies: each stop with its reason; classify, split and merge as pure edits.
import type { MachineState } from '../model.ts'
import { stopLossClasses, type ReasonTree } from './reasons.ts'
import type { Classification, ReasonSource, StateInterval } from './timeline.ts'

/** One stop: consecutive stop time with one reason (an unexplained stop also keeps to one state). */
export interface DowntimeEvent {
  /** The stop's identity within its work center: no two stops start at the same instant. */
  from: number
  /** Its end, or the end so far while it goes on. */
  to: number
  /** Still going on: classifying it covers it until the work center runs again. */
  open: boolean
  reason: string | null
  reasonSource: ReasonSource | null
  states: MachineState[]
}

/** The stops of a timeline, in time order. */
export function downtimeEvents(intervals: readonly StateInterval[]): DowntimeEvent[] {
  const out: DowntimeEvent[] = []
  let current: DowntimeEvent | undefined
  for (const [i, iv] of intervals.entries()) {
    if (iv.state === 'running') {
      current = undefined
      continue
    }
    const open = i === intervals.length - 1 && !iv.settled
    if (iv.stopStart || current === undefined) {
      current = { from: iv.from, to: iv.to, open, reason: iv.reason, reasonSource: iv.reasonSource, states: [iv.state] }
      out.push(current)
      continue
    }
    current.to = iv.to
    current.open = open
    if (!current.states.includes(iv.state)) current.states.push(iv.state)
  }
  return out
}

/** A stop as an edit names it. */
export interface StopRef {
  from: number
  to: number | null
  reason: string | null
}

/** What an edit changed, for the event that records it with who and why. */
export interface DowntimeChange {
  kind: 'classified' | 'split' | 'merged'
  before: StopRef[]
  after: StopRef[]
}

export type DowntimeEditProblem = 'stop_unknown' | 'reason_unknown' | 'reason_not_a_stop' | 'same_reason' | 'not_inside' | 'not_adjacent' | 'reason_required'

export type DowntimeEdit =
  | { ok: true; classifications: Classification[]; change: DowntimeChange }
  | { ok: false; problem: DowntimeEditProblem; message: string }

function fail(problem: DowntimeEditProblem, message: string): DowntimeEdit {
  return { ok: false, problem, message }
}

function ref(e: DowntimeEvent): StopRef {
  return { from: e.from, to: e.open ? null : e.to, reason: e.reason }
}

function reasonProblem(tree: ReasonTree, reason: string): DowntimeEdit | undefined {
  const known = tree.get(reason)
  if (!known) return fail('reason_unknown', `There is no reason '${reason}' in the reason tree.`)
  if (!stopLossClasses.includes(known.loss)) return fail('reason_not_a_stop', `'${reason}' (${known.name}) is a ${known.loss} reason, not one for a stop.`)
  return undefined
}

function find(events: readonly DowntimeEvent[], from: number): DowntimeEvent | undefined {
  return events.find((e) => e.from === from)
}

/** Gives the stop starting at `from` a reason; an open stop keeps it until the work center runs again. */
export function classifyStop(tree: ReasonTree, events: readonly DowntimeEvent[], from: number, reason: string): DowntimeEdit {
  const stop = find(events, from)
  if (!stop) return fail('stop_unknown', `No stop starts at ${new Date(from).toISOString()}.`)
  const bad = reasonProblem(tree, reason)
  if (bad) return bad
  if (stop.reason === reason) return fail('same_reason', `The stop already has the reason '${reason}'.`)
  const after = { ...ref(stop), reason }
  return { ok: true, classifications: [{ from: after.from, to: after.to, reason }], change: { kind: 'classified', before: [ref(stop)], after: [after] } }
}

/** Splits the stop starting at `from` at the instant `at`, each part with its own reason. */
export function splitStop(tree: ReasonTree, events: readonly DowntimeEvent[], from: number, at: number, reasons: [string, string]): DowntimeEdit {
  const stop = find(events, from)
  if (!stop) return fail('stop_unknown', `No stop starts at ${new Date(from).toISOString()}.`)
  for (const r of reasons) {
    const bad = reasonProblem(tree, r)
    if (bad) return bad
  }
  if (reasons[0] === reasons[1]) return fail('same_reason', 'Each part of a split stop needs its own reason; with one reason, classify the stop instead.')
  if (!(at > stop.from && (stop.open || at < stop.to))) return fail('not_inside', `${new Date(at).toISOString()} does not lie inside the stop.`)
  const end = stop.open ? null : stop.to
  const after: StopRef[] = [
    { from: stop.from, to: at, reason: reasons[0] },
    { from: at, to: end, reason: reasons[1] },
  ]
  return { ok: true, classifications: after.map((a) => ({ from: a.from, to: a.to, reason: a.reason! })), change: { kind: 'split', before: [ref(stop)], after } }
}

/**
 * Merges the stop starting at `from` with the one right after it (touching, no running between) into
 * one stop with `reason`, by default the first stop's reason, else the second's.
 */
export function mergeStops(tree: ReasonTree, events: readonly DowntimeEvent[], from: number, reason?: string): DowntimeEdit {
  const i = events.findIndex((e) => e.from === from)
  const first = events[i]
  if (!first) return fail('stop_unknown', `No stop starts at ${new Date(from).toISOString()}.`)
  const second = events[i + 1]
  if (!second || first.open || second.from !== first.to) return fail('not_adjacent', 'Only a stop and the stop that follows it without running between can be merged.')
  const chosen = reason ?? first.reason ?? second.reason
  if (chosen === null) return fail('reason_required', 'Neither stop has a reason: give the merged stop one.')
  const bad = reasonProblem(tree, chosen)
  if (bad) return bad
  const merged: StopRef = { from: first.from, to: second.open ? null : second.to, reason: chosen }
  return {
    ok: true,
    classifications: [{ from: merged.from, to: merged.to, reason: chosen }],
    change: { kind: 'merged', before: [ref(first), ref(second)], after: [merged] },
  }
}
