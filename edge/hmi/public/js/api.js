// The gateway's API from the page: JSON with the session token, problem+json refusals as ApiError, a lost link as LinkError.

/** A refusal or error answered by the gateway (RFC 9457 problem details). */
export class ApiError extends Error {
  /** @param {number} status @param {{ code?: string, detail?: string, title?: string } & Record<string, unknown>} body */
  constructor(status, body) {
    super(body.detail || body.title || `HTTP ${status}`)
    this.status = status
    this.code = body.code || 'http_error'
    this.detail = body.detail || this.message
    this.body = body
  }
}

/** The gateway did not answer: the network or the gateway is down. */
export class LinkError extends Error {}

const terminalKey = 'takt.terminal'

/**
 * The terminal this browser was enrolled as (21 CFR 11.10(h)): its id and the secret the gateway
 * issued once. Kept in localStorage: it belongs to the device, not to whoever is logged in.
 * @returns {{ id: string, secret: string } | null}
 */
export function enrolledTerminal() {
  try {
    const raw = localStorage.getItem(terminalKey)
    const t = raw ? JSON.parse(raw) : null
    return t && typeof t.id === 'string' && typeof t.secret === 'string' ? t : null
  } catch {
    return null
  }
}

/** @param {{ id: string, secret: string } | null} t */
export function saveTerminal(t) {
  if (t) localStorage.setItem(terminalKey, JSON.stringify({ id: t.id, secret: t.secret }))
  else localStorage.removeItem(terminalKey)
}

/** The headers that name and prove the terminal, on every request. @param {Record<string, string>} headers */
export function addTerminalHeaders(headers) {
  const t = enrolledTerminal()
  if (t) {
    headers['x-takt-terminal'] = t.id
    headers['x-takt-terminal-key'] = t.secret
  }
  return headers
}

/** A 401 that ends the session; a wrong secret at signing is a 401 too, but the session goes on. @param {number} status @param {any} body */
const endsSession = (status, body) => status === 401 && body?.code !== 'signature_failed'

/** Answers early.js asked for while the modules loaded, each taken once; an old one is not used (a view asks again). */
const earlyRequests = /** @type {Map<string, { token: string, at: number, response: Promise<Response> }>} */ (/** @type {any} */ (globalThis).taktEarly?.requests ?? new Map())
const earlyMaxAgeMs = 10_000

/** @param {string} path @param {string | null} token */
function takeEarly(path, token) {
  const early = earlyRequests.get(path)
  if (!early) return null
  earlyRequests.delete(path)
  return early.token === token && Date.now() - early.at < earlyMaxAgeMs ? early.response : null
}

/**
 * @typedef {{ token(): string | null, onUnauthorized(code: string): void, onLink(up: boolean): void, timeoutMs?: number }} ApiOptions
 * @param {ApiOptions} options
 */
export function createApi(options) {
  const timeoutMs = options.timeoutMs ?? 15000

  /** @param {string} method @param {string} path @param {unknown} [body] @param {{ anonymous?: boolean }} [flags] */
  async function request(method, path, body, flags = {}) {
    /** @type {Record<string, string>} */
    const headers = addTerminalHeaders({ accept: 'application/json' })
    const token = options.token()
    if (token && !flags.anonymous) headers.authorization = `Bearer ${token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    let res
    try {
      const early = method === 'GET' && !flags.anonymous ? takeEarly(path, token) : null
      res = await (early ?? fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs), cache: 'no-store' }))
    } catch (error) {
      options.onLink(false)
      throw new LinkError(error instanceof Error ? error.message : String(error))
    }
    options.onLink(true)
    const text = await res.text()
    /** @type {any} */
    let parsed = {}
    try {
      parsed = text ? JSON.parse(text) : {}
    } catch {
      parsed = { detail: text }
    }
    if (endsSession(res.status, parsed) && !flags.anonymous) options.onUnauthorized(parsed.code ?? 'unauthenticated')
    if (!res.ok) throw new ApiError(res.status, parsed)
    return parsed
  }

  return {
    request,
    /** @param {string} path */
    get: (path) => request('GET', path),
    /** @param {string} path @param {unknown} [body] */
    post: (path, body) => request('POST', path, body),
    /** @param {string} path @param {unknown} body */
    put: (path, body) => request('PUT', path, body),
    /**
     * A document (a printable record) as a Blob, with the session token; a refusal as ApiError. Its
     * own, longer timeout: a PDF is printed by a browser on the gateway.
     * @param {string} path
     */
    async blob(path) {
      const token = options.token()
      let res
      try {
        res = await fetch(path, { headers: addTerminalHeaders(token ? { authorization: `Bearer ${token}` } : {}), signal: AbortSignal.timeout(120_000), cache: 'no-store' })
      } catch (error) {
        options.onLink(false)
        throw new LinkError(error instanceof Error ? error.message : String(error))
      }
      options.onLink(true)
      if (!res.ok) {
        const text = await res.text()
        /** @type {any} */
        let body
        try {
          body = JSON.parse(text)
        } catch {
          body = { detail: text }
        }
        if (res.status === 401) options.onUnauthorized(body.code ?? 'unauthenticated')
        throw new ApiError(res.status, body)
      }
      return res.blob()
    },
    /** A GET that answers null on 404: for features another part of the gateway may not have yet. @param {string} path */
    async optional(path) {
      try {
        return await request('GET', path)
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null
        throw error
      }
    },
  }
}

/** @typedef {ReturnType<typeof createApi>} Api */

/** A path segment or query value, escaped. @param {string | number} value */
export const enc = (value) => encodeURIComponent(String(value))
