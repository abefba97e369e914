// Operation execution at the work center: start, pause, resume, consume, measure, complete — with every rule enforced.
import { accept, refuse, type Decision } from './decision.ts'
import { event, type NewEvent } from './events.ts'
import type { DecisionContext, LineView } from './line-view.ts'
import type { Order, OrderOperation, Person, Run, ScrapEntry } from './model.ts'
import { reject, type Rejection } from './rejection.ts'

export interface StartCommand {
  orderId: string
  opSeq: number
  unitSerial: string | null
  quantity: number | null
  operatorId: string
  /** The terminal's work center, when the command comes from one: it must be the operation's. */
  workCenterId: string | null
}

export interface ConsumptionInput {
  lotId: string
  quantity: number
}

export interface MeasurementInput {
  name: string
  value: number
  unit: string
}

export interface CompleteCommand {
  runId: string
  good: number
  scrap: number
  scrapReasons: ScrapEntry[]
  consumptions: ConsumptionInput[]
  measurements: MeasurementInput[]
}

const runSubject = (order: Order, unitSerial: string | null) => (unitSerial ? `unit/${unitSerial}` : `order/${order.id}`)

function qualified(person: Person, code: string, now: Date): boolean {
  return person.qualifications.some((q) => q.code === code && (q.expiresAt === null || Date.parse(q.expiresAt) > now.getTime()))
}

function checkOperator(view: LineView, operatorId: string, op: OrderOperation, now: Date): Rejection | null {
  const person = view.person(operatorId)
  if (!person || !person.active) return reject('not_qualified', `'${operatorId}' is not an active person on this line.`, { operatorId })
  if (op.qualification && !qualified(person, op.qualification, now)) {
    return reject('not_qualified', `${person.name} holds no valid '${op.qualification}' qualification, which operation ${op.seq} requires.`, {
      operatorId,
      qualification: op.qualification,
    })
  }
  return null
}

function findOperation(view: LineView, orderId: string, opSeq: number) {
  const ops = view.operations(orderId)
  const index = ops.findIndex((o) => o.seq === opSeq)
  return { ops, index, op: ops[index], prev: index > 0 ? ops[index - 1] : undefined }
}

export function startOperation(view: LineView, cmd: StartCommand, ctx: DecisionContext): Decision<{ runId: string }> {
  const order = view.order(cmd.orderId)
  if (!order) return refuse(reject('not_found', `There is no order '${cmd.orderId}'.`))
  if (order.state !== 'dispatched' && order.state !== 'in_progress') {
    return refuse(reject('order_state', `Order '${order.id}' is ${order.state}; operations start only on a dispatched order.`, { state: order.state }))
  }
  const { op, prev } = findOperation(view, order.id, cmd.opSeq)
  if (!op) return refuse(reject('operation_not_found', `Order '${order.id}' has no operation ${cmd.opSeq}.`))
  if (cmd.workCenterId !== null && cmd.workCenterId !== op.workCenterId) {
    return refuse(reject('wrong_work_center', `Operation ${op.seq} of order '${order.id}' runs on '${op.workCenterId}', not on '${cmd.workCenterId}'.`))
  }
  const operatorProblem = checkOperator(view, cmd.operatorId, op, ctx.now)
  if (operatorProblem) return refuse(operatorProblem)
  const quantity = order.serialized ? checkUnitStart(view, order, op, prev, cmd) : checkQuantityStart(order, op, prev, cmd)
  if (typeof quantity !== 'number') return refuse(quantity)
  const runId = ctx.nextId()
  return accept(
    [
      event('OperationStarted', runSubject(order, cmd.unitSerial), {
        runId,
        orderId: order.id,
        opSeq: op.seq,
        unitSerial: order.serialized ? cmd.unitSerial : null,
        quantity,
        workCenterId: op.workCenterId,
        operatorId: cmd.operatorId,
      }),
    ],
    { runId },
  )
}

function checkUnitStart(view: LineView, order: Order, op: OrderOperation, prev: OrderOperation | undefined, cmd: StartCommand): number | Rejection {
  if (!cmd.unitSerial) return reject('unit_required', `Order '${order.id}' is serialized; scan the unit to start operation ${op.seq}.`)
  const unit = view.unit(cmd.unitSerial)
  if (!unit || unit.orderId !== order.id) return reject('unit_unknown', `Unit '${cmd.unitSerial}' does not belong to order '${order.id}'.`)
  if (unit.state === 'held') return reject('unit_on_hold', `Unit '${unit.serial}' is on hold; quality must release it first.`)
  if (unit.state === 'scrapped') return reject('unit_scrapped', `Unit '${unit.serial}' was scrapped.`)
  const mine = view.unitRun(order.id, op.seq, unit.serial)
  if (mine?.state === 'completed') return reject('operation_done', `Operation ${op.seq} is already complete for unit '${unit.serial}'.`)
  if (mine) return reject('unit_busy', `Operation ${op.seq} is already running on unit '${unit.serial}'.`, { runId: mine.id })
  if (prev) {
    const before = view.unitRun(order.id, prev.seq, unit.serial)
    const ready = op.allowOverlap ? before !== undefined : before?.state === 'completed'
    if (!ready) {
      // 21 CFR 11.10(f): operational system checks enforce the permitted sequencing of steps.
      return reject('out_of_sequence', `Operation ${prev.seq} (${prev.name}) must be completed on unit '${unit.serial}' before operation ${op.seq} can start.`, {
        required: prev.seq,
      })
    }
  }
  return 1
}

