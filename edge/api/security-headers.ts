// Security headers on every response, and a cross-site request check on state-changing requests from browsers.
import type { MiddlewareHandler } from 'hono'
import { ProblemError, problem } from './problem.ts'

export interface SecurityHeaderOptions {
  /** Strict-Transport-Security max-age in seconds, sent on responses over TLS only (RFC 6797 7.2: never over plain HTTP). */
  hstsMaxAgeS?: number
}

// Data answers (JSON, problem+json, event streams) are never rendered as a page: no script, no frame, nothing cached.
const dataCsp = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

const stateChanging = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Whether a browser sent this request from another site. The API authenticates with bearer tokens,
 * never cookies, so a forged cross-site request carries no credentials; refusing it anyway keeps
 * that true if a cookie ever appears, and stops a page elsewhere from driving a terminal's session.
 * Fetch Metadata first (Sec-Fetch-Site, sent by every current browser); Origin where it is absent.
 * A client that sends neither (curl, ERP, a PLC script) is not a browser and is let through.
 */
export function crossSite(headers: { get(name: string): string | null | undefined }, ownOrigin: () => string): string | null {
  const site = headers.get('sec-fetch-site')
  if (site) return site === 'same-origin' || site === 'none' ? null : `Sec-Fetch-Site: ${site}`
  const origin = headers.get('origin')
  if (origin === null || origin === undefined) return null
  return origin === ownOrigin() ? null : `Origin: ${origin}`
}

export function securityHeaders(options: SecurityHeaderOptions = {}): MiddlewareHandler {
  const hsts = `max-age=${options.hstsMaxAgeS ?? 31_536_000}`
  return async function secureResponse(c, next) {
    // The URL is parsed only when its origin is compared: most requests carry no Origin header, or Sec-Fetch-Site.
    const refused = stateChanging.has(c.req.method) ? crossSite(c.req.raw.headers, () => new URL(c.req.url).origin) : null
    if (refused) {
      c.res = problem(c, new ProblemError(403, 'cross_site_request', `A ${c.req.method} from another site is refused (${refused}); nothing was recorded. Use the gateway's own page, or a client that is not a browser.`))
    } else {
      await next()
    }
    const h = c.res.headers
    h.set('x-content-type-options', 'nosniff')
    h.set('referrer-policy', 'no-referrer')
    h.set('x-frame-options', 'DENY')
    // The HMI page brings its own, wider policy (edge/hmi/serve.ts); everything else gets the data policy.
    if (!h.has('content-security-policy')) h.set('content-security-policy', dataCsp)
    if (c.req.url.startsWith('https:')) h.set('strict-transport-security', hsts)
    const type = h.get('content-type') ?? ''
    if (!h.has('cache-control') && /^application\/(?:problem\+)?json\b/.test(type)) h.set('cache-control', 'no-store')
  }
}
