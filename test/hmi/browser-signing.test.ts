// The HMI's electronic signatures, lockout, idle logout and password change in headless Chromium against a Part 11 gateway (21 CFR 11.10(d), 11.50, 11.200, 11.300).
import t from 'tap'
import { password } from '../helpers/line.ts'
import { heldUnits, part11Gateway } from '../compliance/part11-gateway.ts'
import { launchBrowser, loginWithPassword, openPage, seriousViolations } from './helpers/browser.ts'

// A real browser on a shared, loaded machine: more than tap's 30 s when run with node directly.
t.setTimeout(120_000)
const gw = await part11Gateway(
  t,
  `signatures:
  required: [unit-hold-release, nonconformance-disposition]
  twoPerson: [unit-hold-release, nonconformance-disposition]
  timeZone: Europe/Berlin
accounts:
  maxFailedLogins: 3
  sessionIdleMinutes: 2
  passwordMaxAgeDays: 30
`,
)
const url = `http://127.0.0.1:${gw.running.port}`
const browser = await launchBrowser()
t.teardown(() => browser.close())
const { serials, ncs } = await heldUnits(gw.call, 'PO-S1', 3, await gw.session('paula'))
const [u1, u2, u3] = serials as [string, string, string]
const isHeld = async (serial: string) => ((await gw.call('GET', '/api/v1/hmi/holds')).body.units as Array<{ serial: string }>).some((u) => u.serial === serial)

t.test('releasing a held unit opens the signing dialog: both components first, a wrong password refused, then the password alone; the signature shows with the record', async (t) => {
  const { page, context, problems } = await openPage(browser)
  t.teardown(() => context.close())
  await loginWithPassword(page, url, 'quentin', password)
  await page.locator('table caption', { hasText: 'Units on hold' }).waitFor()
  const release = async (serial: string) => {
    await page.locator('tr', { hasText: serial }).getByRole('button', { name: 'Release' }).first().click()
    await page.getByLabel('Reason').fill('MRB: viscometer out of calibration, re-measured fine')
    await page.locator('#ask-ok').click()
  }
  const dialog = page.locator('#sign')
  await release(u1)
  await dialog.getByRole('heading', { name: `Electronic signature: release ${u1} from hold` }).waitFor()
  t.ok(await dialog.getByText('You sign as Quentin Quality.').isVisible(), 'says who signs')
  t.ok(await dialog.getByLabel('Your user id').isVisible(), 'the first signing of the session asks for the user id')
  t.equal(await dialog.getByLabel('Your user id').inputValue(), '', 'which is not filled in for the signer')
  t.same(await dialog.getByRole('radio').evaluateAll((rs) => rs.map((r) => (r as unknown as { value: string }).value)), ['approval', 'review', 'responsibility', 'authorship'], 'the four meanings')
  t.same(await seriousViolations(page), [], 'axe: the signing dialog')

  await dialog.getByLabel('Your user id').fill('quentin')
  await dialog.getByLabel('Your password').fill('not my password')
  await dialog.getByRole('button', { name: 'Sign' }).click()
  await dialog.getByRole('alert').getByText('The password is wrong; nothing was signed.').waitFor()
  t.ok(await dialog.getByRole('alert').getByText('Not signed').isVisible(), 'a clear refusal in the dialog')
  t.ok(await dialog.evaluate((d) => (d as unknown as { open: boolean }).open), 'the dialog stays open')
  t.equal(await dialog.getByLabel('Your password').inputValue(), '', 'the wrong password is cleared')
  t.ok(await isHeld(u1), 'nothing released')
  t.ok(await page.locator('#nav').isVisible(), 'a wrong signing password does not end the session')

  await dialog.getByLabel('Your password').fill(password)
  await dialog.getByRole('radio', { name: 'Review' }).check()
  await dialog.getByRole('button', { name: 'Sign' }).click()
  await page.getByText(`${u1} is released from hold, signed.`).waitFor()
  t.notOk(await isHeld(u1), 'released')
  const shown = page.locator(`.signed-here [data-unit="${u1}"] .signature`)
  await shown.waitFor()
  t.match(await shown.textContent(), /^Quentin Quality · Review · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · local time \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(UTC\+01:00, Europe\/Berlin\)$/, 'printed name, meaning, UTC and local time')
  const stored = (await gw.call('GET', `/api/v1/as-built/units/${u1}`)).body.signatures as Array<Record<string, unknown>>
  t.match(stored, [{ signerId: 'quentin', meaning: 'review', components: 'both', valid: true }], 'the gateway kept it, both components')

  await release(u2)
  await dialog.getByLabel('Your password').waitFor()
  t.equal(await dialog.getByLabel('Your user id').count(), 0, 'a later signing of the session asks for the password alone')
  t.ok(await dialog.getByText('Enter your password again to sign.').isVisible())
  await dialog.getByLabel('Your password').fill(password)
  await dialog.getByRole('button', { name: 'Sign' }).click()
  await page.getByText(`${u2} is released from hold, signed.`).waitFor()
  t.match((await gw.call('GET', `/api/v1/as-built/units/${u2}`)).body.signatures, [{ signerId: 'quentin', meaning: 'approval', components: 'secret' }])

  // A nonconformance dispositioned on the same page: its own dialog, then the signature (the password alone by now).
  const nc = ncs[0]!
  await page.locator(`button[data-nc="${nc}"]`).click()
  await page.getByLabel('Disposition', { exact: true }).selectOption('rework')
  await page.getByRole('dialog').getByLabel('Reason').fill('rework: re-mix at lower speed')
  await page.getByRole('dialog').getByRole('button', { name: 'OK' }).click()
  await dialog.getByRole('heading', { name: `Electronic signature: nonconformance ${nc.slice(-8)}: rework` }).waitFor()
  await dialog.getByLabel('Your password').fill(password)
  await dialog.getByRole('radio', { name: 'Responsibility' }).check()
  await dialog.getByRole('button', { name: 'Sign' }).click()
  await page.getByText(`Dispositioned: nonconformance ${nc.slice(-8)}: rework.`).waitFor()
  t.match(await page.locator(`.signed-here [data-nc="${nc}"] .signature`).textContent(), /^Quentin Quality · Responsibility · .* UTC · local time .*Europe\/Berlin/, 'the disposition shows its signature')
  t.match((await gw.call('GET', `/api/v1/nonconformances/${nc}`)).body, { state: 'dispositioned', disposition: 'rework', signatures: [{ signerId: 'quentin', meaning: 'responsibility' }] })
  await page.locator('td', { hasText: 'dispositioned: rework' }).waitFor()

  // The released unit's record, looked up in the genealogy, shows its signature.
  await page.getByRole('link', { name: 'Genealogy' }).click()
  await page.getByLabel('Serial or lot').fill(u1)
  await page.getByRole('button', { name: 'Trace' }).click()
  await page.getByRole('heading', { name: `Genealogy of unit ${u1}` }).waitFor()
  t.match(await page.locator('.signatures .signature').first().textContent(), /^Quentin Quality · Review · .* UTC · local time .*Europe\/Berlin/, 'the record shows the signature')
  t.same(problems, [])
})

