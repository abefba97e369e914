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

const readers = ['operator', 'lead', 'quality', 'maintenance', 'integration'] as const

type Transition = { name: string; summary: string; roles: readonly S.RoleName[]; reason: boolean; decide: (view: LineView, id: string, reason: string) => Decision<unknown> }

const transitions: Transition[] = [
  { name: 'release', summary: 'Release an order to production', roles: ['lead', 'integration'], reason: false, decide: (v, id) => releaseOrder(v, id) },
  { name: 'dispatch', summary: 'Dispatch an order to its work centers', roles: ['lead'], reason: false, decide: (v, id) => dispatchOrder(v, id) },
  { name: 'hold', summary: 'Put an order on hold', roles: ['lead', 'quality'], reason: true, decide: (v, id, r) => holdOrder(v, id, r) },
  { name: 'release-hold', summary: 'Release an order from hold', roles: ['lead', 'quality'], reason: true, decide: (v, id, r) => releaseOrderHold(v, id, r) },
  { name: 'cancel', summary: 'Cancel an order that has not started', roles: ['lead', 'integration'], reason: true, decide: (v, id, r) => cancelOrder(v, id, r) },
  { name: 'close', summary: 'Close a completed order', roles: ['lead', 'quality'], reason: false, decide: (v, id) => closeOrder(v, id) },
]

export function orderRoutes(app: Api, deps: ApiDeps): void {
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
    return c.json({ ...order, operations, units, wip: deps.queries.wipOfOrder(order, deps.clock.now()) }, 200)
  })

  for (const t of transitions) {
    app.openapi(
      declare({ method: 'post', path: `/api/v1/orders/{id}/${t.name}`, tag: 'Orders', summary: t.summary, params: S.PathId, ...(t.reason ? { body: S.Reason } : {}), response: S.Accepted }),
      async (c) => {
        guard(c, t.roles)
        const { id } = valid(c, 'param', S.PathId)
        const reason = t.reason ? valid(c, 'json', S.Reason).reason : ''
        const { result, seq } = await command(deps, c, (view) => t.decide(view, id, reason))
        return c.json({ seq, ...(result && typeof result === 'object' ? result : {}) }, 200)
      },
    )
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