function checkQuantityStart(order: Order, op: OrderOperation, prev: OrderOperation | undefined, cmd: StartCommand): number | Rejection {
  if (cmd.unitSerial) return reject('unit_unknown', `Order '${order.id}' is not serialized; start it for a quantity, not a unit.`)
  const supply = prev ? (op.allowOverlap ? prev.qtyStarted : prev.qtyGood) : order.quantity
  const available = supply - op.qtyStarted
  if (available <= 0 && prev && prev.state !== 'completed') {
    return reject('out_of_sequence', `Operation ${prev.seq} (${prev.name}) has no finished quantity waiting for operation ${op.seq}.`, { required: prev.seq })
  }
  const quantity = cmd.quantity ?? available
  if (quantity <= 0 || quantity > available) {
    return reject('quantity_exceeded', `Operation ${op.seq} can start at most ${Math.max(available, 0)} more of order '${order.id}'.`, { available })
  }
  return quantity
}

function runIn(view: LineView, runId: string, states: Run['state'][], action: string): Run | Rejection {
  const run = view.run(runId)
  if (!run) return reject('not_found', `There is no run '${runId}'.`)
  if (!states.includes(run.state)) return reject('run_state', `Run '${runId}' is ${run.state}; it can be ${action} only when ${states.join(' or ')}.`)
  return run
}

export function pauseOperation(view: LineView, runId: string, reason: string): Decision<null> {
  const run = runIn(view, runId, ['running'], 'paused')
  if ('code' in run) return refuse(run)
  return accept([event('OperationPaused', `run/${runId}`, { runId, reason })], null)
}

export function resumeOperation(view: LineView, runId: string): Decision<null> {
  const run = runIn(view, runId, ['paused'], 'resumed')
  if ('code' in run) return refuse(run)
  const order = view.order(run.orderId)
  if (order?.state === 'held') return refuse(reject('order_state', `Order '${run.orderId}' is on hold.`))
  return accept([event('OperationResumed', `run/${runId}`, { runId })], null)
}

/** Lot quantities already taken by earlier items of the same command, so one lot cannot be spent twice. */
type LotUse = Map<string, number>

function consumption(view: LineView, run: Run, op: OrderOperation, order: Order, input: ConsumptionInput, use: LotUse, now: Date): NewEvent | Rejection {
  const producedKind = run.unitSerial ? 'unit' : 'lot'
  const producedId = run.unitSerial ?? order.outputLot
  const allowed = (material: string) => op.components.find((c) => c.materialId === material || (op.alternates[c.materialId] ?? []).includes(material))
  const base = { runId: run.id, orderId: order.id, opSeq: op.seq, producedKind, producedId } as const
  if (!(input.quantity > 0) || !Number.isFinite(input.quantity)) {
    return reject('definition_invalid', `A booked quantity must be above zero, not ${input.quantity}.`, { lotId: input.lotId })
  }
  const lot = view.lot(input.lotId)
  if (!lot) {
    const unit = view.unit(input.lotId)
    if (!unit) return reject('lot_unknown', `'${input.lotId}' is not a known lot or unit.`, { lotId: input.lotId })
    const material = view.order(unit.orderId)?.productId ?? ''
    const component = allowed(material)
    if (!component) return reject('lot_wrong_material', `Unit '${unit.serial}' is ${material}, which operation ${op.seq} does not use.`, { lotId: input.lotId, material })
    if ((use.get(unit.serial) ?? 0) > 0) return reject('lot_insufficient', `Unit '${unit.serial}' is already built in by this booking.`, { lotId: input.lotId })
    if (unit.state !== 'completed') {
      return reject('lot_not_released', `Unit '${unit.serial}' is ${unit.state}; only a completed unit can be built in.`, { lotId: input.lotId })
    }
    if (input.quantity !== 1) return reject('lot_insufficient', `A serialized unit is consumed one at a time.`, { lotId: input.lotId })
    use.set(unit.serial, 1)
    return event('MaterialConsumed', `unit/${unit.serial}`, { ...base, consumedKind: 'unit', consumedId: unit.serial, materialId: material, quantity: 1 })
  }
  const component = allowed(lot.materialId)
  if (!component) {
    const wanted = op.components.map((c) => c.materialId).join(', ') || 'no material'
    return reject('lot_wrong_material', `Lot '${lot.id}' is ${lot.materialId}; operation ${op.seq} takes ${wanted}.`, { lotId: lot.id, material: lot.materialId })
  }
  if (lot.status !== 'released') return reject('lot_not_released', `Lot '${lot.id}' is ${lot.status}; only a released lot may be used.`, { lotId: lot.id, status: lot.status })
  if (lot.expiresAt !== null && Date.parse(lot.expiresAt) <= now.getTime()) {
    return reject('lot_expired', `Lot '${lot.id}' expired on ${lot.expiresAt}.`, { lotId: lot.id, expiresAt: lot.expiresAt })
  }
  const left = lot.quantity - (use.get(lot.id) ?? 0)
  if (input.quantity > left) return reject('lot_insufficient', `Lot '${lot.id}' has ${left} on hand; ${input.quantity} were asked for.`, { lotId: lot.id, onHand: left })
  use.set(lot.id, (use.get(lot.id) ?? 0) + input.quantity)
  return event('MaterialConsumed', `lot/${lot.id}`, { ...base, consumedKind: 'lot', consumedId: lot.id, materialId: lot.materialId, quantity: input.quantity })
}

