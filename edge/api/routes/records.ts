// The device history / batch record over HTTP: an order's or a unit's record as printable HTML, or as PDF printed by Chromium.
import { createRoute, z } from '@hono/zod-openapi'
import { BatchRecordReader } from '../records/batch-record.ts'
import { PdfPrinter } from '../records/pdf-printer.ts'
import { recordCsp, recordHtml } from '../records/record-html.ts'
import { guard } from '../auth.ts'
import type { Api, ApiDeps } from '../context.ts'
import { ProblemError } from '../problem.ts'
import { valid } from '../route.ts'
import { Problem } from '../schemas.ts'
import * as S from '../schemas.ts'

/** A record shows nonconformances and refused scans: the roles that read those (quality routes) read it; admin always. */
export const recordReaders = ['quality', 'lead'] as const

const RecordQuery = z.strictObject({ format: z.enum(['html', 'pdf']).default('html').describe('html (printable, the default) or pdf (printed by Chromium on the gateway)') })

const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: Problem } } })

function recordRoute(path: string, summary: string) {
  return createRoute({
    method: 'get',
    path,
    tags: ['Quality'],
    summary,
    security: [{ bearer: [] }],
    request: { params: S.PathId, query: RecordQuery },
    responses: {
      200: {
        description: 'The record',
        content: { 'text/html': { schema: z.string() }, 'application/pdf': { schema: z.string().openapi({ format: 'binary' }) } },
      },
      401: problemResponse('No valid credentials'),
      403: problemResponse('Role may not read records'),
      404: problemResponse('Unknown order or unit'),
      422: problemResponse('Invalid id or format'),
      503: problemResponse('PDF printing is not available or busy on this gateway'),
    },
  })
}

export interface RecordRouteOptions {
  /** The PDF printer; one per gateway, so that prints queue behind each other. */
  printer?: PdfPrinter
}

export function recordRoutes(app: Api, deps: ApiDeps, options: RecordRouteOptions = {}): void {
  const reader = new BatchRecordReader(deps.store.db.sqlite)
  const printer = options.printer ?? new PdfPrinter()

  /** The same document either way: the PDF is the HTML as Chromium prints it. */
  const answer = async (html: string, format: 'html' | 'pdf', name: string) => {
    // A record is not cached anywhere: it changes with every event, and it holds as-built data.
    const headers: Record<string, string> = { 'cache-control': 'no-store', 'content-security-policy': recordCsp }
    if (format === 'html') return new Response(html, { status: 200, headers: { ...headers, 'content-type': 'text/html; charset=utf-8' } })
    const pdf = await printer.print(html)
    return new Response(pdf, { status: 200, headers: { ...headers, 'content-type': 'application/pdf', 'content-disposition': `inline; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}.pdf"` } })
  }

  app.openapi(recordRoute('/api/v1/orders/{id}/record', 'Batch record of an order: as built, deviations, signatures, as planned vs as built'), async (c) => {
    guard(c, recordReaders)
    const { id } = valid(c, 'param', S.PathId)
    const { format } = valid(c, 'query', RecordQuery)
    const record = reader.order(id, deps.clock.now())
    if (!record) throw new ProblemError(404, 'not_found', `There is no order '${id}'.`)
    return answer(recordHtml(record), format, `batch-record-${id}`)
  })

  app.openapi(recordRoute('/api/v1/units/{id}/record', 'Device history record of a unit: its runs, lots, measurements, deviations, signatures'), async (c) => {
    guard(c, recordReaders)
    const { id } = valid(c, 'param', S.PathId)
    const { format } = valid(c, 'query', RecordQuery)
    const record = reader.unit(id, deps.clock.now())
    if (!record) throw new ProblemError(404, 'not_found', `There is no unit '${id}'.`)
    return answer(recordHtml(record), format, `device-history-record-${id}`)
  })
}
