// A work center without a connected machine: its operators' start, pause, resume and complete are its state timeline.
import type { MachineState } from '../model.ts'
import { stopLossClasses, type ReasonTree } from './reasons.ts'

/** What an operator did to a run at the work center. A pause carries the reason the operator gave. */
export type OperatorAction = { kind: 'started' } | { kind: 'resumed' } | { kind: 'paused'; reason: string } | { kind: 'completed' }

/** The runs at the work center that are still open, counted after the action. */
export interface OpenRuns {
  running: number
  paused: number
}

export interface OperatorState {
  state: MachineState
  /** The stop reason the operator gave; the store records it as the operator's classification of the stop. */
  reason: string | null
}

/**
 * The stop reason an operator's pause reason stands for: a stop reason's code, or its name in any
 * case (the terminal lets an operator type the reason). Anything else is an unclassified stop, which
 * the operator can classify later like a machine's.
 */
export function pauseReason(tree: ReasonTree, text: string): string | null {
  const given = text.trim()
  if (given === '') return null
  const stop = (code: string | undefined) => {
    const r = code === undefined ? undefined : tree.get(code)
    return r && stopLossClasses.includes(r.loss) ? r.code : undefined
  }
  const byCode = stop(given)
  if (byCode) return byCode
  const lower = given.toLowerCase()
  return stop(tree.reasons.find((r) => r.name.toLowerCase() === lower)?.code) ?? null
}

/**
 * The state a paused work center is in follows its reason, so that the timeline's own rules apply: a
 * planned reason (a break) is a `planned_stop`, which is never a small stop; a setup reason is `setup`;
 * a failure, a short stop or no known reason is `down`, and a short `down` is a small stop as a
 * machine's would be.
 */
function pausedState(tree: ReasonTree, reason: string | null): MachineState {
  const loss = reason === null ? undefined : tree.get(reason)?.loss
  if (loss === 'planned') return 'planned_stop'
  return loss === 'setup' ? 'setup' : 'down'
}

/**
 * The work center's state after an operator's action: running while any run at it runs; when the
 * action paused the last running run, stopped for that pause's reason; when a completion leaves only
 * paused runs, down without a reason (what they wait for is theirs); with no open run, idle. An idle
 * work center without a reason is an unplanned stop in planned time: an operator classifies it as
 * "no orders" (planned time) where that is why.
 */
export function operatorState(reasons: ReasonTree | (() => ReasonTree), action: OperatorAction, open: OpenRuns): OperatorState {
  if (open.running > 0) return { state: 'running', reason: null }
  if (action.kind === 'paused') {
    // Only a pause needs the tree: a caller that builds it on demand passes a function.
    const tree = typeof reasons === 'function' ? reasons() : reasons
    const reason = pauseReason(tree, action.reason)
    return { state: pausedState(tree, reason), reason }
  }
  if (open.paused > 0) return { state: 'down', reason: null }
  return { state: 'idle', reason: null }
}
