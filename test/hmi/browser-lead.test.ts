// The line lead's board in headless Chromium against a real gateway: live andon and WIP without reload, hold and release, resequencing seen at the terminal, OEE (or its absence), trends, a phone.
import t from 'tap'
import { rmSync } from 'node:fs'
import { recordMachineCount, recordMachineState } from '../../edge/core/machine.ts'
import type { MachineState } from '../../edge/core/model.ts'
import { demoBadge, demoPin } from '../../edge/demo.ts'
import { fitsWidth, launchBrowser, loginWithBadge, loginWithPassword, openPage, screenshot, seriousViolations } from './helpers/browser.ts'
import { startHmiGateway } from './helpers/hmi-gateway.ts'

const gw = await startHmiGateway()
const browser = await launchBrowser()
t.teardown(async () => {
  await browser.close()
  await gw.stop()
  rmSync(gw.dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 })
})

t.test('the board updates live; the lead holds, releases and resequences, and the terminal follows without reload', async (t) => {
  const lead = await openPage(browser)
  const operator = await openPage(browser)
  t.teardown(async () => {
    await lead.context.close()
    await operator.context.close()
  })
  const { page } = lead
  await loginWithPassword(page, gw.url, 'lea', 'takt-demo-password')
  await page.locator('table caption', { hasText: 'Work in progress' }).waitFor()
  t.same(await page.locator('#nav a').allTextContents(), ['Terminal', 'Line board', 'Quality'], 'a lead sees all three views')
  // Set once in the page: a reload would lose it.
  await page.evaluate(() => Object.assign(globalThis, { untouched: true }))

  // A machine goes down and an order is held elsewhere: both show up without a reload.
  gw.gateway().store.execute('system:test', (v) => recordMachineState(v, 'WC-PRESS', 'down', 'plc'))
  await page.locator('li.tile[data-work-center="WC-PRESS"][data-state="down"]').waitFor()
  t.equal(await page.locator('li.tile[data-work-center="WC-PRESS"] .state').textContent(), 'Down', 'the andon says it in words, not colour alone')
  t.equal((await gw.call('POST', '/api/v1/orders/PO-1003/hold', { reason: 'customer asked to wait' })).status, 200)
  await page.locator('tr:has(strong[data-order="PO-1003"]) .os-held').waitFor()

  // Hold and release from the board, each with its reason.
  await page.locator('tr:has(strong[data-order="PO-1002"])').getByRole('button', { name: 'Hold' }).click()
  await page.getByLabel('Reason').fill('die change first')
  await page.locator('#ask-ok').click()
  await page.getByText('PO-1002 is on hold.').waitFor()
  await page.locator('tr:has(strong[data-order="PO-1002"]) .os-held').waitFor()
  await page.locator('tr:has(strong[data-order="PO-1003"])').getByRole('button', { name: 'Release' }).click()
  await page.locator('#ask-cancel').click()
  t.equal(await page.locator('tr:has(strong[data-order="PO-1003"]) .os-held').count(), 1, 'a cancelled dialog changes nothing')
  await page.locator('tr:has(strong[data-order="PO-1002"])').getByRole('button', { name: 'Release' }).click()
  await page.getByLabel('Reason').fill('die ready')
  await page.locator('#ask-ok').click()
  await page.getByText('PO-1002 is released from hold.').waitFor()
  t.equal((await gw.call('GET', '/api/v1/orders/PO-1002')).body.state, 'dispatched', 'released back to where it was')
  t.same(await seriousViolations(page), [], 'axe: board, WIP')
  await screenshot(page, 'board')

  // The operator at the press sees the lead's new sequence arrive.
  await loginWithBadge(operator.page, gw.url, demoBadge('ana'), demoPin)
  await operator.page.getByRole('link', { name: /Press 1/ }).click()
  const terminalOrder = () => operator.page.locator('ol.dispatch li[data-order]').evaluateAll((lis) => lis.map((li) => (li as unknown as { dataset: { order: string } }).dataset.order))
  await operator.page.locator('ol.dispatch li[data-order="PO-1002"]').waitFor()
  const before = await terminalOrder()
  t.same(before.slice(0, 2), ['PO-1001', 'PO-1002'])

  await page.getByRole('link', { name: 'Dispatch' }).click()
  await page.getByRole('navigation', { name: 'Work center' }).getByRole('link', { name: 'Press 1' }).click()
  await page.locator('ol.resequence li[data-order="PO-1001"]').waitFor()
  const save = page.getByRole('button', { name: 'Save sequence' })
  t.ok(await save.isDisabled(), 'nothing to save before a move')
  await page.getByRole('button', { name: 'Move PO-1001 down' }).click()
  t.same((await page.locator('ol.resequence li').evaluateAll((lis) => lis.map((li) => (li as unknown as { dataset: { order: string } }).dataset.order))).slice(0, 2), ['PO-1002', 'PO-1001'])
  await page.getByRole('button', { name: 'Undo changes' }).click()
  await page.locator('ol.resequence li:first-child[data-order="PO-1001"]').waitFor()
  await page.getByRole('button', { name: 'Move PO-1002 up' }).click()
  await save.click()
  await page.getByText('The new sequence is saved.').waitFor()
  const list = await gw.call('GET', '/api/v1/work-centers/WC-PRESS/dispatch-list')
  const after = [before[1], before[0], ...before.slice(2)]
  t.same(list.body.items.map((i: { orderId: string }) => i.orderId), after, 'the gateway keeps the new sequence')
  await operator.page.waitForFunction(() => {
    const doc = (globalThis as unknown as { document: { querySelector(s: string): { dataset: { order: string } } | null } }).document
    return doc.querySelector('ol.dispatch li[data-order]')?.dataset.order === 'PO-1002'
  })
  t.same(await terminalOrder(), after, 'the terminal shows it without a reload')
  t.same(await seriousViolations(page), [], 'axe: board, dispatch')
  t.equal(await page.evaluate(() => (globalThis as unknown as { untouched?: boolean }).untouched), true, 'the board was never reloaded')
  t.same(lead.problems, [])
  t.same(operator.problems, [])
})

