// Debian's Chromium, headless, driven by playwright-core: a context per person, axe-core injected from node_modules, screenshots for the docs, CSP violations caught.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../../helpers/client.ts'

const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
const axeSource = readFileSync(join(repoRoot, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8')
export const screenshotsDir = join(repoRoot, 'docs', 'screenshots')

/** Each launch gets its own fresh profile directory (playwright makes and removes it). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: chromiumArgs })
}

export interface PersonPage {
  context: BrowserContext
  page: Page
  /** Page errors and refused content (CSP) seen so far: a clean page has none. */
  problems: string[]
}

/** A fresh context (no cookies, no storage) at the terminal's size: one person at one terminal. */
export async function openPage(browser: Browser, viewport = { width: 1024, height: 768 }, locale = 'en-GB'): Promise<PersonPage> {
  const context = await browser.newContext({ viewport, locale, timezoneId: 'Europe/Berlin' })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`)
  })
  // A bound for waits that wait on events, not a speed target: a CI machine running two suites at once is slow.
  page.setDefaultTimeout(30_000)
  return { context, page, problems }
}

export interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: Array<{ target: string[] }>
}

/**
 * Runs axe-core in the page. It is evaluated through the DevTools protocol, not added as a
 * script tag, so the page's content security policy stays as strict as in production.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource)
  return page.evaluate(async () => {
    // Runs in the page: its globals, typed here as little as the call needs (the project has no DOM lib).
    const page = globalThis as unknown as { document: unknown; axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> } }
    const axe = page.axe
    const result = await axe.run(page.document, { resultTypes: ['violations'], runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }))
  })
}

/** Serious and critical violations, as lines a failing test can print. */
export async function seriousViolations(page: Page): Promise<string[]> {
  return (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}

/** A PNG of the visible page, for the README. @param name e.g. 'terminal' → docs/screenshots/hmi-terminal.png */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  const path = join(screenshotsDir, `hmi-${name}.png`)
  // The caret blinks and toasts fade: freeze both so that the picture shows the state, not a moment.
  await page.screenshot({ path, animations: 'disabled', caret: 'hide', fullPage })
  return path
}

/**
 * Types like a keyboard-wedge scanner: characters a few milliseconds apart, then Enter, into
 * whatever has the focus (or, with nothing focused, into the page's scan catcher).
 */
export async function scan(page: Page, code: string): Promise<void> {
  await page.keyboard.type(code, { delay: 4 })
  await page.keyboard.press('Enter')
}

/**
 * A scan with nothing focused, as the page's scan catcher sees it: keydowns a scanner's few
 * milliseconds apart (or, with gapMs, a person's). They are dispatched inside the page, because on a
 * loaded machine the DevTools protocol can space typed keys more, or less, than the 50 ms that tell
 * a scanner from a person.
 */
export async function scanUnfocused(page: Page, code: string, gapMs = 0): Promise<void> {
  await page.evaluate(
    async ({ keys, gap }) => {
      const doc = (globalThis as unknown as { document: { activeElement: unknown; body: unknown } }).document
      const Keyboard = (globalThis as unknown as { KeyboardEvent: new (type: string, init: object) => unknown }).KeyboardEvent
      const target = (doc.activeElement ?? doc.body) as { dispatchEvent(e: unknown): boolean }
      for (const key of keys) {
        target.dispatchEvent(new Keyboard('keydown', { key, bubbles: true, cancelable: true }))
        // A timer can only come late, never early: the gaps are at least this long.
        if (gap > 0) await new Promise((resolve) => setTimeout(resolve, gap))
      }
    },
    { keys: [...code, 'Enter'], gap: gapMs },
  )
}

/** The viewport is as wide as the page: nothing scrolls sideways on a phone. */
export async function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const inPage = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number } } }
    return inPage.document.documentElement.scrollWidth <= inPage.innerWidth + 1
  })
}

/** Logs in on the badge tab the way an operator does: scan the badge, tap the PIN on the keypad. */
export async function loginWithBadge(page: Page, url: string, badge: string, pin: string): Promise<void> {
  await page.goto(`${url}/#/login/badge`)
  await page.getByLabel('Badge', { exact: true }).waitFor()
  await page.getByLabel('Badge', { exact: true }).focus()
  await scan(page, badge)
  for (const digit of pin) await page.getByRole('button', { name: digit, exact: true }).click()
  await page.getByRole('button', { name: 'Log in' }).click()
}

export async function loginWithPassword(page: Page, url: string, user: string, password: string): Promise<void> {
  await page.goto(`${url}/#/login/password`)
  await page.getByLabel('User', { exact: true }).fill(user)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Log in' }).click()
}

/** Takes the focus from whatever field has it, as a tap on an empty part of the screen does. */
export async function blur(page: Page): Promise<void> {
  await page.evaluate(() => {
    const active = (globalThis as unknown as { document: { activeElement: { blur?(): void } | null } }).document.activeElement
    active?.blur?.()
  })
}
