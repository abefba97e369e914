// Decisions on machine signals: a work center's state changes, parts counted by the machine.
import { accept, refuse, type Decision } from './decision.ts'
import { event } from './events.ts'
import type { LineView } from './line-view.ts'
import type { MachineState } from './model.ts'
import { reject } from './rejection.ts'

function workCenter(view: LineView, id: string) {
  const wc = view.equipment(id)
  return wc && wc.level === 'work_center' ? wc : undefined
}

/**
 * Records a state change; the same state again records nothing. A stop may carry the machine's own
 * reason (PackML StopReason, 0 meaning none), which the OEE timeline maps through the reason tree.
 */
export function recordMachineState(view: LineView, workCenterId: string, state: MachineState, source: string, stopReason?: number): Decision<{ changed: boolean }> {
  if (!workCenter(view, workCenterId)) return refuse(reject('not_found', `There is no work center '${workCenterId}'.`))
  const from = view.workCenterState(workCenterId) ?? null
  if (from === state) return accept([], { changed: false })
  const reason = state !== 'running' && stopReason !== undefined && Number.isInteger(stopReason) && stopReason > 0 ? { stopReason } : {}
  return accept([event('WorkCenterStateChanged', `work-center/${workCenterId}`, { workCenterId, state, from, source, ...reason })], { changed: true })
}

/** Parts the machine counted, booked to the run in progress at the work center (if any). */
export function recordMachineCount(view: LineView, workCenterId: string, good: number, reject_: number, source: string): Decision<{ runId: string | null }> {
  if (!workCenter(view, workCenterId)) return refuse(reject('not_found', `There is no work center '${workCenterId}'.`))
  if (!(good >= 0 && reject_ >= 0) || good + reject_ === 0) return accept([], { runId: null })
  const run = view.runningRunAt(workCenterId)
  return accept(
    [event('MachineCounted', `work-center/${workCenterId}`, { workCenterId, runId: run?.id ?? null, orderId: run?.orderId ?? null, good, reject: reject_, source })],
    { runId: run?.id ?? null },
  )
}
