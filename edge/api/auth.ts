// Authentication (bearer API tokens, password and badge + PIN login sessions, badge lockout) and role checks. Deny unless a rule allows.
import type { Context, MiddlewareHandler } from 'hono'
import type { Role } from '../core/model.ts'
import type { Sqlite } from '../store/database.ts'
import { personFromRow } from '../store/line-view.ts'
import { hashPassword, hashToken, newToken, verifyPassword } from './passwords.ts'
import { ProblemError } from './problem.ts'

export interface Principal {
  kind: 'person' | 'token'
  id: string
  name: string
  roles: Role[]
}

export type AuthEnv = { Variables: { principal: Principal } }

export interface Session {
  token: string
  expiresAt: string
  roles: Role[]
}

export interface BadgePolicy {
  /** Wrong PINs in a row that lock a badge. */
  maxFailures: number
  /** How long a locked badge stays locked. */
  lockoutMs: number
}

export type BadgeLogin = { ok: true; session: Session } | { ok: false; locked: false } | { ok: false; locked: true; until: string }

/** A PIN is weak next to a password: these roles must log in with a password, never a badge. */
export const badgeForbiddenRoles: readonly Role[] = ['admin', 'integration']

const defaultBadgePolicy: BadgePolicy = { maxFailures: 5, lockoutMs: 15 * 60_000 }

// Compared against when the account is unknown, so that timing does not reveal which ids exist.
const dummyHash = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'

// Until the badges table has its drizzle migration (see docs/hmi.md), the same DDL the migration
// makes, idempotent; then this goes and the migration's CREATE statements keep IF NOT EXISTS.
const badgesDdl = `CREATE TABLE IF NOT EXISTS badges (
  person_id text PRIMARY KEY NOT NULL,
  badge_id text NOT NULL,
  pin_hash text NOT NULL,
  failed_attempts integer DEFAULT 0 NOT NULL,
  locked_until text,
  updated_at text NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS badges_badge_id_unique ON badges (badge_id);`

interface BadgeRow {
  person_id: string
  pin_hash: string
  failed_attempts: number
  locked_until: string | null
}

/** The actor written into the event log for a principal. */
export const actorOf = (p: Principal) => `${p.kind}:${p.id}`

export class Accounts {
  readonly #s: Sqlite
  readonly #sessionTtlMs: number
  readonly #byToken
  readonly #bySession
  readonly #person
  readonly #recent = new Map<string, { principal: Principal; until: number }>()
  readonly #badgePolicy: BadgePolicy
  readonly #badge
  readonly #countFailure

  constructor(sqlite: Sqlite, sessionTtlMs = 8 * 3600_000, badgePolicy: Partial<BadgePolicy> = {}) {
    this.#s = sqlite
    this.#sessionTtlMs = sessionTtlMs
    this.#badgePolicy = { ...defaultBadgePolicy, ...badgePolicy }
    sqlite.exec(badgesDdl)
    this.#badge = sqlite.prepare('SELECT person_id, pin_hash, failed_attempts, locked_until FROM badges WHERE badge_id = ?')
    this.#countFailure = sqlite.prepare('UPDATE badges SET failed_attempts = ?, locked_until = ? WHERE badge_id = ?')
    this.#byToken = sqlite.prepare('SELECT id, name, role FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL')
    this.#bySession = sqlite.prepare('SELECT person_id, expires_at FROM sessions WHERE token_hash = ?')
    this.#person = sqlite.prepare('SELECT * FROM people WHERE id = ?')
  }

  principalFor(bearer: string, now: Date): Principal | undefined {
    // A terminal sends the same token with every scan: remember the answer for a moment.
    const cached = this.#recent.get(bearer)
    if (cached && cached.until > now.getTime()) return cached.principal
    const principal = this.#lookup(bearer, now)
    if (this.#recent.size >= 1000) this.#recent.clear()
    if (principal) this.#recent.set(bearer, { principal, until: now.getTime() + 2000 })
    else this.#recent.delete(bearer)
    return principal
  }

  #lookup(bearer: string, now: Date): Principal | undefined {
    const hash = hashToken(bearer)
    const token = this.#byToken.get(hash) as { id: string; name: string; role: Role } | undefined
    if (token) return { kind: 'token', id: token.id, name: token.name, roles: [token.role] }
    const session = this.#bySession.get(hash) as { person_id: string; expires_at: string } | undefined
    if (!session || Date.parse(session.expires_at) <= now.getTime()) return undefined
    const row = this.#person.get(session.person_id) as Record<string, unknown> | undefined
    if (!row) return undefined
    const person = personFromRow(row)
    if (!person.active) return undefined
    return { kind: 'person', id: person.id, name: person.name, roles: person.roles }
  }

  createToken(name: string, role: Role, now: Date, id: string, token = newToken('takt')): string {
    this.#s.prepare('INSERT INTO api_tokens (id, name, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?)').run(id, name, role, hashToken(token), now.toISOString())
    return token
  }

  /** Provisions the installer's admin token once: only when no token with that name exists yet. */
  ensureBootstrapToken(token: string, now: Date, id: string): boolean {
    const exists = this.#s.prepare(`SELECT 1 FROM api_tokens WHERE name = 'bootstrap-admin'`).get()
    if (exists) return false
    this.createToken('bootstrap-admin', 'admin', now, id, token)
    return true
  }

