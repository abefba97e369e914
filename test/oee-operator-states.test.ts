// Operator actions as the state timeline of a work center without a machine: availability from start, pause, resume and complete; a machine's states stand where it reports them.
import t from 'tap'
import { completeOperation } from '../edge/core/completion.ts'
import { pauseOperation, resumeOperation, startOperation } from '../edge/core/execution.ts'
import { recordMachineState } from '../edge/core/machine.ts'
import type { MachineState } from '../edge/core/model.ts'
import { plannedPeriods } from '../edge/core/oee/calendar.ts'
import { defaultReasons } from '../edge/core/oee/default-reasons.ts'
import { computeOee, type ProductionCount } from '../edge/core/oee/oee.ts'
import { reasonTree } from '../edge/core/oee/reasons.ts'
import { timeline, type Classification, type StateChange } from '../edge/core/oee/timeline.ts'
import type { Decide } from '../edge/store/line-store.ts'
import { dumpProjections, rebuildProjections } from '../edge/store/projections.ts'
import { dispatchedOrder, lineGateway, login } from './helpers/line.ts'
import type { TestGateway } from './helpers/gateway.ts'

const DAY = 86_400_000
const day = new Date(Date.now() - 2 * DAY).toISOString().slice(0, 10)
const at = (hhmmss: string) => `${day}T${hhmmss}.000Z`
const ms = (hhmmss: string) => Date.parse(at(hhmmss))
const MIN = 60_000
const early = { id: 'utc-early', timeZone: 'UTC', shifts: [{ name: 'early', days: [1, 2, 3, 4, 5, 6, 7], start: '06:00', end: '14:00', breaks: [] }], holidays: [], plannedDowntime: [] }
const tree = reasonTree(defaultReasons)

/** A test line with the early shift, an order of three at the mixer, and the operator's actions at given times. */
async function mixer(t: Parameters<typeof lineGateway>[0]) {
  const gw = await lineGateway(t)
  const leo = (await login(gw.call, 'leo')).body.token as string
  const olga = (await login(gw.call, 'olga')).body.token as string
  if ((await gw.call('PUT', `/api/v1/shift-calendars/${early.id}`, early, leo)).status !== 200) throw new Error('calendar refused')
  if ((await gw.call('PUT', '/api/v1/equipment/L1/shift-calendar', { calendarId: early.id }, leo)).status !== 200) throw new Error('assignment refused')
  await dispatchedOrder(gw.call, 'PO-OS', 3)
  const store = gw.running.gateway.store
  const run = <R>(actor: string, decide: Decide<R>, when: string): R => {
    const done = store.execute(actor, decide, at(when))
    if (!done.ok) throw new Error(`${when}: ${done.rejection.message}`)
    return done.result
  }
  const op = {
    start: (when: string) => run('person:olga', (v, ctx) => startOperation(v, { orderId: 'PO-OS', opSeq: 10, unitSerial: null, quantity: 1, operatorId: 'olga', workCenterId: null }, ctx), when).runId,
    pause: (runId: string, reason: string, when: string) => run('person:olga', (v) => pauseOperation(v, runId, reason), when),
    resume: (runId: string, when: string) => run('person:olga', (v) => resumeOperation(v, runId), when),
    complete: (runId: string, when: string, good = 1, scrapReason?: string) =>
      run(
        'person:olga',
        (v, ctx) =>
          completeOperation(
            v,
            { runId, good, scrap: scrapReason ? 1 : 0, scrapReasons: scrapReason ? [{ reason: scrapReason, quantity: 1 }] : [], consumptions: [{ lotId: 'RESIN-001', quantity: 1 }], measurements: [{ name: 'viscosity', value: 5, unit: 'Pa.s' }] },
            ctx,
          ),
        when,
      ),
    machine: (state: MachineState, when: string) => run('device:mixer', (v) => recordMachineState(v, 'WC-MIX', state, 'test'), when),
  }
  const oee = async () => (await gw.call('GET', `/api/v1/oee?workCenterId=WC-MIX&from=${at('00:00:00')}&to=${at('23:59:00')}`, undefined, olga)).body.oee
  return { gw, op, oee, olga }
}

