// The central dashboard in headless Chromium against cloud-sync on PostgreSQL with two real gateway logs pushed: login, WIP, OEE, gateways, a trace across lines.
import t from 'tap'
import { serve } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import { backends } from '../../cloud-sync/test/backends.ts'
import { adminToken, centralFixture, recordTwoLines } from '../../cloud-sync/test/central-fixture.ts'
import { logOf } from '../../cloud-sync/test/line.ts'
import { launchBrowser, openPage, seriousViolations } from '../hmi/helpers/browser.ts'

const f = await centralFixture(t, backends.find((b) => b.name === 'postgres')!.open)
const t1 = await f.register('gw-1', 'L1')
const t2 = await f.register('gw-2', 'L2')
// The scenario's hour two to three hours ago, inside the dashboard's default range of 8 hours.
const sixOClock = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000).toISOString()
recordTwoLines(f, sixOClock)
await f.pushAll('gw-1', t1, f.lines.l1)
await f.pushAll('gw-2', t2, f.lines.l2)

const server = serve({ fetch: f.app.fetch, hostname: '127.0.0.1', port: 0 })
await new Promise<void>((resolve) => server.once('listening', () => resolve()))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
const browser = await launchBrowser()
t.teardown(async () => {
  await browser.close()
  await new Promise((resolve) => server.close(resolve))
})

t.test('log in with the token; both lines’ gateways, WIP and OEE; a lot traced across lines; no console errors', async (t) => {
  const { page, context, problems } = await openPage(browser, { width: 1280, height: 900 })
  t.teardown(() => context.close())
  const consoleErrors: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text())
  })
  // Requests in flight per view: the refresh loop must never start a round before the last one ended.
  let inFlight = 0
  let mostInFlight = 0
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/wip')) mostInFlight = Math.max(mostInFlight, ++inFlight)
  })
  const done = (r: { url(): string }) => {
    if (r.url().includes('/api/v1/wip')) inFlight--
  }
  page.on('requestfinished', done)
  page.on('requestfailed', done)

  await page.goto(`${url}/dashboard`)
  await page.getByRole('heading', { name: 'Log in' }).waitFor()
  await page.getByLabel('Admin token').fill(f.tokens['gw-1']!)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByText('This is not an admin token of this cloud.').waitFor()
  t.ok(await page.locator('#views').isHidden(), 'a gateway token does not open the views')

  await page.getByLabel('Admin token').fill(adminToken)
  await page.getByRole('button', { name: 'Log in' }).click()
  const gateways = page.locator('#gateways tbody tr')
  await gateways.first().getByText('gw-1').waitFor()
  t.same(await gateways.evaluateAll((rows) => rows.map((r) => Array.from((r as unknown as { cells: ArrayLike<{ textContent: string }> }).cells).slice(0, 3).map((c) => c.textContent))), [
    ['gw-1', 'L1', 'online'],
    ['gw-2', 'L2', 'online'],
  ])
  t.match(await page.locator('#backlog-note').textContent(), /known once a gateway has pushed/, 'the fixture pushes without the head header: no backlog yet')
  t.same(await page.locator('#wip tbody tr td:first-child').allTextContents(), ['L1', 'L2'], 'WIP of both lines')
  await page.locator('#oee tbody tr.wc-row').nth(1).waitFor()
  const oee = await page.locator('#oee tbody tr').evaluateAll((rows) => rows.map((r) => Array.from((r as unknown as { cells: ArrayLike<{ textContent: string }> }).cells).map((c) => c.textContent)))
  t.same(
    oee.map((r) => [r[0], r[4]]),
    [
      ['L1 (gw-1)', '6.6 %'],
      ['L1-FILL', '6.6 %'],
      ['L2 (gw-2)', '10.5 %'],
      ['L2-PACK', '10.5 %'],
    ],
    'OEE by line and work center: the scenario hour of the 8 hours planned (1,900 s and 3,020 s fully productive of 28,800 s)',
  )
  t.equal(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('takt.central.token')), adminToken, 'the token is kept in the tab only')

  await page.getByLabel('Lot or serial').fill('RESIN-7')
  await page.getByLabel('Direction').selectOption('forward')
  await page.getByRole('button', { name: 'Trace' }).click()
  await page.locator('#trace-table').waitFor()
  t.match(await page.locator('#trace .trace-lines').textContent(), /Forward from lot RESIN-7: 3 step\(s\) across L1, L2/)
  t.same(await page.locator('#trace-table tbody tr td:nth-child(3)').allTextContents(), ['lot PO-A-OUT', 'unit SN-1', 'unit SN-2'])
  t.same(await seriousViolations(page), [], 'axe: the dashboard with a trace')

  // The next rounds come by themselves, one after the other.
  const first = await page.locator('#updated').textContent()
  await page.waitForFunction((before) => (globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('updated').textContent !== before, first, { timeout: 20_000 })
  t.equal(mostInFlight, 1, 'never two rounds at once')

  // Both gateways report their heads with a push (here their last event again): gw-1 is 25 events ahead of the cloud.
  const report = async (gatewayId: string, token: string, line: typeof f.lines.l1, ahead: number) => {
    const last = logOf(line).at(-1)!
    const res = await f.app.request(`/api/v1/gateways/${gatewayId}/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'takt-head-seq': String(last.seq + ahead) }, body: JSON.stringify({ epoch: 1, events: [last] }) })
    t.equal(res.status, 200, `${gatewayId} reported its head`)
  }
  await report('gw-1', t1, f.lines.l1, 25)
  await report('gw-2', t2, f.lines.l2, 0)
  const backlogCell = (row: number) => gateways.nth(row).locator('td').nth(5)
  await page.waitForFunction(() => /as of its last push/.test((globalThis as unknown as { document: { getElementById(id: string): { textContent: string } } }).document.getElementById('backlog-note').textContent), undefined, { timeout: 20_000 })
  t.match(await backlogCell(0).textContent(), /^25 \(\d+ s ago\)$/, "gw-1's backlog with the age of its report")
  t.match(await backlogCell(1).textContent(), /^0 \(\d+ s ago\)$/, 'gw-2 is caught up')

  await page.reload()
  await page.locator('#oee tbody tr.wc-row').first().waitFor()
  t.ok(await page.locator('#login').isHidden(), 'a reload keeps the session of this tab')
  await page.getByRole('button', { name: 'Log out' }).click()
  await page.getByRole('heading', { name: 'Log in' }).waitFor()
  t.same(problems, [], 'no page errors, nothing refused by the CSP')
  t.same(consoleErrors.filter((m) => !/401|403/.test(m)), [], 'no console errors')
})
