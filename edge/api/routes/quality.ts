// Quality and traceability: genealogy traces, as-built records and their corrections, signed hold releases and dispositions, refusals, the audit chain.
import { z } from '@hono/zod-openapi'
import { correctAsBuilt, dispositionNonconformance, type CorrectableRecord } from '../../core/audit.ts'
import { releaseUnitHold } from '../../core/orders.ts'
import { nonconformanceDispositions } from '../../core/signatures.ts'
import { AuditQueries } from '../../store/audit-queries.ts'
import { verifyAudit } from '../../store/audit-verify.ts'
import { readEvents, toRecorded } from '../../store/event-log.ts'
import { orm } from '../../store/drizzle.ts'
import * as tables from '../../store/schema.ts'
import { guard } from '../auth.ts'
import { command, type Api, type ApiDeps } from '../context.ts'
import { ProblemError } from '../problem.ts'
import { declare, valid } from '../route.ts'
import * as S from '../schemas.ts'
import { SignatureInput, signedCommand, signerFor } from './signatures.ts'

const reasonText = S.Reason.shape.reason
const SignedReason = z.strictObject({ reason: reasonText, signature: SignatureInput.optional() }).openapi('SignedReason')
const Disposition = z.strictObject({ disposition: z.enum(nonconformanceDispositions), reason: reasonText, signature: SignatureInput.optional() }).openapi('Disposition')
const CorrectionRequest = z
  .strictObject({
    seq: z.number().int().min(1).describe('The event that recorded the value being corrected'),
    field: z.string().min(1).max(64).default('value'),
    value: z.union([z.number(), z.string().max(1000)]),
    reason: reasonText.describe('Why the recorded value is wrong: required (21 CFR 11.10(e))'),
  })
  .openapi('AsBuiltCorrection')

const tracers = ['quality', 'lead', 'integration', 'operator', 'maintenance'] as const

function subjectOf(q: { unit?: string | undefined; lot?: string | undefined }): { kind: 'unit' | 'lot'; id: string } {
  if ((q.unit === undefined) === (q.lot === undefined)) throw new ProblemError(422, 'query_invalid', 'Name exactly one of unit or lot.')
  return q.unit !== undefined ? { kind: 'unit', id: q.unit } : { kind: 'lot', id: q.lot! }
}

export function qualityRoutes(app: Api, deps: ApiDeps): void {
  const sqlite = deps.store.db.sqlite
  const audit = new AuditQueries(sqlite)
  const heldBy = sqlite.prepare<[string], string>(`SELECT actor FROM events WHERE type = 'UnitHeld' AND subject = ? ORDER BY seq DESC LIMIT 1`).pluck()
  const nonconformance = sqlite.prepare<[string], Record<string, unknown>>('SELECT * FROM nonconformances WHERE id = ?')
  const lastCorrection = sqlite.prepare<[string, number, string], string>(
    `SELECT data FROM events WHERE subject = ? AND type = 'AsBuiltCorrected' AND json_extract(data, '$.correctsSeq') = ? AND json_extract(data, '$.field') = ? ORDER BY seq DESC LIMIT 1`,
  ).pluck()
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
    return c.json({ ...record, signatures: audit.signaturesOf(`unit/${id}`) }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/as-built/lots/{id}', tag: 'Genealogy', summary: 'As-built record of a lot made on this line', params: S.PathId }), (c) => {
    guard(c, tracers)
    const { id } = valid(c, 'param', S.PathId)
    const record = deps.queries.asBuilt('lot', id)
    if (!record) throw new ProblemError(404, 'not_found', `There is no lot '${id}'.`)
    return c.json({ ...record, signatures: audit.signaturesOf(`lot/${id}`) }, 200)
  })

  app.openapi(declare({ method: 'post', path: '/api/v1/units/{id}/release-hold', tag: 'Quality', summary: 'Release a unit from hold (signed, when configured or given)', params: S.PathId, body: SignedReason, response: S.Accepted }), async (c) => {
    guard(c, ['quality'])
    const { id } = valid(c, 'param', S.PathId)
    const { reason, signature } = valid(c, 'json', SignedReason)
    if (!deps.store.view.unit(id)) throw new ProblemError(404, 'not_found', `There is no unit '${id}'.`)
    const signing = await signerFor(deps, c, 'unit-hold-release', signature, () => [heldBy.get(`unit/${id}`) ?? ''])
    const { seq } = await signedCommand(deps, c, signing, (view) => releaseUnitHold(view, id, reason))
    return c.json({ seq }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/nonconformances/{id}', tag: 'Quality', summary: 'A nonconformance with its disposition and signatures', params: S.PathId }), (c) => {
    guard(c, ['quality', 'lead'])
    const { id } = valid(c, 'param', S.PathId)
    const nc = deps.store.db.orm.select().from(tables.nonconformances).where(orm.eq(tables.nonconformances.id, id)).get()
    if (!nc) throw new ProblemError(404, 'not_found', `There is no nonconformance '${id}'.`)
    return c.json({ ...nc, signatures: audit.signaturesOf(`nonconformance/${id}`) }, 200)
  })

  app.openapi(
    declare({ method: 'post', path: '/api/v1/nonconformances/{id}/disposition', tag: 'Quality', summary: 'Disposition a nonconformance (signed, when configured or given)', params: S.PathId, body: Disposition, response: S.Accepted }),
    async (c) => {
      guard(c, ['quality'])
      const { id } = valid(c, 'param', S.PathId)
      const { disposition, reason, signature } = valid(c, 'json', Disposition)
      const nc = nonconformance.get(id)
      if (!nc) throw new ProblemError(404, 'not_found', `There is no nonconformance '${id}'.`)
      const signing = await signerFor(deps, c, 'nonconformance-disposition', signature, () => [String(nc.opened_by)])
      const read = () => nonconformance.get(id) as { id: string; state: string } | undefined
      const { seq } = await signedCommand(deps, c, signing, () => dispositionNonconformance(read(), disposition, reason))
      return c.json({ seq }, 200)
    },
  )

  app.openapi(declare({ method: 'post', path: '/api/v1/as-built/corrections', tag: 'Audit', summary: 'Correct a recorded as-built value: a new event that names the corrected one and says why', body: CorrectionRequest, status: 201, response: S.Accepted }), async (c) => {
    guard(c, ['quality'])
    const req = valid(c, 'json', CorrectionRequest)
    const { result, seq } = await command(deps, c, () => {
      const row = audit.event(req.seq)
      const original: CorrectableRecord | undefined = row && { seq: row.seq, id: row.id, type: row.type, subject: row.subject, data: JSON.parse(row.data) as Record<string, unknown> }
      const last = original && lastCorrection.get(original.subject, original.seq, req.field)
      const current = last !== undefined ? (JSON.parse(last) as { to: unknown }).to : original?.data[req.field]
      return correctAsBuilt(original, current, { field: req.field, value: req.value, reason: req.reason })
    })
    return c.json({ seq, ...result }, 201)
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
    return c.json(verifyAudit(deps.store.db.sqlite), 200)
  })
}