t.test('the performer cannot sign her own release: the two-person refusal is shown, nothing is released', async (t) => {
  const { page, context, problems } = await openPage(browser)
  t.teardown(() => context.close())
  await loginWithPassword(page, url, 'paula', password)
  // Paula is an operator too: she starts at the terminal.
  await page.getByRole('link', { name: 'Quality' }).click()
  await page.locator('table caption', { hasText: 'Units on hold' }).waitFor()
  await page.locator('tr', { hasText: u3 }).getByRole('button', { name: 'Release' }).first().click()
  await page.getByLabel('Reason').fill('I re-measured it myself')
  await page.locator('#ask-ok').click()
  const dialog = page.locator('#sign')
  await dialog.getByLabel('Your user id').fill('paula')
  await dialog.getByLabel('Your password').fill(password)
  await dialog.getByRole('button', { name: 'Sign' }).click()
  await dialog.getByRole('alert').getByText('A second person must sign').waitFor()
  t.match(await dialog.getByRole('alert').textContent(), /Paula Performer performed this and may not also sign it/)
  t.ok(await isHeld(u3), 'still on hold')
  await dialog.getByRole('button', { name: 'Cancel' }).click()
  await dialog.waitFor({ state: 'hidden' })
  t.equal((await gw.call('GET', `/api/v1/as-built/units/${u3}`)).body.signatures.length, 0, 'no signature kept')
  t.same(problems, [])
})

