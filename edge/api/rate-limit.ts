// Login rate limit per client address: too many failed logins from one address in a window are answered 429 with Retry-After.
import type { Context, MiddlewareHandler } from 'hono'
import { ProblemError, problem } from './problem.ts'

export interface LoginRateLimitOptions {
  /** Failed logins one client address may make within the window before it is refused. */
  maxFailures?: number
  /** The sliding window, in milliseconds. */
  windowMs?: number
  /** The clock, in epoch milliseconds (injected so that tests can move time). */
  now?: () => number
  /** The client's key: its socket's remote address by default. */
  clientOf?: (c: Context) => string
  /** Addresses remembered before the oldest are dropped: an attacker spraying addresses cannot grow memory without end. */
  maxClients?: number
}

/**
 * The socket's remote address. X-Forwarded-For is not trusted: anyone can send it, and a limit
 * keyed on it is a limit the attacker chooses. Behind a reverse proxy every client shares one key.
 */
export function socketAddress(c: Context): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming
  return incoming?.socket?.remoteAddress ?? 'in-process'
}

/**
 * Counts an attempt before the login runs and gives it back when the login succeeds: guesses sent
 * in parallel cannot all slip in under the limit while the password hash is computed, and a
 * terminal whose operators log in all day is never limited.
 */
export function loginRateLimit(options: LoginRateLimitOptions = {}): MiddlewareHandler {
  const maxFailures = options.maxFailures ?? 30
  const windowMs = options.windowMs ?? 5 * 60_000
  const now = options.now ?? Date.now
  const clientOf = options.clientOf ?? socketAddress
  const maxClients = options.maxClients ?? 10_000
  // Per address, the times of its attempts in the window (oldest first); a Map keeps insertion order for eviction.
  const attempts = new Map<string, number[]>()

  return async function limitLogins(c, next) {
    const client = clientOf(c)
    const t = now()
    const times = attempts.get(client) ?? []
    while (times.length > 0 && times[0]! <= t - windowMs) times.shift()
    if (times.length >= maxFailures) {
      const retryAfterS = Math.max(1, Math.ceil((times[0]! + windowMs - t) / 1000))
      // RFC 6585 4: 429 with Retry-After. Answered here, not thrown, so that the header stays on the response.
      const response = problem(c, new ProblemError(429, 'too_many_login_attempts', `Too many failed logins from this address: try again in ${retryAfterS} s.`, { retryAfterSeconds: retryAfterS }))
      response.headers.set('retry-after', String(retryAfterS))
      return response
    }
    times.push(t)
    // Re-inserted so that the least recently seen address is the first one dropped.
    attempts.delete(client)
    if (attempts.size >= maxClients) attempts.delete(attempts.keys().next().value!)
    attempts.set(client, times)
    await next()
    if (c.res.status >= 200 && c.res.status < 300) {
      // The same array as above, unless the address was dropped meanwhile: then there is nothing to give back.
      const current = attempts.get(client)
      const index = current ? current.indexOf(t) : -1
      if (index >= 0) current!.splice(index, 1)
    }
  }
}
