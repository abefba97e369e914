// The OEE projection against a real SQLite file: random late, out-of-order and same-instant state changes, counts and classifications (a machine's, or operators' where none reports) give the raw computation's OEE, and a rebuild's tables.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadConfig } from '../config.ts'
import { completeOperation } from '../core/completion.ts'
import { pauseOperation, resumeOperation, startOperation } from '../core/execution.ts'
import { recordMachineCount, recordMachineState } from '../core/machine.ts'
import { defineEquipment } from '../core/master-data.ts'
import type { MachineState } from '../core/model.ts'
import { assignShiftCalendar, defineShiftCalendar, recordDowntimeEdit, setMicroStopThreshold } from '../core/oee-commands.ts'
import { plannedPeriods, type ShiftCalendar } from '../core/oee/calendar.ts'
import { classifyStop } from '../core/oee/downtime.ts'
import { oeeByShift } from '../core/oee/grouping.ts'
import { computeOee, type ProductionCount } from '../core/oee/oee.ts'
import { timeline, type Classification, type StateChange } from '../core/oee/timeline.ts'
import { seedDemoLine } from '../demo.ts'
import { buildGateway } from '../gateway.ts'
import type { Decide } from './line-store.ts'
import { OeeQueries } from './oee-queries.ts'
import { dumpProjections, rebuildProjections } from './projections.ts'

const START = Date.parse('2026-03-28T00:00:00Z')
const HOUR = 3_600_000
// Two days over the spring DST change in Berlin, with breaks and planned downtime at odd instants.
const calendar: ShiftCalendar = {
  id: 'berlin',
  timeZone: 'Europe/Berlin',
  shifts: [
    { name: 'early', days: [1, 2, 3, 4, 5, 6, 7], start: '06:00', end: '14:00', breaks: [{ start: '09:00', end: '09:15' }] },
    { name: 'night', days: [1, 2, 3, 4, 5, 6, 7], start: '22:00', end: '06:00', breaks: [{ start: '02:00', end: '02:30' }] },
  ],
  holidays: [],
  plannedDowntime: [{ from: '2026-03-28T10:00:07.250Z', to: '2026-03-28T10:20:00.500Z', reason: 'maintenance' }],
}

function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

