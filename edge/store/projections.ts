// Projections: the line's current state, updated from each event in the event's own transaction, rebuildable from the log.
import type { EventBody, RecordedEvent } from '../core/events.ts'
import type { OrderOperation, RoutingOperation } from '../core/model.ts'
import type { Sqlite } from './database.ts'
import { readEvents, toRecorded } from './event-log.ts'
import { OeeProjection } from './oee-projection.ts'
import { projectionTables } from './schema.ts'

type Handler<T extends EventBody['type']> = (e: Extract<RecordedEvent, { type: T }>) => void
type Handlers = { [T in EventBody['type']]: Handler<T> }

const bool = (b: boolean) => (b ? 1 : 0)

/** The parts of an order operation kept as one JSON definition column. */
export function operationDefinition(op: RoutingOperation & { alternates: Record<string, string[]> }): string {
  const { seq: _s, name: _n, workCenterId: _w, ...rest } = op
  return JSON.stringify(rest)
}

/** Rebuilds run on each connection: a Projections on it drops what it remembers when one has run since. */
const rebuilds = new WeakMap<Sqlite, number>()

/**
 * Applies events to the projection tables inside the store's transaction. It remembers a little
 * between events (the OEE projection's pending bucket counts and lookups), so the store tells it
 * where commands begin and end, flushes it before each commit and makes it forget on a rollback.
 */
export class Projections {
  readonly #handlers: Handlers
  readonly #oee: OeeProjection
  readonly #sqlite: Sqlite
  #rebuildsSeen: number