const stored = (gw: TestGateway) => {
  const sqlite = gw.running.gateway.store.db.sqlite
  return {
    changes: (sqlite.prepare(`SELECT at_ms AS at, state FROM oee_state_changes WHERE work_center_id = 'WC-MIX' ORDER BY at_ms, event_seq`).all() as StateChange[]),
    classifications: sqlite.prepare(`SELECT from_ms AS "from", to_ms AS "to", reason FROM downtime_classifications WHERE work_center_id = 'WC-MIX' ORDER BY event_seq, idx`).all() as Classification[],
  }
}

/** The pure core over the timeline the test expects, not over what the store kept. */
const raw = (changes: StateChange[], classifications: Classification[], counts: ProductionCount[]) =>
  computeOee({ periods: plannedPeriods(early, ms('00:00:00'), ms('23:59:00')), intervals: timeline(changes, classifications, Date.now()), counts, workCenterRatedCycleTimeS: 10, microStopThresholdMs: 120_000, reasons: tree })

const rebuildEqual = (t: { same(a: unknown, b: unknown, m: string): void }, gw: TestGateway) => {
  const sqlite = gw.running.gateway.store.db.sqlite
  const live = dumpProjections(sqlite)
  rebuildProjections(sqlite)
  t.same(dumpProjections(sqlite), live, 'a rebuild from the log gives the very tables, states and buckets included')
}

t.test('a work center without a machine: its availability from the operator’s start, pause, resume and complete', async (t) => {
  const { gw, op, oee, olga } = await mixer(t)
  const a = op.start('05:50:00')
  op.pause(a, 'failure.tooling', '07:00:00')
  op.resume(a, '07:30:00')
  op.complete(a, '08:00:00')
  const b = op.start('08:10:00')
  const c = op.start('08:20:00')
  op.pause(b, 'Break', '09:00:00')
  op.pause(c, 'planned.break', '09:10:00')
  op.resume(b, '09:25:00')
  op.resume(c, '09:25:00')
  op.complete(c, '09:30:00')
  op.pause(b, 'wiped the sensor', '10:00:00')
  op.resume(b, '10:00:30')
  op.complete(b, '11:00:00', 0, 'reject.visual')

  const expected: StateChange[] = [
    ['05:50:00', 'running'], ['07:00:00', 'down'], ['07:30:00', 'running'], ['08:00:00', 'idle'], ['08:10:00', 'running'],
    ['09:10:00', 'planned_stop'], ['09:25:00', 'running'], ['10:00:00', 'down'], ['10:00:30', 'running'], ['11:00:00', 'idle'],
  ].map(([when, state]) => ({ at: ms(when!), state: state as MachineState }))
  const classifications: Classification[] = [{ from: ms('07:00:00'), to: null, reason: 'failure.tooling' }, { from: ms('09:10:00'), to: null, reason: 'planned.break' }]
  const s = stored(gw)
  t.same(s.changes, expected, 'one state per change of what the work center does: a pause while another run runs changes nothing')
  t.same(s.classifications, classifications, 'a pause reason the tree knows classifies its stop; free text leaves it unclassified')

  const o = await oee()
  const counts: ProductionCount[] = [
    { at: ms('08:00:00'), good: 1, reject: 0, idealCycleTimeS: null, productId: 'PASTE', orderId: 'PO-OS' },
    { at: ms('09:30:00'), good: 1, reject: 0, idealCycleTimeS: null, productId: 'PASTE', orderId: 'PO-OS' },
    { at: ms('11:00:00'), good: 0, reject: 1, idealCycleTimeS: null, productId: 'PASTE', orderId: 'PO-OS', scrapReason: 'reject.visual' },
  ]
  t.same(o, raw(expected, classifications, counts), 'the API’s OEE is the pure core’s over the operator timeline')
  // 480 min shift less the 15-minute break taken as a planned stop; run 60 + 30 + 60 + 95 min (the 30-second stop is a small stop).
  t.equal(o.plannedMs, 465 * MIN)
  t.equal(o.runMs, 245 * MIN)
  t.equal(o.availability, 245 / 465)
  t.equal(o.performance, 30_000 / (245 * MIN), 'three units at the rated 10 s')
  t.equal(o.quality, 2 / 3)
  t.match(o.losses.planned, { ms: 15 * MIN, byReason: [{ code: 'planned.break', ms: 15 * MIN }] }, 'the break the operator paused for is planned time')
  t.match(o.losses.availability.byReason, [{ code: null, loss: 'breakdown', ms: 190 * MIN, stops: 2 }, { code: 'failure.tooling', loss: 'breakdown', ms: 30 * MIN, stops: 1 }], 'the pause reason is the downtime reason; idle time between runs is an unexplained stop')
  t.match(o.losses.performance, { smallStopsMs: 30_000, smallStops: 1 })

  const list = await gw.call('GET', `/api/v1/work-centers/WC-MIX/downtime?from=${at('06:00:00')}&to=${at('14:00:00')}`, undefined, olga)
  t.match(list.body.items[0], { from: at('07:00:00'), to: at('07:30:00'), reason: 'failure.tooling', reasonSource: 'operator', states: ['down'] }, 'the stop with the operator’s reason')
  // The idle time after the last run is a stop like a machine's: the operator says why.
  const noOrders = await gw.call('POST', '/api/v1/work-centers/WC-MIX/downtime/classify', { from: at('11:00:00'), reason: 'planned.no_orders', why: 'order done, none dispatched' }, olga)
  t.equal(noOrders.status, 201, JSON.stringify(noOrders.body))
  const after = await oee()
  t.equal(after.plannedMs, 285 * MIN, 'no orders is planned time: out of planned production time')
  t.equal(after.availability, 245 / 285)
  rebuildEqual(t, gw)
})

