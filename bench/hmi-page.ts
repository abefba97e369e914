// The HMI page in Chromium: how soon the operator terminal is usable when loaded from a gateway process, against peers in the same run, and the size of its JavaScript and CSS gzipped.
import { gzipSync } from 'node:zlib'
import type { Browser, BrowserContext } from 'playwright-core'
import { loadConfig } from '../edge/config.ts'
import { seedDemoLine } from '../edge/demo.ts'
import { buildGateway } from '../edge/gateway.ts'
import { hmiFiles } from '../edge/hmi/serve.ts'
import { launchBrowser } from '../test/hmi/helpers/browser.ts'
import { onCleanup, tempDir } from './lib/cleanup.ts'
import type { BenchResult } from './lib/figures.ts'
import { startGatewayProcess } from './lib/gateway-process.ts'
import { describeLoad } from './lib/machine.ts'
import { ms, summarize } from './lib/stats.ts'

export interface HmiPageOptions {
  /** Page loads in a fresh browser context (empty HTTP cache), each. */
  coldLoads: number
  /** Reloads in one context (the cache revalidates every file: 304s). */
  warmLoads: number
}

export const defaultHmiPageOptions: HmiPageOptions = { coldLoads: 10, warmLoads: 20 }
export const quickHmiPageOptions: HmiPageOptions = { coldLoads: 3, warmLoads: 5 }

const adminToken = 'bench-admin-token-0123456789abcdef'
const workCenter = 'WC-PRESS'
const log = (message: string) => process.stdout.write(`  ${message}\n`)

/**
 * Marks, in the page, the moment the terminal can be used: its dispatch list shows an order to tap.
 * A MutationObserver sees it as it is rendered; performance.now() counts from the navigation's start.
 */
function readyMarker(): void {
  const page = globalThis as unknown as {
    document: { querySelector(s: string): unknown }
    MutationObserver: new (fn: () => void) => { observe(el: unknown, o: unknown): void; disconnect(): void }
    performance: { now(): number }
    taktReadyAt?: number
  }
  const observer = new page.MutationObserver(() => {
    if (page.taktReadyAt === undefined && page.document.querySelector('ol.dispatch li[data-order] button')) {
      page.taktReadyAt = page.performance.now()
      observer.disconnect()
    }
  })
  // The document itself: an init script runs before the root element exists.
  observer.observe(page.document, { childList: true, subtree: true })
}

/** A context logged in the way a terminal is after a badge login: the session in sessionStorage, the work center remembered. */
async function terminalContext(browser: Browser, session: Record<string, unknown>): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'en-GB' })
  await context.addInitScript(
    ([s, wc]) => {
      const w = globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void }; localStorage: { setItem(k: string, v: string): void } }
      w.sessionStorage.setItem('takt.session', s)
      w.localStorage.setItem('takt.workCenter', wc)
      w.localStorage.setItem('takt.lang', 'en')
    },
    [JSON.stringify(session), workCenter] as const,
  )
  await context.addInitScript(readyMarker)
  return context
}

/** One load of the terminal: ms from navigation start until the dispatch list can be tapped. */
async function loadTerminal(context: BrowserContext, url: string): Promise<number> {
  const page = await context.newPage()
  try {
    await page.goto(`${url}/#/terminal/${workCenter}`, { waitUntil: 'commit' })
    await page.waitForFunction(() => (globalThis as unknown as { taktReadyAt?: number }).taktReadyAt !== undefined, undefined, { timeout: 20_000 })
    return await page.evaluate(() => (globalThis as unknown as { taktReadyAt: number }).taktReadyAt)
  } finally {
    await page.close()
  }
}

/** The peer page: a document from the same gateway with nothing to run (its health answer), to its load event. */
async function loadEmpty(context: BrowserContext, url: string): Promise<number> {
  const page = await context.newPage()
  try {
    await page.goto(`${url}/health`, { waitUntil: 'load' })
    return await page.evaluate(() => {
      const nav = (globalThis as unknown as { performance: { getEntriesByType(t: string): Array<{ loadEventEnd: number }> } }).performance.getEntriesByType('navigation')[0]
      return nav?.loadEventEnd ?? Number.NaN
    })
  } finally {
    await page.close()
  }
}

