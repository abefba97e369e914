// OEE over a range from the central buckets: a few rows per work center, plus raw changes and counts on the sub-minute edges and the unsettled tail.
import { and, eq, sql, type SQL } from 'drizzle-orm'
import { coverRange, edgeIntervals, oeeTotalsFromBuckets, tailIntervals, type OeeBucket } from '../../edge/core/oee/buckets.ts'
import { calendarIdFor, plannedPeriods } from '../../edge/core/oee/calendar.ts'
import { combineTotals, type OeeTotals } from '../../edge/core/oee/oee.ts'
import { reasonTree } from '../../edge/core/oee/reasons.ts'
import { oeeFromTotals, type OeeResult } from '../../edge/core/oee/result.ts'
import type { StateInterval } from '../../edge/core/oee/timeline.ts'
import { defaultMicroStopThresholdMs } from '../../edge/store/oee-timeline.ts'
import type { CloudOrm } from '../database.ts'
import * as schema from '../schema.ts'
import { calendarsOf, type GatewayCalendars } from './calendars.ts'
import { rowsOf } from './central-event.ts'
import { readContexts, readCounts } from './oee-buckets.ts'
import { reasonsOf } from './oee-fold.ts'

export interface OeeQuery {
  lineId?: string
  workCenterId?: string
  from: number
  to: number
  now: number
}

/** The figures people read, and why one has no value. */
export interface OeeFigures {
  availability: number | null
  performance: number | null
  quality: number | null
  oee: number | null
  plannedMs: number
  runMs: number
  counts: OeeResult['counts']
  why: OeeResult['why']
}

export interface WorkCenterOee extends OeeFigures {
  workCenterId: string
  /** The shift calendar its planned time comes from (its own, else its line's); null: none assigned, the whole range is planned. */
  calendarId: string | null
}

export interface LineOee extends OeeFigures {
  gatewayId: string
  lineId: string | null
  workCenters: WorkCenterOee[]
}

function figures(r: OeeResult): OeeFigures {
  return { availability: r.availability, performance: r.performance, quality: r.quality, oee: r.oee, plannedMs: r.plannedMs, runMs: r.runMs, counts: r.counts, why: r.why }
}

/**
 * OEE per work center and per line over [from, to), clipped to now. The planned time is that of the
 * work center's shift calendar (its own, else its line's), as the gateway computes it: shifts less
 * breaks, holidays and planned downtime; with no calendar assigned, the whole range. A line's
 * figures combine its work centers' sums (combineTotals), so A × P × Q still equals fully
 * productive time over planned time.
 */
export async function centralOee(orm: CloudOrm, q: OeeQuery): Promise<LineOee[]> {
  const w = schema.centralWorkCenters
  const g = schema.gateways
  const where: SQL[] = []
  if (q.lineId !== undefined) where.push(eq(g.lineId, q.lineId))
  if (q.workCenterId !== undefined) where.push(eq(w.workCenterId, q.workCenterId))
  const centers = await orm
    .select({ gatewayId: w.gatewayId, lineId: g.lineId, workCenterId: w.workCenterId, parentId: w.parentId, ratedCycleTimeS: w.ratedCycleTimeS, threshold: w.microStopThresholdMs })
    .from(w)
    .innerJoin(g, eq(g.id, w.gatewayId))
    .where(and(...where))
    .orderBy(w.gatewayId, w.workCenterId)
  const to = Math.min(q.to, q.now)
  const wholeRange = to > q.from ? [{ from: q.from, to }] : []
  const lines = new Map<string, { line: LineOee; totals: OeeTotals[]; reasons: ReturnType<typeof reasonTree>; calendars: GatewayCalendars }>()
  for (const c of centers) {
    let entry = lines.get(c.gatewayId)
    if (!entry) {
      const tree = reasonTree(await reasonsOf(orm, c.gatewayId))
      entry = { line: { gatewayId: c.gatewayId, lineId: c.lineId, workCenters: [], ...figures(oeeFromTotals(combineTotals([]), tree)) }, totals: [], reasons: tree, calendars: await calendarsOf(orm, c.gatewayId) }
      lines.set(c.gatewayId, entry)
    }
    const calendarId = calendarIdFor(entry.calendars.assignments, c.workCenterId, c.parentId ?? '') ?? null
    const calendar = calendarId === null ? undefined : entry.calendars.calendars.get(calendarId)
    const periods = calendar ? (to > q.from ? plannedPeriods(calendar, q.from, to) : []) : wholeRange
    const threshold = c.threshold ?? defaultMicroStopThresholdMs
    const totals = await workCenterTotals(orm, c.gatewayId, c.workCenterId, periods, q.now, { ratedCycleTimeS: c.ratedCycleTimeS, threshold, reasons: entry.reasons })
    entry.totals.push(totals)
    entry.line.workCenters.push({ workCenterId: c.workCenterId, calendarId: calendar ? calendarId : null, ...figures(oeeFromTotals(totals, entry.reasons)) })
  }
  return [...lines.values()].map(({ line, totals, reasons }) => ({ ...line, ...figures(oeeFromTotals(combineTotals(totals), reasons)) }))
}

async function workCenterTotals(
  orm: CloudOrm,
  gatewayId: string,
  workCenterId: string,
  periods: { from: number; to: number }[],
  now: number,
  s: { ratedCycleTimeS: number | null; threshold: number; reasons: ReturnType<typeof reasonTree> },
): Promise<OeeTotals> {
  const cover = periods.map((p) => coverRange(p.from, p.to))
  const keys = cover.flatMap((c) => c.buckets)
  const buckets = new Map<string, OeeBucket>()
  if (keys.length > 0) {
    const list = sql.join(
      keys.map((k) => sql`(${k.unit}::bigint, ${k.start}::bigint)`),
      sql`, `,
    )
    const rows = await rowsOf<{ unit: number; start: number; ms: string; stops: string; counts: string }>(
      orm,
      sql`SELECT unit::float8 AS unit, start::float8 AS start, ms, stops, counts FROM central_oee_buckets WHERE gateway_id = ${gatewayId} AND work_center_id = ${workCenterId} AND (unit, start) IN (${list})`,
    )
    for (const r of rows) buckets.set(`${r.unit}:${r.start}`, { ms: JSON.parse(r.ms), stops: JSON.parse(r.stops), counts: JSON.parse(r.counts) })
  }
  // Edges and the tail need raw data: each edge its own timeline context, the tail the context of now.
  const edges = cover.flatMap((c) => c.edges)
  const intervals: StateInterval[] = []
  for (const edge of edges) {
    const ctx = await readContexts(orm, gatewayId, [{ workCenterId, t1: edge.from, t2: edge.to }])
    intervals.push(...edgeIntervals(ctx.get(workCenterId) ?? { changes: [], classifications: [] }, edge))
  }
  if (periods.length > 0) {
    const tail = await readContexts(orm, gatewayId, [{ workCenterId, t1: now, t2: now }])
    intervals.push(...tailIntervals(tail.get(workCenterId) ?? { changes: [], classifications: [] }, now))
  }
  const counts = []
  for (const edge of edges) counts.push(...(await readCounts(orm, gatewayId, workCenterId, edge)))
  return oeeTotalsFromBuckets({
    periods,
    workCenterRatedCycleTimeS: s.ratedCycleTimeS,
    microStopThresholdMs: s.threshold,
    reasons: s.reasons,
    bucket: (unit, start) => buckets.get(`${unit}:${start}`),
    intervals,
    counts,
  })
}