  constructor(sqlite: Sqlite) {
    const s = (sql: string) => sqlite.prepare(sql)
    const upsertEquipment = s('INSERT OR REPLACE INTO equipment (id, level, name, parent_id, rated_cycle_time_s) VALUES (?, ?, ?, ?, ?)')
    const upsertMaterial = s('INSERT OR REPLACE INTO materials (id, name, uom, serialized) VALUES (?, ?, ?, ?)')
    const upsertBom = s('INSERT OR REPLACE INTO boms (id, version, product_id, items) VALUES (?, ?, ?, ?)')
    const upsertRouting = s('INSERT OR REPLACE INTO routings (id, version, product_id, operations) VALUES (?, ?, ?, ?)')
    const upsertPerson = s('INSERT OR REPLACE INTO people (id, name, roles, qualifications, active) VALUES (?, ?, ?, ?, ?)')
    const upsertLot = s(
      `INSERT INTO lots (id, material_id, status, expires_at, quantity, produced_by_order) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET material_id = excluded.material_id, status = excluded.status, expires_at = excluded.expires_at, quantity = excluded.quantity`,
    )
    const deleteOrderOps = s('DELETE FROM order_operations WHERE order_id = ?')
    const upsertOrder = s(
      `INSERT INTO orders (id, product_id, quantity, serialized, serials, bom_id, bom_version, routing_id, routing_version, line_id, priority, due_at, planned_start_at, state, held_from, output_lot, created_at, updated_at)
       VALUES (@id, @productId, @quantity, @serialized, @serials, @bomId, @bomVersion, @routingId, @routingVersion, @lineId, @priority, @dueAt, @plannedStartAt, 'created', NULL, @outputLot, @at, @at)
       ON CONFLICT (id) DO UPDATE SET product_id = excluded.product_id, quantity = excluded.quantity, serialized = excluded.serialized, serials = excluded.serials,
         bom_id = excluded.bom_id, bom_version = excluded.bom_version, routing_id = excluded.routing_id, routing_version = excluded.routing_version, line_id = excluded.line_id,
         priority = excluded.priority, due_at = excluded.due_at, planned_start_at = excluded.planned_start_at, output_lot = excluded.output_lot, updated_at = excluded.updated_at`,
    )
    const insertOp = s(
      `INSERT INTO order_operations (order_id, seq, position, name, work_center_id, definition, state, qty_started, qty_good, qty_scrap, started_at, completed_at, order_state, order_priority, order_due_key)
       SELECT o.id, ?, ?, ?, ?, ?, 'pending', 0, 0, 0, NULL, NULL, o.state, o.priority, COALESCE(o.due_at, '9999') FROM orders o WHERE o.id = ?`,
    )
    const setOrderState = s('UPDATE orders SET state = ?, held_from = ?, updated_at = ? WHERE id = ?')
    const setOrderQty = s('UPDATE orders SET quantity = ?, updated_at = ? WHERE id = ?')
    const setOrderPlan = s('UPDATE orders SET priority = ?, due_at = ?, planned_start_at = ?, updated_at = ? WHERE id = ?')
    const setOrderSerials = s('UPDATE orders SET serials = ?, updated_at = ? WHERE id = ?')
    const insertUnit = s(`INSERT INTO units (serial, order_id, state, held, hold_reason) VALUES (?, ?, 'in_process', 0, NULL)`)
    const setUnitState = s('UPDATE units SET state = ? WHERE serial = ?')
    const setUnitHold = s('UPDATE units SET held = ?, hold_reason = ? WHERE serial = ?')
    const clearRanks = s('DELETE FROM dispatch_ranks WHERE work_center_id = ?')
    const clearOrderRanks = s('DELETE FROM dispatch_ranks WHERE order_id = ?')
    const insertRank = s('INSERT INTO dispatch_ranks (work_center_id, order_id, rank) VALUES (?, ?, ?)')
    const insertRun = s(
      `INSERT INTO runs (id, order_id, op_seq, unit_serial, quantity, work_center_id, operator_id, state, started_at, ended_at, good, scrap, scrap_reasons, start_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, NULL, 0, 0, '[]', ?)`,
    )
    const opStarted = s(
      `UPDATE order_operations SET qty_started = qty_started + ?, state = CASE WHEN state = 'pending' THEN 'in_progress' ELSE state END,
       started_at = COALESCE(started_at, ?) WHERE order_id = ? AND seq = ?`,
    )
    const orderStarted = s(`UPDATE orders SET state = 'in_progress', updated_at = ? WHERE id = ? AND state = 'dispatched'`)
    const setRunState = s('UPDATE runs SET state = ? WHERE id = ?')
    const addRunTime = s(
      `INSERT INTO run_times (order_id, op_seq, actual_s, quantity)
       SELECT order_id, op_seq, (julianday(?) - julianday(started_at)) * 86400.0, quantity FROM runs WHERE id = ?
       ON CONFLICT (order_id, op_seq) DO UPDATE SET actual_s = actual_s + excluded.actual_s, quantity = quantity + excluded.quantity`,
    )
    const runCompleted = s(`UPDATE runs SET state = 'completed', ended_at = ?, good = ?, scrap = ?, scrap_reasons = ? WHERE id = ?`)
    const opCompleted = s(
      `UPDATE order_operations SET qty_good = qty_good + ?, qty_scrap = qty_scrap + ?,
       state = CASE WHEN ? THEN 'completed' ELSE state END, completed_at = CASE WHEN ? THEN ? ELSE completed_at END
       WHERE order_id = ? AND seq = ?`,
    )
    const closeOp = s(`UPDATE order_operations SET state = 'completed', completed_at = ? WHERE order_id = ? AND seq = ?`)
    const lastOpSeq = sqlite.prepare<[string], { seq: number }>('SELECT MAX(seq) AS seq FROM order_operations WHERE order_id = ?')
    const insertConsumption = s(
      `INSERT INTO consumptions (event_seq, run_id, order_id, op_seq, produced_kind, produced_id, consumed_kind, consumed_id, material_id, quantity, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const takeFromLot = s('UPDATE lots SET quantity = quantity - ? WHERE id = ?')
    const insertMeasurement = s(
      `INSERT INTO measurements (event_seq, run_id, order_id, op_seq, unit_serial, name, value, unit, lower, upper, within_limits, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const insertNc = s(
      `INSERT INTO nonconformances (id, order_id, op_seq, unit_serial, run_id, reason, state, opened_at, opened_by) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)`,
    )
    const dispositionNc = s(`UPDATE nonconformances SET state = 'dispositioned', disposition = ?, dispositioned_at = ?, dispositioned_by = ? WHERE id = ?`)
    // A corrected measurement shows its corrected value; the original stays in the log (AsBuiltCorrected).
    const correctMeasurement = s(
      'UPDATE measurements SET value = @v, within_limits = ((lower IS NULL OR @v >= lower) AND (upper IS NULL OR @v <= upper)) WHERE event_seq = @seq',
    )
    const insertRefusal = s(
      'INSERT INTO refusals (event_seq, run_id, order_id, op_seq, lot_id, quantity, code, reason, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    const setWcState = s('INSERT OR REPLACE INTO work_center_states (work_center_id, state, since, source) VALUES (?, ?, ?, ?)')
    const logWcState = s('INSERT INTO machine_state_log (event_seq, work_center_id, state, at) VALUES (?, ?, ?, ?)')
    const insertCount = s('INSERT INTO machine_counts (event_seq, work_center_id, run_id, order_id, good, reject, at) VALUES (?, ?, ?, ?, ?, ?, ?)')
    const outputLot = s(
      `INSERT INTO lots (id, material_id, status, expires_at, quantity, produced_by_order) VALUES (?, ?, 'released', NULL, ?, ?)
       ON CONFLICT (id) DO UPDATE SET quantity = lots.quantity + excluded.quantity`,
    )

    const oee = new OeeProjection(sqlite)
    this.#oee = oee
    this.#sqlite = sqlite
    this.#rebuildsSeen = rebuilds.get(sqlite) ?? 0

    const defineOrder = (e: Extract<RecordedEvent, { type: 'OrderCreated' }>) => {
      const d = e.data
      upsertOrder.run({ ...d, serialized: bool(d.serialized), serials: JSON.stringify(d.serials), at: e.occurredAt })
      deleteOrderOps.run(d.id)
      d.operations.forEach((op: OrderOperation, i: number) => insertOp.run(op.seq, i, op.name, op.workCenterId, operationDefinition(op), d.id))
    }

    this.#handlers = {
      EquipmentDefined: ({ data: d }) => upsertEquipment.run(d.id, d.level, d.name, d.parentId, d.ratedCycleTimeS),
      MaterialDefined: ({ data: d }) => upsertMaterial.run(d.id, d.name, d.uom, bool(d.serialized)),
      BomDefined: ({ data: d }) => upsertBom.run(d.id, d.version, d.productId, JSON.stringify(d.items)),
      RoutingDefined: ({ data: d }) => upsertRouting.run(d.id, d.version, d.productId, JSON.stringify(d.operations)),
      PersonDefined: ({ data: d }) => upsertPerson.run(d.id, d.name, JSON.stringify(d.roles), JSON.stringify(d.qualifications), bool(d.active)),
      LotDefined: ({ data: d }) => upsertLot.run(d.id, d.materialId, d.status, d.expiresAt, d.quantity, null),
      OrderCreated: defineOrder,
      OrderQuantityChanged: (e) => setOrderQty.run(e.data.to, e.occurredAt, e.data.orderId),
      OrderPlanChanged: (e) => setOrderPlan.run(e.data.priority, e.data.dueAt, e.data.plannedStartAt, e.occurredAt, e.data.orderId),
      OrderReleased: (e) => {
        setOrderState.run('released', null, e.occurredAt, e.data.orderId)
        setOrderSerials.run(JSON.stringify(e.data.serials), e.occurredAt, e.data.orderId)
        for (const serial of e.data.serials) insertUnit.run(serial, e.data.orderId)
      },
      OrderDispatched: (e) => setOrderState.run('dispatched', null, e.occurredAt, e.data.orderId),
      OrderHeld: (e) => setOrderState.run('held', e.data.from, e.occurredAt, e.data.orderId),
      OrderHoldReleased: (e) => setOrderState.run(e.data.to, null, e.occurredAt, e.data.orderId),
      OrderCancelled: (e) => {
        setOrderState.run('cancelled', null, e.occurredAt, e.data.orderId)
        clearOrderRanks.run(e.data.orderId)
      },
      OrderCompleted: (e) => {
        setOrderState.run('completed', null, e.occurredAt, e.data.orderId)
        clearOrderRanks.run(e.data.orderId)
      },
      OrderClosed: (e) => setOrderState.run('closed', null, e.occurredAt, e.data.orderId),
      DispatchResequenced: ({ data: d }) => {
        clearRanks.run(d.workCenterId)
        d.orderIds.forEach((orderId, i) => insertRank.run(d.workCenterId, orderId, i + 1))
      },
      OperationStarted: (e) => {
        const d = e.data
        insertRun.run(d.runId, d.orderId, d.opSeq, d.unitSerial, d.quantity, d.workCenterId, d.operatorId, e.occurredAt, e.seq)
        opStarted.run(d.quantity, e.occurredAt, d.orderId, d.opSeq)
        orderStarted.run(e.occurredAt, d.orderId)
        oee.operatorActed(e)
      },
      OperationPaused: (e) => {
        setRunState.run('paused', e.data.runId)
        oee.operatorActed(e)
      },
      OperationClosed: (e) => closeOp.run(e.occurredAt, e.data.orderId, e.data.opSeq),
      OperationResumed: (e) => {
        setRunState.run('running', e.data.runId)
        oee.operatorActed(e)
      },
      OperationCompleted: (e) => {
        const d = e.data
        runCompleted.run(e.occurredAt, d.good, d.scrap, JSON.stringify(d.scrapReasons), d.runId)
        addRunTime.run(e.occurredAt, d.runId)
        oee.operatorCompleted(e)
        const done = bool(d.operationCompleted)
        opCompleted.run(d.good, d.scrap, done, done, e.occurredAt, d.orderId, d.opSeq)
        oee.operatorActed(e)
        if (d.unitSerial !== null) {
          if (d.scrap > 0) setUnitState.run('scrapped', d.unitSerial)
          else if (lastOpSeq.get(d.orderId)?.seq === d.opSeq) setUnitState.run('completed', d.unitSerial)
        }
      },
      MaterialConsumed: (e) => {
        const d = e.data
        insertConsumption.run(e.seq, d.runId, d.orderId, d.opSeq, d.producedKind, d.producedId, d.consumedKind, d.consumedId, d.materialId, d.quantity, e.occurredAt)
        if (d.consumedKind === 'lot') takeFromLot.run(d.quantity, d.consumedId)
        else setUnitState.run('consumed', d.consumedId)
      },
      ConsumptionRefused: (e) => {
        const d = e.data
        insertRefusal.run(e.seq, d.runId, d.orderId, d.opSeq, d.lotId, d.quantity, d.code, d.reason, e.actor, e.occurredAt)
      },
      MeasurementRecorded: (e) => {
        const d = e.data
        insertMeasurement.run(e.seq, d.runId, d.orderId, d.opSeq, d.unitSerial, d.name, d.value, d.unit, d.lower, d.upper, bool(d.withinLimits), e.occurredAt)
      },
      NonconformanceOpened: (e) => {
        const d = e.data
        insertNc.run(d.ncId, d.orderId, d.opSeq, d.unitSerial, d.runId, d.reason, e.occurredAt, e.actor)
      },
      NonconformanceDispositioned: (e) => dispositionNc.run(e.data.disposition, e.occurredAt, e.actor, e.data.ncId),
      RecordSigned: () => {},
      PersonDeactivated: () => {},
      AccountLocked: () => {},
      AsBuiltCorrected: ({ data: d }) => {
        if (d.correctsType === 'MeasurementRecorded' && d.field === 'value' && typeof d.to === 'number') correctMeasurement.run({ v: d.to, seq: d.correctsSeq })
      },
      UnitHeld: (e) => setUnitHold.run(1, e.data.reason, e.data.serial),
      UnitHoldReleased: (e) => setUnitHold.run(0, null, e.data.serial),
      OutputLotProduced: ({ data: d }) => outputLot.run(d.lotId, d.materialId, d.quantity, d.orderId),
      WorkCenterStateChanged: (e) => {
        setWcState.run(e.data.workCenterId, e.data.state, e.occurredAt, e.data.source)
        logWcState.run(e.seq, e.data.workCenterId, e.data.state, e.occurredAt)
        oee.stateChanged(e)
      },
      MachineCounted: (e) => {
        insertCount.run(e.seq, e.data.workCenterId, e.data.runId, e.data.orderId, e.data.good, e.data.reject, e.occurredAt)
        oee.counted(e)
      },
      ShiftCalendarDefined: (e) => oee.calendarDefined(e),
      ShiftCalendarAssigned: (e) => oee.calendarAssigned(e),
      ReasonCodesDefined: (e) => oee.reasonsDefined(e),
      MicroStopThresholdSet: (e) => oee.thresholdSet(e),
      DowntimeEdited: (e) => oee.downtimeEdited(e),
    }
  }

  apply(e: RecordedEvent): void {
    ;(this.#handlers[e.type] as (e: RecordedEvent) => void)(e)
  }

  beginCommand(): void {
    const seen = rebuilds.get(this.#sqlite) ?? 0
    if (seen !== this.#rebuildsSeen) {
      this.#rebuildsSeen = seen
      this.#oee.forget()
    }
    this.#oee.beginCommand()
  }

  commandDone(): void {
    this.#oee.commandDone()
  }

  /** The command's savepoint was rolled back. */
  commandFailed(): void {
    this.#oee.commandFailed()
  }

  /** Writes what is pending; before the transaction commits. */
  flush(): void {
    this.#oee.flush()
  }

  /** The transaction was rolled back. */
  forget(): void {
    this.#oee.forget()
  }
}

/** Clears every projection table and replays the whole log through the same handlers, in one transaction. */
export function rebuildProjections(sqlite: Sqlite): number {
  const projections = new Projections(sqlite)
  let count = 0
  sqlite.transaction(() => {
    for (const table of projectionTables) sqlite.prepare(`DELETE FROM ${table}`).run()
    // Read in pages: better-sqlite3 cannot write while an iterator on the same connection is open.
    for (let page = readPage(sqlite, 0); page.length > 0; page = readPage(sqlite, page.at(-1)!.seq)) {
      for (const row of page) projections.apply(toRecorded(row))
      count += page.length
    }
    projections.flush()
  })()
  rebuilds.set(sqlite, (rebuilds.get(sqlite) ?? 0) + 1)
  return count
}

function readPage(sqlite: Sqlite, afterSeq: number) {
  return [...readEvents(sqlite, afterSeq, 10_000)]
}

/** Every projection table's rows in a stable order, for comparing a rebuild with the live state. */
export function dumpProjections(sqlite: Sqlite): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {}
  for (const table of projectionTables) out[table] = sqlite.prepare(`SELECT * FROM ${table} ORDER BY 1, 2, 3`).all()
  return out
}