/** The peer without a browser: the API calls the terminal makes at start, in the same order and concurrency, from Node. */
async function fetchTerminalData(url: string, token: string): Promise<number> {
  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })
    const body = await res.text()
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${body.slice(0, 200)}`)
  }
  const started = performance.now()
  await get('/hmi/i18n/en.json')
  await get('/openapi.json')
  await Promise.all([get('/api/v1/hmi/andon'), get('/api/v1/hmi/reason-codes')])
  await get(`/api/v1/work-centers/${workCenter}/dispatch-list`)
  return performance.now() - started
}

/** The page's JavaScript and CSS as the gateway serves them (uPlot included), and each gzipped (level 9). */
function assetSizes(): { files: number; raw: number; gzipped: number; largest: Array<[string, number]> } {
  const sizes: Array<[string, number, number]> = []
  for (const [path, file] of hmiFiles()) {
    if (path === '/' || !/\.(js|css)$/.test(path)) continue
    sizes.push([path, file.body.byteLength, gzipSync(file.body, { level: 9 }).byteLength])
  }
  sizes.sort((a, b) => b[2] - a[2])
  return { files: sizes.length, raw: sizes.reduce((s, x) => s + x[1], 0), gzipped: sizes.reduce((s, x) => s + x[2], 0), largest: sizes.slice(0, 3).map(([p, , g]) => [p, g]) }
}

export async function benchHmiPage(options: HmiPageOptions = defaultHmiPageOptions): Promise<BenchResult> {
  const dataDir = tempDir('hmi')
  try {
    // The demo line, seeded in-process before the gateway process opens the same data.
    const seeding = buildGateway(loadConfig({ env: { TAKT_DATA_DIR: dataDir.path, TAKT_LOG_LEVEL: 'silent' } }))
    await seedDemoLine(seeding, new Date())
    seeding.close()
    const server = await startGatewayProcess({ dataDir: dataDir.path, adminToken })
    const browser = await launchBrowser()
    const closeBrowser = onCleanup(() => browser.close())
    try {
      const login = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ana', password: 'takt-demo-password' }) })
      const { token, expiresAt } = (await login.json()) as { token: string; expiresAt: string }
      const session = { token, expiresAt, personId: 'ana', name: 'Ana Operator', roles: ['operator'], kind: 'person', via: 'badge' }
      log(`load at start: ${describeLoad()}`)

      // Cold and empty alternate, so that a burst of load on the machine hits both alike.
      const cold: number[] = []
      const empty: number[] = []
      for (let i = 0; i < options.coldLoads; i++) {
        const context = await terminalContext(browser, session)
        try {
          cold.push(await loadTerminal(context, server.url))
        } finally {
          await context.close()
        }
        const blank = await browser.newContext()
        try {
          empty.push(await loadEmpty(blank, server.url))
        } finally {
          await blank.close()
        }
      }
      const warm: number[] = []
      const api: number[] = []
      const context = await terminalContext(browser, session)
      try {
        await loadTerminal(context, server.url)
        for (let i = 0; i < options.warmLoads; i++) {
          warm.push(await loadTerminal(context, server.url))
          api.push(await fetchTerminalData(server.url, token))
        }
      } finally {
        await context.close()
      }
      log(`load at end: ${describeLoad()}`)
      const c = summarize(cold)
      const w = summarize(warm)
      const e = summarize(empty)
      const a = summarize(api)
      const sizes = assetSizes()
      log(`terminal usable, cold: p50 ${ms(c.p50)} ms, max ${ms(c.max)} ms; warm: p50 ${ms(w.p50)} ms, max ${ms(w.max)} ms`)
      log(`peers: empty page p50 ${ms(e.p50)} ms; the API data alone p50 ${ms(a.p50)} ms`)
      log(`JavaScript and CSS: ${sizes.files} files, ${(sizes.raw / 1024).toFixed(1)} KB, ${(sizes.gzipped / 1024).toFixed(1)} KB gzipped`)
      return {
        title: 'HMI page in Chromium: operator terminal usable, and its size',
        notes: [
          `A gateway process (\`node bin/takt.ts edge\`) on the demo line; Debian's Chromium ${browser.version()}, headless, driven by playwright-core, 1024×768. ` +
            'The terminal of WC-PRESS is opened the way it is after a badge login (session in sessionStorage, work center remembered); "usable" is the moment its dispatch list shows an order to tap, seen by a MutationObserver in the page and counted from the navigation start (performance.now()). ' +
            'It includes loading every module, the English texts, the OpenAPI document (the page reads which features the gateway has), the andon, the reason codes and the dispatch list.',
          `Cold: ${c.count} loads, each in a fresh browser context (empty HTTP cache). Warm: ${w.count} loads in one context, every file revalidated by ETag (the page is served no-cache, so a terminal picks up a new gateway at once).`,
          `Peers in the same run: an empty document from the same gateway (\`/health\`) to its load event, alternating with the cold loads; and the terminal's API calls alone, from Node with the same order and concurrency and no rendering, alternating with the warm loads. ` +
            `Ratios: cold terminal ÷ empty page ${(c.p50 / e.p50).toFixed(1)}; warm terminal ÷ API data alone ${(w.p50 / a.p50).toFixed(1)}.`,
          `Size: every .js and .css file the gateway serves under /hmi/ (${sizes.files} files, uPlot's ESM build and its CSS included), each gzipped at level 9 and summed: ${(sizes.raw / 1024).toFixed(1)} KB raw. ` +
            `Largest gzipped: ${sizes.largest.map(([p, g]) => `${p} ${(g / 1024).toFixed(1)} KB`).join(', ')}. The gateway itself serves them uncompressed on the line's network.`,
        ],
        figures: [
          { label: 'Terminal usable, cold load, p50', value: c.p50, unit: 'ms', digits: 0, target: { kind: 'max', value: 1000 } },
          { label: 'Terminal usable, cold load, max', value: c.max, unit: 'ms', digits: 0, target: { kind: 'max', value: 1000 } },
          { label: 'Terminal usable, warm load, p50', value: w.p50, unit: 'ms', digits: 0, target: { kind: 'max', value: 1000 } },
          { label: 'Peer: empty page from the gateway, p50', value: e.p50, unit: 'ms', digits: 0 },
          { label: 'Peer: the API data alone (Node), p50', value: a.p50, unit: 'ms', digits: 1 },
          { label: 'JavaScript and CSS, gzipped', value: sizes.gzipped / 1024, unit: 'KB', digits: 1, target: { kind: 'max', value: 200 } },
        ],
      }
    } finally {
      await closeBrowser()
      await server.stop()
    }
  } finally {
    await dataDir.remove()
  }
}
