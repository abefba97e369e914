// The terminal's reason codes are the plant's defined tree, the shipped one only until one is defined; a pause picks from the same tree.
import t from 'tap'
import { defaultReasons } from '../edge/core/oee/default-reasons.ts'
import { stopLossClasses, rejectLossClasses, type ReasonCode } from '../edge/core/oee/reasons.ts'
import { dispatchedOrder, lineGateway, login, startRun } from './helpers/line.ts'

const leaves = (reasons: readonly ReasonCode[], classes: readonly string[]) => {
  const parents = new Set(reasons.map((r) => r.parent))
  return reasons.filter((r) => !parents.has(r.code) && classes.includes(r.loss)).map((r) => r.code).sort()
}
const codes = (items: Array<{ code: string }>) => items.map((r) => r.code).sort()

t.test('GET /api/v1/hmi/reason-codes: the shipped tree until the plant defines its own, then that one alone', async (t) => {
  const gw = await lineGateway(t)
  const olga = (await login(gw.call, 'olga')).body.token as string
  const leo = (await login(gw.call, 'leo')).body.token as string

  t.equal((await gw.call('GET', '/api/v1/hmi/reason-codes', undefined, '')).status, 401, 'not without a login')
  const shipped = await gw.call('GET', '/api/v1/hmi/reason-codes', undefined, olga)
  t.equal(shipped.status, 200)
  t.same(codes(shipped.body.stop), leaves(defaultReasons, stopLossClasses), 'none defined: the shipped stop reasons')
  t.same(codes(shipped.body.scrap), leaves(defaultReasons, rejectLossClasses), 'and scrap reasons')

  const own: ReasonCode[] = [
    { code: 'press', name: 'Press stops', loss: 'breakdown', planned: false },
    { code: 'press.ram', name: 'Ram stuck', parent: 'press', loss: 'breakdown', planned: false },
    { code: 'press.die', name: 'Die change', parent: 'press', loss: 'setup', planned: true },
    { code: 'lunch', name: 'Lunch', loss: 'planned', planned: true },
    { code: 'burr', name: 'Burr on the edge', loss: 'production_reject', planned: false },
  ]
  t.equal((await gw.call('PUT', '/api/v1/reason-codes', { reasons: own }, olga)).status, 403, 'an operator does not define the tree')
  t.equal((await gw.call('GET', '/api/v1/hmi/reason-codes', undefined, olga)).body.stop.length, shipped.body.stop.length, 'a refused tree changes nothing')
  t.equal((await gw.call('PUT', '/api/v1/reason-codes', { reasons: own }, leo)).status, 200)
  const defined = await gw.call('GET', '/api/v1/hmi/reason-codes', undefined, olga)
  t.same(codes(defined.body.stop), ['lunch', 'press.die', 'press.ram'], 'the defined stop reasons, leaves only: no shipped reason any more')
  t.same(codes(defined.body.scrap), ['burr'])
  t.match(defined.body.stop.find((r: { code: string }) => r.code === 'press.ram'), { name: 'Ram stuck' })

  // What the terminal offers is what a pause may name: the stop is classified with it.
  await dispatchedOrder(gw.call, 'PO-RC', 1)
  const runId = await startRun(gw.call, 'PO-RC')
  t.equal((await gw.call('POST', `/api/v1/runs/${runId}/pause`, { reason: 'press.ram' }, olga)).status, 200)
  const now = new Date(Date.now() + 1000).toISOString()
  const stops = await gw.call('GET', `/api/v1/work-centers/WC-MIX/downtime?from=${new Date(Date.now() - 60_000).toISOString()}&to=${now}`, undefined, olga)
  t.match(stops.body.items, [{ open: true, reason: 'press.ram', reasonSource: 'operator', states: ['down'] }], 'the paused work center is down for the reason the operator picked')
})