t.test('a locked account: the login says until when and who unlocks it; leads see the alert', async (t) => {
  const { page, context, problems } = await openPage(browser)
  t.teardown(() => context.close())
  for (const guess of ['wrong one', 'wrong two']) {
    await loginWithPassword(page, url, 'rita', guess)
    await page.getByRole('alert').getByText('The badge, user, PIN or password is wrong, or the account is inactive.').waitFor()
  }
  await loginWithPassword(page, url, 'rita', 'wrong three')
  await page.getByRole('alert').getByText(/^This account is locked after too many wrong passwords until .+\. An administrator can unlock it now by setting a new password\.$/).waitFor()
  await loginWithPassword(page, url, 'rita', password)
  await page.getByRole('alert').getByText(/This account is locked/).waitFor()
  t.ok(await page.locator('#nav').isHidden(), 'the right password while locked does not log in')
  t.same(await seriousViolations(page), [], 'axe: the locked message')

  const lead = await openPage(browser)
  t.teardown(() => lead.context.close())
  await loginWithPassword(lead.page, url, 'leo', password)
  const alert = lead.page.locator('#alerts [data-person="rita"]')
  await alert.waitFor()
  t.match(await alert.textContent(), /^Rita Reviewer is locked out until .+ after too many wrong attempts \(password\)\..*An administrator can unlock it now by setting a new password\.$/, 'the lead sees who is locked and who can unlock')
  t.equal((await gw.call('PUT', '/api/v1/people/rita/password', { password: 'rita was unlocked by ada' })).status, 200, 'an administrator unlocks')
  const [answer] = await Promise.all([lead.page.waitForResponse((r) => r.url().endsWith('/api/v1/hmi/alerts')), lead.page.reload()])
  const items = (await answer.json()).items as Array<{ personId: string; active: boolean }>
  t.notOk(items.some((i) => i.personId === 'rita' && i.active), 'the gateway says the lock no longer holds')
  await lead.page.locator('#alerts').waitFor({ state: 'hidden' })
  t.equal(await lead.page.locator('#alerts [data-person="rita"]').count(), 0, 'the alert goes once the account is unlocked')
  t.same(problems, [])
  t.same(lead.problems, [])
})

t.test('an administrator enrols this browser as a terminal: its secret goes into storage unseen, actions carry the terminal, a stale secret is refused', async (t) => {
  const { page, context, problems } = await openPage(browser)
  t.teardown(() => context.close())
  await loginWithPassword(page, url, 'ada', password)
  await page.getByRole('link', { name: 'Enrolment' }).click()
  await page.getByText('This browser is not enrolled as a terminal: its actions name no terminal.').waitFor()
  await page.getByLabel('Terminal id').fill('T-QA')
  await page.getByLabel('Terminal name').fill('Quality desk')
  await page.getByLabel('Where it stands').fill('QA lab')
  await page.getByRole('button', { name: 'Register and enrol' }).click()
  await page.getByText('This browser is terminal T-QA: its actions carry that terminal, proven by its secret.').waitFor()
  const stored = JSON.parse((await page.evaluate(() => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('takt.terminal'))) ?? 'null') as { id: string; secret: string }
  t.equal(stored.id, 'T-QA')
  t.match(stored.secret, /^taktt_/, 'the secret is kept in the browser')
  t.notOk((await page.locator('body').innerText()).includes(stored.secret), 'and never shown')
  t.same(await seriousViolations(page), [], 'axe: enrolment')
  await page.getByRole('button', { name: 'Log out' }).click()

  await loginWithPassword(page, url, 'quentin', password)
  await page.locator('table caption', { hasText: 'Nonconformances' }).waitFor()
  await page.locator('tr', { hasText: u3 }).getByRole('button', { name: 'Release' }).first().click()
  await page.getByLabel('Reason').fill('second person: re-measured at the QA desk')
  await page.locator('#ask-ok').click()
  await page.locator('#sign').getByLabel('Your user id').fill('quentin')
  await page.locator('#sign').getByLabel('Your password').fill(password)
  await page.locator('#sign').getByRole('button', { name: 'Sign' }).click()
  await page.getByText(`${u3} is released from hold, signed.`).waitFor()
  const actors = gw.running.gateway.store.db.sqlite.prepare(`SELECT type, actor FROM events WHERE subject = ? AND type IN ('UnitHoldReleased', 'RecordSigned') ORDER BY seq`).all(`unit/${u3}`)
  t.same(actors, [{ type: 'UnitHoldReleased', actor: 'person:quentin;terminal=T-QA' }, { type: 'RecordSigned', actor: 'person:quentin;terminal=T-QA' }], 'the release and its signature name the enrolled terminal')

  const rotated = await gw.call('PUT', '/api/v1/terminals/T-QA', { name: 'Quality desk', location: 'QA lab', rotateSecret: true })
  t.equal(rotated.status, 200, 'the terminal is enrolled again elsewhere')
  await page.getByRole('button', { name: 'Log out' }).click()
  await loginWithPassword(page, url, 'quentin', password)
  await page.getByRole('alert').getByText(/Terminal 'T-QA' did not send its valid secret/).waitFor()
  t.ok(await page.locator('#nav').isHidden(), 'a stale terminal secret logs nobody in')
  await page.getByRole('button', { name: 'Forget this terminal' }).click()
  await page.getByRole('alert').getByText('This browser is no longer a terminal.').waitFor()
  await loginWithPassword(page, url, 'quentin', password)
  await page.locator('table caption', { hasText: 'Nonconformances' }).waitFor()
  t.same(problems, [])
})

