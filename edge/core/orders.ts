// Production order lifecycle: create or update from ERP by the single-writer rules, release, dispatch, hold, cancel, close.
import { sameDefinition } from './canonical-json.ts'
import { orderCompletionEvents } from './completion.ts'
import { accept, refuse, type Decision } from './decision.ts'
import { event, type NewEvent, type OrderDefinition } from './events.ts'
import type { LineView } from './line-view.ts'
import type { Order, OrderOperation, OrderState } from './model.ts'
import { reject } from './rejection.ts'

/** What ERP sends; the product's serialization and the output lot name are filled in by core. */
export type OrderRequest = Omit<OrderDefinition, 'serialized' | 'outputLot'> & { outputLot?: string | null }

export type OrderOutcome = { orderId: string; created: boolean; changed: boolean }

const subject = (id: string) => `order/${id}`

function definitionOf(order: Order): OrderRequest {
  return {
    id: order.id,
    productId: order.productId,
    quantity: order.quantity,
    serials: order.serials,
    bomId: order.bomId,
    bomVersion: order.bomVersion,
    routingId: order.routingId,
    routingVersion: order.routingVersion,
    lineId: order.lineId,
    priority: order.priority,
    dueAt: order.dueAt,
    plannedStartAt: order.plannedStartAt,
    outputLot: order.outputLot,
  }
}

function planOperations(view: LineView, req: OrderRequest): OrderOperation[] | Decision<never> {
  const product = view.material(req.productId)
  if (!product) return refuse(reject('reference_unknown', `Product '${req.productId}' is not defined.`, { field: 'productId' }))
  const line = view.equipment(req.lineId)
  if (!line || line.level !== 'line') return refuse(reject('reference_unknown', `Line '${req.lineId}' is not defined.`, { field: 'lineId' }))
  const bom = view.bom(req.bomId, req.bomVersion)
  if (!bom) return refuse(reject('reference_unknown', `BOM '${req.bomId}' version '${req.bomVersion}' is not defined.`, { field: 'bomId' }))
  const routing = view.routing(req.routingId, req.routingVersion)
  if (!routing) {
    return refuse(reject('reference_unknown', `Routing '${req.routingId}' version '${req.routingVersion}' is not defined.`, { field: 'routingId' }))
  }
  if (bom.productId !== req.productId || routing.productId !== req.productId) {
    return refuse(reject('definition_invalid', `The BOM and the routing must both be for product '${req.productId}'.`, { field: 'productId' }))
  }
  if (!Number.isInteger(req.quantity) || req.quantity <= 0) {
    return refuse(reject('definition_invalid', `An order quantity must be a whole number above zero, not ${req.quantity}.`, { field: 'quantity' }))
  }
  const duplicate = req.serials.find((s, i) => req.serials.indexOf(s) !== i)
  if (duplicate !== undefined) return refuse(reject('definition_invalid', `Serial '${duplicate}' is sent twice.`, { field: 'serials' }))
  if (product.serialized && req.serials.length > 0 && req.serials.length !== req.quantity) {
    return refuse(reject('definition_invalid', `${req.serials.length} serial numbers were sent for a quantity of ${req.quantity}.`, { field: 'serials' }))
  }
  if (!product.serialized && req.serials.length > 0) {
    return refuse(reject('definition_invalid', `Product '${req.productId}' is not serialized; send no serial numbers.`, { field: 'serials' }))
  }
  const ops: OrderOperation[] = []
  for (const [i, op] of routing.operations.entries()) {
    const wc = view.equipment(op.workCenterId)
    if (wc?.parentId !== req.lineId) {
      return refuse(reject('definition_invalid', `Operation ${op.seq} runs on '${op.workCenterId}', which is not on line '${req.lineId}'.`, { field: `routing.operations[${i}]` }))
    }
    const alternates: Record<string, string[]> = {}
    for (const c of op.components) {
      const item = bom.items.find((it) => it.materialId === c.materialId)
      if (!item) {
        return refuse(reject('definition_invalid', `Operation ${op.seq} consumes '${c.materialId}', which is not in BOM '${bom.id}' ${bom.version}.`, { field: 'bomId' }))
      }
      alternates[c.materialId] = item.alternates
    }
    ops.push({ ...op, alternates, state: 'pending', qtyStarted: 0, qtyGood: 0, qtyScrap: 0, startedAt: null, completedAt: null })
  }
  return ops
}

