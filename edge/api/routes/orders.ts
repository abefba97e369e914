// Production orders: intake from ERP (idempotent on the order number), lifecycle, dispatch lists, WIP.
import { cancelOrder, closeOrder, defineOrder, dispatchOrder, holdOrder, releaseOrder, releaseOrderHold, resequenceDispatch } from '../../core/orders.ts'
import type { Decision } from '../../core/decision.ts'
import type { LineView } from '../../core/line-view.ts'
import { orm } from '../../store/drizzle.ts'
import * as tables from '../../store/schema.ts'
import { guard } from '../auth.ts'
import { command, type Api, type ApiDeps } from '../context.ts'
import { ProblemError } from '../problem.ts'
import { declare, valid } from '../route.ts'
import * as S from '../schemas.ts'
import { z } from '@hono/zod-openapi'
import type { SignedAction } from '../../core/signatures.ts'
import { AuditQueries } from '../../store/audit-queries.ts'
import { SignatureInput, signedCommand, signerFor } from './signatures.ts'

const readers = ['operator', 'lead', 'quality', 'maintenance', 'integration'] as const

type Transition = { name: string; summary: string; roles: readonly S.RoleName[]; reason: boolean; signed?: SignedAction; decide: (view: LineView, id: string, reason: string) => Decision<unknown> }

const SignedOnly = z.strictObject({ signature: SignatureInput.optional() }).openapi('SignedAction')

/** The body of a signable transition without a reason may be left out: it carries only the signature. */
function optionalBody<T extends ReturnType<typeof declare>>(route: T): T {
  const request = route.request as { body?: { required: boolean } }
  if (request.body) request.body.required = false
  return route
}

const transitions: Transition[] = [
  { name: 'release', summary: 'Release an order to production', roles: ['lead', 'integration'], reason: false, decide: (v, id) => releaseOrder(v, id) },
  { name: 'dispatch', summary: 'Dispatch an order to its work centers', roles: ['lead'], reason: false, decide: (v, id) => dispatchOrder(v, id) },
  { name: 'hold', summary: 'Put an order on hold', roles: ['lead', 'quality'], reason: true, decide: (v, id, r) => holdOrder(v, id, r) },
  { name: 'release-hold', summary: 'Release an order from hold', roles: ['lead', 'quality'], reason: true, decide: (v, id, r) => releaseOrderHold(v, id, r) },
  { name: 'cancel', summary: 'Cancel an order that has not started', roles: ['lead', 'integration'], reason: true, decide: (v, id, r) => cancelOrder(v, id, r) },
  { name: 'close', summary: 'Close a completed order (signed, when configured or given)', roles: ['lead', 'quality'], reason: false, signed: 'order-close', decide: (v, id) => closeOrder(v, id) },
]

export function orderRoutes(app: Api, deps: ApiDeps): void {
  const audit = new AuditQueries(deps.store.db.sqlite)
  const operatorsOf = deps.store.db.sqlite.prepare<[string], string>('SELECT DISTINCT operator_id FROM runs WHERE order_id = ?').pluck()
  app.openapi(declare({ method: 'post', path: '/api/v1/orders', tag: 'Orders', summary: 'Create or update an order (idempotent on its ERP number)', body: S.OrderRequest, status: 201, response: S.Accepted }), async (c) => {
    guard(c, ['integration', 'lead'])
    const req = valid(c, 'json', S.OrderRequest)
    const { result, seq } = await command(deps, c, (view) => defineOrder(view, req))
    return c.json({ seq, ...result }, result.created ? 201 : 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/orders', tag: 'Orders', summary: 'List orders', query: S.OrderQuery }), (c) => {
    guard(c, readers)
    const q = valid(c, 'query', S.OrderQuery)
    const rows = deps.store.db.orm
      .select()
      .from(tables.orders)
      .where(q.state ? orm.eq(tables.orders.state, q.state) : undefined)
      .orderBy(orm.asc(tables.orders.priority), orm.asc(tables.orders.dueAt), orm.asc(tables.orders.id))
      .limit(q.limit)
      .all()
    return c.json({ items: rows }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/orders/{id}', tag: 'Orders', summary: 'An order with its operations, units and WIP', params: S.PathId }), (c) => {
    guard(c, readers)
    const { id } = valid(c, 'param', S.PathId)
    const order = deps.store.view.order(id)
    if (!order) throw new ProblemError(404, 'not_found', `There is no order '${id}'.`)
    const operations = deps.store.view.operations(id)
    const u = tables.units
    const units = deps.store.db.orm.select({ serial: u.serial, state: u.state, held: u.held, holdReason: u.holdReason }).from(u).where(orm.eq(u.orderId, id)).orderBy(orm.asc(u.serial)).all()
    return c.json({ ...order, operations, units, wip: deps.queries.wipOfOrder(order, deps.clock.now()), signatures: audit.signaturesOf(`order/${id}`) }, 200)
  })

  for (const t of transitions) {
    const body = t.reason ? { body: S.Reason } : t.signed ? { body: SignedOnly } : {}
    const route = declare({ method: 'post', path: `/api/v1/orders/{id}/${t.name}`, tag: 'Orders', summary: t.summary, params: S.PathId, ...body, response: S.Accepted })
    app.openapi(t.signed && !t.reason ? optionalBody(route) : route, async (c) => {
      guard(c, t.roles)
      const { id } = valid(c, 'param', S.PathId)
      const reason = t.reason ? valid(c, 'json', S.Reason).reason : ''
      if (t.signed) {
        const { signature } = valid(c, 'json', SignedOnly)
        if (!deps.store.view.order(id)) throw new ProblemError(404, 'not_found', `There is no order '${id}'.`)
        const signing = await signerFor(deps, c, t.signed, signature, () => operatorsOf.all(id))
        const { seq } = await signedCommand(deps, c, signing, (view) => t.decide(view, id, reason))
        return c.json({ seq }, 200)
      }
      const { result, seq } = await command(deps, c, (view) => t.decide(view, id, reason))
      return c.json({ seq, ...(result && typeof result === 'object' ? result : {}) }, 200)
    })
  }

  app.openapi(declare({ method: 'get', path: '/api/v1/work-centers/{id}/dispatch-list', tag: 'Dispatch', summary: 'The dispatch list of a work center', params: S.PathId }), (c) => {
    guard(c, readers)
    const { id } = valid(c, 'param', S.PathId)
    const wc = deps.store.view.equipment(id)
    if (!wc || wc.level !== 'work_center') throw new ProblemError(404, 'not_found', `There is no work center '${id}'.`)
    return c.json({ workCenterId: id, items: deps.queries.dispatchList(id) }, 200)
  })

  app.openapi(declare({ method: 'put', path: '/api/v1/work-centers/{id}/dispatch-list', tag: 'Dispatch', summary: 'Resequence a dispatch list', params: S.PathId, body: S.Resequence, response: S.Accepted }), async (c) => {
    guard(c, ['lead'])
    const { id } = valid(c, 'param', S.PathId)
    const { orderIds } = valid(c, 'json', S.Resequence)
    const { seq } = await command(deps, c, (view) => resequenceDispatch(view, id, orderIds))
    return c.json({ seq }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/wip', tag: 'WIP', summary: 'Work in progress of every open order' }), (c) => {
    guard(c, readers)
    return c.json({ items: deps.queries.wip(deps.clock.now()) }, 200)
  })
}