t.test('idle: the page logs out after the gateway idle time; a session the gateway ended sends the page to the login', async (t) => {
  const { page, context, problems } = await openPage(browser)
  t.teardown(() => context.close())
  await page.clock.install()
  await loginWithPassword(page, url, 'quentin', password)
  await page.locator('table caption', { hasText: 'Nonconformances' }).waitFor()
  await page.clock.fastForward('00:30')
  t.ok(await page.locator('#idle-banner').isHidden(), 'no warning after 30 s')
  await page.clock.fastForward('00:40')
  await page.locator('#idle-banner').waitFor()
  await page.clock.fastForward('01:00')
  await page.getByText('You were logged out after a time without activity.').waitFor()
  t.ok(await page.getByRole('heading', { name: 'Log in', exact: true }).isVisible(), 'back at the login after the 2 idle minutes the gateway gave')

  const other = await openPage(browser)
  t.teardown(() => other.context.close())
  await loginWithPassword(other.page, url, 'quentin', password)
  await other.page.locator('table caption', { hasText: 'Nonconformances' }).waitFor()
  // The gateway's clock moves on, the page's does not: the gateway ends the session on its own, and
  // the page learns it from the live stream's heartbeat or its next request (401 session_expired).
  gw.clock.advance(3 * 60_000)
  await other.page.getByRole('link', { name: 'Genealogy' }).click()
  await other.page.getByText('Your session has expired: it was idle too long, or its time ran out. Please log in again.').waitFor()
  t.ok(await other.page.getByRole('heading', { name: 'Log in', exact: true }).isVisible(), 'the page is back at the login')
  t.same(problems, [])
  t.same(other.problems, [])
})

t.test('an expired password: the login asks for a new one, refuses a mismatch and a short one, then logs in', async (t) => {
  gw.clock.advance(31 * 86400_000)
  const { page, context, problems } = await openPage(browser)
  t.teardown(() => context.close())
  await loginWithPassword(page, url, 'leo', password)
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor()
  t.ok(await page.getByText('Your password has expired: choose a new one.').isVisible(), 'says why')
  t.same(await seriousViolations(page), [], 'axe: the change form')
  await page.getByLabel('New password', { exact: true }).fill('leo chose a new one')
  await page.getByLabel('New password again').fill('leo chose another one')
  await page.getByRole('button', { name: 'Set the new password and log in' }).click()
  await page.getByRole('alert').getByText('The two new passwords are not the same.').waitFor()
  await page.getByLabel('New password', { exact: true }).fill('too short')
  await page.getByLabel('New password again').fill('too short')
  await page.getByRole('button', { name: 'Set the new password and log in' }).click()
  await page.getByRole('alert').getByText('A password needs at least 12 characters.').waitFor()
  t.ok(await page.locator('#nav').isHidden(), 'not logged in')
  await page.getByLabel('New password', { exact: true }).fill('leo chose a new one')
  await page.getByLabel('New password again').fill('leo chose a new one')
  await page.getByRole('button', { name: 'Set the new password and log in' }).click()
  await page.locator('.board .andon').waitFor()
  t.equal((await gw.call('POST', '/api/v1/auth/login', { username: 'leo', password: 'leo chose a new one' }, '')).status, 200, 'the new password is his')
  t.same(problems, [])
})
