// Central OEE with each line's shift calendars: planned time, breaks, planned downtime and planned stops as the gateway counts them. Run once per central database.
import type { Test } from 'tap'
import { accept } from '../../edge/core/decision.ts'
import type { NewEvent } from '../../edge/core/events.ts'
import type { ShiftCalendar } from '../../edge/core/oee/calendar.ts'
import { defaultReasons } from '../../edge/core/oee/default-reasons.ts'
import type { OeeResult } from '../../edge/core/oee/result.ts'
import type { LineStore } from '../../edge/store/line-store.ts'
import { OeeQueries } from '../../edge/store/oee-queries.ts'
import { rebuildCentralProjections } from '../projections/rebuild.ts'
import type { Backend } from './backends.ts'
import { centralFixture, recordTwoLines, type CentralFixture } from './central-fixture.ts'
import { recordCount, recordOrderAt, recordStart, recordState } from './line.ts'

const record = (store: LineStore, events: NewEvent[]) => store.execute('tester', () => accept(events, null))

/** Early shift every day 06:00–14:00 UTC with a break 09:00–09:30, and maintenance 10:00:20–10:30 on 2 March (a sub-minute edge). */
const early: ShiftCalendar = {
  id: 'CAL-EARLY',
  timeZone: 'UTC',
  shifts: [{ name: 'early', days: [1, 2, 3, 4, 5, 6, 7], start: '06:00', end: '14:00', breaks: [{ start: '09:00', end: '09:30' }] }],
  holidays: [],
  plannedDowntime: [{ from: '2026-03-02T10:00:20Z', to: '2026-03-02T10:30:00Z', reason: 'maintenance' }],
}
/** A long day shift 06:00–18:00 with no break, in Berlin's wall time. */
const long: ShiftCalendar = { id: 'CAL-LONG', timeZone: 'Europe/Berlin', shifts: [{ name: 'day', days: [1, 2, 3, 4, 5], start: '07:00', end: '19:00', breaks: [] }], holidays: [], plannedDowntime: [] }

/**
 * Line L1 with two work centers: L1-FILL follows the line's early calendar; L1-PACK its own long
 * one. Both run from 05:30, stop for a changeover (planned, PackML 301) and a failure (101), run
 * through the break, count parts, and are idle from 11:00.
 */
function recordCalendarLine(f: CentralFixture): void {
  const { l1, clock1 } = f.lines
  const at = (hhmmss: string) => clock1.set(`2026-03-02T${hhmmss}Z`)
  at('05:00:00')
  record(l1, [
    { type: 'EquipmentDefined', subject: 'equipment/SITE', data: { id: 'SITE', level: 'site', name: 'Plant', parentId: null, ratedCycleTimeS: null } },
    { type: 'EquipmentDefined', subject: 'equipment/AREA', data: { id: 'AREA', level: 'area', name: 'Area', parentId: 'SITE', ratedCycleTimeS: null } },
    { type: 'EquipmentDefined', subject: 'equipment/L1', data: { id: 'L1', level: 'line', name: 'Line 1', parentId: 'AREA', ratedCycleTimeS: null } },
    { type: 'EquipmentDefined', subject: 'equipment/L1-FILL', data: { id: 'L1-FILL', level: 'work_center', name: 'Filler', parentId: 'L1', ratedCycleTimeS: 10 } },
    { type: 'EquipmentDefined', subject: 'equipment/L1-PACK', data: { id: 'L1-PACK', level: 'work_center', name: 'Packer', parentId: 'L1', ratedCycleTimeS: 5 } },
    { type: 'ShiftCalendarDefined', subject: 'shift-calendar/CAL-EARLY', data: { calendar: early } },
    { type: 'ShiftCalendarDefined', subject: 'shift-calendar/CAL-LONG', data: { calendar: long } },
    { type: 'ShiftCalendarAssigned', subject: 'equipment/L1', data: { equipmentId: 'L1', calendarId: 'CAL-EARLY' } },
    { type: 'ShiftCalendarAssigned', subject: 'equipment/L1-PACK', data: { equipmentId: 'L1-PACK', calendarId: 'CAL-LONG' } },
  ] as NewEvent[])
  recordOrderAt(l1, 'PO-C', 5000, { lineId: 'L1', workCenterId: 'L1-FILL', idealCycleTimeS: 10 })
  for (const wc of ['L1-FILL', 'L1-PACK']) {
    at('05:30:00')
    recordState(l1, wc, 'running')
  }
  at('05:31:00')
  recordStart(l1, 'R-C', 'PO-C', 'L1-FILL')
  at('06:40:00')
  recordState(l1, 'L1-FILL', 'down', 301)
  recordState(l1, 'L1-PACK', 'down', 301)
  at('06:55:00')
  recordState(l1, 'L1-FILL', 'running')
  recordState(l1, 'L1-PACK', 'running')
  at('07:30:00')
  recordCount(l1, 'L1-FILL', 'R-C', 'PO-C', 300, 12)
  recordCount(l1, 'L1-PACK', null, null, 500, 0)
  at('08:00:00')
  recordState(l1, 'L1-FILL', 'down', 101)
  at('08:20:30')
  recordState(l1, 'L1-FILL', 'running')
  at('09:10:00')
  recordCount(l1, 'L1-FILL', 'R-C', 'PO-C', 100, 0)
  recordState(l1, 'L1-PACK', 'down', 101)
  at('09:40:15')
  recordState(l1, 'L1-PACK', 'running')
  at('10:10:00')
  recordCount(l1, 'L1-FILL', 'R-C', 'PO-C', 200, 3)
  recordCount(l1, 'L1-PACK', null, null, 900, 10)
  at('11:00:00')
  recordState(l1, 'L1-FILL', 'idle')
  recordState(l1, 'L1-PACK', 'idle')
}

