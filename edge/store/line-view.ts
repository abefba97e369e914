// The LineView port over the projection tables, with statements prepared once.
import type { LineView } from '../core/line-view.ts'
import type { Equipment, LotStatus, MachineState, MaterialLot, Order, OrderOperation, OrderState, Person, Run, Unit, UnitState } from '../core/model.ts'
import type { Sqlite } from './database.ts'
import { onDispatchList } from './schema.ts'

type Row = Record<string, unknown>

const str = (v: unknown) => v as string
const strOrNull = (v: unknown) => (v === null || v === undefined ? null : String(v))

export function orderFromRow(r: Row): Order {
  return {
    id: str(r.id),
    productId: str(r.product_id),
    quantity: Number(r.quantity),
    serialized: r.serialized === 1,
    serials: JSON.parse(str(r.serials)) as string[],
    bomId: str(r.bom_id),
    bomVersion: str(r.bom_version),
    routingId: str(r.routing_id),
    routingVersion: str(r.routing_version),
    lineId: str(r.line_id),
    priority: Number(r.priority),
    dueAt: strOrNull(r.due_at),
    plannedStartAt: strOrNull(r.planned_start_at),
    state: str(r.state) as OrderState,
    heldFrom: strOrNull(r.held_from) as OrderState | null,
    outputLot: str(r.output_lot),
    createdAt: str(r.created_at),
  }
}

type OperationDefinition = Omit<OrderOperation, 'seq' | 'name' | 'workCenterId' | 'state' | 'qtyStarted' | 'qtyGood' | 'qtyScrap' | 'startedAt' | 'completedAt'>

// Every order of a routing carries the same operation definitions: parse each text once.
const parsedDefinitions = new Map<string, OperationDefinition>()

function definitionOf(text: string): OperationDefinition {
  let def = parsedDefinitions.get(text)
  if (def === undefined) {
    if (parsedDefinitions.size >= 10_000) parsedDefinitions.clear()
    def = Object.freeze(JSON.parse(text) as OperationDefinition)
    parsedDefinitions.set(text, def)
  }
  return def
}

export function operationFromRow(r: Row): OrderOperation {
  const def = definitionOf(str(r.definition))
  return {
    ...def,
    seq: Number(r.seq),
    name: str(r.name),
    workCenterId: str(r.work_center_id),
    state: str(r.state) as OrderOperation['state'],
    qtyStarted: Number(r.qty_started),
    qtyGood: Number(r.qty_good),
    qtyScrap: Number(r.qty_scrap),
    startedAt: strOrNull(r.started_at),
    completedAt: strOrNull(r.completed_at),
  }
}

export function runFromRow(r: Row): Run {
  return {
    id: str(r.id),
    orderId: str(r.order_id),
    opSeq: Number(r.op_seq),
    unitSerial: strOrNull(r.unit_serial),
    quantity: Number(r.quantity),
    workCenterId: str(r.work_center_id),
    operatorId: str(r.operator_id),
    state: str(r.state) as Run['state'],
    startedAt: str(r.started_at),
    endedAt: strOrNull(r.ended_at),
    good: Number(r.good),
    scrap: Number(r.scrap),
  }
}

export function equipmentFromRow(r: Row): Equipment {
  return { id: str(r.id), level: str(r.level) as Equipment['level'], name: str(r.name), parentId: strOrNull(r.parent_id), ratedCycleTimeS: r.rated_cycle_time_s === null ? null : Number(r.rated_cycle_time_s) }
}

export function lotFromRow(r: Row): MaterialLot {
  return { id: str(r.id), materialId: str(r.material_id), status: str(r.status) as LotStatus, expiresAt: strOrNull(r.expires_at), quantity: Number(r.quantity), producedByOrder: strOrNull(r.produced_by_order) }
}

export function personFromRow(r: Row): Person {
  return { id: str(r.id), name: str(r.name), roles: JSON.parse(str(r.roles)), qualifications: JSON.parse(str(r.qualifications)), active: r.active === 1 }
}

const orderColumns = 'id, product_id, quantity, serialized, bom_id, bom_version, routing_id, routing_version, line_id, priority, due_at, planned_start_at, state, held_from, output_lot, created_at'

