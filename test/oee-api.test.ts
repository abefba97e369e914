// OEE over HTTP: calendars and reasons defined by the right roles, exact OEE and loss tree from machine events, downtime edits, late data, rebuild.
import t from 'tap'
import { recordMachineCount, recordMachineState } from '../edge/core/machine.ts'
import type { MachineState } from '../edge/core/model.ts'
import { defaultReasons } from '../edge/core/oee/default-reasons.ts'
import { dumpProjections, rebuildProjections } from '../edge/store/projections.ts'
import { dispatchedOrder, lineGateway, login, startRun } from './helpers/line.ts'

const DAY = 86_400_000
// Two days ago, in UTC: every instant of the test lies in the past, so the real clock only clips nothing.
const day = new Date(Date.now() - 2 * DAY).toISOString().slice(0, 10)
const at = (hhmmss: string) => `${day}T${hhmmss}.000Z`

const early = { id: 'utc-early', timeZone: 'UTC', shifts: [{ name: 'early', days: [1, 2, 3, 4, 5, 6, 7], start: '06:00', end: '14:00', breaks: [] }], holidays: [], plannedDowntime: [] }

t.test('OEE API: definitions, exact figures, downtime edits, late data, rebuild', async (t) => {
  const gw = await lineGateway(t)
  const store = gw.running.gateway.store
  const token = async (user: string) => (await login(gw.call, user)).body.token as string
  const [olga, leo, quentin] = [await token('olga'), await token('leo'), await token('quentin')]

  // ---- shift calendars: leads and admins define them, with every problem named ----
  t.equal((await gw.call('PUT', `/api/v1/shift-calendars/${early.id}`, early, olga)).status, 403, 'an operator may not define a calendar')
  t.equal((await gw.call('PUT', `/api/v1/shift-calendars/${early.id}`, early, quentin)).status, 403, 'quality may not either')
  const bad = await gw.call('PUT', '/api/v1/shift-calendars/bad', { ...early, id: 'bad', timeZone: 'Mars/Olympus', shifts: [{ name: 'x', days: [1], start: '06:00', end: '14:00', breaks: [{ start: '15:00', end: '15:30' }] }] }, leo)
  t.equal(bad.status, 422)
  t.match(bad.body.errors, [{ path: 'json.timeZone' }, { path: /^json\.shifts\[0\]\.breaks\[0\]/ }], 'the time zone and the break outside its shift are both named')
  t.equal((await gw.call('GET', '/api/v1/shift-calendars', undefined, leo)).body.items.length, 0, 'a refused calendar is not recorded')
  t.equal((await gw.call('PUT', '/api/v1/shift-calendars/other', early, leo)).status, 422, 'the body must name the calendar of the path')
  t.equal((await gw.call('PUT', `/api/v1/shift-calendars/${early.id}`, early, leo)).status, 200, 'a lead defines a calendar')
  t.equal((await gw.call('PUT', '/api/v1/equipment/WC-MIX/shift-calendar', { calendarId: 'nope' }, leo)).status, 422, 'an unknown calendar is refused')
  t.equal((await gw.call('PUT', '/api/v1/equipment/NOPE/shift-calendar', { calendarId: early.id }, leo)).status, 404, 'unknown equipment is refused')
  t.equal((await gw.call('PUT', '/api/v1/equipment/SITE/shift-calendar', { calendarId: early.id }, leo)).status, 422, 'a site takes no calendar')
  t.equal((await gw.call('PUT', '/api/v1/equipment/L1/shift-calendar', { calendarId: early.id }, olga)).status, 403, 'an operator may not assign one')
  t.equal((await gw.call('PUT', '/api/v1/equipment/L1/shift-calendar', { calendarId: early.id }, leo)).status, 200, 'the line follows the calendar, and so its work center')

  // ---- reason codes as data ----
  const dup = await gw.call('PUT', '/api/v1/reason-codes', { reasons: [defaultReasons[0], { ...defaultReasons[0] }, { code: 'x', name: 'X', parent: 'missing', loss: 'breakdown', planned: false }] }, leo)
  t.equal(dup.status, 422)
  t.match(dup.body.errors, [{ path: 'json.reasons[1].code', message: /twice/ }, { path: 'json.reasons[2].parent', message: /missing/ }], 'duplicate codes and unknown parents, each with its place')
  t.equal((await gw.call('PUT', '/api/v1/reason-codes', { reasons: defaultReasons }, olga)).status, 403, 'an operator may not change the tree')
  const tree = [...defaultReasons, { code: 'failure.press', name: 'Press failure', parent: 'failure', loss: 'breakdown', planned: false }]
  t.equal((await gw.call('PUT', '/api/v1/reason-codes', { reasons: tree }, leo)).status, 200)
  t.equal((await gw.call('GET', '/api/v1/reason-codes', undefined, olga)).body.items.length, tree.length, 'the defined tree is the one read back')

  // ---- the machine: running from 06:00, a 30-minute failure at 08:00, a 30-second micro-stop at 09:00, counts with scrap ----
  const state = (s: MachineState, when: string) => t.ok(store.execute('device:mixer', (v) => recordMachineState(v, 'WC-MIX', s, 'test'), at(when)).ok)
  const count = (good: number, reject: number, when: string) => t.ok(store.execute('device:mixer', (v) => recordMachineCount(v, 'WC-MIX', good, reject, 'test'), at(when)).ok)
  state('running', '06:00:00')
  count(1000, 0, '07:00:00')
  state('down', '08:00:00')
  state('running', '08:30:00')
  state('down', '09:00:00')
  state('running', '09:00:30')
  count(800, 50, '10:00:00')

  const oee = async (query: string, who = olga) => gw.call('GET', `/api/v1/oee?from=${at('00:00:00')}&to=${at('23:59:00')}&${query}`, undefined, who)
  const whole = await oee('workCenterId=WC-MIX')
  t.equal(whole.status, 200)
  const o = whole.body.oee
  // Planned 8 h; 30 min down; ideal 1,850 × 10 s (the rated speed: the counts belong to no run); 1,800 good.
  t.equal(o.plannedMs, 8 * 3_600_000)
  t.equal(o.runMs, 7.5 * 3_600_000, 'the micro-stop stays in run time')
  t.equal(o.availability, 27_000 / 28_800)
  t.equal(o.performance, 18_500 / 27_000)
  t.equal(o.quality, 1800 / 1850)
  t.equal(o.oee, 18_000 / 28_800)
  t.match(o.losses.availability.byReason, [{ code: null, loss: 'breakdown', ms: 1_800_000, stops: 1 }], 'the unexplained failure')
  t.equal(o.losses.availability.byReason.length, 1)
  t.match(o.losses.performance, { smallStopsMs: 30_000, smallStops: 1 })
  t.match(o.losses.quality.byReason, [{ count: 50, ms: 500_000 }])

  const shifts = await oee('workCenterId=WC-MIX&by=shift')
  t.match(shifts.body.items, [{ date: day, shift: 'early', oee: { oee: 18_000 / 28_800 } }], 'by shift: what the HMI reads')
  t.equal(shifts.body.items.length, 1)
  t.match((await oee('workCenterId=WC-MIX&by=day')).body.items, [{ date: day, oee: { plannedMs: 28_800_000 } }])
  t.same((await oee('workCenterId=WC-MIX&by=order')).body.items, [], 'no order ran: no OEE by order')
  t.same((await oee('lineId=L1')).body.oee, o, 'the line of one work center has its OEE')
  t.match((await oee('lineId=L1&by=shift')).body.items, [{ date: day, shift: 'early', oee: { oee: 18_000 / 28_800 } }])
  t.equal((await oee('lineId=L1&by=order')).status, 422, 'a line is not grouped by order')
  t.equal((await oee('lineId=NOPE')).status, 404)
  t.equal((await oee('workCenterId=NOPE')).status, 404)
  t.equal((await oee('workCenterId=WC-MIX&lineId=L1')).status, 422, 'a work center or a line, not both')
  t.equal((await oee('')).status, 422, 'one of them is needed')
  t.equal((await gw.call('GET', `/api/v1/oee?workCenterId=WC-MIX&from=${at('10:00:00')}&to=${at('09:00:00')}`, undefined, olga)).status, 422, 'a range that ends before it starts')
  t.equal((await gw.call('GET', `/api/v1/oee?workCenterId=WC-MIX&from=2020-01-01T00:00:00Z&to=2022-01-01T00:00:00Z`, undefined, olga)).status, 422, 'a range over 400 days')
  t.equal((await gw.call('GET', `/api/v1/oee?workCenterId=WC-MIX&from=${at('00:00:00')}&to=${at('23:00:00')}`, undefined, '')).status, 401, 'no credentials, no OEE')
  const none = await gw.call('GET', `/api/v1/oee?workCenterId=WC-MIX&from=${at('15:00:00')}&to=${at('20:00:00')}`, undefined, olga)
  t.match(none.body.oee, { plannedMs: 0, availability: null, performance: null, oee: null, why: { availability: 'no_planned_time', oee: 'no_planned_time' } }, 'no planned time: no value, not NaN')

  // ---- downtime: list, classify, split, merge, with who may and what is refused ----
  const list = await gw.call('GET', `/api/v1/work-centers/WC-MIX/downtime?from=${at('06:00:00')}&to=${at('14:00:00')}`, undefined, olga)
  t.match(list.body.items, [{ from: at('08:00:00'), to: at('08:30:00'), durationMs: 1_800_000, reason: null, states: ['down'] }, { from: at('09:00:00'), durationMs: 30_000 }])
  const classify = (body: unknown, who = olga, wc = 'WC-MIX') => gw.call('POST', `/api/v1/work-centers/${wc}/downtime/classify`, body, who)
  t.equal((await classify({ from: at('08:00:00'), reason: 'failure.press' }, quentin)).status, 403, 'quality does not classify stops')
  t.match(await classify({ from: at('08:01:00'), reason: 'failure.press' }), { status: 404, body: { code: 'stop_unknown' } }, 'no stop starts there')
  t.match(await classify({ from: at('08:00:00'), reason: 'failure.nope' }), { status: 422, body: { code: 'downtime_edit_invalid', details: { problem: 'reason_unknown' } } })
  t.match(await classify({ from: at('08:00:00'), reason: 'reject.visual' }), { status: 422, body: { details: { problem: 'reason_not_a_stop' } } }, 'a scrap reason is not for a stop')
  t.match(await classify({ from: at('08:00:00') }), { status: 422, body: { code: 'validation_failed' } }, 'the reason is required')
  t.equal((await classify({ from: at('08:00:00'), reason: 'failure.press' }, olga, 'NOPE')).status, 404)
  const seqBefore = store.head().seq
  const ok = await classify({ from: at('08:00:00'), reason: 'failure.press', why: 'ram stuck' })
  t.equal(ok.status, 201)
  t.match(ok.body, { kind: 'classified', after: [{ from: at('08:00:00'), to: at('08:30:00'), reason: 'failure.press' }] })
  t.equal(store.head().seq, seqBefore + 1, 'one event, with who and why')
  t.match(await classify({ from: at('08:00:00'), reason: 'failure.press' }), { status: 422, body: { details: { problem: 'same_reason' } } })
  const after = (await oee('workCenterId=WC-MIX')).body.oee
  t.match(after.losses.availability.byReason, [{ code: 'failure.press', name: 'Press failure', path: ['unplanned', 'failure', 'failure.press'], ms: 1_800_000, stops: 1 }])
  t.equal(after.oee, o.oee, 'a reason moves time in the loss tree, not OEE')

  const split = await gw.call('POST', '/api/v1/work-centers/WC-MIX/downtime/split', { from: at('08:00:00'), at: at('08:10:00'), reasons: ['failure.press', 'failure.tooling'], why: 'tool broke while fixing' }, olga)
  t.equal(split.status, 201)
  t.match((await oee('workCenterId=WC-MIX')).body.oee.losses.availability.byReason, [
    { code: 'failure.tooling', ms: 1_200_000 },
    { code: 'failure.press', ms: 600_000 },
  ], 'each part of the split under its reason, the longest first')
  t.match(await gw.call('POST', '/api/v1/work-centers/WC-MIX/downtime/split', { from: at('08:00:00'), at: at('09:00:00'), reasons: ['failure.press', 'failure.drive'] }, olga), { status: 422, body: { details: { problem: 'not_inside' } } })
  t.match(await gw.call('POST', '/api/v1/work-centers/WC-MIX/downtime/merge', { from: at('09:00:00') }, olga), { status: 422, body: { details: { problem: 'not_adjacent' } } }, 'the micro-stop has no neighbour to merge with')
  const merged = await gw.call('POST', '/api/v1/work-centers/WC-MIX/downtime/merge', { from: at('08:00:00'), reason: 'failure.drive', why: 'one failure after all' }, leo)
  t.equal(merged.status, 201)
  t.match((await oee('workCenterId=WC-MIX')).body.oee.losses.availability.byReason, [{ code: 'failure.drive', ms: 1_800_000, stops: 1 }], 'merged back into one stop')
  const edits = gw.running.gateway.store.db.sqlite.prepare('SELECT kind, actor, why FROM downtime_edits ORDER BY event_seq').all()
  t.same(edits, [
    { kind: 'classified', actor: 'person:olga', why: 'ram stuck' },
    { kind: 'split', actor: 'person:olga', why: 'tool broke while fixing' },
    { kind: 'merged', actor: 'person:leo', why: 'one failure after all' },
  ], 'each edit is kept with who and why')

  // ---- late data: a machine's buffer after a network cut, recorded after later events ----
  state('down', '11:00:00')
  state('running', '11:05:00')
  const late = (await oee('workCenterId=WC-MIX')).body.oee
  t.equal(late.runMs, 7.5 * 3_600_000 - 300_000, 'the late stop recomputes the shift it belongs to')
  t.match(late.losses.availability.byReason, [{ code: 'failure.drive', ms: 1_800_000 }, { code: null, ms: 300_000 }])

  // ---- the micro-stop threshold: per work center, baked into the buckets, rebuilt when it changes ----
  t.equal((await gw.call('PUT', '/api/v1/work-centers/WC-MIX/oee/settings', { microStopThresholdMs: 20_000 }, olga)).status, 403)
  t.equal((await gw.call('PUT', '/api/v1/work-centers/WC-MIX/oee/settings', { microStopThresholdMs: -1 }, leo)).status, 422)
  t.equal((await gw.call('PUT', '/api/v1/work-centers/WC-MIX/oee/settings', { microStopThresholdMs: 20_000 }, leo)).status, 200)
  t.equal((await gw.call('GET', '/api/v1/work-centers/WC-MIX/oee/settings', undefined, olga)).body.microStopThresholdMs, 20_000)
  const strict = (await oee('workCenterId=WC-MIX')).body.oee
  t.equal(strict.losses.performance.smallStops, 0, 'a 30-second stop is no small stop under a 20-second threshold')
  t.equal(strict.runMs, late.runMs - 30_000)

  // ---- the live value of the current shift ----
  t.match((await gw.call('GET', '/api/v1/work-centers/WC-MIX/oee/current', undefined, olga)).body, { workCenterId: 'WC-MIX', calendarId: early.id })
  const allDay = { id: 'utc-24h', timeZone: 'UTC', shifts: [{ name: 'day', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '00:00', breaks: [] }], holidays: [], plannedDowntime: [] }
  t.equal((await gw.call('PUT', `/api/v1/shift-calendars/${allDay.id}`, allDay, leo)).status, 200)
  t.equal((await gw.call('PUT', '/api/v1/equipment/WC-MIX/shift-calendar', { calendarId: allDay.id }, leo)).status, 200, "the work center's own calendar wins over its line's")
  const current = await gw.call('GET', '/api/v1/work-centers/WC-MIX/oee/current', undefined, olga)
  t.match(current.body, { calendarId: allDay.id, shift: { name: 'day', date: new Date().toISOString().slice(0, 10) }, oee: { availability: 1 } }, 'running since two days ago: the whole shift so far ran')
  t.ok(current.body.oee.plannedMs > 0)
  t.equal((await gw.call('GET', '/api/v1/work-centers/NOPE/oee/current', undefined, olga)).status, 404)

  // ---- by order and product: the counts booked to the run, the planned time while it ran ----
  await dispatchedOrder(gw.call, 'PO-OEE', 100)
  await startRun(gw.call, 'PO-OEE')
  t.ok(store.execute('device:mixer', (v) => recordMachineCount(v, 'WC-MIX', 5, 1, 'test')).ok)
  const window = `from=${new Date(Date.now() - 3_600_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`
  const byOrder = await gw.call('GET', `/api/v1/oee?workCenterId=WC-MIX&${window}&by=order`, undefined, olga)
  t.match(byOrder.body.items, [{ orderId: 'PO-OEE', productId: 'PASTE', oee: { counts: { total: 6, good: 5, reject: 1 }, idealMs: 60_000 } }], 'the order with its own counts, at the rated speed (no ideal cycle time in the routing)')
  t.equal(byOrder.body.items.length, 1)
  t.match((await gw.call('GET', `/api/v1/oee?workCenterId=WC-MIX&${window}&by=product`, undefined, olga)).body.items, [{ productId: 'PASTE', oee: { counts: { total: 6 } } }])

  const doc = await gw.call('GET', '/openapi.json')
  t.ok(['/api/v1/oee', '/api/v1/work-centers/{id}/oee/current', '/api/v1/work-centers/{id}/downtime/classify', '/api/v1/reason-codes'].every((p) => p in doc.body.paths), 'the routes are in the OpenAPI document')
  t.same(doc.body.paths['/api/v1/oee'].get.security, [{ bearer: [] }], 'and need a bearer token')

  // ---- a rebuild of every projection from the log equals the live projections ----
  const sqlite = store.db.sqlite
  const live = dumpProjections(sqlite)
  t.ok((live.oee_buckets as unknown[]).length > 0, 'the buckets are there to compare')
  rebuildProjections(sqlite)
  t.same(dumpProjections(sqlite), live, 'a rebuilt projection equals the live one, buckets included')
})
