// The HMI's shell: language, session, views by role, the live link and its banner, idle logout, security alerts.
import { alertsArea } from './alerts.js'
import { createApi } from './api.js'
import { h, fill } from './dom.js'
import { languages, language, preferredLanguage, setLanguage, t } from './i18n.js'
import { createLive } from './live.js'
import { installScanner, setScanTarget } from './scan.js'
import { hasRole, idleWatch, loadSession, saveSession } from './session.js'
import * as login from './views/login.js'
import * as terminal from './views/terminal.js'

/**
 * @typedef {{ onLive?(event: import('./live.js').LiveEvent): void, refresh?(): void, unmount?(): void }} MountedView
 * @typedef {{ mount(root: HTMLElement, ctx: any): MountedView | Promise<MountedView> }} ViewModule
 */

/** Which roles see which view; the first the person may see is their start page. */
// The terminal comes with the page; the board and quality views (and uPlot) load when first opened, so an operator's terminal does not wait for them.
const views = /** @type {Array<{ name: string, load: () => Promise<ViewModule>, roles: string[] }>} */ ([
  { name: 'terminal', load: async () => terminal, roles: ['operator', 'lead'] },
  { name: 'board', load: () => import('./views/board.js'), roles: ['lead', 'maintenance'] },
  { name: 'quality', load: () => import('./views/quality.js'), roles: ['quality', 'lead'] },
  { name: 'enrol', load: () => import('./views/enrol.js'), roles: ['admin'] },
])

/** Where each role starts: an operator at the terminal, a lead at the board. */
const startView = /** @type {Record<string, string>} */ ({ operator: 'terminal', lead: 'board', maintenance: 'board', quality: 'quality', admin: 'board' })

// The gateway ends a session after its own idle time (accounts.sessionIdleMinutes, given with the login); the page never waits longer than that.
const idle = { badgeMs: 10 * 60_000, passwordMs: 30 * 60_000, warnMs: 60_000 }
const idleMs = () => {
  const own = session?.via === 'badge' ? idle.badgeMs : idle.passwordMs
  const gateway = typeof session?.idleMinutes === 'number' ? session.idleMinutes * 60_000 : Infinity
  return Math.min(own, gateway)
}

const main = /** @type {HTMLElement} */ (document.getElementById('main'))
const nav = /** @type {HTMLElement} */ (document.getElementById('nav'))
const who = /** @type {HTMLElement} */ (document.getElementById('who'))
const logoutButton = /** @type {HTMLButtonElement} */ (document.getElementById('logout'))
const linkBanner = /** @type {HTMLElement} */ (document.getElementById('link-banner'))
const idleBanner = /** @type {HTMLElement} */ (document.getElementById('idle-banner'))
const scanHeld = /** @type {HTMLElement} */ (document.getElementById('scan-held'))
const alerts = alertsArea(/** @type {HTMLElement} */ (document.getElementById('alerts')))

let session = loadSession()
/** @type {MountedView | null} */
let mounted = null
/** What this gateway can do (paths of its OpenAPI document); filled in place while the first view renders. @type {Set<string>} */
const capabilities = new Set()
let linkUp = true
/** @type {ReturnType<typeof setTimeout> | undefined} */
let linkTimer
let loginMessage = ''

/** Why the gateway ended the session, as the login page says it. @param {string} code */
const endedBecause = (code) => (code === 'session_expired' ? 'login.sessionExpired' : 'login.expired')
const api = createApi({ token: () => session?.token ?? null, onUnauthorized: (code) => endSession(endedBecause(code)), onLink: setLink })
const live = createLive({
  token: () => session?.token ?? null,
  onEvent: (event) => {
    if (event.type === 'AccountLocked') alerts.refresh(api, session)
    mounted?.onLive?.(event)
  },
  onState: (state) => setLink(state === 'up'),
  onResync: () => mounted?.refresh?.(),
  onUnauthorized: (code) => endSession(endedBecause(code)),
})

/** The banner says the link is down for as long as it is, and that it is back for a few seconds. @param {boolean} up */
function setLink(up) {
  if (up === linkUp) return
  linkUp = up
  clearTimeout(linkTimer)
  linkBanner.className = `banner ${up ? 'ok' : 'error'}`
  linkBanner.dataset.link = up ? 'back' : 'down'
  fill(linkBanner, up ? t('link.back') : t('link.down'))
  linkBanner.hidden = false
  if (up) linkTimer = setTimeout(() => (linkBanner.hidden = true), 4000)
}

