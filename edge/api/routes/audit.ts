// Audit trail review and export (21 CFR 11.10(b), (e)): filtered pages in seq order, and the whole filtered trail streamed as CSV or JSON.
import { z } from '@hono/zod-openapi'
import { AuditQueries, type AuditEntry, type AuditFilter } from '../../store/audit-queries.ts'
import { guard } from '../auth.ts'
import type { Api, ApiDeps } from '../context.ts'
import { ProblemError } from '../problem.ts'
import { declare, valid } from '../route.ts'

const filterText = z.string().min(1).max(200)
const filters = {
  from: z.iso.datetime({ offset: true }).optional().describe('Recorded at or after this instant'),
  to: z.iso.datetime({ offset: true }).optional().describe('Recorded before this instant'),
  actor: filterText.optional().describe('An actor as logged (person:olga, token:…) or a person id'),
  type: filterText.optional(),
  subject: filterText.optional().describe('The record, e.g. unit/U-1, order/PO-1, routing/RT-1/A'),
}

export const AuditTrailQuery = z.strictObject({
  ...filters,
  after: z.coerce.number().int().min(0).default(0).describe('Only entries after this seq: the next page'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
})

export const AuditExportQuery = z.strictObject({ ...filters, format: z.enum(['csv', 'json']).default('json') })

const csvColumns = ['seq', 'recordedAt', 'occurredAt', 'actor', 'personId', 'personName', 'terminal', 'type', 'subject', 'action', 'reason', 'previous', 'current', 'refersToSeq', 'data', 'hash'] as const

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : typeof value === 'number' ? String(value) : JSON.stringify(value)
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

export const csvRow = (e: AuditEntry) => csvColumns.map((k) => csvField(e[k])).join(',') + '\r\n'

function checkedFilter(q: AuditFilter): AuditFilter {
  if (q.from && q.to && Date.parse(q.to) <= Date.parse(q.from)) throw new ProblemError(422, 'query_invalid', `'to' (${q.to}) must be after 'from' (${q.from}).`, { errors: [{ path: 'query.to', message: 'must be after from' }] })
  return q
}

/** Rows read per page while streaming: memory stays flat however long the trail. */
const exportPage = 1000

export function auditRoutes(app: Api, deps: ApiDeps): void {
  const audit = new AuditQueries(deps.store.db.sqlite)

  app.openapi(declare({ method: 'get', path: '/api/v1/audit/trail', tag: 'Audit', summary: 'The audit trail in seq order: who, when, what (old and new value), why; filtered, paged with after', query: AuditTrailQuery }), (c) => {
    guard(c, ['quality'])
    const q = valid(c, 'query', AuditTrailQuery)
    return c.json(audit.page(checkedFilter(q), q.after, q.limit), 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/audit/export', tag: 'Audit', summary: 'The filtered audit trail as one CSV or JSON file, streamed', query: AuditExportQuery }), (c) => {
    guard(c, ['quality'])
    const q = valid(c, 'query', AuditExportQuery)
    const filter = checkedFilter(q)
    const csv = q.format === 'csv'
    const encoder = new TextEncoder()
    let after = 0
    let first = true
    let done = false
    // Pulled page by page: a slow reader holds back the reads instead of filling memory.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(csv ? csvColumns.join(',') + '\r\n' : '['))
      },
      pull(controller) {
        if (done) return
        const page = audit.page(filter, after, exportPage)
        let chunk = ''
        for (const e of page.items) {
          chunk += csv ? csvRow(e) : `${first ? '' : ','}\n${JSON.stringify(e)}`
          first = false
        }
        if (page.next === null) {
          done = true
          if (!csv) chunk += '\n]\n'
          if (chunk) controller.enqueue(encoder.encode(chunk))
          controller.close()
          return
        }
        after = page.next
        controller.enqueue(encoder.encode(chunk))
      },
    })
    const stamp = deps.clock.now().toISOString().replace(/[:.]/g, '-')
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': csv ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
        'content-disposition': `attachment; filename="takt-audit-${stamp}.${q.format}"`,
      },
    })
  })
}