const keys = ['availability', 'performance', 'quality', 'oee', 'plannedMs', 'runMs'] as const

export function calendarSuite(t: Test, backend: Backend): void {
  const setup = async (t: Test) => {
    const f = await centralFixture(t, () => backend.open())
    const token = await f.register('gw-1', 'L1')
    recordCalendarLine(f)
    await f.pushAll('gw-1', token, f.lines.l1, 7)
    const gateway = new OeeQueries(f.lines.l1.db.sqlite)
    const oee = async (from: string, to: string) => {
      const r = await f.call(`/api/v1/oee?from=${from}&to=${to}`)
      if (r.status !== 200) throw new Error(`oee: ${r.status} ${JSON.stringify(r.body)}`)
      return r.body.lines as Array<Record<string, any>>
    }
    /** Central and gateway figures of each work center over the range, and the central line against the gateway's line OEE. */
    const compare = async (t: Test, from: string, to: string, what: string) => {
      const [line] = await oee(from, to)
      const range = { from: Date.parse(from), to: Date.parse(to), now: Date.now() }
      for (const wc of line!.workCenters) {
        const own = gateway.workCenterOee(gateway.workCenter(wc.workCenterId)!, range) as OeeResult
        for (const k of keys) t.ok(own[k] === wc[k] || Math.abs((own[k] ?? Number.NaN) - wc[k]) < 1e-9, `${what} ${wc.workCenterId} ${k}: central ${wc[k]} = gateway ${own[k]}`)
        t.same(wc.counts, own.counts, `${what} ${wc.workCenterId} counts`)
      }
      const lineOwn = gateway.lineOee(gateway.lineWorkCenters('L1'), range) as OeeResult
      for (const k of keys) t.ok(lineOwn[k] === line![k] || Math.abs((lineOwn[k] ?? Number.NaN) - line![k]) < 1e-9, `${what} line ${k}: central ${line![k]} = gateway ${lineOwn[k]}`)
      return line!
    }
    return { f, token, oee, compare, gateway }
  }

  t.test("central OEE of each work center equals the gateway's: shifts, breaks, planned downtime, planned stops", async (t) => {
    const { compare } = await setup(t)
    const day = await compare(t, '2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z', 'the day')
    const fill = day.workCenters.find((w: { workCenterId: string }) => w.workCenterId === 'L1-FILL')
    const pack = day.workCenters.find((w: { workCenterId: string }) => w.workCenterId === 'L1-PACK')
    t.equal(fill.calendarId, 'CAL-EARLY', "the filler follows its line's calendar")
    t.equal(pack.calendarId, 'CAL-LONG', 'the packer its own')
    // 8 h less the 30-minute break less 29 min 40 s of maintenance; the changeover is planned too.
    t.equal(fill.plannedMs, 8 * 3_600_000 - 30 * 60_000 - (29 * 60_000 + 40_000), 'planned time: the shift less its break and the planned downtime')
    t.equal(pack.plannedMs, 12 * 3_600_000, 'Berlin 07:00–19:00 is 06:00–18:00 UTC')
    t.ok(fill.availability > 0 && fill.availability < 1 && fill.runMs < fill.plannedMs, `availability ${fill.availability}: the stops and the idle time after 11:00 count against it`)
    await compare(t, '2026-03-02T06:00:30Z', '2026-03-02T10:15:10Z', 'sub-minute edges')
    await compare(t, '2026-03-02T08:59:59Z', '2026-03-02T09:31:01Z', 'around the break')
  })

  t.test("the line's own reason classification: a mechanical failure reclassified as planned time counts as the gateway counts it", async (t) => {
    const { f, token, compare } = await setup(t)
    const range = ['2026-03-02T06:00:00Z', '2026-03-02T14:00:00Z'] as const
    const before = (await compare(t, ...range, 'with the shipped tree')).workCenters[0]
    const seq = f.lines.l1.head().seq
    f.lines.clock1.set('2026-03-02T12:00:00Z')
    const reasons = defaultReasons.map((r) => (r.code === 'failure.mechanical' ? { ...r, planned: true, loss: 'planned' as const } : r))
    record(f.lines.l1, [{ type: 'ReasonCodesDefined', subject: 'reason-codes', data: { reasons } }] as NewEvent[])
    await f.pushAll('gw-1', token, f.lines.l1, 2000, seq)
    const after = (await compare(t, ...range, 'with the line tree')).workCenters[0]
    t.ok(after.availability > before.availability, `availability ${before.availability} → ${after.availability}: the failure's 20.5 minutes are planned time now, on both sides alike`)
  })

  t.test("an operator's downtime classification, and a late state change after it, count centrally as on the gateway", async (t) => {
    const { f, token, compare } = await setup(t)
    const range = ['2026-03-02T06:00:00Z', '2026-03-02T14:00:00Z'] as const
    const before = (await compare(t, ...range, 'before the edit')).workCenters[0]
    let seq = f.lines.l1.head().seq
    f.lines.clock1.set('2026-03-02T12:00:00Z')
    const edit = { workCenterId: 'L1-FILL', kind: 'classified', classifications: [{ from: '2026-03-02T08:00:00.000Z', to: null, reason: 'planned.maintenance' }], before: [{ from: '2026-03-02T08:00:00.000Z', to: '2026-03-02T08:20:30.000Z', reason: 'failure.mechanical' }], after: [{ from: '2026-03-02T08:00:00.000Z', to: '2026-03-02T08:20:30.000Z', reason: 'planned.maintenance' }], why: 'the failure was the planned service' }
    record(f.lines.l1, [{ type: 'DowntimeEdited', subject: 'workcenter/L1-FILL', data: edit }] as NewEvent[])
    await f.pushAll('gw-1', token, f.lines.l1, 2000, seq)
    const classified = (await compare(t, ...range, 'after the edit')).workCenters[0]
    t.ok(classified.availability > before.availability, `availability ${before.availability} → ${classified.availability}: the stop is planned maintenance now`)
    await compare(t, '2026-03-02T07:59:45Z', '2026-03-02T08:21:10Z', 'the classified stop with sub-minute edges')
    // A machine state reported late inside the classified stop: folded by difference, with the classification in its context.
    seq = f.lines.l1.head().seq
    f.lines.clock1.set('2026-03-02T08:10:00Z')
    recordState(f.lines.l1, 'L1-FILL', 'idle')
    await f.pushAll('gw-1', token, f.lines.l1, 2000, seq)
    await compare(t, ...range, 'after the late state')
    const around = await compare(t, '2026-03-02T08:05:30Z', '2026-03-02T08:15:10Z', 'around the late state')
    t.equal(around.workCenters[0].plannedMs, 0, 'inside planned maintenance no time is planned production time')
    const pushed = await f.call(`/api/v1/oee?from=${range[0]}&to=${range[1]}`)
    await rebuildCentralProjections(f.test.db.orm)
    t.same((await f.call(`/api/v1/oee?from=${range[0]}&to=${range[1]}`)).body, pushed.body, 'the rebuild gives the same figures')
  })

  t.test('an assignment removed falls back to the line calendar; a line without one plans the whole range; the rebuild gives the same', async (t) => {
    const { f, token, oee, compare } = await setup(t)
    const before = await f.lines.l1.head().seq
    f.lines.clock1.set('2026-03-02T12:00:00Z')
    record(f.lines.l1, [{ type: 'ShiftCalendarAssigned', subject: 'equipment/L1-PACK', data: { equipmentId: 'L1-PACK', calendarId: null } }] as NewEvent[])
    await f.pushAll('gw-1', token, f.lines.l1, 2000, before)
    const day = await compare(t, '2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z', 'after the unassignment')
    t.same(
      day.workCenters.map((w: Record<string, unknown>) => [w.workCenterId, w.calendarId]),
      [
        ['L1-FILL', 'CAL-EARLY'],
        ['L1-PACK', 'CAL-EARLY'],
      ],
      "the packer follows the line's calendar now",
    )

    // Line L2 has no calendar: centrally the whole range is planned (the gateway plans none).
    const token2 = await f.register('gw-2', 'L2')
    recordTwoLines(f)
    await f.pushAll('gw-2', token2, f.lines.l2)
    const lines = await oee('2026-03-02T06:00:00Z', '2026-03-02T07:00:00Z')
    const l2 = lines.find((l) => l.gatewayId === 'gw-2')!
    t.same([l2.workCenters[0].calendarId, l2.workCenters[0].plannedMs], [null, 3_600_000], 'no calendar: the whole hour is planned')
    const l1 = lines.find((l) => l.gatewayId === 'gw-1')!
    t.same(l1.workCenters.map((w: Record<string, number>) => w.plannedMs), [3_600_000, 3_600_000], 'the early shift covers the hour for both work centers of L1')

    const pushed = await oee('2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z')
    await rebuildCentralProjections(f.test.db.orm)
    t.same(await oee('2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z'), pushed, 'the rebuild gives the very same figures and calendars')
  })
}
