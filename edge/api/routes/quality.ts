// Quality and traceability: genealogy traces, as-built records, holds, nonconformances, refusals, the audit chain.
import { releaseUnitHold } from '../../core/orders.ts'
import { readEvents, toRecorded, verifyChain } from '../../store/event-log.ts'
import { orm } from '../../store/drizzle.ts'
import * as tables from '../../store/schema.ts'
import { guard } from '../auth.ts'
import { command, type Api, type ApiDeps } from '../context.ts'
import { ProblemError } from '../problem.ts'
import { declare, valid } from '../route.ts'
import * as S from '../schemas.ts'

const tracers = ['quality', 'lead', 'integration', 'operator', 'maintenance'] as const

function subjectOf(q: { unit?: string | undefined; lot?: string | undefined }): { kind: 'unit' | 'lot'; id: string } {
  if ((q.unit === undefined) === (q.lot === undefined)) throw new ProblemError(422, 'query_invalid', 'Name exactly one of unit or lot.')
  return q.unit !== undefined ? { kind: 'unit', id: q.unit } : { kind: 'lot', id: q.lot! }
}

export function qualityRoutes(app: Api, deps: ApiDeps): void {
  app.openapi(declare({ method: 'get', path: '/api/v1/genealogy/backward', tag: 'Genealogy', summary: 'Everything that went into a unit or lot, recursively', query: S.TraceQuery }), (c) => {
    guard(c, tracers)
    const q = valid(c, 'query', S.TraceQuery)
    const s = subjectOf(q)
    return c.json({ ...s, edges: deps.queries.traceBackward(s.kind, s.id, q.depth) }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/genealogy/forward', tag: 'Genealogy', summary: 'Every unit, lot and order a lot or unit went into', query: S.TraceQuery }), (c) => {
    guard(c, tracers)
    const q = valid(c, 'query', S.TraceQuery)
    const s = subjectOf(q)
    return c.json({ ...s, ...deps.queries.traceForward(s.kind, s.id, q.depth) }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/as-built/units/{id}', tag: 'Genealogy', summary: 'As-built record of a unit', params: S.PathId }), (c) => {
    guard(c, tracers)
    const { id } = valid(c, 'param', S.PathId)
    const record = deps.queries.asBuilt('unit', id)
    if (!record) throw new ProblemError(404, 'not_found', `There is no unit '${id}'.`)
    return c.json(record, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/as-built/lots/{id}', tag: 'Genealogy', summary: 'As-built record of a lot made on this line', params: S.PathId }), (c) => {
    guard(c, tracers)
    const { id } = valid(c, 'param', S.PathId)
    const record = deps.queries.asBuilt('lot', id)
    if (!record) throw new ProblemError(404, 'not_found', `There is no lot '${id}'.`)
    return c.json(record, 200)
  })

  app.openapi(declare({ method: 'post', path: '/api/v1/units/{id}/release-hold', tag: 'Quality', summary: 'Release a unit from hold', params: S.PathId, body: S.Reason, response: S.Accepted }), async (c) => {
    guard(c, ['quality'])
    const { id } = valid(c, 'param', S.PathId)
    const { reason } = valid(c, 'json', S.Reason)
    const { seq } = await command(deps, c, (view) => releaseUnitHold(view, id, reason))
    return c.json({ seq }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/nonconformances', tag: 'Quality', summary: 'Nonconformances' }), (c) => {
    guard(c, ['quality', 'lead'])
    const nc = tables.nonconformances
    return c.json({ items: deps.store.db.orm.select().from(nc).orderBy(orm.desc(nc.openedAt)).limit(1000).all() }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/refusals', tag: 'Quality', summary: 'Refused material scans' }), (c) => {
    guard(c, ['quality', 'lead'])
    const r = tables.refusals
    return c.json({ items: deps.store.db.orm.select().from(r).orderBy(orm.desc(r.eventSeq)).limit(1000).all() }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/events', tag: 'Audit', summary: 'The event log (audit trail), in sequence order', query: S.EventQuery }), (c) => {
    guard(c, ['quality', 'integration'])
    const q = valid(c, 'query', S.EventQuery)
    const items = [...readEvents(deps.store.db.sqlite, q.after, q.limit)].map(toRecorded)
    return c.json({ items, head: deps.store.head() }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/audit/verify', tag: 'Audit', summary: 'Walk the hash chain and name the first broken link' }), (c) => {
    guard(c, ['quality'])
    return c.json(verifyChain(deps.store.db.sqlite), 200)
  })
}