t.test('OEE per shift with trend and Pareto, a stop classified at the terminal, and a plain notice on a gateway without OEE', async (t) => {
  const { page, context, problems } = await openPage(browser)
  const operator = await openPage(browser)
  t.teardown(async () => {
    await context.close()
    await operator.context.close()
  })
  const paths = Object.keys((await gw.call('GET', '/openapi.json')).body.paths as Record<string, unknown>)
  const hasOee = paths.includes('/api/v1/oee') && paths.includes('/api/v1/work-centers/{id}/downtime/classify')
  if (hasOee) {
    // A calendar round the clock, and the last day at the press written with the gateway's clock set back.
    const shifts = [['early', '06:00', '14:00'], ['late', '14:00', '22:00'], ['night', '22:00', '06:00']].map(([name, start, end]) => ({ name, days: [1, 2, 3, 4, 5, 6, 7], start, end, breaks: [] }))
    t.equal((await gw.call('PUT', '/api/v1/shift-calendars/round-the-clock', { id: 'round-the-clock', timeZone: 'UTC', shifts, holidays: [], plannedDowntime: [] })).status, 200)
    t.equal((await gw.call('PUT', '/api/v1/equipment/L1/shift-calendar', { calendarId: 'round-the-clock' })).status, 200)
    const history: Array<[number, MachineState, number, number]> = [[-20, 'running', 0, 0], [-19, 'running', 160, 4], [-14, 'down', 0, 0], [-13.5, 'running', 0, 0], [-12, 'running', 240, 9], [-9, 'down', 0, 0], [-8.8, 'setup', 0, 0], [-8.5, 'running', 0, 0], [-6, 'running', 380, 6], [-3, 'down', 0, 0], [-2.7, 'running', 0, 0], [-1, 'running', 150, 2]]
    for (const [hours, state, good, scrap] of history) {
      gw.clock.offsetMs = hours * 3600_000
      const store = gw.gateway().store
      const done = good + scrap > 0 ? store.execute('system:test', (v) => recordMachineCount(v, 'WC-PRESS', good, scrap, 'plc')) : store.execute('system:test', (v) => recordMachineState(v, 'WC-PRESS', state, 'plc'))
      t.ok(done.ok, `${state} ${hours} h ago`)
    }
    gw.clock.offsetMs = 0

    // The weld cell stops now: its terminal asks why, and the answer is recorded.
    await loginWithBadge(operator.page, gw.url, demoBadge('ana'), demoPin)
    await operator.page.getByRole('link', { name: /Weld cell/ }).click()
    await operator.page.locator('ol.dispatch').waitFor()
    gw.gateway().store.execute('system:test', (v) => recordMachineState(v, 'WC-WELD', 'down', 'plc'))
    await operator.page.getByRole('heading', { name: 'The machine is down' }).waitFor()
    t.same(await seriousViolations(operator.page), [], 'axe: the downtime prompt')
    await operator.page.locator('button.reason[data-reason="failure.mechanical"]').click()
    await operator.page.getByText(/^Stop classified: /).waitFor()
    t.equal(await operator.page.getByRole('heading', { name: 'The machine is down' }).count(), 0, 'the prompt goes once answered')
    const to = new Date()
    const stops = await gw.call('GET', `/api/v1/work-centers/WC-WELD/downtime?from=${new Date(to.getTime() - 3600_000).toISOString()}&to=${to.toISOString()}`)
    t.match(stops.body.items, [{ reason: 'failure.mechanical' }], 'the gateway has the reason')
    t.same(operator.problems, [])
  }

  await loginWithPassword(page, gw.url, 'lea', 'takt-demo-password')
  await page.locator('table caption', { hasText: 'Work in progress' }).waitFor()
  await page.goto(`${gw.url}/#/board/oee/WC-PRESS/day`)
  await page.getByRole('heading', { name: 'OEE per shift' }).waitFor()
  if (hasOee) {
    await page.locator('.oee-shifts table').waitFor()
    t.ok((await page.locator('.oee-shifts tbody tr').count()) >= 2, 'a row per shift')
    await page.locator('.oee-trend .chart canvas').waitFor()
    t.ok((await page.locator('.oee-pareto ol.pareto li').count()) >= 1, 'the stops in the Pareto')
  } else {
    await page.locator('.oee-shifts .no-oee').waitFor()
  }
  t.same(await seriousViolations(page), [], 'axe: OEE')
  await screenshot(page, 'board-oee', true)

  // A gateway without OEE answers 404 route_not_found: the tab says so and nothing breaks.
  await page.route('**/api/v1/oee?**', (route) =>
    route.fulfill({ status: 404, contentType: 'application/problem+json', body: JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404, code: 'route_not_found', detail: 'There is no route GET /api/v1/oee.' }) }),
  )
  await page.getByRole('link', { name: 'Last 7 days' }).click()
  await page.locator('.oee-pareto .no-oee').waitFor()
  t.equal(await page.locator('.no-oee').count(), 3, 'per shift, trend and Pareto each say there is no OEE yet')
  t.equal(await page.locator('[role="alert"]').count(), 0, 'and no error is shown')
  t.same(problems, [])
})

