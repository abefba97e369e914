// Login, language, the link banner and the quality views in headless Chromium against a real gateway that is stopped and started again.
import t from 'tap'
import { readFileSync, rmSync } from 'node:fs'
import { demoBadge, demoPin } from '../../edge/demo.ts'
import { launchBrowser, loginWithBadge, loginWithPassword, openPage, scan, screenshot, seriousViolations } from './helpers/browser.ts'
import { startHmiGateway } from './helpers/hmi-gateway.ts'

const gw = await startHmiGateway()
const browser = await launchBrowser()
t.teardown(async () => {
  await browser.close()
  await gw.stop()
  rmSync(gw.dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 })
})

t.test('the login page: badge and PIN, a wrong PIN refused on screen, user and password, German', async (t) => {
  const { page, context, problems } = await openPage(browser)
  t.teardown(() => context.close())
  await loginWithBadge(page, gw.url, demoBadge('ben'), '1357')
  await page.getByRole('alert').getByText('The badge, user, PIN or password is wrong, or the account is inactive.').waitFor()
  t.equal(await page.getByLabel('PIN', { exact: true }).inputValue(), '', 'the PIN field is emptied')
  t.ok(await page.locator('#nav').isHidden(), 'still logged out')
  t.same(await seriousViolations(page), [], 'axe: badge login with its refusal')
  await page.goto(`${gw.url}/#/login/badge`)
  await page.getByLabel('Badge', { exact: true }).waitFor()
  await screenshot(page, 'login')

  await page.getByRole('link', { name: 'User and password' }).click()
  await page.getByLabel('User', { exact: true }).waitFor()
  t.same(await seriousViolations(page), [], 'axe: password login')
  await page.locator('#lang').selectOption('de')
  await page.getByRole('heading', { name: 'Anmelden', exact: true }).waitFor()
  t.equal(await page.locator('html').getAttribute('lang'), 'de', 'the document says its language')
  await page.locator('#lang').selectOption('en')
  await page.getByRole('heading', { name: 'Log in', exact: true }).waitFor()

  await loginWithBadge(page, gw.url, demoBadge('ben'), demoPin)
  await page.getByRole('heading', { name: 'Which work center is this terminal at?' }).waitFor()
  t.same(await page.locator('#nav a').allTextContents(), ['Terminal'])
  await page.goto(`${gw.url}/#/board`)
  await page.getByRole('heading', { name: 'Which work center is this terminal at?' }).waitFor()
  t.equal(await page.locator('.board').count(), 0, 'an operator asking for the board lands at the terminal')
  await page.getByRole('button', { name: 'Log out' }).click()
  await page.getByRole('heading', { name: 'Log in', exact: true }).waitFor()
  t.same(problems, [])
})

t.test('a shared terminal logs a badge session out after 10 idle minutes, with a warning first; a touch keeps it', async (t) => {
  const { page, context, problems } = await openPage(browser)
  t.teardown(() => context.close())
  // The page's own clock, moved on at will: minutes pass without waiting for them.
  await page.clock.install()
  await loginWithBadge(page, gw.url, demoBadge('ben'), demoPin)
  await page.getByRole('heading', { name: 'Which work center is this terminal at?' }).waitFor()
  const idle = page.locator('#idle-banner')
  await page.clock.fastForward('08:30')
  t.ok(await idle.isHidden(), 'no warning after 8.5 minutes')
  await page.clock.fastForward('01:00')
  await idle.waitFor()
  t.match(await idle.textContent(), /^No activity: you will be logged out in \d+ s\. Touch the screen to stay\.$/)
  await page.mouse.click(500, 600)
  await idle.waitFor({ state: 'hidden' })
  await page.clock.fastForward('09:40')
  t.equal(await page.locator('#nav').isVisible(), true, 'a touch started the ten minutes afresh')
  await page.clock.fastForward('00:30')
  await page.getByText('You were logged out after a time without activity.').waitFor()
  t.ok(await page.getByLabel('Badge', { exact: true }).isVisible(), 'back at the login')
  t.same(problems, [])
})

t.test('the banner says when the gateway is gone and when it is back; the page carries on', async (t) => {
  const { page, context, problems } = await openPage(browser)
  t.teardown(() => context.close())
  await loginWithPassword(page, gw.url, 'lea', 'takt-demo-password')
  await page.locator('table caption', { hasText: 'Work in progress' }).waitFor()
  const banner = page.locator('#link-banner')
  t.ok(await banner.isHidden(), 'no banner while the link is up')

  await gw.stop()
  await page.locator('#link-banner[data-link="down"]').waitFor()
  t.equal(await banner.textContent(), 'No connection to the gateway. Nothing can be saved until it is back. Reconnecting…')
  t.equal(await banner.getAttribute('role'), 'status')
  t.same(await seriousViolations(page), [], 'axe: with the banner')
  await gw.start()
  await page.locator('#link-banner[data-link="back"]').waitFor()
  t.equal(await banner.textContent(), 'The connection to the gateway is back.')
  await banner.waitFor({ state: 'hidden' })

  // Live again: a change after the restart reaches the page.
  t.equal((await gw.call('POST', '/api/v1/orders/PO-1003/hold', { reason: 'after the restart' })).status, 200)
  await page.locator('tr:has(strong[data-order="PO-1003"]) .os-held').waitFor()
  t.same(problems, [])
})