export function defineOrder(view: LineView, req: OrderRequest): Decision<OrderOutcome> {
  const existing = view.order(req.id)
  const outputLot = req.outputLot ?? existing?.outputLot ?? `${req.id}-OUT`
  const wanted = { ...req, outputLot }
  if (existing && sameDefinition(definitionOf(existing), wanted)) return accept([], { orderId: req.id, created: false, changed: false })
  const planned = planOperations(view, wanted)
  if (!Array.isArray(planned)) return planned
  const serialized = view.material(req.productId)?.serialized ?? false
  const definition: OrderDefinition = { ...wanted, serialized }
  if (!existing) {
    return accept([event('OrderCreated', subject(req.id), { ...definition, operations: planned })], { orderId: req.id, created: true, changed: true })
  }
  return changeOrder(view, existing, definition, planned)
}

function changeOrder(view: LineView, existing: Order, next: OrderDefinition, planned: OrderOperation[]): Decision<OrderOutcome> {
  if (existing.state === 'cancelled' || existing.state === 'closed' || existing.state === 'completed') {
    return refuse(reject('order_state', `Order '${existing.id}' is ${existing.state}; it can no longer be changed.`, { state: existing.state }))
  }
  const started = view.operations(existing.id).some((op) => op.qtyStarted > 0)
  const structural =
    existing.productId !== next.productId ||
    existing.bomId !== next.bomId ||
    existing.bomVersion !== next.bomVersion ||
    existing.routingId !== next.routingId ||
    existing.routingVersion !== next.routingVersion ||
    existing.lineId !== next.lineId ||
    existing.outputLot !== next.outputLot ||
    // An empty list lets the gateway number the units at release; only a different list from ERP is a change.
    (next.serials.length > 0 && !sameDefinition(existing.serials, next.serials))
  const events: NewEvent[] = []
  if (structural) {
    if (started || existing.state !== 'created') {
      return refuse(
        reject('order_routing_locked', `Order '${existing.id}' is ${existing.state}; its product, BOM, routing, line and serials are fixed. Only quantity, priority and dates may change.`, { state: existing.state }),
      )
    }
    events.push(event('OrderCreated', subject(existing.id), { ...next, operations: planned }))
    return accept(events, { orderId: existing.id, created: false, changed: true })
  }
  if (next.quantity !== existing.quantity) {
    const first = view.operations(existing.id)[0]
    const startedQty = first?.qtyStarted ?? 0
    if (next.quantity < startedQty) {
      return refuse(reject('quantity_exceeded', `Order '${existing.id}' has already started ${startedQty}; its quantity cannot go below that.`, { started: startedQty }))
    }
    if (existing.serialized && existing.state === 'created' && existing.serials.length > 0 && next.serials.length === 0) {
      return refuse(reject('definition_invalid', `Order '${existing.id}' carries ERP serial numbers; send the serial list that goes with the new quantity.`, { field: 'serials' }))
    }
    if (existing.serialized && existing.state !== 'created') {
      return refuse(reject('order_routing_locked', `Serial numbers of order '${existing.id}' were issued at release; change its quantity in a new order.`))
    }
    events.push(event('OrderQuantityChanged', subject(existing.id), { orderId: existing.id, from: existing.quantity, to: next.quantity }))
  }
  if (next.priority !== existing.priority || next.dueAt !== existing.dueAt || next.plannedStartAt !== existing.plannedStartAt) {
    events.push(event('OrderPlanChanged', subject(existing.id), { orderId: existing.id, priority: next.priority, dueAt: next.dueAt, plannedStartAt: next.plannedStartAt }))
  }
  return accept(events, { orderId: existing.id, created: false, changed: events.length > 0 })
}

function orderIn(view: LineView, orderId: string, allowed: OrderState[], action: string): Order | Decision<never> {
  const order = view.order(orderId)
  if (!order) return refuse(reject('not_found', `There is no order '${orderId}'.`, { orderId }))
  if (!allowed.includes(order.state)) {
    return refuse(reject('order_state', `Order '${orderId}' is ${order.state}; it can be ${action} only when ${allowed.join(' or ')}.`, { state: order.state, allowed }))
  }
  return order
}

const isOrder = (x: Order | Decision<never>): x is Order => 'state' in x

