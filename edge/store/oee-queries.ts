// OEE read side: a work center's or line's OEE for any period and grouping, the live value, downtime events — from buckets plus raw edges.
import { edgeIntervals, edgeRanges, tailIntervals, type BucketOeeInput } from '../core/oee/buckets.ts'
import { calendarIdFor, plannedPeriods, shiftInstances, type PlannedPeriod, type ShiftCalendar } from '../core/oee/calendar.ts'
import { downtimeEvents, type DowntimeEvent } from '../core/oee/downtime.ts'
import { oeeByDay, oeeByOrder, oeeByProduct, oeeByShift, totalsOf, type OrderWindow } from '../core/oee/grouping.ts'
import { combineTotals, type OeeTotals } from '../core/oee/oee.ts'
import { oeeFromTotals, type OeeResult } from '../core/oee/result.ts'
import type { ReasonTree } from '../core/oee/reasons.ts'
import { timeline, type StateInterval } from '../core/oee/timeline.ts'
import type { Sqlite } from './database.ts'
import { OeeTimelineReader } from './oee-timeline.ts'

export type OeeGrouping = 'shift' | 'day' | 'order' | 'product'

export interface OeeRange {
  from: number
  to: number
  now: number
}

type PeriodsInput = BucketOeeInput & { periods: readonly PlannedPeriod[] }

export interface WorkCenterRef {
  id: string
  lineId: string | null
  ratedCycleTimeS: number | null
}

export class OeeQueries {
  readonly read: OeeTimelineReader
  readonly #workCenter
  readonly #lineCenters
  readonly #runs

