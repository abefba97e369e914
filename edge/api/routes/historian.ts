// Historian queries for trends: raw samples of a signal over a range, or its 1-minute aggregates.
import { z } from '@hono/zod-openapi'
import { guard } from '../auth.ts'
import type { Api, ApiDeps } from '../context.ts'
import { ProblemError } from '../problem.ts'
import { declare, valid } from '../route.ts'

const HistoryQuery = z.strictObject({
  signal: z.string().min(1).max(300),
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
  aggregate: z.enum(['raw', '1m']).default('raw'),
  limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
})

export function historianRoutes(app: Api, deps: ApiDeps): void {
  app.openapi(declare({ method: 'get', path: '/api/v1/historian/samples', tag: 'Historian', summary: 'Samples of a signal over a time range, raw or as 1-minute aggregates', query: HistoryQuery }), (c) => {
    guard(c, ['operator', 'lead', 'quality', 'maintenance', 'integration'])
    const q = valid(c, 'query', HistoryQuery)
    const from = Date.parse(q.from)
    const to = Date.parse(q.to)
    if (to <= from) throw new ProblemError(422, 'query_invalid', `'to' (${q.to}) must be after 'from' (${q.from}).`)
    deps.historian.flush()
    if (q.aggregate === '1m') {
      deps.historian.downsample(Date.now())
      return c.json({ signal: q.signal, aggregate: '1m', items: deps.historian.minutes(q.signal, from, to) }, 200)
    }
    const items = deps.historian.range(q.signal, from, to, q.limit).map((s) => ({ ...s, time: new Date(s.timestamp).toISOString() }))
    return c.json({ signal: q.signal, aggregate: 'raw', items }, 200)
  })
}