t.test("a signal picked from the historian's list for a work center, as a trend; the board at a phone width", async (t) => {
  const now = Date.now()
  gw.gateway().historian.record(Array.from({ length: 100 }, (_, i) => ({ signal: 'WC-PRESS/temperature', value: 60 + 8 * Math.sin(i / 10), quality: i === 70 ? ('bad' as const) : ('good' as const), timestamp: now - (100 - i) * 25_000 })))
  // A signal of the press with nothing in the last hours, and one of another work center that the press's list leaves out.
  gw.gateway().historian.record([
    { signal: 'WC-PRESS/pressure', value: 4.2, quality: 'good', timestamp: now - 2 * 86400_000 },
    { signal: 'WC-WELD/current', value: 180, quality: 'good', timestamp: now - 60_000 },
  ])
  await gw.gateway().historian.durable()
  const { page, context, problems } = await openPage(browser)
  t.teardown(() => context.close())
  await loginWithPassword(page, gw.url, 'lea', 'takt-demo-password')
  await page.locator('table caption', { hasText: 'Work in progress' }).waitFor()
  await page.goto(`${gw.url}/#/board/trends`)
  await page.getByLabel('Work center', { exact: true }).selectOption('WC-PRESS')
  await page.getByText('2 signals recorded here.').waitFor()
  t.same(await page.getByLabel('Signal').locator('option').allTextContents(), ['WC-PRESS/pressure', 'WC-PRESS/temperature'], "the picker lists the press's signals, not the weld cell's")
  await page.getByLabel('Signal').selectOption('WC-PRESS/pressure')
  await page.getByText('No samples of WC-PRESS/pressure in this period.').waitFor()
  await page.getByLabel('Signal').selectOption('WC-PRESS/temperature')
  await page.locator('.trend-out [data-samples="100"][data-signal="WC-PRESS/temperature"]').waitFor()
  t.match(await page.locator('.trend-out p').textContent(), /^100 samples, from 52/)
  t.equal(await page.locator('.trend-out .chart[role="img"] canvas').count(), 1, 'a uPlot chart, labelled for screen readers')
  t.equal(await page.locator('link[href="/hmi/vendor/uPlot.min.css"]').count(), 1, "uPlot's CSS came with the chart")
  t.same(await seriousViolations(page), [], 'axe: trends')
  await screenshot(page, 'trends')

  await page.setViewportSize({ width: 390, height: 844 })
  await page.goto(`${gw.url}/#/board/wip`)
  await page.locator('table caption', { hasText: 'Work in progress' }).waitFor()
  t.ok(await fitsWidth(page), 'the board fits a phone: the WIP table scrolls inside its own box')
  t.same(await seriousViolations(page), [], 'axe: board at 390 px')
  t.same(problems, [])
})
