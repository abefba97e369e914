// The batch record and device history record of a real order run over HTTP on a real gateway: every as-built fact, deviations, a signature, plan vs build, escaping, roles, and the PDF from Chromium.
import t from 'tap'
import { existsSync } from 'node:fs'
import { dispatchedOrder, lineGateway, login, order, password } from '../helpers/line.ts'
import type { Reply } from '../helpers/gateway.ts'
import { PdfPrinter } from '../../edge/api/records/pdf-printer.ts'

const gw = await lineGateway(t)
const ok = async (r: Promise<Reply>, what: string, status = 200) => {
  const reply = await r
  if (reply.status !== status) throw new Error(`${what}: expected ${status}, got ${reply.status} ${JSON.stringify(reply.body)}`)
  return reply
}
const tokenOf = async (user: string) => (await ok(login(gw.call, user), `login ${user}`)).body.token as string
const [olga, leo, quentin] = [await tokenOf('olga'), await tokenOf('leo'), await tokenOf('quentin')]

// A lot of the wrong material, to be refused at the scan.
await ok(gw.call('PUT', '/api/v1/lots/PASTE-077', { id: 'PASTE-077', materialId: 'PASTE', status: 'released', quantity: 10 }), 'lot PASTE-077')
// Two widgets, serialized: the first measured out of limits (nonconformance, hold, disposition, signed release), the second scrapped.
await ok(gw.call('POST', '/api/v1/orders', order('PO-R1', 2, { productId: 'WIDGET', bomId: 'BOM-WIDGET', routingId: 'RT-WIDGET' })), 'order PO-R1', 201)
const released = await ok(gw.call('POST', '/api/v1/orders/PO-R1/release'), 'release')
await ok(gw.call('POST', '/api/v1/orders/PO-R1/dispatch'), 'dispatch')
const [first, second] = released.body.serials as [string, string]
const scrapReason = ((await ok(gw.call('GET', '/api/v1/hmi/reason-codes'), 'reasons')).body.scrap as Array<{ code: string }>)[0]!.code

const run1 = (await ok(gw.call('POST', '/api/v1/orders/PO-R1/operations/10/start', { unit: first }, olga), 'start 1', 201)).body.runId as string
const refusedScan = await gw.call('POST', `/api/v1/runs/${run1}/consumptions`, { lot: 'PASTE-077', quantity: 1 }, olga)
await ok(gw.call('POST', `/api/v1/runs/${run1}/consumptions`, { lot: 'RESIN-001', quantity: 1 }, olga), 'consume 1', 201)
await gw.call('POST', `/api/v1/runs/${run1}/measurements`, { name: 'viscosity', value: 12, unit: 'Pa.s' }, olga)
const nc = ((await ok(gw.call('GET', '/api/v1/nonconformances', undefined, quentin), 'ncs')).body.items as Array<{ id: string; unitSerial: string }>).find((n) => n.unitSerial === first)!
await ok(gw.call('POST', `/api/v1/nonconformances/${nc.id}/disposition`, { disposition: 'use_as_is', reason: 'within the customer concession C-12' }, quentin), 'disposition')
const signature = { meaning: 'approval', username: 'quentin', password }
await ok(gw.call('POST', `/api/v1/units/${first}/release-hold`, { reason: 'concession C-12 approved', signature }, quentin), 'signed release')
await ok(gw.call('POST', `/api/v1/runs/${run1}/measurements`, { name: 'viscosity', value: 9.5, unit: 'Pa.s' }, olga), 'measure again', 201)
await ok(gw.call('POST', `/api/v1/runs/${run1}/complete`, { good: 1 }, olga), 'complete 1')

// Free text from a person, shaped as markup: it must come out as text.
await ok(gw.call('POST', '/api/v1/orders/PO-R1/hold', { reason: '<script>alert("held")</script> customer call' }, leo), 'hold')
await ok(gw.call('POST', '/api/v1/orders/PO-R1/release-hold', { reason: 'customer confirmed <b>go</b>' }, leo), 'release order')
const run2 = (await ok(gw.call('POST', '/api/v1/orders/PO-R1/operations/10/start', { unit: second }, olga), 'start 2', 201)).body.runId as string
await ok(gw.call('POST', `/api/v1/runs/${run2}/consumptions`, { lot: 'RESIN-001', quantity: 1 }, olga), 'consume 2', 201)
await ok(gw.call('POST', `/api/v1/runs/${run2}/measurements`, { name: 'viscosity', value: 5, unit: 'Pa.s' }, olga), 'measure 2', 201)
await ok(gw.call('POST', `/api/v1/runs/${run2}/complete`, { good: 0, scrap: 1, scrapReasons: [{ reason: scrapReason, quantity: 1 }] }, olga), 'complete 2')

async function get(path: string, token: string) {
  const res = await fetch(gw.url + path, { headers: token ? { authorization: `Bearer ${token}` } : {} })
  return { status: res.status, type: res.headers.get('content-type') ?? '', csp: res.headers.get('content-security-policy') ?? '', bytes: new Uint8Array(await res.arrayBuffer()) }
}
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

