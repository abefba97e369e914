// Execution at the work center: start, pause, resume, book material, measure, complete.
import { completeOperation } from '../../core/completion.ts'
import { consumeMaterial, pauseOperation, recordMeasurement, resumeOperation, startOperation } from '../../core/execution.ts'
import type { Context } from 'hono'
import { guard, type AuthEnv } from '../auth.ts'
import { command, type Api, type ApiDeps } from '../context.ts'
import { ProblemError } from '../problem.ts'
import { declare, valid } from '../route.ts'
import * as S from '../schemas.ts'
import { runFromRow } from '../../store/line-view.ts'

const doers = ['operator', 'lead'] as const

/** Operators act as themselves; a lead or an integration may book for a named operator. */
function operatorFor(c: Context<AuthEnv>, requested: string | null): string {
  const p = c.get('principal')
  if (requested === null || requested === p.id) {
    if (p.kind === 'token') throw new ProblemError(422, 'operator_required', 'An API token acts for nobody on the floor: name the operator in operatorId.')
    return p.id
  }
  if (!p.roles.some((r) => r === 'lead' || r === 'admin' || r === 'integration')) {
    throw new ProblemError(403, 'forbidden', 'Only a lead or an integration may book work for another operator.')
  }
  return requested
}

export function executionRoutes(app: Api, deps: ApiDeps): void {
  app.openapi(declare({ method: 'post', path: '/api/v1/orders/{id}/operations/{seq}/start', tag: 'Execution', summary: 'Start an operation for a unit or a quantity', params: S.PathOp, body: S.StartRequest, status: 201, response: S.Accepted }), async (c) => {
    guard(c, [...doers, 'integration'])
    const p = valid(c, 'param', S.PathOp)
    const b = valid(c, 'json', S.StartRequest)
    const operatorId = operatorFor(c, b.operatorId)
    const { result, seq } = await command(deps, c, (view, ctx) =>
      startOperation(view, { orderId: p.id, opSeq: p.seq, unitSerial: b.unit, quantity: b.quantity, operatorId, workCenterId: b.workCenterId }, ctx),
    )
    return c.json({ seq, ...result }, 201)
  })

  app.openapi(declare({ method: 'post', path: '/api/v1/runs/{runId}/pause', tag: 'Execution', summary: 'Pause a run', params: S.PathRun, body: S.Reason, response: S.Accepted }), async (c) => {
    guard(c, [...doers, 'integration'])
    const { runId } = valid(c, 'param', S.PathRun)
    const { reason } = valid(c, 'json', S.Reason)
    const { seq } = await command(deps, c, (view) => pauseOperation(view, runId, reason))
    return c.json({ seq }, 200)
  })

  app.openapi(declare({ method: 'post', path: '/api/v1/runs/{runId}/resume', tag: 'Execution', summary: 'Resume a paused run', params: S.PathRun, response: S.Accepted }), async (c) => {
    guard(c, [...doers, 'integration'])
    const { runId } = valid(c, 'param', S.PathRun)
    const { seq } = await command(deps, c, (view) => resumeOperation(view, runId))
    return c.json({ seq }, 200)
  })

  app.openapi(declare({ method: 'post', path: '/api/v1/runs/{runId}/consumptions', tag: 'Execution', summary: 'Book a material lot (or sub-assembly unit) into a run', params: S.PathRun, body: S.Consumption, status: 201, response: S.Accepted }), async (c) => {
    guard(c, [...doers, 'integration'])
    const { runId } = valid(c, 'param', S.PathRun)
    const b = valid(c, 'json', S.Consumption)
    const { seq } = await command(deps, c, (view, ctx) => consumeMaterial(view, runId, { lotId: b.lot, quantity: b.quantity }, ctx))
    return c.json({ seq }, 201)
  })

  app.openapi(declare({ method: 'post', path: '/api/v1/runs/{runId}/measurements', tag: 'Execution', summary: 'Record a measurement on a run', params: S.PathRun, body: S.Measurement, status: 201, response: S.Accepted }), async (c) => {
    guard(c, [...doers, 'integration'])
    const { runId } = valid(c, 'param', S.PathRun)
    const b = valid(c, 'json', S.Measurement)
    const { result, seq } = await command(deps, c, (view, ctx) => recordMeasurement(view, runId, b, ctx))
    return c.json({ seq, ...result }, 201)
  })

  app.openapi(declare({ method: 'post', path: '/api/v1/runs/{runId}/complete', tag: 'Execution', summary: 'Complete a run with counts, and the material and measurements that go with it', params: S.PathRun, body: S.CompleteRequest, response: S.Accepted }), async (c) => {
    guard(c, [...doers, 'integration'])
    const { runId } = valid(c, 'param', S.PathRun)
    const b = valid(c, 'json', S.CompleteRequest)
    const { result, seq } = await command(deps, c, (view, ctx) =>
      completeOperation(view, { runId, good: b.good, scrap: b.scrap, scrapReasons: b.scrapReasons, consumptions: b.consumptions.map((x) => ({ lotId: x.lot, quantity: x.quantity })), measurements: b.measurements }, ctx),
    )
    return c.json({ seq, ...result }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/runs/{runId}', tag: 'Execution', summary: 'A run', params: S.PathRun }), (c) => {
    guard(c, ['operator', 'lead', 'quality', 'maintenance', 'integration'])
    const { runId } = valid(c, 'param', S.PathRun)
    const row = deps.store.db.sqlite.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as Record<string, unknown> | undefined
    if (!row) throw new ProblemError(404, 'not_found', `There is no run '${runId}'.`)
    return c.json(runFromRow(row), 200)
  })
}
