// Scans that come before their form: a keyboard-wedge scan fired before the start form or the run panel is drawn is held, shown, and handed to that form when it appears — in headless Chromium against a real gateway.
import t from 'tap'
import { rmSync } from 'node:fs'
import { demoBadge, demoPin } from '../../edge/demo.ts'
import { launchBrowser, loginWithBadge, openPage, scanUnfocused } from './helpers/browser.ts'
import { startHmiGateway } from './helpers/hmi-gateway.ts'

const gw = await startHmiGateway()
const browser = await launchBrowser()
t.teardown(async () => {
  await browser.close()
  await gw.stop()
  rmSync(gw.dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 })
})

const order = { id: 'PO-7101', productId: 'BRK-100', quantity: 1, bomId: 'BOM-BRK-100', bomVersion: 'A', routingId: 'RT-BRK-100', routingVersion: 'A', lineId: 'L1', priority: 1 }
for (const [method, path, body] of [
  ['POST', '/api/v1/orders', order],
  ['POST', '/api/v1/orders/PO-7101/release', undefined],
  ['POST', '/api/v1/orders/PO-7101/dispatch', undefined],
] as const) {
  const r = await gw.call(method, path, body)
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`)
}

/** Records every text the held-scan banner shows, from the first moment of each page: it may be up for only a few milliseconds. */
function watchHeldBanner(): void {
  const page = globalThis as unknown as {
    document: { querySelector(s: string): { textContent: string | null; hidden: boolean } | null }
    MutationObserver: new (fn: () => void) => { observe(el: unknown, o: unknown): void }
    heldSeen?: string[]
  }
  page.heldSeen = []
  new page.MutationObserver(() => {
    const banner = page.document.querySelector('#scan-held')
    if (banner && !banner.hidden && banner.textContent && page.heldSeen?.at(-1) !== banner.textContent) page.heldSeen?.push(banner.textContent)
  }).observe(page.document, { childList: true, subtree: true, characterData: true, attributes: true })
}

const heldSeen = (page: import('playwright-core').Page) => page.evaluate(() => (globalThis as unknown as { heldSeen: string[] }).heldSeen)

t.test('a unit scanned before the start form is drawn starts the operation; a lot scanned right after a reload lands in the run', async (t) => {
  const { page, context, problems } = await openPage(browser)
  t.teardown(() => context.close())
  await context.addInitScript(watchHeldBanner)
  await loginWithBadge(page, gw.url, demoBadge('ana'), demoPin)
  await page.getByRole('link', { name: /Press 1/ }).click()
  const item = page.locator('li[data-order="PO-7101"] button.dispatch-item')
  await item.waitFor()

  // The tap asks the gateway for the order; the scanner fires at once, before the start form exists. The
  // gateway's answer is held back a little on the way (the real answer, later), so that the scan is surely first.
  await page.route('**/api/v1/orders/PO-7101', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await route.continue()
  })
  await item.click()
  t.equal(await page.locator('.start-form').count(), 0, 'the start form is not there yet when the scan comes')
  await scanUnfocused(page, 'PO-7101-0001')
  await page.locator('section.run[data-state="running"]').waitFor()
  t.match(await page.locator('.run-meta').textContent(), /unit PO-7101-0001/, 'the held serial started the operation for that unit')
  t.equal(await page.locator('#scan-held').isHidden(), true, 'nothing is left waiting')
  t.ok((await heldSeen(page)).some((text) => text.includes('PO-7101-0001')), 'the serial was shown while it waited')
  await page.unroute('**/api/v1/orders/PO-7101')

  // A reload (a terminal switched on again): the lot is scanned as soon as the page can hear it, long before the run panel.
  await page.route('**/api/v1/hmi/runs/*', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await route.continue()
  })
  const asked: string[] = []
  page.on('request', (request) => asked.push(new URL(request.url()).pathname))
  await page.reload({ waitUntil: 'commit' })
  await page.waitForFunction(() => 'taktEarly' in globalThis)
  t.equal(await page.locator('section.run').count(), 0, 'no run panel yet')
  await scanUnfocused(page, 'STEEL-0001')
  await page.locator('li.requirement[data-material="STEEL-2MM"][data-done="yes"]').waitFor()
  t.match(await page.locator('li.requirement[data-material="STEEL-2MM"] .booked').textContent(), /STEEL-0001/, 'the held lot was booked to the first component missing one')
  t.ok((await heldSeen(page)).some((text) => text.includes('STEEL-0001')), 'and it was shown while it waited')
  // early.js asked for the terminal's first data while the modules loaded, and the view took that answer instead of asking again.
  // main.js opens the live stream before it draws the first view: data asked for before that came from early.js.
  const live = asked.indexOf('/api/v1/live')
  t.ok(live > 0 && ['/api/v1/hmi/andon', '/api/v1/hmi/reason-codes', '/api/v1/work-centers/WC-PRESS/dispatch-list'].every((path) => asked.indexOf(path) >= 0 && asked.indexOf(path) < live), "the terminal's first data was asked for while the modules loaded")
  t.equal(asked.filter((path) => path === '/api/v1/hmi/reason-codes').length, 1, 'and the view took that answer instead of asking again')

  const run = await gw.call('GET', '/api/v1/hmi/andon')
  const press = run.body.items.find((w: { workCenterId: string }) => w.workCenterId === 'WC-PRESS')
  const detail = await gw.call('GET', `/api/v1/hmi/runs/${press.runs[0].runId}`)
  t.same(detail.body.consumptions.map((c: { lot: string }) => c.lot), ['STEEL-0001'], 'the gateway has the lot booked once')
  t.same(problems, [])
})

t.test('a scan with no form to take it stays held and shown; a person typing slowly is no scan', async (t) => {
  const { page, context, problems } = await openPage(browser)
  t.teardown(() => context.close())
  await context.addInitScript(watchHeldBanner)
  await loginWithBadge(page, gw.url, demoBadge('ben'), demoPin)
  await page.getByRole('link', { name: /Weld cell/ }).click()
  // The view is drawn and its data in: the page is idle when the scanner types (keys over 50 ms apart would be a person).
  await page.locator('ol.dispatch li[data-order]').first().waitFor()
  // No operation chosen: nothing takes a scan, so it waits where the operator can see it.
  await scanUnfocused(page, 'BOLT-0001')
  await page.locator('#scan-held', { hasText: 'BOLT-0001' }).waitFor()
  t.match(await page.locator('#scan-held').textContent(), /^Scan waiting for its field: BOLT-0001$/)
  await scanUnfocused(page, 'XYZ', 120)
  t.equal(await page.locator('#scan-held').textContent(), 'Scan waiting for its field: BOLT-0001', 'slow keys are a person, not a scan')
  t.same(problems, [])
})
