// OEE and downtime: OEE for any period and grouping, the live value, downtime edits, shift calendars and reason codes.
import { z } from '@hono/zod-openapi'
import { assignShiftCalendar, defineReasonCodes, defineShiftCalendar, maxMicroStopThresholdMs, recordDowntimeEdit, setMicroStopThreshold } from '../../core/oee-commands.ts'
import { validateCalendar } from '../../core/oee/calendar.ts'
import { classifyStop, mergeStops, splitStop, type DowntimeEdit, type DowntimeEvent } from '../../core/oee/downtime.ts'
import { lossClasses, validateReasons, type ReasonCode, type ReasonTree } from '../../core/oee/reasons.ts'
import { OeeQueries, type WorkCenterRef } from '../../store/oee-queries.ts'
import { guard } from '../auth.ts'
import { command, type Api, type ApiDeps } from '../context.ts'
import { ProblemError } from '../problem.ts'
import { declare, valid } from '../route.ts'
import * as S from '../schemas.ts'

const readers = ['operator', 'lead', 'quality', 'maintenance', 'integration'] as const
/** Who may classify, split and merge stops: the people at the machine and those who run the line. */
const classifiers = ['operator', 'lead', 'maintenance', 'integration'] as const
/** Who may define calendars and reason codes (admin always may). */
const planners = ['lead', 'integration'] as const

const DAY = 86_400_000
/** Longest OEE query: a year and a bit, so that a year compares with the last. */
const maxRangeMs = 400 * DAY
/** Longest downtime list: the stops are computed from the raw timeline. */
const maxDowntimeRangeMs = 31 * DAY

const id = z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._:\-/]*$/, 'letters, digits and . _ : - / only')
const instant = z.iso.datetime({ offset: true })
const why = z.string().max(500).nullable().default(null)

const OeeQuery = z
  .strictObject({
    workCenterId: id.optional(),
    lineId: id.optional(),
    from: instant,
    to: instant,
    by: z.enum(['shift', 'day', 'order', 'product']).optional(),
  })
  .refine((q) => (q.workCenterId === undefined) !== (q.lineId === undefined), { message: 'Name exactly one of workCenterId and lineId.', path: ['workCenterId'] })

const RangeQuery = z.strictObject({ from: instant, to: instant })

const Classify = z.strictObject({ from: instant.describe("The stop's start"), reason: id, why })
const Split = z.strictObject({ from: instant.describe("The stop's start"), at: instant.describe('Where to split it'), reasons: z.tuple([id, id]), why })
const Merge = z.strictObject({ from: instant.describe("The first stop's start"), reason: id.optional(), why })

const hhmm = z.string().regex(/^\d{2}:\d{2}$/, "a wall time 'HH:MM'")
const Calendar = z
  .strictObject({
    id,
    timeZone: z.string().min(1).max(64),
    shifts: z
      .array(
        z.strictObject({
          name: z.string().min(1).max(64),
          days: z.array(z.number().int()).min(1).max(7),
          start: hhmm,
          end: hhmm,
          breaks: z.array(z.strictObject({ start: hhmm, end: hhmm })).max(20).default([]),
        }),
      )
      .max(20),
    holidays: z.array(z.string().max(10)).max(1000).default([]),
    plannedDowntime: z.array(z.strictObject({ from: z.string().max(40), to: z.string().max(40), reason: z.string().min(1).max(200) })).max(1000).default([]),
  })
  .openapi('ShiftCalendar')

const Assignment = z.strictObject({ calendarId: id.nullable() })
const Settings = z.strictObject({ microStopThresholdMs: z.number().int().min(0).max(maxMicroStopThresholdMs) })

const Reasons = z
  .strictObject({
    reasons: z
      .array(
        z.strictObject({
          code: z.string().min(1).max(64),
          name: z.string().max(200),
          parent: z.string().max(64).optional(),
          loss: z.enum(lossClasses as [string, ...string[]]),
          planned: z.boolean(),
          packml: z.number().int().optional(),
        }),
      )
      .min(1)
      .max(2000),
  })
  .openapi('ReasonCodes')

function range(from: string, to: string, max: number): { from: number; to: number } {
  const f = Date.parse(from)
  const t = Date.parse(to)
  if (!(t > f)) throw new ProblemError(422, 'range_invalid', `query.to (${to}) must be after query.from (${from}).`, { errors: [{ path: 'query.to', message: 'must be after from' }] })
  if (t - f > max) throw new ProblemError(422, 'range_too_long', `The range from ${from} to ${to} is longer than ${max / DAY} days.`, { errors: [{ path: 'query.to', message: `at most ${max / DAY} days after from` }] })
  return { from: f, to: t }
}