  constructor(sqlite: Sqlite) {
    this.read = new OeeTimelineReader(sqlite)
    this.#workCenter = sqlite.prepare<[string], { id: string; parent_id: string | null; rated_cycle_time_s: number | null }>(
      `SELECT id, parent_id, rated_cycle_time_s FROM equipment WHERE id = ? AND level = 'work_center'`,
    )
    this.#lineCenters = sqlite.prepare<[string], { id: string; parent_id: string | null; rated_cycle_time_s: number | null }>(
      `SELECT id, parent_id, rated_cycle_time_s FROM equipment WHERE parent_id = ? AND level = 'work_center' ORDER BY id`,
    )
    this.#runs = sqlite.prepare<[string, string, string], { order_id: string; product_id: string; started_at: string; ended_at: string | null }>(
      `SELECT r.order_id, o.product_id, r.started_at, r.ended_at FROM runs r JOIN orders o ON o.id = r.order_id
       WHERE r.work_center_id = ? AND r.started_at < ? AND (r.ended_at IS NULL OR r.ended_at > ?) ORDER BY r.started_at, r.id`,
    )
  }

  workCenter(id: string): WorkCenterRef | undefined {
    const r = this.#workCenter.get(id)
    return r ? { id: r.id, lineId: r.parent_id, ratedCycleTimeS: r.rated_cycle_time_s } : undefined
  }

  /** The line's work centers; empty when the line has none (or is no line). */
  lineWorkCenters(lineId: string): WorkCenterRef[] {
    return this.#lineCenters.all(lineId).map((r) => ({ id: r.id, lineId: r.parent_id, ratedCycleTimeS: r.rated_cycle_time_s }))
  }

  /** The calendar a work center follows: its own, else its line's. */
  calendarOf(wc: WorkCenterRef): ShiftCalendar | undefined {
    const assignments = new Map<string, string>()
    for (const id of [wc.id, wc.lineId]) {
      const cal = id === null ? undefined : this.read.assignedCalendar(id)
      if (id !== null && cal !== undefined) assignments.set(id, cal)
    }
    const id = calendarIdFor(assignments, wc.id, wc.lineId ?? '')
    return id === undefined ? undefined : this.read.calendar(id)
  }

  /**
   * The bucket input for a work center over [from, min(to, now)): buckets for whole minutes, raw
   * intervals and counts on the sub-minute edges, and the unsettled tail read raw.
   */
  input(wc: WorkCenterRef, range: OeeRange, tree: ReasonTree): PeriodsInput {
    const calendar = this.calendarOf(wc)
    const end = Math.min(range.to, range.now)
    const periods = calendar && end > range.from ? plannedPeriods(calendar, range.from, end) : []
    const intervals: StateInterval[] = []
    const counts = []
    for (const edge of edgeRanges(periods)) {
      intervals.push(...edgeIntervals(this.read.context(wc.id, edge.from, edge.to), edge))
      counts.push(...this.read.counts(wc.id, edge.from, edge.to))
    }
    if (periods.length > 0) intervals.push(...tailIntervals(this.read.context(wc.id, range.now, range.now), range.now))
    const cache = new Map<string, ReturnType<OeeTimelineReader['bucket']>>()
    return {
      periods,
      workCenterRatedCycleTimeS: wc.ratedCycleTimeS,
      microStopThresholdMs: this.read.threshold(wc.id),
      reasons: tree,
      intervals,
      counts,
      bucket: (unit, start) => {
        const key = `${unit}/${start}`
        if (!cache.has(key)) cache.set(key, this.read.bucket(wc.id, unit, start))
        return cache.get(key)
      },
    }
  }

  /** When orders ran on the work center (their runs), clipped to the range. */
  orderWindows(wc: WorkCenterRef, range: OeeRange): OrderWindow[] {
    const from = new Date(range.from).toISOString()
    const to = new Date(Math.min(range.to, range.now)).toISOString()
    return this.#runs.all(wc.id, to, from).map((r) => ({
      orderId: r.order_id,
      productId: r.product_id,
      from: Date.parse(r.started_at),
      to: r.ended_at === null ? Math.min(range.to, range.now) : Date.parse(r.ended_at),
    }))
  }

  /** One work center's OEE over the range, or grouped. */
  workCenterOee(wc: WorkCenterRef, range: OeeRange, by?: OeeGrouping): OeeResult | Record<string, unknown>[] {
    const tree = this.read.tree()
    const input = this.input(wc, range, tree)
    switch (by) {
      case 'shift':
        return oeeByShift(input)
      case 'day':
        return oeeByDay(input)
      case 'order':
        return oeeByOrder(input, this.orderWindows(wc, range))
      case 'product':
        return oeeByProduct(input, this.orderWindows(wc, range))
      default:
        return oeeFromTotals(totalsOf(input), tree)
    }
  }

  /**
   * A line's OEE from its work centers' sums (each weighs by its planned time); by shift or day the
   * groups are matched by production date and shift name across work centers.
   */
  lineOee(workCenters: readonly WorkCenterRef[], range: OeeRange, by?: 'shift' | 'day'): OeeResult | Record<string, unknown>[] {
    const tree = this.read.tree()
    const inputs = workCenters.map((wc) => this.input(wc, range, tree))
    if (by === undefined) return oeeFromTotals(combineTotals(inputs.map(totalsOf)), tree)
    const groups = new Map<string, { date: string; shift: string; totals: OeeTotals[]; from: number }>()
    for (const input of inputs) {
      const own = new Map<string, PlannedPeriod[]>()
      for (const p of input.periods) {
        const key = by === 'shift' ? `${p.date}\u0000${p.shift}` : p.date
        own.set(key, [...(own.get(key) ?? []), p])
      }
      for (const [key, periods] of own) {
        const g = groups.get(key) ?? { date: periods[0]!.date, shift: periods[0]!.shift, totals: [], from: periods[0]!.from }
        g.totals.push(totalsOf({ ...input, periods }))
        g.from = Math.min(g.from, periods[0]!.from)
        groups.set(key, g)
      }
    }
    return [...groups.values()]
      .sort((a, b) => a.from - b.from)
      .map((g) => ({ date: g.date, ...(by === 'shift' ? { shift: g.shift } : {}), oee: oeeFromTotals(combineTotals(g.totals), tree) }))
  }

  /** The shift running now at the work center and its OEE so far; shift null between shifts or without a calendar. */
  current(wc: WorkCenterRef, now: number): { calendarId: string | null; shift: { name: string; date: string; start: string; end: string } | null; oee: OeeResult | null } {
    const calendar = this.calendarOf(wc)
    if (!calendar) return { calendarId: null, shift: null, oee: null }
    const shift = shiftInstances(calendar, now - 2 * 86_400_000, now + 1).find((s) => !s.holiday && s.start <= now && now < s.end)
    if (!shift) return { calendarId: calendar.id, shift: null, oee: null }
    const tree = this.read.tree()
    const input = this.input(wc, { from: shift.start, to: shift.end, now }, tree)
    // The shift's own periods only: a neighbouring shift's planned time may overlap the range's ends.
    const periods = (input.periods as readonly PlannedPeriod[]).filter((p) => p.shift === shift.name && p.date === shift.date)
    return {
      calendarId: calendar.id,
      shift: { name: shift.name, date: shift.date, start: new Date(shift.start).toISOString(), end: new Date(shift.end).toISOString() },
      oee: oeeFromTotals(totalsOf({ ...input, periods }), tree),
    }
  }

  /** The stops that overlap [from, to), up to now, with their reasons. */
  downtime(wc: WorkCenterRef, from: number, to: number, now: number): DowntimeEvent[] {
    const end = Math.min(to, now)
    const ctx = this.read.context(wc.id, from, end)
    return downtimeEvents(timeline(ctx.changes, ctx.classifications, now)).filter((e) => e.to > from && e.from < end)
  }

  /** The stops around an instant, for an edit: a stop and the one touching it lie between two running changes. */
  stopsAround(wc: WorkCenterRef, at: number, now: number): DowntimeEvent[] {
    const ctx = this.read.context(wc.id, at, at)
    return downtimeEvents(timeline(ctx.changes, ctx.classifications, now))
  }
}