export function releaseOrder(view: LineView, orderId: string): Decision<{ serials: string[] }> {
  const order = orderIn(view, orderId, ['created'], 'released')
  if (!isOrder(order)) return order
  let serials = order.serials
  if (order.serialized && serials.length === 0) {
    const width = Math.max(4, String(order.quantity).length)
    serials = Array.from({ length: order.quantity }, (_, i) => `${order.id}-${String(i + 1).padStart(width, '0')}`)
  }
  for (const serial of serials) {
    const unit = view.unit(serial)
    if (unit) return refuse(reject('order_conflict', `Serial '${serial}' already belongs to order '${unit.orderId}'.`, { serial }))
  }
  return accept([event('OrderReleased', subject(orderId), { orderId, serials })], { serials })
}

export function dispatchOrder(view: LineView, orderId: string): Decision<null> {
  const order = orderIn(view, orderId, ['released'], 'dispatched')
  if (!isOrder(order)) return order
  return accept([event('OrderDispatched', subject(orderId), { orderId })], null)
}

export function holdOrder(view: LineView, orderId: string, reason: string): Decision<null> {
  const order = orderIn(view, orderId, ['created', 'released', 'dispatched', 'in_progress'], 'held')
  if (!isOrder(order)) return order
  return accept([event('OrderHeld', subject(orderId), { orderId, reason, from: order.state })], null)
}

export function releaseOrderHold(view: LineView, orderId: string, reason: string): Decision<null> {
  const order = orderIn(view, orderId, ['held'], 'released from hold')
  if (!isOrder(order)) return order
  const to = order.heldFrom ?? 'released'
  const events = [event('OrderHoldReleased', subject(orderId), { orderId, reason, to })]
  if (view.heldUnits(orderId).length === 0) events.push(...completionIfDone(view, order))
  return accept(events, null)
}

export function cancelOrder(view: LineView, orderId: string, reason: string): Decision<null> {
  const order = orderIn(view, orderId, ['created', 'released', 'dispatched', 'held'], 'cancelled')
  if (!isOrder(order)) return order
  if (view.operations(orderId).some((op) => op.qtyStarted > 0)) {
    return refuse(reject('order_state', `Order '${orderId}' has work started on it; hold it, or complete and close it, instead of cancelling.`))
  }
  return accept([event('OrderCancelled', subject(orderId), { orderId, reason })], null)
}

export function closeOrder(view: LineView, orderId: string): Decision<null> {
  const order = orderIn(view, orderId, ['completed'], 'closed')
  if (!isOrder(order)) return order
  return accept([event('OrderClosed', subject(orderId), { orderId })], null)
}

export function resequenceDispatch(view: LineView, workCenterId: string, orderIds: string[]): Decision<null> {
  const wc = view.equipment(workCenterId)
  if (!wc || wc.level !== 'work_center') return refuse(reject('not_found', `There is no work center '${workCenterId}'.`))
  const onList = new Set(view.dispatchableAt(workCenterId))
  const seen = new Set<string>()
  for (const id of orderIds) {
    if (!onList.has(id)) return refuse(reject('resequence_invalid', `Order '${id}' is not on the dispatch list of '${workCenterId}'.`, { orderId: id }))
    if (seen.has(id)) return refuse(reject('resequence_invalid', `Order '${id}' is named twice.`, { orderId: id }))
    seen.add(id)
  }
  return accept([event('DispatchResequenced', `work-center/${workCenterId}`, { workCenterId, orderIds })], null)
}

export function releaseUnitHold(view: LineView, serial: string, reason: string): Decision<null> {
  const unit = view.unit(serial)
  if (!unit) return refuse(reject('not_found', `There is no unit '${serial}'.`))
  if (unit.state !== 'held') return refuse(reject('order_state', `Unit '${serial}' is not on hold.`, { state: unit.state }))
  const events = [event('UnitHoldReleased', `unit/${serial}`, { serial, reason })]
  const order = view.order(unit.orderId)
  const othersHeld = view.heldUnits(unit.orderId).some((s) => s !== serial)
  if (order && order.state !== 'held' && !othersHeld) events.push(...completionIfDone(view, order))
  return accept(events, null)
}

/** An order whose every operation is done but whose completion waited for a hold to be released. */
function completionIfDone(view: LineView, order: Order) {
  const ops = view.operations(order.id)
  const done = ops.length > 0 && ops.every((op) => op.state === 'completed')
  return done && order.state !== 'completed' ? orderCompletionEvents(order, ops) : []
}