/** The record kept of a refused scan (the refusal itself is part of the as-built trail). */
export function refusedConsumption(run: Run, input: ConsumptionInput, why: Rejection): NewEvent {
  return event('ConsumptionRefused', `lot/${input.lotId}`, {
    runId: run.id,
    orderId: run.orderId,
    opSeq: run.opSeq,
    lotId: input.lotId,
    quantity: input.quantity,
    code: why.code,
    reason: why.message,
  })
}

export function consumeMaterial(view: LineView, runId: string, input: ConsumptionInput, ctx: DecisionContext): Decision<null> {
  const run = runIn(view, runId, ['running'], 'booked against')
  if ('code' in run) return refuse(run)
  const order = view.order(run.orderId)!
  const op = view.operations(run.orderId).find((o) => o.seq === run.opSeq)!
  const result = consumption(view, run, op, order, input, new Map(), ctx.now)
  if ('status' in result) return refuse(result, [refusedConsumption(run, input, result)])
  return accept([result], null)
}

function measurement(view: LineView, run: Run, op: OrderOperation, order: Order, input: MeasurementInput, ctx: DecisionContext, holding: { done: boolean }): NewEvent[] | Rejection {
  const spec = op.measurements.find((m) => m.name === input.name)
  if (!spec) return reject('measurement_unknown', `Operation ${op.seq} takes no measurement '${input.name}'.`, { name: input.name })
  if (spec.unit !== input.unit) return reject('measurement_unit', `'${spec.name}' is measured in ${spec.unit}, not ${input.unit}.`, { name: spec.name, unit: spec.unit })
  const withinLimits = (spec.lower === null || input.value >= spec.lower) && (spec.upper === null || input.value <= spec.upper)
  const subject = runSubject(order, run.unitSerial)
  const events: NewEvent[] = [
    event('MeasurementRecorded', subject, { runId: run.id, orderId: order.id, opSeq: op.seq, unitSerial: run.unitSerial, name: spec.name, value: input.value, unit: spec.unit, lower: spec.lower, upper: spec.upper, withinLimits }),
  ]
  if (withinLimits) return events
  const ncId = ctx.nextId()
  const reason = `${spec.name} = ${input.value} ${spec.unit} is outside ${spec.lower ?? '-∞'} … ${spec.upper ?? '+∞'}`
  events.push(event('NonconformanceOpened', subject, { ncId, orderId: order.id, opSeq: op.seq, unitSerial: run.unitSerial, runId: run.id, reason }))
  if (!holding.done) {
    holding.done = true
    if (run.unitSerial) {
      if (view.unit(run.unitSerial)?.state !== 'held') events.push(event('UnitHeld', subject, { serial: run.unitSerial, reason, ncId }))
    } else if (order.state !== 'held') {
      events.push(event('OrderHeld', `order/${order.id}`, { orderId: order.id, reason, from: order.state }))
    }
  }
  return events
}

export function recordMeasurement(view: LineView, runId: string, input: MeasurementInput, ctx: DecisionContext): Decision<{ withinLimits: boolean }> {
  const run = runIn(view, runId, ['running', 'paused'], 'measured')
  if ('code' in run) return refuse(run)
  const order = view.order(run.orderId)!
  const op = view.operations(run.orderId).find((o) => o.seq === run.opSeq)!
  const events = measurement(view, run, op, order, input, ctx, { done: false })
  if ('status' in events) return refuse(events)
  return accept(events, { withinLimits: events.length === 1 })
}

export { consumption, measurement, runIn }