for (const seed of [1, 2, 3]) {
  t.test(`seed ${seed}: late and out-of-order data, classifications, a new threshold`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'takt-oee-store-'))
    const gw = buildGateway(loadConfig({ env: { TAKT_DATA_DIR: dir, TAKT_LOG_LEVEL: 'silent' } }))
    t.teardown(() => {
      gw.close()
      rmSync(dir, { recursive: true, force: true })
    })
    const run = <R>(decide: Decide<R>, at?: string) => {
      const done = gw.store.execute('test', decide, at)
      if (!done.ok) throw new Error(done.rejection.message)
      return done
    }
    run((v) => defineEquipment(v, { id: 'S', level: 'site', name: 'S', parentId: null, ratedCycleTimeS: null }))
    run((v) => defineEquipment(v, { id: 'A', level: 'area', name: 'A', parentId: 'S', ratedCycleTimeS: null }))
    run((v) => defineEquipment(v, { id: 'L', level: 'line', name: 'L', parentId: 'A', ratedCycleTimeS: null }))
    run((v) => defineEquipment(v, { id: 'WC', level: 'work_center', name: 'WC', parentId: 'L', ratedCycleTimeS: 1.5 }))
    run(() => defineShiftCalendar(calendar))
    run((v) => assignShiftCalendar(v, new Set(['berlin']), 'L', 'berlin'))
    run((v) => setMicroStopThreshold(v, 'WC', 90_000))

    const next = random(seed)
    const states: MachineState[] = ['running', 'running', 'down', 'down', 'idle', 'setup', 'planned_stop', 'starved']
    // Changes at random instants over two days (some on the same millisecond), recorded in an order
    // that is mostly time order with a buffer of late ones, as after a network cut.
    const instants = Array.from({ length: 400 }, () => START + Math.floor(next() * 48 * HOUR))
    for (let i = 0; i < 20; i++) instants.push(instants[Math.floor(next() * instants.length)]!)
    instants.sort((a, b) => a - b)
    const late = instants.filter(() => next() < 0.15)
    const onTime = instants.filter((x) => !late.includes(x))
    const now = START + 48 * HOUR + HOUR
    const state = (at: number) => {
      const s = states[Math.floor(next() * states.length)]!
      // A same-state change records nothing: state the opposite of the current one half the time so the log stays busy.
      gw.store.execute('device:wc', (v) => recordMachineState(v, 'WC', s === v.workCenterState('WC') ? (s === 'running' ? 'down' : 'running') : s, 'test'), new Date(at).toISOString())
    }
    for (const at of onTime) state(at)
    for (const at of late.sort(() => next() - 0.5)) state(at)
    for (let i = 0; i < 60; i++) {
      const at = START + Math.floor(next() * 48 * HOUR)
      run((v) => recordMachineCount(v, 'WC', Math.floor(next() * 40), Math.floor(next() * 3), 'test'), new Date(at).toISOString())
    }

    const queries = new OeeQueries(gw.store.db.sqlite)
    const wc = queries.workCenter('WC')!
    // Operators classify some stops, chosen from what the store lists.
    const listed = queries.downtime(wc, START, START + 48 * HOUR, now)
    t.ok(listed.length > 20, `${listed.length} stops to choose from`)
    const codes = ['failure.drive', 'flow.starved', 'setup.changeover', 'planned.no_orders']
    for (let i = 0; i < 12; i++) {
      const stop = listed[Math.floor(next() * listed.length)]!
      const reason = codes[Math.floor(next() * codes.length)]!
      gw.store.execute('person:olga', () => recordDowntimeEdit('WC', classifyStop(queries.read.tree(), queries.stopsAround(wc, stop.from, now), stop.from, reason), 'test'))
    }

    // The raw side: every change, count and classification read back in log order.
    const sqlite = gw.store.db.sqlite
    const changes: StateChange[] = (sqlite.prepare('SELECT at_ms, event_seq, state FROM oee_state_changes ORDER BY event_seq').all() as { at_ms: number; event_seq: number; state: MachineState }[]).map((r) => ({ at: r.at_ms, state: r.state, reason: null, seq: r.event_seq }))
    const counts: ProductionCount[] = (sqlite.prepare('SELECT at_ms, good, reject FROM oee_counts ORDER BY event_seq').all() as { at_ms: number; good: number; reject: number }[]).map((r) => ({ at: r.at_ms, good: r.good, reject: r.reject, idealCycleTimeS: null }))
    const classifications: Classification[] = (sqlite.prepare('SELECT from_ms, to_ms, reason FROM downtime_classifications ORDER BY event_seq, idx').all() as { from_ms: number; to_ms: number | null; reason: string }[]).map((c) => ({ from: c.from_ms, to: c.to_ms, reason: c.reason }))
    t.ok(classifications.length >= 8, `${classifications.length} classifications recorded`)
    const raw = (threshold: number) => {
      const periods = plannedPeriods(calendar, START, START + 48 * HOUR)
      return { periods, intervals: timeline(changes, classifications, now), counts, workCenterRatedCycleTimeS: 1.5, microStopThresholdMs: threshold, reasons: queries.read.tree() }
    }
    const range = { from: START, to: START + 48 * HOUR, now }
    t.same(queries.workCenterOee(wc, range), computeOee(raw(90_000)), 'the whole range equals the raw computation')
    t.same(queries.workCenterOee(wc, range, 'shift'), oeeByShift(raw(90_000)), 'and every shift, across the DST change')

    const live = dumpProjections(sqlite)
    rebuildProjections(sqlite)
    t.same(dumpProjections(sqlite), live, 'a rebuild from the log gives the very tables, buckets included')

    run((v) => setMicroStopThreshold(v, 'WC', 10_000))
    t.same(queries.workCenterOee(wc, range, 'shift'), oeeByShift(raw(10_000)), 'a new threshold rebuilds the buckets: still the raw computation')
    const again = dumpProjections(sqlite)
    rebuildProjections(sqlite)
    t.same(dumpProjections(sqlite), again, 'and a rebuild agrees')
  })
}