function invalidBody(what: string, problems: readonly { path: string; message: string }[]): ProblemError {
  const errors = problems.map((p) => ({ path: `json.${p.path}`, message: p.message }))
  return new ProblemError(422, 'definition_invalid', `The ${what} is not valid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, { errors })
}

const iso = (ms: number) => new Date(ms).toISOString()
const stopJson = (e: DowntimeEvent) => ({ from: iso(e.from), to: e.open ? null : iso(e.to), until: iso(e.to), open: e.open, durationMs: e.to - e.from, reason: e.reason, reasonSource: e.reasonSource, states: e.states })

export function oeeRoutes(app: Api, deps: ApiDeps): void {
  const queries = new OeeQueries(deps.store.db.sqlite)
  const now = () => deps.clock.now().getTime()
  const workCenter = (wcId: string): WorkCenterRef => {
    const wc = queries.workCenter(wcId)
    if (!wc) throw new ProblemError(404, 'not_found', `There is no work center '${wcId}'.`)
    return wc
  }

  app.openapi(declare({ method: 'get', path: '/api/v1/oee', tag: 'OEE', summary: 'OEE with its loss tree for a work center or line, over a range or by shift, day, order or product', query: OeeQuery }), (c) => {
    guard(c, readers)
    const q = valid(c, 'query', OeeQuery)
    const r = { ...range(q.from, q.to, maxRangeMs), now: now() }
    const meta = { from: q.from, to: q.to, by: q.by ?? null }
    if (q.workCenterId !== undefined) {
      const wc = workCenter(q.workCenterId)
      const calendarId = queries.calendarOf(wc)?.id ?? null
      const out = queries.workCenterOee(wc, r, q.by)
      return c.json(Array.isArray(out) ? { workCenterId: wc.id, calendarId, ...meta, items: out } : { workCenterId: wc.id, calendarId, ...meta, oee: out }, 200)
    }
    const lineId = q.lineId!
    const centers = queries.lineWorkCenters(lineId)
    if (centers.length === 0) throw new ProblemError(404, 'not_found', `There is no line '${lineId}' with work centers.`)
    if (q.by === 'order' || q.by === 'product') throw new ProblemError(422, 'grouping_unsupported', `query.by: a line's OEE is by shift or day; by ${q.by}, ask each work center.`, { errors: [{ path: 'query.by', message: 'shift or day for a line' }] })
    const by = q.by as 'shift' | 'day' | undefined
    const out = queries.lineOee(centers, r, by)
    const workCenterIds = centers.map((w) => w.id)
    return c.json(Array.isArray(out) ? { lineId, workCenterIds, ...meta, items: out } : { lineId, workCenterIds, ...meta, oee: out }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/work-centers/{id}/oee/current', tag: 'OEE', summary: "The live OEE of the work center's current shift", params: S.PathId }), (c) => {
    guard(c, readers)
    const wc = workCenter(valid(c, 'param', S.PathId).id)
    const at = now()
    return c.json({ workCenterId: wc.id, at: iso(at), ...queries.current(wc, at) }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/work-centers/{id}/oee/settings', tag: 'OEE', summary: "The work center's micro-stop threshold", params: S.PathId }), (c) => {
    guard(c, readers)
    const wc = workCenter(valid(c, 'param', S.PathId).id)
    return c.json({ workCenterId: wc.id, microStopThresholdMs: queries.read.threshold(wc.id) }, 200)
  })

  app.openapi(declare({ method: 'put', path: '/api/v1/work-centers/{id}/oee/settings', tag: 'OEE', summary: "Set the work center's micro-stop threshold (its OEE buckets are rebuilt)", params: S.PathId, body: Settings, response: S.Accepted }), async (c) => {
    guard(c, planners)
    const wc = workCenter(valid(c, 'param', S.PathId).id)
    const b = valid(c, 'json', Settings)
    const { seq } = await command(deps, c, (view) => setMicroStopThreshold(view, wc.id, b.microStopThresholdMs))
    return c.json({ seq }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/work-centers/{id}/downtime', tag: 'OEE', summary: 'The stops of a work center in a range, with their reasons', params: S.PathId, query: RangeQuery }), (c) => {
    guard(c, readers)
    const wc = workCenter(valid(c, 'param', S.PathId).id)
    const q = valid(c, 'query', RangeQuery)
    const r = range(q.from, q.to, maxDowntimeRangeMs)
    return c.json({ workCenterId: wc.id, from: q.from, to: q.to, items: queries.downtime(wc, r.from, r.to, now()).map(stopJson) }, 200)
  })

  const edit = <T extends typeof Classify | typeof Split | typeof Merge>(path: string, summary: string, body: T, make: (b: z.infer<T>, stops: DowntimeEvent[], tree: ReasonTree) => DowntimeEdit) =>
    app.openapi(declare({ method: 'post', path: `/api/v1/work-centers/{id}/downtime/${path}`, tag: 'OEE', summary, params: S.PathId, body, status: 201, response: S.Accepted }), async (c) => {
      guard(c, classifiers)
      const wc = workCenter(valid(c, 'param', S.PathId).id)
      const b = valid(c, 'json', body) as z.infer<T> & { from: string; why: string | null }
      // Decided inside the write transaction: the stops are read as the edit will find them.
      const { result, seq } = await command(deps, c, () => {
        const stops = queries.stopsAround(wc, Date.parse(b.from), now())
        return recordDowntimeEdit(wc.id, make(b, stops, queries.read.tree()), b.why)
      })
      return c.json({ seq, ...result }, 201)
    })
  edit('classify', 'Give a stop a reason', Classify, (b, stops, tree) => classifyStop(tree, stops, Date.parse(b.from), (b as z.infer<typeof Classify>).reason))
  edit('split', 'Split a stop in two, each part with its own reason', Split, (b, stops, tree) => {
    const s = b as z.infer<typeof Split>
    return splitStop(tree, stops, Date.parse(s.from), Date.parse(s.at), s.reasons)
  })
  edit('merge', 'Merge a stop with the stop that follows it', Merge, (b, stops, tree) => mergeStops(tree, stops, Date.parse(b.from), (b as z.infer<typeof Merge>).reason))

  app.openapi(declare({ method: 'get', path: '/api/v1/shift-calendars', tag: 'OEE', summary: 'The shift calendars' }), (c) => {
    guard(c, readers)
    return c.json({ items: [...queries.read.calendarIds()].map((cid) => queries.read.calendar(cid)) }, 200)
  })

  app.openapi(declare({ method: 'put', path: '/api/v1/shift-calendars/{id}', tag: 'OEE', summary: 'Define or redefine a shift calendar', params: S.PathId, body: Calendar, response: S.Accepted }), async (c) => {
    guard(c, planners)
    const p = valid(c, 'param', S.PathId)
    const calendar = valid(c, 'json', Calendar)
    if (calendar.id !== p.id) throw new ProblemError(422, 'path_mismatch', `The calendar in the body (${calendar.id}) is not the one named in the path (${p.id}).`)
    const problems = validateCalendar(calendar)
    if (problems.length > 0) throw invalidBody(`shift calendar '${calendar.id}'`, problems)
    const { seq } = await command(deps, c, () => defineShiftCalendar(calendar))
    return c.json({ seq }, 200)
  })

  app.openapi(declare({ method: 'put', path: '/api/v1/equipment/{id}/shift-calendar', tag: 'OEE', summary: 'Assign a shift calendar to a line or work center (null removes it)', params: S.PathId, body: Assignment, response: S.Accepted }), async (c) => {
    guard(c, planners)
    const p = valid(c, 'param', S.PathId)
    const b = valid(c, 'json', Assignment)
    const { seq } = await command(deps, c, (view) => assignShiftCalendar(view, queries.read.calendarIds(), p.id, b.calendarId))
    return c.json({ seq }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/reason-codes', tag: 'OEE', summary: 'The reason tree: stop and scrap reasons mapped to the six big losses' }), (c) => {
    guard(c, readers)
    return c.json({ items: queries.read.reasons() }, 200)
  })

  app.openapi(declare({ method: 'put', path: '/api/v1/reason-codes', tag: 'OEE', summary: 'Replace the reason tree', body: Reasons, response: S.Accepted }), async (c) => {
    guard(c, planners)
    // The schema checked the shape; the loss class strings are the core's (lossClasses).
    const reasons = valid(c, 'json', Reasons).reasons as ReasonCode[]
    const problems = validateReasons(reasons)
    if (problems.length > 0) throw invalidBody('reason tree', problems)
    const { result, seq } = await command(deps, c, () => defineReasonCodes(reasons))
    return c.json({ seq, ...result }, 200)
  })
}