t.test('quality: holds and nonconformances, genealogy backward and forward by scan, the audit trail and its chain', async (t) => {
  const ana = (await gw.call('POST', '/api/v1/auth/login', { username: 'ana', password: 'takt-demo-password' }, '')).body.token as string
  const started = await gw.call('POST', '/api/v1/orders/PO-1001/operations/10/start', { unit: 'PO-1001-0001' }, ana)
  const done = await gw.call('POST', `/api/v1/runs/${started.body.runId}/complete`, { good: 1, consumptions: [{ lot: 'STEEL-0001', quantity: 0.5 }], measurements: [{ name: 'thickness', value: 2.4, unit: 'mm' }] }, ana)
  t.equal(done.status, 200, 'a unit pressed too thick: held, with a nonconformance')
  const isHeld = async () => ((await gw.call('GET', '/api/v1/hmi/holds')).body.units as Array<{ serial: string }>).some((u) => u.serial === 'PO-1001-0001')
  t.ok(await isHeld())

  const { page, context, problems } = await openPage(browser)
  t.teardown(() => context.close())
  await loginWithPassword(page, gw.url, 'quinn', 'takt-demo-password')
  await page.locator('table caption', { hasText: 'Units on hold' }).waitFor()
  t.same(await page.locator('#nav a').allTextContents(), ['Quality'])
  t.ok(await page.locator('table:has(caption:text("Nonconformances")) td', { hasText: 'PO-1001-0001' }).count(), 'the nonconformance names the unit')
  t.same(await seriousViolations(page), [], 'axe: holds')
  await screenshot(page, 'quality')
  await page.locator('tr', { hasText: 'PO-1001-0001' }).getByRole('button', { name: 'Release' }).first().click()
  await page.getByLabel('Reason').fill('re-measured: 2.05 mm')
  await page.locator('#ask-ok').click()
  await page.getByText('PO-1001-0001 is released from hold.').waitFor()
  t.notOk(await isHeld(), 'the gateway has the unit off hold')

  await page.getByRole('link', { name: 'Genealogy' }).click()
  await page.getByLabel('Serial or lot').waitFor()
  await scan(page, 'PO-1001-0001')
  const backward = page.locator('section[data-direction="backward"]')
  await backward.locator('table').waitFor()
  t.ok(await backward.getByRole('button', { name: 'Trace STEEL-0001' }).isVisible(), 'backward: the steel lot went into the unit')
  // The unit's device history record, saved from the page: the HTML with the hold and its release, and the PDF Chromium prints on the gateway.
  const [html] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Device history record', exact: true }).click()])
  t.equal(html.suggestedFilename(), 'device-history-record-PO-1001-0001.html')
  const record = readFileSync((await html.path())!, 'utf8')
  t.ok(record.includes('<h1>Device history record: unit PO-1001-0001</h1>') && record.includes('re-measured: 2.05 mm') && record.includes('2.4 mm'), 'the record has the measurement, the hold and its release')
  const [pdf] = await Promise.all([page.waitForEvent('download', { timeout: 90_000 }), page.getByRole('button', { name: 'Device history record as PDF' }).click()])
  t.equal(readFileSync((await pdf.path())!).subarray(0, 5).toString('latin1'), '%PDF-', 'and as PDF')
  await backward.getByRole('button', { name: 'Trace STEEL-0001' }).click()
  await page.getByRole('heading', { name: 'Genealogy of lot STEEL-0001' }).waitFor()
  t.match(await page.locator('section[data-direction="forward"]').textContent(), /PO-1001-0001/, 'forward: and the unit is where the lot went')
  t.same(await seriousViolations(page), [], 'axe: genealogy')

  await page.getByRole('link', { name: 'Audit trail' }).click()
  await page.locator('table caption', { hasText: 'Audit trail, newest first' }).waitFor()
  await page.getByLabel('Event type').fill('UnitHoldReleased')
  await page.getByRole('button', { name: 'Filter' }).click()
  // The unfiltered rows are on the page until the filtered answer replaces them: wait for that.
  await page
    .waitForFunction(() => {
      const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> } }).document
      const cells = Array.from(doc.querySelectorAll('.audit-rows tbody tr td:nth-child(3)'))
      return cells.length > 0 && cells.every((c) => c.textContent === 'UnitHoldReleased')
    }, undefined, { timeout: 10_000 })
    .catch(() => {})
  t.same(await page.locator('.audit-rows tbody tr td:nth-child(3)').allTextContents(), ['UnitHoldReleased'], 'filtered by type')
  await page.getByRole('button', { name: 'Verify the chain' }).click()
  await page.locator('.chain [data-ok="true"]').waitFor()
  t.same(await seriousViolations(page), [], 'axe: audit trail')
  t.same(problems, [])
})