function route() {
  const [name = '', ...params] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent)
  return { name, params }
}

/** @param {string} hash */
export function navigate(hash) {
  if (location.hash === hash) void render()
  else location.hash = hash
}

function allowedViews() {
  return views.filter((v) => hasRole(session, ...v.roles))
}

function homeView() {
  const allowed = allowedViews()
  const preferred = (session?.roles ?? []).map((r) => startView[r]).find((name) => allowed.some((v) => v.name === name))
  return preferred ?? allowed[0]?.name ?? ''
}

function renderChrome() {
  const allowed = session ? allowedViews() : []
  const current = route().name
  fill(nav, allowed.map((v) => h('a', { href: `#/${v.name}`, 'aria-current': v.name === current ? 'page' : undefined }, t(`nav.${v.name}`))))
  nav.hidden = allowed.length === 0
  fill(who, session ? `${session.name}` : '')
  logoutButton.hidden = !session
}

let renders = 0

async function render() {
  const generation = ++renders
  mounted?.unmount?.()
  mounted = null
  setScanTarget(null)
  renderChrome()
  const r = route()
  const ctx = { api, session, route: r, navigate, capabilities, onLogin: startSession, message: loginMessage }
  alerts.refresh(api, session)
  if (!session) {
    mounted = await login.mount(main, ctx)
    return
  }
  const allowed = allowedViews()
  const view = allowed.find((v) => v.name === r.name)
  if (!view) {
    if (allowed[0]) navigate(`#/${homeView()}`)
    else fill(main, h('p', null, t('app.noView')))
    return
  }
  const module = await view.load()
  // The address changed while the module loaded: the newer render is the one that counts.
  if (generation !== renders) return
  mounted = await module.mount(main, ctx)
}

/** The OpenAPI document lists what this gateway can do: features other work adds (downtime classification) show up only once they exist. */
async function loadCapabilities() {
  try {
    const doc = await api.get('/openapi.json')
    for (const path of Object.keys(doc.paths ?? {})) capabilities.add(path)
  } catch {
    // Unknown: every view then tries its feature and takes a 404 as "not here".
  }
}

/** @param {{ token: string, expiresAt: string, idleMinutes?: number }} login @param {'badge' | 'password'} via */
async function startSession(login, via) {
  session = { token: login.token, expiresAt: login.expiresAt, idleMinutes: login.idleMinutes, personId: '', name: '', roles: [], kind: 'person', via }
  const me = await api.get('/api/v1/auth/me')
  session = { ...session, personId: me.id, name: me.name, roles: me.roles, kind: me.kind }
  saveSession(session)
  loginMessage = ''
  live.start()
  navigate(`#/${homeView()}`)
  // After the first view: the document is large, and the view's own data comes first.
  void loadCapabilities()
}

/** @param {string} [why] message key shown on the login page */
async function endSession(why) {
  if (!session) return
  const token = session.token
  session = null
  saveSession(null)
  live.stop()
  loginMessage = why ? t(why) : ''
  // Best effort: the token is forgotten here whatever the gateway answers.
  fetch('/api/v1/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${token}` } }).catch(() => {})
  navigate('#/login')
}

function setUpLanguage() {
  const select = /** @type {HTMLSelectElement} */ (document.getElementById('lang'))
  fill(select, Object.entries(languages).map(([code, name]) => h('option', { value: code, lang: code }, name)))
  select.value = language()
  select.addEventListener('change', async () => {
    await setLanguage(select.value)
    await render()
  })
}

async function boot() {
  await setLanguage(preferredLanguage())
  setUpLanguage()
  // Scans typed while the page loaded were caught by early.js; from here on they are shown while they wait.
  installScanner(scanHeld)
  logoutButton.addEventListener('click', () => endSession())
  window.addEventListener('hashchange', () => void render())
  idleWatch({
    idleMs,
    warnMs: idle.warnMs,
    onWarn: (seconds) => {
      if (!session) return
      idleBanner.hidden = false
      fill(idleBanner, t('idle.warn', { seconds }))
    },
    onActive: () => (idleBanner.hidden = true),
    onTimeout: () => {
      idleBanner.hidden = true
      if (session) void endSession('idle.loggedOut')
    },
  })
  if (session) live.start()
  await render()
  if (session) void loadCapabilities()
}

void boot()
