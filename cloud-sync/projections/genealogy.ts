// Genealogy across lines: a recursive walk over the central consumptions, forward (where did it go) or backward (what went into it).
import { sql } from 'drizzle-orm'
import type { CloudOrm } from '../database.ts'
import { rowsOf } from './central-event.ts'

export type TraceDirection = 'forward' | 'backward'

export interface TraceStart {
  kind: 'lot' | 'unit'
  id: string
}

export interface TraceLink {
  gatewayId: string
  lineId: string | null
  orderId: string
  opSeq: number
  producedKind: string
  producedId: string
  consumedKind: string
  consumedId: string
  materialId: string
  quantity: number
  at: string
  depth: number
}

export interface TraceNode {
  kind: string
  id: string
  depth: number
  /** Where the cloud saw it made: an order's output lot or a serialized unit; null for a lot received from outside. */
  madeBy: { gatewayId: string; lineId: string | null; orderId: string } | null
}

/** How deep a trace goes: far beyond any real bill of materials, and a bound should a log ever hold a cycle. */
export const maxTraceDepth = 50

/**
 * Every consumption reachable from the start, with its depth. UNION (not UNION ALL) drops a node
 * already reached at the same depth, and the depth bound ends a cycle.
 */
export async function traceGenealogy(orm: CloudOrm, start: TraceStart, direction: TraceDirection): Promise<{ links: TraceLink[]; nodes: TraceNode[] }> {
  const [from, to] = direction === 'forward' ? ['consumed', 'produced'] : ['produced', 'consumed']
  const fromKind = sql.raw(`c.${from}_kind`)
  const fromId = sql.raw(`c.${from}_id`)
  const toKind = sql.raw(`c.${to}_kind`)
  const toId = sql.raw(`c.${to}_id`)
  const links = await rowsOf<TraceLink>(
    orm,
    sql`WITH RECURSIVE reached(kind, id, depth) AS (
          SELECT ${start.kind}::text, ${start.id}::text, 0
          UNION
          SELECT ${toKind}, ${toId}, r.depth + 1 FROM central_consumptions c JOIN reached r ON ${fromKind} = r.kind AND ${fromId} = r.id WHERE r.depth < ${maxTraceDepth}
        )
        SELECT c.gateway_id AS "gatewayId", c.line_id AS "lineId", c.order_id AS "orderId", c.op_seq AS "opSeq", c.produced_kind AS "producedKind", c.produced_id AS "producedId",
               c.consumed_kind AS "consumedKind", c.consumed_id AS "consumedId", c.material_id AS "materialId", c.quantity, c.at, min(r.depth) + 1 AS depth
        FROM central_consumptions c JOIN reached r ON ${fromKind} = r.kind AND ${fromId} = r.id
        GROUP BY c.gateway_id, c.event_id
        ORDER BY depth, c.at, c.gateway_id, c.event_id`,
  )
  const depthOf = new Map<string, TraceNode>([[`${start.kind}\u0000${start.id}`, { kind: start.kind, id: start.id, depth: 0, madeBy: null }]])
  for (const l of links) {
    const kind = direction === 'forward' ? l.producedKind : l.consumedKind
    const id = direction === 'forward' ? l.producedId : l.consumedId
    const key = `${kind}\u0000${id}`
    if (!depthOf.has(key)) depthOf.set(key, { kind, id, depth: l.depth, madeBy: null })
  }
  const nodes = [...depthOf.values()]
  await madeBy(orm, nodes)
  return { links, nodes }
}

/** Which line made each lot (its output lot) and each unit: the cross-line step of a trace. */
async function madeBy(orm: CloudOrm, nodes: TraceNode[]): Promise<void> {
  const lots = nodes.filter((n) => n.kind === 'lot').map((n) => n.id)
  const units = nodes.filter((n) => n.kind === 'unit').map((n) => n.id)
  const found = new Map<string, TraceNode['madeBy']>()
  if (lots.length > 0) {
    const rows = await rowsOf<{ id: string; gatewayId: string; lineId: string | null; orderId: string }>(
      orm,
      sql`SELECT lot_id AS id, gateway_id AS "gatewayId", line_id AS "lineId", order_id AS "orderId" FROM central_lots WHERE lot_id IN (${sql.join(lots.map((l) => sql`${l}`), sql`, `)})`,
    )
    for (const r of rows) found.set(`lot\u0000${r.id}`, { gatewayId: r.gatewayId, lineId: r.lineId, orderId: r.orderId })
  }
  if (units.length > 0) {
    const rows = await rowsOf<{ id: string; gatewayId: string; lineId: string | null; orderId: string }>(
      orm,
      sql`SELECT serial AS id, gateway_id AS "gatewayId", line_id AS "lineId", order_id AS "orderId" FROM central_units WHERE serial IN (${sql.join(units.map((u) => sql`${u}`), sql`, `)})`,
    )
    for (const r of rows) found.set(`unit\u0000${r.id}`, { gatewayId: r.gatewayId, lineId: r.lineId, orderId: r.orderId })
  }
  for (const n of nodes) n.madeBy = found.get(`${n.kind}\u0000${n.id}`) ?? null
}
