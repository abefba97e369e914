// The demo line comes with its shift calendar and reason tree: its OEE has planned time, and a day of work at the press gives figures.
import t from 'tap'
import { completeOperation } from '../edge/core/completion.ts'
import { pauseOperation, resumeOperation, startOperation } from '../edge/core/execution.ts'
import { plannedPeriods } from '../edge/core/oee/calendar.ts'
import { demoReasons, demoShiftCalendar } from '../edge/demo-line.ts'
import { seedDemoLine } from '../edge/demo.ts'
import type { Decide } from '../edge/store/line-store.ts'
import { removeDir, startTestGateway } from './helpers/gateway.ts'

const DAY = 86_400_000
const HOUR = 3_600_000
const MIN = 60_000

/** A UTC day some days back that is no holiday of the demo plant (whose time zone is ahead of UTC). */
function pastWorkingDay(): string {
  for (let back = 3; ; back++) {
    const day = new Date(Date.now() - back * DAY).toISOString().slice(0, 10)
    const next = new Date(Date.parse(day) + DAY).toISOString().slice(0, 10)
    if (!demoShiftCalendar.holidays.includes(day) && !demoShiftCalendar.holidays.includes(next)) return day
  }
}

t.test('the demo gateway answers OEE with planned time from its calendar, and figures from a day of work', async (t) => {
  const gw = await startTestGateway()
  t.teardown(async () => {
    await gw.stop()
    removeDir(gw.dataDir)
  })
  const gateway = gw.running.gateway
  t.ok(await seedDemoLine(gateway, new Date()), 'the demo line is loaded')

  const calendars = await gw.call('GET', '/api/v1/shift-calendars')
  t.match(calendars.body.items, [{ id: demoShiftCalendar.id, timeZone: 'Europe/Berlin' }], 'the calendar, defined as ERP would define it')
  const reasons = await gw.call('GET', '/api/v1/reason-codes')
  t.equal(reasons.body.items.length, demoReasons.length, 'the plant’s reason tree is defined')
  const stop = (await gw.call('GET', '/api/v1/hmi/reason-codes')).body.stop.map((r: { code: string }) => r.code)
  t.ok(stop.includes('setup.die_change') && stop.includes('failure.mechanical'), 'the terminal offers the line’s own stop reasons and the shipped ones')

  const day = pastWorkingDay()
  const at = (hhmm: string) => `${day}T${hhmm}:00.000Z`
  const [from, to] = [Date.parse(at('00:00')), Date.parse(at('00:00')) + DAY]
  const planned = plannedPeriods(demoShiftCalendar, from, to).reduce((s, p) => s + p.to - p.from, 0)
  t.ok(Math.abs(planned - (24 * HOUR - 3 * 45 * MIN)) <= HOUR, `three shifts less their breaks: ${planned / HOUR} h (an hour more or less on a DST day)`)
  const range = `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`
  const idle = await gw.call('GET', `/api/v1/oee?lineId=L1&${range}`)
  t.equal(idle.status, 200)
  t.equal(idle.body.oee.plannedMs, 4 * planned, 'every work center of the line has the planned time: not "no shifts"')
  t.match(idle.body.oee, { availability: 0, why: { performance: 'no_run_time' } }, 'nothing ran: availability 0 %, every minute "no data"')

  // Ana presses three brackets at the press, which has no machine connected in this test: her actions are its timeline.
  const serials = gateway.store.view.order('PO-1001')!.serials
  const run = <R>(decide: Decide<R>, when: string): R => {
    const done = gateway.store.execute('person:ana', decide, at(when))
    if (!done.ok) throw new Error(`${when}: ${done.rejection.message}`)
    return done.result
  }
  const press = (serial: string, start: string, end: string, good = true) => {
    const runId = run((v, ctx) => startOperation(v, { orderId: 'PO-1001', opSeq: 10, unitSerial: serial, quantity: null, operatorId: 'ana', workCenterId: 'WC-PRESS' }, ctx), start).runId
    return { runId, done: () => run((v, ctx) => completeOperation(v, { runId, good: good ? 1 : 0, scrap: good ? 0 : 1, scrapReasons: good ? [] : [{ reason: 'reject.dimension', quantity: 1 }], consumptions: [{ lotId: 'STEEL-0001', quantity: 0.5 }], measurements: [{ name: 'thickness', value: 2, unit: 'mm' }] }, ctx), end) }
  }
  // 12:00 to 12:50 UTC lies inside a shift and clear of its breaks in winter (13:00 Berlin) and in summer (14:00).
  press(serials[0]!, '12:00', '12:10').done()
  const second = press(serials[1]!, '12:10', '12:40')
  run((v) => pauseOperation(v, second.runId, 'setup.die_change'), '12:20')
  run((v) => resumeOperation(v, second.runId), '12:30')
  second.done()
  press(serials[2]!, '12:40', '12:50', false).done()

  const worked = await gw.call('GET', `/api/v1/oee?workCenterId=WC-PRESS&${range}`)
  t.equal(worked.status, 200)
  const o = worked.body.oee
  t.equal(o.plannedMs, planned)
  t.equal(o.runMs, 40 * MIN, 'run from 12:00 to 12:50 but for the die change')
  t.equal(o.availability, (40 * MIN) / planned)
  t.equal(o.performance, (3 * 20_000) / (40 * MIN), 'three brackets at the routing’s 20 s')
  t.equal(o.quality, 2 / 3)
  t.match(o.losses.availability.byReason.find((l: { code: string | null }) => l.code === 'setup.die_change'), { name: 'Die change at the press', loss: 'setup', ms: 10 * MIN, stops: 1 }, 'the die change under its reason')
  const byShift = await gw.call('GET', `/api/v1/oee?workCenterId=WC-PRESS&${range}&by=shift`)
  t.ok(byShift.body.items.length >= 3, `${byShift.body.items.length} shifts that day, each with its OEE`)
  t.ok(byShift.body.items.every((s: { oee: { plannedMs: number } }) => s.oee.plannedMs > 0))
})
