// Historian queries for trends: the signals of a work center, raw samples of a signal over a range, or its 1-minute aggregates.
import { z } from '@hono/zod-openapi'
import { guard } from '../auth.ts'
import type { Api, ApiDeps } from '../context.ts'
import { ProblemError } from '../problem.ts'
import { declare, valid } from '../route.ts'

const readers = ['operator', 'lead', 'quality', 'maintenance', 'integration'] as const

const HistoryQuery = z.strictObject({
  signal: z.string().min(1).max(300),
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
  aggregate: z.enum(['raw', '1m']).default('raw'),
  limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
})

const SignalsQuery = z.strictObject({
  workCenterId: z.string().min(1).max(128).optional().describe('only the signals of this work center; all signals without it'),
})

const SignalItem = z.object({ signal: z.string(), device: z.string(), workCenterId: z.string().nullable().describe('the work center the device is bound to, null when none is known') }).openapi('HistorianSignal')

/** A collector names each signal `{device}/{signal}`: the device is the name's first segment. */
const deviceOf = (signal: string) => signal.split('/')[0] ?? signal

export function historianRoutes(app: Api, deps: ApiDeps): void {
  const workCenterExists = deps.store.db.sqlite.prepare(`SELECT 1 FROM equipment WHERE id = ? AND level = 'work_center'`)

  app.openapi(
    declare({ method: 'get', path: '/api/v1/historian/signals', tag: 'Historian', summary: 'The signals the historian holds, all or those of one work center', query: SignalsQuery, response: z.object({ workCenterId: z.string().nullable(), items: z.array(SignalItem) }) }),
    (c) => {
      guard(c, readers)
      const q = valid(c, 'query', SignalsQuery)
      if (q.workCenterId !== undefined && !workCenterExists.get(q.workCenterId)) throw new ProblemError(404, 'not_found', `query.workCenterId: there is no work center '${q.workCenterId}'.`)
      // A device's work center is its binding in the line's configuration, as the running connectivity reports it;
      // a signal recorded under the work center's own id (a device named after it) belongs to that work center too.
      const boundTo = new Map(deps.connectivity.current().devices.map((d) => [d.device, d.workCenterId]))
      const items = deps.historian.signals().map((signal) => {
        const device = deviceOf(signal)
        return { signal, device, workCenterId: boundTo.get(device) ?? (workCenterExists.get(device) ? device : null) }
      })
      return c.json({ workCenterId: q.workCenterId ?? null, items: q.workCenterId === undefined ? items : items.filter((s) => s.workCenterId === q.workCenterId) }, 200)
    },
  )

  app.openapi(declare({ method: 'get', path: '/api/v1/historian/samples', tag: 'Historian', summary: 'Samples of a signal over a time range, raw or as 1-minute aggregates', query: HistoryQuery }), (c) => {
    guard(c, readers)
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
