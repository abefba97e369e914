// Signatures shown wherever the HMI shows their record (21 CFR 11.50(b)): orders on the board, nonconformances and units in quality, after a reload; an order closed through the signing dialog.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import t from 'tap'
import { completion, dispatchedOrder, password, startRun } from '../helpers/line.ts'
import { heldUnits, part11Gateway } from '../compliance/part11-gateway.ts'
import { launchBrowser, loginWithPassword, openPage, seriousViolations } from './helpers/browser.ts'

// A real browser on a shared, loaded machine: more than tap's 30 s when run with node directly.
t.setTimeout(120_000)
const gw = await part11Gateway(
  t,
  `signatures:
  required: [unit-hold-release, nonconformance-disposition, order-close]
  twoPerson: [unit-hold-release, nonconformance-disposition, order-close]
  timeZone: Europe/Berlin
`,
)
const url = `http://127.0.0.1:${gw.running.port}`
const browser = await launchBrowser()
t.teardown(() => browser.close())
const { serials, ncs } = await heldUnits(gw.call, 'PO-S1', 2, await gw.session('paula'))
const [u1] = serials as [string, string]
const [nc1, nc2] = ncs as [string, string]
/** A completed lot order: one kg mixed by Olga. */
const completedOrder = async (id: string) => {
  await dispatchedOrder(gw.call, id, 1)
  const runId = await startRun(gw.call, id)
  const done = await gw.call('POST', `/api/v1/runs/${runId}/complete`, completion)
  if (done.status !== 200) throw new Error(`complete ${id}: ${done.status} ${JSON.stringify(done.body)}`)
}
await completedOrder('PO-C1')
await completedOrder('PO-C2')
await dispatchedOrder(gw.call, 'PO-OPEN', 3)
const orderState = async (id: string) => (await gw.call('GET', `/api/v1/orders/${id}`)).body.state as string
const signatureText = /^(.+) · (Approval|Review|Responsibility|Authorship) · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · local time \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(UTC\+0[12]:00, Europe\/Berlin\)/

t.test('the signatures list: many records in one request, each kind read by the roles that read its record, bad subjects refused', async (t) => {
  const r = await gw.call('GET', `/api/v1/signatures?subjects=order/PO-C1,nonconformance/${nc1},order/PO-C1`)
  t.equal(r.status, 200)
  t.same(r.body, { items: { 'order/PO-C1': [], [`nonconformance/${nc1}`]: [] } }, 'every named record, once, none signed yet')
  const olga = await gw.session('olga')
  t.equal((await gw.call('GET', '/api/v1/signatures?subjects=order/PO-C1,unit/' + u1, undefined, olga)).status, 200, 'an operator reads the signatures of orders and units')
  t.match(await gw.call('GET', `/api/v1/signatures?subjects=order/PO-C1,nonconformance/${nc1}`, undefined, olga), { status: 403, body: { code: 'forbidden' } }, 'but not of nonconformances, as GET /nonconformances/{id} refuses her')
  t.match(await gw.call('GET', '/api/v1/signatures'), { status: 422, body: { code: 'query_invalid', errors: [{ path: 'query.subjects' }] } }, 'no subject')
  t.match(await gw.call('GET', '/api/v1/signatures?subjects=order/PO-C1,person/olga'), { status: 422, body: { code: 'query_invalid', detail: /item 2 \('person\/olga'\) is not a record subject/ } }, 'a kind that is not listed')
  t.match(await gw.call('GET', '/api/v1/signatures?subjects=order/'), { status: 422, body: { code: 'query_invalid' } }, 'a subject without an id')
  const many = Array.from({ length: 501 }, (_, i) => `order/PO-${i}`).join(',')
  t.match(await gw.call('GET', `/api/v1/signatures?subjects=${many}`), { status: 422, body: { detail: /names 501 records; at most 500/ } }, 'too many at once')
})