t.test("an order's batch record holds every as-built fact, deviation and signature of the run", async (t) => {
  t.equal(refusedScan.status, 422, 'the wrong lot was refused at the scan')
  const r = await get('/api/v1/orders/PO-R1/record', quentin)
  t.equal(r.status, 200)
  t.match(r.type, /^text\/html; charset=utf-8/)
  const page = text(r.bytes)
  t.match(page, /<h1>Batch record: order PO-R1<\/h1>/)
  for (const fact of [
    'WIDGET', 'RT-WIDGET version A', 'BOM-WIDGET version A', first, second,
    'Operation 10 Mix', 'Mixer (WC-MIX)', 'Olga Operator (olga)', 'RESIN-001',
    '12 Pa.s', '9.5 Pa.s', '5 Pa.s', '1 – 10 Pa.s', 'class="fail">FAIL', 'class="pass">PASS',
  ]) t.ok(page.includes(fact), `as built: ${fact}`)
  t.match(page, new RegExp(`${run1}[\\s\\S]*Started</dt><dd>\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC`), 'runs with their start in UTC')
  t.match(page, /PASTE-077<\/td><td>1<\/td><td>lot_wrong_material: /, 'the refused scan with its reason')
  t.ok(page.includes(nc.id) && page.includes('use_as_is') && page.includes('Quentin Quality (quentin)'), 'the nonconformance with its disposition and who gave it')
  t.ok(page.includes('Unit held') && page.includes('Unit hold released') && page.includes('concession C-12 approved'), 'the hold and its release')
  t.match(page, new RegExp(`<td>10</td><td>${second}</td><td>${scrapReason}</td><td>1</td>`), 'the scrap with its reason')
  t.match(page, /<td>Quentin Quality \(quentin\)<\/td><td>approval<\/td><td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC<\/td><td>[^<]+<\/td><td>UnitHoldReleased unit\//, 'the signature: printed name, meaning, UTC and local time, the signed record')
  t.ok(page.includes('bound to the record'), 'and it still matches what it signs')
  t.match(page, /As planned vs as built[\s\S]*work center WC-MIX; components RESIN 1 each[\s\S]*lots RESIN-001 \(RESIN, 2\)/, 'the plan beside what was built')

  t.notOk(page.includes('<script'), 'no script anywhere: the hold reason is text')
  t.ok(page.includes('&lt;script&gt;alert(&quot;held&quot;)&lt;/script&gt; customer call') && page.includes('customer confirmed &lt;b&gt;go&lt;/b&gt;'), 'escaped as written')
  t.match(r.csp, /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/, 'and the policy would not run a script anyway')
})

t.test("a unit's device history record has that unit's runs and deviations only", async (t) => {
  const r = await get(`/api/v1/units/${first}/record`, quentin)
  t.equal(r.status, 200)
  const page = text(r.bytes)
  t.match(page, new RegExp(`<h1>Device history record: unit ${first}</h1>`))
  t.ok(page.includes(run1) && !page.includes(run2), 'its own run, not the other unit\'s')
  t.ok(page.includes('12 Pa.s') && !page.includes('>5 Pa.s'), 'its measurements')
  t.ok(page.includes(nc.id) && page.includes('Quentin Quality (quentin)</td><td>approval'), 'its nonconformance and signature')
  t.ok(page.includes('Nothing scrapped.'), 'the other unit\'s scrap is not its own')
})

t.test('who may read records: quality and leads; an operator is refused, no token is 401, unknown ids 404, bad ids 422', async (t) => {
  t.equal((await get('/api/v1/orders/PO-R1/record', leo)).status, 200, 'a lead reads it')
  t.equal((await get('/api/v1/orders/PO-R1/record', '')).status, 401, 'anonymous')
  t.equal((await get(`/api/v1/units/${first}/record`, '')).status, 401, 'anonymous, unit')
  const refused = await get('/api/v1/orders/PO-R1/record', olga)
  t.equal(refused.status, 403, 'an operator')
  t.match(refused.type, /^application\/problem\+json/)
  const missing = await get('/api/v1/orders/PO-NONE/record', quentin)
  t.equal(missing.status, 404)
  t.match(JSON.parse(text(missing.bytes)).detail, /no order 'PO-NONE'/)
  t.equal((await get('/api/v1/units/NO-SUCH-UNIT/record', quentin)).status, 404)
  const bad = await get(`/api/v1/orders/${encodeURIComponent('<script>x</script>')}/record`, quentin)
  t.equal(bad.status, 422, 'an id with markup is refused, as JSON, never echoed in a page')
  t.match(bad.type, /^application\/problem\+json/)
  t.equal((await get('/api/v1/orders/PO-R1/record?format=docx', quentin)).status, 422, 'an unknown format')
})

t.test('the PDF is printed by Chromium and has the record on its pages', { skip: existsSync('/usr/bin/chromium') ? false : 'no Chromium on this machine' }, async (t) => {
  const r = await get('/api/v1/orders/PO-R1/record?format=pdf', quentin)
  t.equal(r.status, 200)
  t.equal(r.type, 'application/pdf')
  const pdf = Buffer.from(r.bytes).toString('latin1')
  t.ok(pdf.startsWith('%PDF-'), 'a PDF')
  t.ok((pdf.match(/\/Type\s*\/Page\b/g) ?? []).length >= 1, 'with at least one page')
  t.ok(r.bytes.byteLength > 5000, `of some size (${r.bytes.byteLength} bytes)`)
})

t.test('a gateway without Chromium answers a clear 503 problem instead of a PDF', async (t) => {
  const printer = new PdfPrinter({ chromiumPath: '/nonexistent/chromium' })
  await t.rejects(printer.print('<p>record</p>'), { status: 503, code: 'pdf_unavailable', message: /no Chromium at \/nonexistent\/chromium/ })
})
