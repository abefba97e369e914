// Who is logged in at this terminal: the session token (this tab only), the person, their roles, and the idle logout of a shared terminal.

const key = 'takt.session'

/** `idleMinutes`: the gateway's idle time; `signedOnce`: this session has signed, so a signature needs only the secret (21 CFR 11.200(a)(1)). @typedef {{ token: string, expiresAt: string, idleMinutes?: number, signedOnce?: boolean, personId: string, name: string, roles: string[], kind: string, via: 'badge' | 'password' }} Session */

/** @returns {Session | null} */
export function loadSession() {
  try {
    const raw = sessionStorage.getItem(key)
    if (!raw) return null
    const s = /** @type {Session} */ (JSON.parse(raw))
    return Date.parse(s.expiresAt) > Date.now() ? s : null
  } catch {
    return null
  }
}

/** sessionStorage: the token survives a reload but not the closing of the tab, and no other tab sees it. @param {Session | null} s */
export function saveSession(s) {
  if (s) sessionStorage.setItem(key, JSON.stringify(s))
  else sessionStorage.removeItem(key)
}

/** @param {Session | null} s @param {...string} roles */
export function hasRole(s, ...roles) {
  return !!s && (s.roles.includes('admin') || s.roles.some((r) => roles.includes(r)))
}

/**
 * Logs a shared terminal out after a while without a touch or a key, with a warning first.
 * Badge logins (operators at a machine) time out sooner than password logins.
 * @param {{ idleMs(): number, warnMs: number, onWarn(secondsLeft: number): void, onActive(): void, onTimeout(): void }} options
 */
export function idleWatch(options) {
  let lastActive = Date.now()
  let warned = false
  const active = () => {
    lastActive = Date.now()
    if (warned) {
      warned = false
      options.onActive()
    }
  }
  for (const type of ['pointerdown', 'keydown', 'wheel', 'touchstart']) document.addEventListener(type, active, { capture: true, passive: true })
  const timer = setInterval(() => {
    const left = options.idleMs() - (Date.now() - lastActive)
    if (left <= 0) {
      warned = false
      lastActive = Date.now()
      options.onTimeout()
    } else if (left <= options.warnMs) {
      warned = true
      options.onWarn(Math.ceil(left / 1000))
    }
  }, 1000)
  return { stop: () => clearInterval(timer), touch: active }
}