t.test('quality: a signed disposition and a signed unit release still show their signatures after a reload; an unsigned nonconformance shows none', async (t) => {
  const { page, context, problems } = await openPage(browser)
  t.teardown(() => context.close())
  await loginWithPassword(page, url, 'quentin', password)
  await page.locator('table caption', { hasText: 'Units on hold' }).waitFor()
  t.equal(await page.locator('tr.signature-row').count(), 0, 'nothing signed yet, no signature rows')
  const dialog = page.locator('#sign')

  await page.locator('tr', { hasText: u1 }).getByRole('button', { name: 'Release' }).first().click()
  await page.getByLabel('Reason').fill('MRB: re-measured within limits')
  await page.locator('#ask-ok').click()
  await dialog.getByLabel('Your user id').fill('quentin')
  await dialog.getByLabel('Your password').fill(password)
  await dialog.getByRole('button', { name: 'Sign' }).click()
  await page.getByText(`${u1} is released from hold, signed.`).waitFor()

  await page.locator(`button[data-nc="${nc1}"]`).click()
  await page.getByLabel('Disposition', { exact: true }).selectOption('scrap')
  await page.getByRole('dialog').getByLabel('Reason').fill('scrap: viscosity far out')
  await page.getByRole('dialog').getByRole('button', { name: 'OK' }).click()
  await dialog.getByLabel('Your password').fill(password)
  await dialog.getByRole('radio', { name: 'Responsibility' }).check()
  await dialog.getByRole('button', { name: 'Sign' }).click()
  await page.getByText(`Dispositioned: nonconformance ${nc1.slice(-8)}: scrap.`).waitFor()

  await page.reload()
  const row = page.locator(`tr.signature-row[data-record="nonconformance/${nc1}"]`)
  await row.waitFor()
  t.match(await row.locator('.signature').textContent(), signatureText, 'the nonconformance row shows its signature after the page was left')
  t.match(await row.locator('.signature').textContent(), /^Quentin Quality · Responsibility · /)
  t.equal(await row.locator('.signature[data-valid="true"]').count(), 1, 'the gateway checked it')
  t.equal(await row.locator('.bad').count(), 0, 'and it holds: no warning')
  t.equal(await page.locator(`tr.signature-row[data-record="nonconformance/${nc2}"]`).count(), 0, 'the nonconformance not yet dispositioned shows no signature')
  t.equal(await page.locator('.signed-here .signature').count(), 0, 'the shown signature comes from the list, not from what was signed on this page')
  t.same(await seriousViolations(page), [], 'axe: nonconformances with signatures')

  await page.getByRole('link', { name: 'Genealogy' }).click()
  await page.getByLabel('Serial or lot').fill(u1)
  await page.getByRole('button', { name: 'Trace' }).click()
  await page.getByRole('heading', { name: `Genealogy of unit ${u1}` }).waitFor()
  t.match(await page.locator('.signatures .signature').first().textContent(), /^Quentin Quality · Approval · /, 'the released unit shows its signature with its record')
  t.same(problems, [])
})

