// OEE from operator entries where no machine counts: good parts and scrap by reason from completions, never on top of a machine's own counts.
import t from 'tap'
import { recordMachineCount } from '../edge/core/machine.ts'
import { dumpProjections, rebuildProjections } from '../edge/store/projections.ts'
import { completion, dispatchedOrder, lineGateway, login, startRun } from './helpers/line.ts'

const allDay = { id: 'utc-24h', timeZone: 'UTC', shifts: [{ name: 'day', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '00:00', breaks: [] }], holidays: [], plannedDowntime: [] }
const hour = new Date(Date.now() - 3_600_000).toISOString()
const now = () => new Date(Date.now() + 60_000).toISOString()

t.test('completions count at a work center without a counting machine; a machine-counted run is not counted twice', async (t) => {
  const gw = await lineGateway(t)
  const olga = (await login(gw.call, 'olga')).body.token as string
  const leo = (await login(gw.call, 'leo')).body.token as string
  t.equal((await gw.call('PUT', `/api/v1/shift-calendars/${allDay.id}`, allDay, leo)).status, 200, 'a calendar of one 24-hour shift')
  t.equal((await gw.call('PUT', '/api/v1/equipment/L1/shift-calendar', { calendarId: allDay.id }, leo)).status, 200, 'planned time all day')
  const oee = async () => (await gw.call('GET', `/api/v1/oee?workCenterId=WC-MIX&from=${hour}&to=${now()}`, undefined, olga)).body.oee

  await dispatchedOrder(gw.call, 'PO-OP-1', 3)
  const good = await startRun(gw.call, 'PO-OP-1')
  t.equal((await gw.call('POST', `/api/v1/runs/${good}/complete`, completion, olga)).status, 200, 'one good from the operator')
  const scrapped = await startRun(gw.call, 'PO-OP-1')
  const scrap = await gw.call('POST', `/api/v1/runs/${scrapped}/complete`, { ...completion, good: 0, scrap: 1, scrapReasons: [{ reason: 'reject.visual', quantity: 1 }] }, olga)
  t.equal(scrap.status, 200, 'one scrapped, with its reason')

  let o = await oee()
  t.same(o.counts, { total: 2, good: 1, reject: 1 }, 'the good part and the scrapped one count')
  t.equal(o.quality, 1 / 2, 'quality from the operator’s entries')
  t.match(o.losses.quality.byReason, [{ code: 'reject.visual', count: 1 }], 'the scrap under its reason in the loss tree')

  // The machine counts this run itself: the operator's completion must not add the same parts again.
  const counted = await startRun(gw.call, 'PO-OP-1')
  t.ok(gw.running.gateway.store.execute('device:mixer', (v) => recordMachineCount(v, 'WC-MIX', 1, 0, 'test')).ok, 'the machine counts one part for the running run')
  t.equal((await gw.call('POST', `/api/v1/runs/${counted}/complete`, completion, olga)).status, 200, 'the operator completes that run')
  o = await oee()
  t.same(o.counts, { total: 3, good: 2, reject: 1 }, 'two good: the machine’s one for the third run, not the operator’s as well')

  const sqlite = gw.running.gateway.store.db.sqlite
  const live = dumpProjections(sqlite)
  rebuildProjections(sqlite)
  t.same(dumpProjections(sqlite), live, 'a rebuild from the log gives the same counts')
})