export function sqliteLineView(sqlite: Sqlite): LineView {
  const one = (sql: string) => {
    const stmt = sqlite.prepare(sql)
    return (...args: unknown[]) => stmt.get(...args) as Row | undefined
  }
  const many = (sql: string) => {
    const stmt = sqlite.prepare(sql)
    return (...args: unknown[]) => stmt.all(...args) as Row[]
  }
  const equipment = one('SELECT * FROM equipment WHERE id = ?')
  const material = one('SELECT * FROM materials WHERE id = ?')
  const bom = one('SELECT * FROM boms WHERE id = ? AND version = ?')
  const routing = one('SELECT * FROM routings WHERE id = ? AND version = ?')
  const person = one('SELECT * FROM people WHERE id = ?')
  const lot = one('SELECT * FROM lots WHERE id = ?')
  // The serial list can be long and is needed only to compare an ERP resend; it is read on demand.
  const order = one(`SELECT ${orderColumns} FROM orders WHERE id = ?`)
  const serials = one('SELECT serials FROM orders WHERE id = ?')
  // An order has a handful of operations: sorting them in JS is three times cheaper than SQLite's ORDER BY here.
  const operations = many('SELECT * FROM order_operations WHERE order_id = ?')
  const unit = one('SELECT * FROM units WHERE serial = ?')
  const run = one('SELECT * FROM runs WHERE id = ?')
  const unitRun = one('SELECT * FROM runs WHERE order_id = ? AND op_seq = ? AND unit_serial = ? ORDER BY start_seq DESC LIMIT 1')
  // Few rows per run: summing and de-duplicating in JS is cheaper than SQLite's sorter.
  const consumed = many('SELECT material_id, quantity FROM consumptions WHERE run_id = ?')
  const measured = many('SELECT name FROM measurements WHERE run_id = ?')
  const runningAt = one(`SELECT * FROM runs WHERE work_center_id = ? AND state = 'running' ORDER BY start_seq DESC LIMIT 1`)
  const wcState = one('SELECT state FROM work_center_states WHERE work_center_id = ?')
  const held = many('SELECT serial FROM units WHERE order_id = ? AND held = 1')
  // The same condition as the dispatch list itself: only what the lead sees can be resequenced.
  const dispatchable = many(`SELECT DISTINCT op.order_id AS id FROM order_operations op WHERE op.work_center_id = ? AND ${onDispatchList}`)
  return {
    equipment: (id) => {
      const r = equipment(id)
      return r && equipmentFromRow(r)
    },
    material: (id) => {
      const r = material(id)
      return r && { id: str(r.id), name: str(r.name), uom: str(r.uom), serialized: r.serialized === 1 }
    },
    bom: (id, version) => {
      const r = bom(id, version)
      return r && { id: str(r.id), version: str(r.version), productId: str(r.product_id), items: JSON.parse(str(r.items)) }
    },
    routing: (id, version) => {
      const r = routing(id, version)
      return r && { id: str(r.id), version: str(r.version), productId: str(r.product_id), operations: JSON.parse(str(r.operations)) }
    },
    person: (id) => {
      const r = person(id)
      return r && personFromRow(r)
    },
    lot: (id) => {
      const r = lot(id)
      return r && lotFromRow(r)
    },
    order: (id) => {
      const r = order(id)
      if (!r) return undefined
      return Object.defineProperty(orderFromRow({ ...r, serials: '[]' }), 'serials', {
        enumerable: true,
        get: () => JSON.parse(str(serials(id)?.serials ?? '[]')) as string[],
      })
    },
    operations: (orderId) => operations(orderId).map(operationFromRow).sort((a, b) => a.seq - b.seq),
    unit: (serial) => {
      const r = unit(serial)
      if (!r) return undefined
      const state: UnitState = r.held === 1 ? 'held' : (str(r.state) as UnitState)
      return { serial: str(r.serial), orderId: str(r.order_id), state } satisfies Unit
    },
    run: (id) => {
      const r = run(id)
      return r && runFromRow(r)
    },
    unitRun: (orderId, opSeq, serial) => {
      const r = unitRun(orderId, opSeq, serial)
      return r && runFromRow(r)
    },
    consumedOnRun: (runId) => {
      const totals = new Map<string, number>()
      for (const r of consumed(runId)) totals.set(str(r.material_id), (totals.get(str(r.material_id)) ?? 0) + Number(r.quantity))
      return totals
    },
    measuredOnRun: (runId) => new Set(measured(runId).map((r) => str(r.name))),
    runningRunAt: (workCenterId) => {
      const r = runningAt(workCenterId)
      return r && runFromRow(r)
    },
    workCenterState: (workCenterId) => wcState(workCenterId)?.state as MachineState | undefined,
    heldUnits: (orderId) => held(orderId).map((r) => str(r.serial)),
    dispatchableAt: (workCenterId) => dispatchable(workCenterId).map((r) => str(r.id)),
  }
}