// Operators at a work center without a machine, until a machine's late first state takes over from its time on.
for (const seed of [4, 5]) {
  t.test(`seed ${seed}: operator states, then a machine that starts reporting late`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'takt-oee-store-'))
    const gw = buildGateway(loadConfig({ env: { TAKT_DATA_DIR: dir, TAKT_LOG_LEVEL: 'silent' } }))
    t.teardown(() => {
      gw.close()
      rmSync(dir, { recursive: true, force: true })
    })
    await seedDemoLine(gw, new Date(START))
    const sqlite = gw.store.db.sqlite
    const run = <R>(decide: Decide<R>, at: number) => {
      const done = gw.store.execute('person:ana', decide, new Date(at).toISOString())
      if (!done.ok) throw new Error(done.rejection.message)
      return done.result
    }
    run(() => defineShiftCalendar(calendar), START)
    run((v) => assignShiftCalendar(v, new Set(['berlin']), 'L1', 'berlin'), START)

    const next = random(seed)
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!
    const serials = ['PO-1001', 'PO-1002'].flatMap((id) => gw.store.view.order(id)!.serials)
    const open: { runId: string; paused: boolean }[] = []
    const reasons = ['failure.tooling', 'Changeover', 'planned.break', 'wiped the sensor', 'small_stop.jam']
    const machineAt = START + 24 * HOUR
    let at = START + 5 * HOUR
    let machineOn = false
    let superseded = 0
    const operatorStatesFrom = sqlite.prepare<[number], { n: number }>(`SELECT COUNT(*) AS n FROM oee_state_changes WHERE work_center_id = 'WC-PRESS' AND at_ms >= ?`)
    for (let i = 0; i < 200 && at < START + 47 * HOUR; i++) {
      at += Math.floor(next() * 40 * 60_000) + (next() < 0.2 ? 0 : 1000)
      // The machine's first state arrives after two of the operators' states that are later than it.
      if (!machineOn && operatorStatesFrom.get(machineAt)!.n >= 2) {
        machineOn = true
        superseded = operatorStatesFrom.get(machineAt)!.n
        for (let m = machineAt; m < at + 4 * HOUR; m += Math.floor(next() * 20 * 60_000) + 1000) {
          gw.store.execute('device:press', (v) => recordMachineState(v, 'WC-PRESS', v.workCenterState('WC-PRESS') === 'running' ? pick(['down', 'idle', 'setup'] as const) : 'running', 'test'), new Date(m).toISOString())
        }
      }
      const running = open.filter((r) => !r.paused)
      const paused = open.filter((r) => r.paused)
      const possible = [...(serials.length > 0 && open.length < 3 ? ['start'] : []), ...(running.length ? ['pause', 'complete', 'complete'] : []), ...(paused.length ? ['resume'] : [])]
      if (possible.length === 0) break
      const action = pick(possible)
      if (action === 'start') {
        const unitSerial = serials.shift()!
        open.push({ runId: run((v, ctx) => startOperation(v, { orderId: unitSerial.slice(0, 7), opSeq: 10, unitSerial, quantity: null, operatorId: 'ana', workCenterId: 'WC-PRESS' }, ctx), at).runId, paused: false })
      } else if (action === 'pause') {
        const r = pick(running)
        run((v) => pauseOperation(v, r.runId, pick(reasons)), at)
        r.paused = true
      } else if (action === 'resume') {
        const r = pick(paused)
        run((v) => resumeOperation(v, r.runId), at)
        r.paused = false
      } else {
        const r = pick(running)
        const scrap = next() < 0.2
        const cmd = { runId: r.runId, good: scrap ? 0 : 1, scrap: scrap ? 1 : 0, scrapReasons: scrap ? [{ reason: 'reject.dimension', quantity: 1 }] : [], consumptions: [{ lotId: 'STEEL-0001', quantity: 0.5 }], measurements: [{ name: 'thickness', value: 2, unit: 'mm' }] }
        run((v, ctx) => completeOperation(v, cmd, ctx), at)
        open.splice(open.indexOf(r), 1)
      }
    }
    t.ok(machineOn && superseded >= 2, `the machine came, after ${superseded} operator states later than its first`)

    const changes = (sqlite.prepare(`SELECT at_ms, event_seq, state FROM oee_state_changes WHERE work_center_id = 'WC-PRESS' ORDER BY event_seq`).all() as { at_ms: number; event_seq: number; state: MachineState }[]).map((r) => ({ at: r.at_ms, state: r.state, reason: null, seq: r.event_seq }))
    const operatorRows = sqlite.prepare(`SELECT COUNT(*) AS n, MAX(c.at_ms) AS last FROM oee_state_changes c LEFT JOIN machine_state_log m ON m.event_seq = c.event_seq WHERE c.work_center_id = 'WC-PRESS' AND m.event_seq IS NULL`).get() as { n: number; last: number }
    t.ok(operatorRows.n > 20, `${operatorRows.n} states from the operators`)
    t.ok(operatorRows.last < machineAt, 'none from the machine’s first state on')
    const counts: ProductionCount[] = (sqlite.prepare(`SELECT at_ms, good, reject, ideal_cycle_time_s, scrap_reason FROM oee_counts WHERE work_center_id = 'WC-PRESS' ORDER BY event_seq, idx`).all() as { at_ms: number; good: number; reject: number; ideal_cycle_time_s: number | null; scrap_reason: string | null }[]).map((r) => ({ at: r.at_ms, good: r.good, reject: r.reject, idealCycleTimeS: r.ideal_cycle_time_s, ...(r.scrap_reason === null ? {} : { scrapReason: r.scrap_reason }) }))
    const classifications: Classification[] = (sqlite.prepare(`SELECT from_ms, to_ms, reason FROM downtime_classifications WHERE work_center_id = 'WC-PRESS' ORDER BY event_seq, idx`).all() as { from_ms: number; to_ms: number | null; reason: string }[]).map((c) => ({ from: c.from_ms, to: c.to_ms, reason: c.reason }))
    t.ok(classifications.length > 0, `${classifications.length} pauses with a reason the tree knows`)
    const queries = new OeeQueries(sqlite)
    const now = START + 48 * HOUR + HOUR
    const raw = { periods: plannedPeriods(calendar, START, START + 48 * HOUR), intervals: timeline(changes, classifications, now), counts, workCenterRatedCycleTimeS: 20, microStopThresholdMs: 120_000, reasons: queries.read.tree() }
    const range = { from: START, to: START + 48 * HOUR, now }
    const wc = queries.workCenter('WC-PRESS')!
    t.same(queries.workCenterOee(wc, range), computeOee(raw), 'the buckets give the raw computation')
    t.same(queries.workCenterOee(wc, range, 'shift'), oeeByShift(raw), 'every shift too')

    const live = dumpProjections(sqlite)
    rebuildProjections(sqlite)
    t.same(dumpProjections(sqlite), live, 'a rebuild from the log gives the very tables')
  })
}
