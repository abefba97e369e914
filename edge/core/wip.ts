// Work in progress: where an open order is, how far it got, and when it will likely finish.
import type { Equipment, Order, OrderOperation } from './model.ts'

export interface RunTimes {
  /** Seconds actually spent on completed runs of the order. */
  actualS: number
  /** Standard seconds (ideal cycle time × quantity) of those same runs. */
  standardS: number
}

export interface WipEntry {
  orderId: string
  productId: string
  state: Order['state']
  workCenterId: string | null
  opSeq: number | null
  operation: string | null
  quantity: number
  done: number
  scrap: number
  remaining: number
  /** Share of the order's standard work that is done, 0 … 1. */
  progress: number
  /** Estimated completion: now + remaining standard time × the order's actual/standard ratio. */
  estimatedCompletionAt: string | null
  dueAt: string | null
  late: boolean
}

function cycleTime(op: OrderOperation, workCenters: Map<string, Equipment>): number {
  return op.idealCycleTimeS ?? workCenters.get(op.workCenterId)?.ratedCycleTimeS ?? 0
}

export function wipOf(order: Order, ops: OrderOperation[], times: RunTimes, workCenters: Map<string, Equipment>, now: Date): WipEntry {
  let standardTotal = 0
  let standardDone = 0
  let input = order.quantity
  for (const op of ops) {
    const ct = cycleTime(op, workCenters)
    standardTotal += op.setupTimeS + ct * input
    const processed = op.qtyGood + op.qtyScrap
    standardDone += (processed > 0 ? op.setupTimeS : 0) + ct * Math.min(processed, input)
    input = op.state === 'completed' ? op.qtyGood : Math.max(input - op.qtyScrap, 0)
  }
  const current = ops.find((op) => op.state !== 'completed')
  const last = ops[ops.length - 1]
  const done = last?.qtyGood ?? 0
  const scrap = ops.reduce((sum, op) => sum + op.qtyScrap, 0)
  const remaining = Math.max(order.quantity - done - scrap, 0)
  const progress = standardTotal > 0 ? Math.min(standardDone / standardTotal, 1) : current ? 0 : 1
  const ratio = times.standardS > 0 && times.actualS > 0 ? times.actualS / times.standardS : 1
  const open = order.state !== 'completed' && order.state !== 'closed' && order.state !== 'cancelled'
  const eta = open && standardTotal > 0 ? new Date(now.getTime() + (standardTotal - standardDone) * ratio * 1000) : null
  return {
    orderId: order.id,
    productId: order.productId,
    state: order.state,
    workCenterId: current?.workCenterId ?? null,
    opSeq: current?.seq ?? null,
    operation: current?.name ?? null,
    quantity: order.quantity,
    done,
    scrap,
    remaining,
    progress,
    estimatedCompletionAt: eta ? eta.toISOString() : null,
    dueAt: order.dueAt,
    late: open && order.dueAt !== null && Math.max(now.getTime(), eta?.getTime() ?? 0) > Date.parse(order.dueAt),
  }
}
