// Read models for the shop floor HMI: every work center's state and open runs (andon), one run with what it needs and has, reason codes.
import { z } from '@hono/zod-openapi'
import { rejectLossClasses, stopLossClasses, type ReasonCode } from '../../core/oee/reasons.ts'
import { runFromRow } from '../../store/line-view.ts'
import { OeeTimelineReader } from '../../store/oee-timeline.ts'
import { guard } from '../auth.ts'
import type { Api, ApiDeps } from '../context.ts'
import { ProblemError } from '../problem.ts'
import { declare, valid } from '../route.ts'
import * as S from '../schemas.ts'

const readers = ['operator', 'lead', 'quality', 'maintenance', 'integration'] as const

type Row = Record<string, unknown>

export const AndonItem = z
  .object({
    workCenterId: z.string(),
    name: z.string(),
    lineId: z.string().nullable(),
    state: z.string().nullable().describe('null until the machine or an operator first reports a state'),
    since: z.string().nullable(),
    source: z.string().nullable(),
    runs: z.array(z.object({ runId: z.string(), orderId: z.string(), productId: z.string(), opSeq: z.number(), unitSerial: z.string().nullable(), quantity: z.number(), operatorId: z.string(), state: z.string(), startedAt: z.string() })),
  })
  .openapi('AndonItem')

/** Leaf reasons only: a parent ("Equipment failure") groups, an operator picks what happened. */
function leaves(reasons: readonly ReasonCode[], classes: readonly string[]) {
  const parents = new Set(reasons.map((r) => r.parent).filter((p) => p !== undefined))
  return reasons.filter((r) => classes.includes(r.loss) && !parents.has(r.code)).map((r) => ({ code: r.code, name: r.name, parent: r.parent ?? null, loss: r.loss, planned: r.planned }))
}

export function hmiFloorRoutes(app: Api, deps: ApiDeps): void {
  const sqlite = deps.store.db.sqlite
  const oeeReader = new OeeTimelineReader(sqlite)
  const workCenters = sqlite.prepare(
    `SELECT e.id, e.name, e.parent_id, s.state, s.since, s.source FROM equipment e LEFT JOIN work_center_states s ON s.work_center_id = e.id
     WHERE e.level = 'work_center' ORDER BY e.id`,
  )
  const openRuns = sqlite.prepare(
    `SELECT r.*, o.product_id FROM runs r INDEXED BY runs_wc_state JOIN orders o ON o.id = r.order_id
     WHERE r.work_center_id = ? AND r.state IN ('running', 'paused') ORDER BY r.start_seq`,
  )
  const runById = sqlite.prepare('SELECT * FROM runs WHERE id = ?')
  const consumed = sqlite.prepare('SELECT event_seq, consumed_kind, consumed_id, material_id, quantity, at FROM consumptions WHERE run_id = ? ORDER BY event_seq')
  const measured = sqlite.prepare('SELECT event_seq, name, value, unit, lower, upper, within_limits, at FROM measurements WHERE run_id = ? ORDER BY event_seq')
  const refused = sqlite.prepare('SELECT event_seq, lot_id, quantity, code, reason, at FROM refusals WHERE run_id = ? ORDER BY event_seq')

  app.openapi(declare({ method: 'get', path: '/api/v1/hmi/andon', tag: 'HMI', summary: "Every work center's state and its open runs", response: z.object({ items: z.array(AndonItem) }) }), (c) => {
    guard(c, readers)
    const items = (workCenters.all() as Row[]).map((wc) => ({
      workCenterId: String(wc.id),
      name: String(wc.name),
      lineId: wc.parent_id === null ? null : String(wc.parent_id),
      state: wc.state === null ? null : String(wc.state),
      since: wc.since === null ? null : String(wc.since),
      source: wc.source === null ? null : String(wc.source),
      runs: (openRuns.all(wc.id) as Row[]).map((r) => {
        const run = runFromRow(r)
        return { runId: run.id, orderId: run.orderId, productId: String(r.product_id), opSeq: run.opSeq, unitSerial: run.unitSerial, quantity: run.quantity, operatorId: run.operatorId, state: run.state, startedAt: run.startedAt }
      }),
    }))
    return c.json({ items }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/hmi/runs/{runId}', tag: 'HMI', summary: 'A run with its operation (instructions, components, measurements) and what was booked, measured and refused on it', params: S.PathRun }), (c) => {
    guard(c, readers)
    const { runId } = valid(c, 'param', S.PathRun)
    const row = runById.get(runId) as Row | undefined
    if (!row) throw new ProblemError(404, 'not_found', `There is no run '${runId}'.`)
    const run = runFromRow(row)
    const order = deps.store.view.order(run.orderId)
    const operation = deps.store.view.operations(run.orderId).find((o) => o.seq === run.opSeq)
    return c.json(
      {
        run,
        order: order && { id: order.id, productId: order.productId, quantity: order.quantity, serialized: order.serialized, state: order.state },
        operation,
        consumptions: (consumed.all(runId) as Row[]).map((r) => ({ seq: Number(r.event_seq), kind: String(r.consumed_kind), lot: String(r.consumed_id), materialId: String(r.material_id), quantity: Number(r.quantity), at: String(r.at) })),
        measurements: (measured.all(runId) as Row[]).map((r) => ({ seq: Number(r.event_seq), name: String(r.name), value: Number(r.value), unit: String(r.unit), lower: r.lower === null ? null : Number(r.lower), upper: r.upper === null ? null : Number(r.upper), withinLimits: r.within_limits === 1, at: String(r.at) })),
        refusals: (refused.all(runId) as Row[]).map((r) => ({ seq: Number(r.event_seq), lot: String(r.lot_id), quantity: Number(r.quantity), code: String(r.code), reason: String(r.reason), at: String(r.at) })),
      },
      200,
    )
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/hmi/reason-codes', tag: 'HMI', summary: 'Reasons an operator can pick: for a stop, and for scrap' }), (c) => {
    guard(c, readers)
    // The tree as defined (PUT /api/v1/reason-codes), the shipped one until then.
    const reasons = oeeReader.reasons()
    return c.json({ stop: leaves(reasons, stopLossClasses), scrap: leaves(reasons, rejectLossClasses) }, 200)
  })
}