  async setPassword(personId: string, password: string, now: Date): Promise<void> {
    const hash = await hashPassword(password)
    this.#s
      .prepare('INSERT INTO credentials (person_id, password_hash, updated_at) VALUES (?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at')
      .run(personId, hash, now.toISOString())
  }

  async login(personId: string, password: string, now: Date): Promise<Session | undefined> {
    const cred = this.#s.prepare('SELECT password_hash FROM credentials WHERE person_id = ?').get(personId) as { password_hash: string } | undefined
    const row = this.#person.get(personId) as Record<string, unknown> | undefined
    const ok = await verifyPassword(password, cred?.password_hash ?? dummyHash)
    if (!ok || !cred || !row) return undefined
    const person = personFromRow(row)
    if (!person.active) return undefined
    return this.#openSession(personId, person.roles, now)
  }

  #openSession(personId: string, roles: Role[], now: Date): Session {
    const token = newToken('takts')
    const expiresAt = new Date(now.getTime() + this.#sessionTtlMs).toISOString()
    this.#s.prepare('INSERT INTO sessions (token_hash, person_id, expires_at) VALUES (?, ?, ?)').run(hashToken(token), personId, expiresAt)
    return { token, expiresAt, roles }
  }

  /** Gives a person a badge and a PIN (scrypt, like a password); a new badge replaces the old one and clears its lockout. */
  async setBadge(personId: string, badgeId: string, pin: string, now: Date): Promise<'set' | 'badge_taken'> {
    const hash = await hashPassword(pin)
    const holder = this.#s.prepare('SELECT person_id FROM badges WHERE badge_id = ?').get(badgeId) as { person_id: string } | undefined
    if (holder && holder.person_id !== personId) return 'badge_taken'
    this.#s
      .prepare(
        `INSERT INTO badges (person_id, badge_id, pin_hash, failed_attempts, locked_until, updated_at) VALUES (?, ?, ?, 0, NULL, ?)
         ON CONFLICT (person_id) DO UPDATE SET badge_id = excluded.badge_id, pin_hash = excluded.pin_hash, failed_attempts = 0, locked_until = NULL, updated_at = excluded.updated_at`,
      )
      .run(personId, badgeId, hash, now.toISOString())
    return 'set'
  }

  /** Takes a person's badge away; sessions already open with it last until logout or expiry. */
  removeBadge(personId: string): boolean {
    return this.#s.prepare('DELETE FROM badges WHERE person_id = ?').run(personId).changes > 0
  }

  /**
   * Logs in with a badge and a PIN. The attempt is counted before the PIN is checked, so that guesses
   * sent in parallel cannot all slip in under the limit while scrypt runs; a right PIN clears the count.
   */
  async badgeLogin(badgeId: string, pin: string, now: Date): Promise<BadgeLogin> {
    const badge = this.#badge.get(badgeId) as BadgeRow | undefined
    if (!badge) {
      await verifyPassword(pin, dummyHash)
      return { ok: false, locked: false }
    }
    const t = now.getTime()
    if (badge.locked_until !== null && Date.parse(badge.locked_until) > t) return { ok: false, locked: true, until: badge.locked_until }
    // A lockout that ran out starts the count afresh.
    const failures = (badge.locked_until === null ? badge.failed_attempts : 0) + 1
    const lockedUntil = failures >= this.#badgePolicy.maxFailures ? new Date(t + this.#badgePolicy.lockoutMs).toISOString() : null
    this.#countFailure.run(failures, lockedUntil, badgeId)
    const ok = await verifyPassword(pin, badge.pin_hash)
    const row = this.#person.get(badge.person_id) as Record<string, unknown> | undefined
    const person = row && personFromRow(row)
    if (!ok || !person || !person.active || person.roles.some((r) => badgeForbiddenRoles.includes(r))) {
      return lockedUntil ? { ok: false, locked: true, until: lockedUntil } : { ok: false, locked: false }
    }
    this.#countFailure.run(0, null, badgeId)
    return { ok: true, session: this.#openSession(person.id, person.roles, now) }
  }

  /** Drops remembered principals: a person's roles or active flag changed. */
  forgetRecent(): void {
    this.#recent.clear()
  }

  logout(bearer: string): void {
    this.#recent.delete(bearer)
    this.#s.prepare('DELETE FROM sessions WHERE token_hash = ?').run(hashToken(bearer))
  }
}

export function authenticate(accounts: Accounts, now: () => Date): MiddlewareHandler<AuthEnv> {
  return async function authenticateRequest(c, next) {
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (!match) throw new ProblemError(401, 'unauthenticated', 'This request needs a bearer token: log in, or use an API token.')
    const principal = accounts.principalFor(match[1]!, now())
    if (!principal) throw new ProblemError(401, 'unauthenticated', 'The bearer token is unknown, revoked or expired.')
    c.set('principal', principal)
    await next()
  }
}

/** Refuses with 403 unless the principal holds one of the roles (admin holds them all). */
export function guard(c: Context<AuthEnv>, allowed: readonly Role[]): Principal {
  const principal = c.get('principal')
  if (principal.roles.includes('admin') || principal.roles.some((r) => allowed.includes(r))) return principal
  throw new ProblemError(403, 'forbidden', `This action needs one of the roles ${allowed.join(', ')}; you hold ${principal.roles.join(', ') || 'none'}.`)
}
