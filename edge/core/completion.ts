// Completing a run: counts, the materials and measurements that came with it, and what completes after it.
import { accept, refuse, type Decision } from './decision.ts'
import { event, type NewEvent } from './events.ts'
import { consumption, measurement, refusedConsumption, runIn, type CompleteCommand } from './execution.ts'
import type { DecisionContext, LineView } from './line-view.ts'
import type { Order, OrderOperation, Run } from './model.ts'
import { reject, type Rejection } from './rejection.ts'

export interface CompletionResult {
  runId: string
  operationCompleted: boolean
  orderCompleted: boolean
  nonconformances: string[]
}

function checkCounts(run: Run, cmd: CompleteCommand): Rejection | null {
  const counts = [cmd.good, cmd.scrap, ...cmd.scrapReasons.map((s) => s.quantity)]
  if (counts.some((n) => !Number.isInteger(n) || n < 0)) {
    return reject('definition_invalid', 'Good, scrap and scrap-reason counts must be whole numbers, zero or more.', { good: cmd.good, scrap: cmd.scrap })
  }
  if (cmd.good + cmd.scrap !== run.quantity) {
    return reject('quantity_exceeded', `Run '${run.id}' was started for ${run.quantity}; good (${cmd.good}) and scrap (${cmd.scrap}) must add up to it.`, { quantity: run.quantity })
  }
  const reasoned = cmd.scrapReasons.reduce((sum, s) => sum + s.quantity, 0)
  if (reasoned !== cmd.scrap) {
    return reject('definition_invalid', `Scrap of ${cmd.scrap} needs reasons that add up to it; they add up to ${reasoned}.`, { scrap: cmd.scrap })
  }
  return null
}

function checkRequirements(view: LineView, run: Run, op: OrderOperation, cmd: CompleteCommand, consumed: NewEvent[]): Rejection | null {
  const measured = new Set(view.measuredOnRun(run.id))
  for (const m of cmd.measurements) measured.add(m.name)
  const missing = op.measurements.filter((m) => !measured.has(m.name)).map((m) => m.name)
  if (missing.length > 0) return reject('measurement_missing', `Operation ${op.seq} needs the measurement${missing.length > 1 ? 's' : ''} ${missing.join(', ')} before it completes.`, { missing })
  if (cmd.good === 0) return null
  const have = new Map(view.consumedOnRun(run.id))
  for (const e of consumed) {
    if (e.type === 'MaterialConsumed') have.set(e.data.materialId, (have.get(e.data.materialId) ?? 0) + e.data.quantity)
  }
  for (const c of op.components) {
    const accepted = [c.materialId, ...(op.alternates[c.materialId] ?? [])]
    const got = accepted.reduce((sum, m) => sum + (have.get(m) ?? 0), 0)
    const need = c.quantityPer * cmd.good
    if (got + 1e-9 < need) {
      return reject('component_missing', `Operation ${op.seq} needs ${need} of ${c.materialId} for ${cmd.good} good; ${got} were booked.`, { materialId: c.materialId, need, got })
    }
  }
  return null
}

/** Whether an operation has now accounted for all the quantity that can reach it. */
function operationDone(order: Order, op: OrderOperation, prev: OrderOperation | undefined, good: number, scrap: number): boolean {
  if (prev && prev.state !== 'completed') return false
  const input = prev ? prev.qtyGood : order.quantity
  const processed = op.qtyGood + good + op.qtyScrap + scrap
  // Done only when every quantity started here is finished too: no run is left open.
  return processed >= input && processed >= op.qtyStarted
}

/**
 * Overlapping successors may have finished everything that reached them before this operation
 * finished; they complete with it. Returns the events and the index of the last completed operation.
 */