t.test('board: a lead closes a completed order through the signing dialog; the order shows its signature after a reload, an order not closed shows none', async (t) => {
  const { page, context, problems } = await openPage(browser)
  t.teardown(() => context.close())
  await loginWithPassword(page, url, 'leo', password)
  await page.goto(`${url}/#/board/wip`)
  await page.locator('table caption', { hasText: 'Completed and closed orders' }).waitFor()
  t.equal(await page.locator('tr.signature-row').count(), 0, 'no order is signed yet')
  const dialog = page.locator('#sign')

  // Cancelled: nothing closed, nothing signed.
  await page.locator('button[data-close="PO-C2"]').click()
  await dialog.getByRole('heading', { name: 'Electronic signature: close order PO-C2' }).waitFor()
  await dialog.getByRole('button', { name: 'Cancel' }).click()
  await dialog.waitFor({ state: 'hidden' })
  t.equal(await orderState('PO-C2'), 'completed', 'a cancelled signing closes nothing')

  await page.locator('button[data-close="PO-C1"]').click()
  await dialog.getByRole('heading', { name: 'Electronic signature: close order PO-C1' }).waitFor()
  t.ok(await dialog.getByText('You sign as Leo Lead.', { exact: false }).isVisible(), 'says who signs')
  await dialog.getByLabel('Your user id').fill('leo')
  await dialog.getByLabel('Your password').fill('not my password')
  await dialog.getByRole('button', { name: 'Sign' }).click()
  await dialog.getByRole('alert').getByText('The password is wrong; nothing was signed.').waitFor()
  t.equal(await orderState('PO-C1'), 'completed', 'a wrong password closes nothing')
  await dialog.getByLabel('Your password').fill(password)
  await dialog.getByRole('radio', { name: 'Approval' }).check()
  await dialog.getByRole('button', { name: 'Sign' }).click()
  await page.getByText('PO-C1 is closed, signed.').waitFor()
  t.equal(await orderState('PO-C1'), 'closed', 'the gateway closed it')
  t.match((await gw.call('GET', '/api/v1/orders/PO-C1')).body.signatures, [{ signerId: 'leo', meaning: 'approval', signedType: 'OrderClosed', valid: true }], 'signed by Leo')

  await page.reload()
  const row = page.locator('tr.signature-row[data-record="order/PO-C1"]')
  await row.waitFor()
  t.match(await row.locator('.signature').textContent(), signatureText, 'the closed order shows its signature on the board after a reload')
  t.match(await row.locator('.signature').textContent(), /^Leo Lead · Approval · /)
  t.match(await page.locator('tr', { has: page.locator('[data-order="PO-C1"]') }).textContent(), /closed/, 'listed as closed')
  t.equal(await page.locator('button[data-close="PO-C1"]').count(), 0, 'a closed order offers no close')
  t.equal(await page.locator('button[data-close="PO-C2"]').count(), 1, 'the other completed order still can be closed')
  for (const id of ['PO-C2', 'PO-OPEN', 'PO-S1']) t.equal(await page.locator(`tr.signature-row[data-record="order/${id}"]`).count(), 0, `${id} is not signed and shows no signature`)
  t.ok(await page.locator('[data-order="PO-OPEN"]').isVisible(), 'the open order is on the board')
  t.same(await seriousViolations(page), [], 'axe: the board with a signed order')

  // The lead sees the nonconformance's signature in quality too.
  await page.goto(`${url}/#/quality/holds`)
  await page.locator(`tr.signature-row[data-record="nonconformance/${nc1}"] .signature`).waitFor()
  t.equal(await page.locator('tr.signature-row').count(), 1, 'one signed nonconformance')
  t.same(problems, [])
})

t.test('a record changed under its signature: the board shows the signature with a warning', async (t) => {
  // What an attacker with file access does: drop the append-only triggers and edit the signed record.
  const db = new Database(join(gw.dataDir, 'takt.db'))
  t.teardown(() => db.close())
  db.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;')
  const closed = db.prepare(`SELECT seq, data FROM events WHERE type = 'OrderClosed' AND subject = 'order/PO-C1'`).get() as { seq: number; data: string }
  db.prepare('UPDATE events SET data = ? WHERE seq = ?').run(JSON.stringify({ ...JSON.parse(closed.data), orderId: 'PO-C9' }), closed.seq)

  const { page, context, problems } = await openPage(browser)
  t.teardown(() => context.close())
  await loginWithPassword(page, url, 'leo', password)
  await page.goto(`${url}/#/board/wip`)
  const line = page.locator('tr.signature-row[data-record="order/PO-C1"] .signature')
  await line.waitFor()
  t.equal(await line.getAttribute('data-valid'), 'false', 'the gateway found it does not hold')
  t.match(await line.locator('.bad').textContent(), /This signature does not match its record: the record hash does not match seq \d+/, 'the warning says why')
  t.match(await line.textContent(), /^Leo Lead · Approval · /, 'and the signature is still shown')
  t.same(problems, [])
})