t.test('a work center whose machine reports states: the operator’s actions add none', async (t) => {
  const { gw, op, oee } = await mixer(t)
  op.machine('running', '05:00:00')
  const a = op.start('06:00:00')
  op.pause(a, 'failure.tooling', '07:00:00')
  op.resume(a, '07:30:00')
  op.complete(a, '08:00:00')
  op.machine('down', '09:00:00')
  op.machine('running', '09:20:00')
  const b = op.start('10:00:00')
  op.pause(b, 'setup.changeover', '10:30:00')

  const expected: StateChange[] = [{ at: ms('05:00:00'), state: 'running' }, { at: ms('09:00:00'), state: 'down' }, { at: ms('09:20:00'), state: 'running' }]
  const s = stored(gw)
  t.same(s.changes, expected, 'the machine’s states alone')
  t.same(s.classifications, [], 'and no operator classification from a pause')
  const o = await oee()
  t.same(o, raw(expected, [], [{ at: ms('08:00:00'), good: 1, reject: 0, idealCycleTimeS: null, productId: 'PASTE', orderId: 'PO-OS' }]), 'the pure core over the machine’s timeline')
  t.equal(o.availability, 460 / 480, 'the machine ran through the operator’s pause; its 20-minute failure counts')
  rebuildEqual(t, gw)
})

t.test('a machine that starts reporting: its states stand from its first one on, late or not', async (t) => {
  const { gw, op, oee } = await mixer(t)
  const a = op.start('06:00:00')
  op.pause(a, 'failure.tooling', '07:00:00')
  op.resume(a, '07:30:00')
  // The machine's buffer arrives after the operator's actions: its first state is older than two of them.
  op.machine('running', '06:30:00')
  op.machine('down', '09:00:00')
  op.machine('running', '09:10:00')
  op.complete(a, '10:00:00')

  const expected: StateChange[] = [{ at: ms('06:00:00'), state: 'running' }, { at: ms('06:30:00'), state: 'running' }, { at: ms('09:00:00'), state: 'down' }, { at: ms('09:10:00'), state: 'running' }]
  const s = stored(gw)
  t.same(s.changes, expected, 'the operator’s state before the machine’s first stays; those after it go')
  t.same(s.classifications, [], 'and so does the classification of the superseded pause')
  const o = await oee()
  t.same(o, raw(expected, [], [{ at: ms('10:00:00'), good: 1, reject: 0, idealCycleTimeS: null, productId: 'PASTE', orderId: 'PO-OS' }]))
  t.equal(o.availability, 470 / 480)
  rebuildEqual(t, gw)
})