function cascade(order: Order, ops: OrderOperation[], index: number, good: number): { events: NewEvent[]; last: number } {
  const events: NewEvent[] = []
  let input = ops[index]!.qtyGood + good
  let last = index
  for (let i = index + 1; i < ops.length; i++) {
    const next = ops[i]!
    const processed = next.qtyGood + next.qtyScrap
    if (next.state === 'completed' || processed < input || processed < next.qtyStarted) break
    events.push(event('OperationClosed', `order/${order.id}`, { orderId: order.id, opSeq: next.seq }))
    input = next.qtyGood
    last = i
  }
  return { events, last }
}

export function completeOperation(view: LineView, cmd: CompleteCommand, ctx: DecisionContext): Decision<CompletionResult> {
  const run = runIn(view, cmd.runId, ['running'], 'completed')
  if ('code' in run) return refuse(run)
  const order = view.order(run.orderId)!
  if (order.state === 'completed' || order.state === 'closed' || order.state === 'cancelled') {
    return refuse(reject('order_state', `Order '${order.id}' is ${order.state}; no more work is booked on it.`, { state: order.state }))
  }
  const ops = view.operations(order.id)
  const index = ops.findIndex((o) => o.seq === run.opSeq)
  const op = ops[index]!
  const counts = checkCounts(run, cmd)
  if (counts) return refuse(counts)
  const events: NewEvent[] = []
  const use = new Map<string, number>()
  for (const input of cmd.consumptions) {
    const result = consumption(view, run, op, order, input, use, ctx.now)
    if ('status' in result) {
      return refuse(result, [refusedConsumption(run, input, result)])
    }
    events.push(result)
  }
  const holding = { done: false }
  for (const input of cmd.measurements) {
    const result = measurement(view, run, op, order, input, ctx, holding)
    if ('status' in result) return refuse(result)
    events.push(...result)
  }
  const missing = checkRequirements(view, run, op, cmd, events)
  if (missing) return refuse(missing)
  const operationCompleted = operationDone(order, op, ops[index - 1], cmd.good, cmd.scrap)
  events.push(
    event('OperationCompleted', run.unitSerial ? `unit/${run.unitSerial}` : `order/${order.id}`, {
      runId: run.id,
      orderId: order.id,
      opSeq: op.seq,
      unitSerial: run.unitSerial,
      good: cmd.good,
      scrap: cmd.scrap,
      scrapReasons: cmd.scrapReasons,
      operationCompleted,
    }),
  )
  const closed = operationCompleted ? cascade(order, ops, index, cmd.good) : { events: [], last: index }
  events.push(...closed.events)
  // A held order, or one with a unit on hold, completes only when the hold is released.
  const heldNow = order.state === 'held' || view.heldUnits(order.id).length > 0 || events.some((e) => e.type === 'OrderHeld' || e.type === 'UnitHeld')
  const orderCompleted = operationCompleted && closed.last === ops.length - 1 && !heldNow
  if (orderCompleted) {
    const lastGood = closed.last === index ? cmd.good : 0
    events.push(...orderCompletionEvents(order, ops, lastGood, cmd.scrap))
  }
  const nonconformances = events.flatMap((e) => (e.type === 'NonconformanceOpened' ? [e.data.ncId] : []))
  return accept(events, { runId: run.id, operationCompleted, orderCompleted, nonconformances })
}

/** The events that close out an order whose last operation is done; `good`/`scrap` are counts not yet in `ops`. */
export function orderCompletionEvents(order: Order, ops: OrderOperation[], good = 0, scrap = 0): NewEvent[] {
  good += ops[ops.length - 1]?.qtyGood ?? 0
  scrap += ops.reduce((sum, o) => sum + o.qtyScrap, 0)
  const events: NewEvent[] = []
  if (!order.serialized && good > 0) {
    events.push(event('OutputLotProduced', `lot/${order.outputLot}`, { lotId: order.outputLot, orderId: order.id, materialId: order.productId, quantity: good }))
  }
  events.push(event('OrderCompleted', `order/${order.id}`, { orderId: order.id, good, scrap }))
  return events
}
