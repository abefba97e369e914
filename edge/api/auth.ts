// Authentication (bearer API tokens, password and badge + PIN login sessions, lockouts, signing re-authentication, terminals) and role checks. Deny unless a rule allows.
import type { Context, MiddlewareHandler } from 'hono'
import { accept } from '../core/decision.ts'
import { event } from '../core/events.ts'
import type { Role } from '../core/model.ts'
import type { SignedAction, Signer } from '../core/signatures.ts'
import type { Sqlite } from '../store/database.ts'
import { personFromRow } from '../store/line-view.ts'
import { Terminals } from '../store/terminals.ts'
import { defaultPasswordPolicy, hashPassword, hashToken, newToken, passwordExpired, verifyPassword, type PasswordPolicy } from './passwords.ts'
import { ProblemError } from './problem.ts'
import type { ApiDeps } from './context.ts'

export interface Principal {
  kind: 'person' | 'token'
  id: string
  name: string
  roles: Role[]
  /** The registered terminal the request came from, proven by its secret (X-Takt-Terminal and X-Takt-Terminal-Key; 21 CFR 11.10(h)). */
  terminal?: string
}

export type AuthEnv = { Variables: { principal: Principal } }

export interface Session {
  token: string
  expiresAt: string
  /** Minutes without a request after which the session ends (21 CFR 11.10(d)). */
  idleMinutes: number
  roles: Role[]
}

export interface BadgePolicy {
  /** Wrong PINs in a row that lock a badge. */
  maxFailures: number
  /** How long a locked badge stays locked. */
  lockoutMs: number
}

/** A lockout that a failed attempt has just started: what the audit trail and the alert say about it (21 CFR 11.300(d)). */
export interface Lockout {
  personId: string
  credential: 'password' | 'pin'
  failures: number
  lockedUntil: string
}

export type BadgeLogin = { ok: true; session: Session } | { ok: false; locked: false } | { ok: false; locked: true; until: string; lockout: Lockout | null }

/** Electronic signatures: the zone local signing times are given in, and which actions need a second person. */
export interface SignaturePolicy {
  timeZone: string
  /** Actions refused without an electronic signature. */
  required: SignedAction[]
  /** Actions whose performer may not sign them: a second person must (two-person rule). */
  twoPerson: SignedAction[]
}

export interface AccountOptions {
  badge?: Partial<BadgePolicy>
  password?: Partial<PasswordPolicy>
  /** Wrong passwords in a row (at login or signing) that lock the account, and for how long (21 CFR 11.300(d)). */
  lockout?: Partial<BadgePolicy>
  signatures?: Partial<SignaturePolicy>
  /** A session ends after this long without a request (21 CFR 11.10(d)). */
  sessionIdleMs?: number
}

/** The account options from the gateway configuration's `accounts` and `signatures` keys. */
export function accountOptions(config: {
  accounts: { passwordMinLength: number; passwordHistory: number; passwordMaxAgeDays: number | null; changeAdminSetPasswords: boolean; maxFailedLogins: number; lockoutMinutes: number; sessionIdleMinutes?: number }
  signatures: { required: SignedAction[]; twoPerson: SignedAction[]; timeZone?: string | undefined }
}): AccountOptions {
  const a = config.accounts
  const s = config.signatures
  return {
    password: { minLength: a.passwordMinLength, history: a.passwordHistory, maxAgeDays: a.passwordMaxAgeDays, changeAfterReset: a.changeAdminSetPasswords },
    lockout: { maxFailures: a.maxFailedLogins, lockoutMs: a.lockoutMinutes * 60_000 },
    signatures: { required: s.required, twoPerson: s.twoPerson, ...(s.timeZone ? { timeZone: s.timeZone } : {}) },
    ...(a.sessionIdleMinutes !== undefined ? { sessionIdleMs: a.sessionIdleMinutes * 60_000 } : {}),
  }
}

export type PasswordLogin =
  | { ok: true; session: Session }
  | { ok: false; why: 'failed' }
  | { ok: false; why: 'locked'; until: string; lockout: Lockout | null }
  /** The password must be replaced: it is too old, or an administrator set it. */
  | { ok: false; why: 'expired'; cause: 'age' | 'reset' }
  | { ok: false; why: 'refused'; code: string; message: string }

export type PasswordSet = { ok: true } | { ok: false; code: 'password_too_short' | 'password_reused'; message: string }

/** What a signer re-enters: user id and password (or badge and PIN) at a session's first signing, the secret alone later. */
export interface SigningCredentials {
  username?: string | undefined
  password?: string | undefined
  badgeId?: string | undefined
  pin?: string | undefined
}

export type Signing = { ok: true; signer: Signer } | { ok: false; status: 401 | 403 | 422 | 429; code: string; message: string; lockout?: Lockout | null }

/** Who a bearer token belongs to, or why it does not count (any more). */
export type BearerCheck = { ok: true; principal: Principal } | { ok: false; code: 'unauthenticated' | 'session_expired'; message: string }

/** What a terminal's id and secret are worth (21 CFR 11.10(h)). */
export type TerminalCheck = 'ok' | 'unknown' | 'retired' | 'no_secret' | 'wrong_secret'

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

interface CredentialRow {
  password_hash: string
  updated_at: string
  failed_attempts: number
  locked_until: string | null
  change_required: number
}

/** `fresh`: this attempt is the one that locked it. */
type SecretCheck = { result: 'ok' } | { result: 'wrong' } | { result: 'locked'; until: string; fresh: boolean; failures: number }

/** The actor written into the event log for a principal; the terminal rides along in the same text, so old events keep their form. */
export const actorOf = (p: Principal) => `${p.kind}:${p.id}${p.terminal === undefined ? '' : `;terminal=${p.terminal}`}`

/** The bearer token of a request, as sent. */
export const bearerOf = (c: Context) => (c.req.header('authorization') ?? '').replace(/^Bearer\s+/i, '')

/**
 * Counts an attempt before the secret is checked, so that guesses sent in parallel cannot all slip
 * in under the limit while scrypt runs; a right secret clears the count.
 */
async function checkCounted(row: { failed_attempts: number; locked_until: string | null }, secret: string, hash: string, now: Date, policy: BadgePolicy, count: (failures: number, lockedUntil: string | null) => void): Promise<SecretCheck> {
  const t = now.getTime()
  if (row.locked_until !== null && Date.parse(row.locked_until) > t) return { result: 'locked', until: row.locked_until, fresh: false, failures: row.failed_attempts }
  // A lockout that ran out starts the count afresh.
  const failures = (row.locked_until === null ? row.failed_attempts : 0) + 1
  const lockedUntil = failures >= policy.maxFailures ? new Date(t + policy.lockoutMs).toISOString() : null
  count(failures, lockedUntil)
  if (!(await verifyPassword(secret, hash))) return lockedUntil ? { result: 'locked', until: lockedUntil, fresh: true, failures } : { result: 'wrong' }
  count(0, null)
  return { result: 'ok' }
}

/** The lockout a check started, if this attempt started one. */
const lockoutOf = (check: SecretCheck, personId: string, credential: 'password' | 'pin'): Lockout | null =>
  check.result === 'locked' && check.fresh ? { personId, credential, failures: check.failures, lockedUntil: check.until } : null

export class Accounts {
  readonly #s: Sqlite
  readonly #sessionTtlMs: number
  readonly sessionIdleMs: number
  /** When each session's last-seen time was last written: a terminal's every scan need not be a disk write. */
  readonly #touched = new Map<string, number>()
  readonly #touchEveryMs: number
  readonly #byToken
  readonly #bySession
  readonly #touchSession
  readonly #person
  readonly #recent = new Map<string, { principal: Principal; until: number }>()
  readonly #badgePolicy: BadgePolicy
  readonly #lockout: BadgePolicy
  readonly passwordPolicy: PasswordPolicy
  readonly signaturePolicy: SignaturePolicy
  readonly #badge
  readonly #countFailure
  readonly #credential
  readonly #countPasswordFailure
  readonly terminals: Terminals

  constructor(sqlite: Sqlite, sessionTtlMs = 8 * 3600_000, options: AccountOptions = {}) {
    this.#s = sqlite
    this.#sessionTtlMs = sessionTtlMs
    this.sessionIdleMs = options.sessionIdleMs ?? 15 * 60_000
    this.#touchEveryMs = Math.min(15_000, Math.max(1000, Math.floor(this.sessionIdleMs / 20)))
    this.#badgePolicy = { ...defaultBadgePolicy, ...options.badge }
    this.#lockout = { ...defaultBadgePolicy, ...options.lockout }
    this.passwordPolicy = { ...defaultPasswordPolicy, ...options.password }
    this.signaturePolicy = { timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, required: [], twoPerson: [], ...options.signatures }
    sqlite.exec(badgesDdl)
    this.#credential = sqlite.prepare('SELECT password_hash, updated_at, failed_attempts, locked_until, change_required FROM credentials WHERE person_id = ?')
    this.#countPasswordFailure = sqlite.prepare('UPDATE credentials SET failed_attempts = ?, locked_until = ? WHERE person_id = ?')
    this.terminals = new Terminals(sqlite)
    this.#badge = sqlite.prepare('SELECT person_id, pin_hash, failed_attempts, locked_until FROM badges WHERE badge_id = ?')
    this.#countFailure = sqlite.prepare('UPDATE badges SET failed_attempts = ?, locked_until = ? WHERE badge_id = ?')
    this.#byToken = sqlite.prepare('SELECT id, name, role FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL')
    this.#bySession = sqlite.prepare('SELECT person_id, expires_at, last_seen_at FROM sessions WHERE token_hash = ?')
    this.#touchSession = sqlite.prepare('UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?')
    this.#person = sqlite.prepare('SELECT * FROM people WHERE id = ?')
  }

  /** The principal of a bearer token, without counting the look-up as activity (the live stream's heartbeat asks this). */
  principalFor(bearer: string, now: Date): Principal | undefined {
    const check = this.check(bearer, now)
    return check.ok ? check.principal : undefined
  }

  /** Who a bearer token belongs to, or why it does not: unknown, or a session that expired or sat idle too long. */
  check(bearer: string, now: Date): BearerCheck {
    // A terminal sends the same token with every scan: remember the answer for a moment.
    const cached = this.#recent.get(bearer)
    if (cached && cached.until > now.getTime()) return { ok: true, principal: cached.principal }
    const check = this.#lookup(bearer, now)
    if (this.#recent.size >= 1000) this.#recent.clear()
    if (check.ok) this.#recent.set(bearer, { principal: check.principal, until: now.getTime() + 2000 })
    else this.#recent.delete(bearer)
    return check
  }

  /**
   * Counts a request as activity on its session (21 CFR 11.10(d)). Written at most every few seconds
   * per session, so the idle time is kept to within that much.
   */
  touch(bearer: string, principal: Principal, now: Date): void {
    if (principal.kind !== 'person') return
    const hash = hashToken(bearer)
    const last = this.#touched.get(hash)
    if (last !== undefined && now.getTime() - last < this.#touchEveryMs) return
    if (this.#touched.size >= 10_000) this.#touched.clear()
    this.#touched.set(hash, now.getTime())
    this.#touchSession.run(now.toISOString(), hash)
  }

  #lookup(bearer: string, now: Date): BearerCheck {
    const unknown: BearerCheck = { ok: false, code: 'unauthenticated', message: 'The bearer token is unknown, revoked or expired.' }
    const hash = hashToken(bearer)
    const token = this.#byToken.get(hash) as { id: string; name: string; role: Role } | undefined
    if (token) return { ok: true, principal: { kind: 'token', id: token.id, name: token.name, roles: [token.role] } }
    const session = this.#bySession.get(hash) as { person_id: string; expires_at: string; last_seen_at: string | null } | undefined
    if (!session) return unknown
    const t = now.getTime()
    // The row stays, so that every later request with the token hears the same reason; a refused request is no activity, so it stays ended.
    const ended = (message: string): BearerCheck => ({ ok: false, code: 'session_expired', message })
    if (Date.parse(session.expires_at) <= t) return ended(`The session expired at ${session.expires_at} (sessions last ${Math.round(this.#sessionTtlMs / 60_000)} min); log in again.`)
    if (session.last_seen_at !== null && t - Date.parse(session.last_seen_at) > this.sessionIdleMs) {
      return ended(`The session ended after ${Math.round(this.sessionIdleMs / 60_000)} min without activity; log in again.`)
    }
    const row = this.#person.get(session.person_id) as Record<string, unknown> | undefined
    if (!row) return unknown
    const person = personFromRow(row)
    if (!person.active) return unknown
    return { ok: true, principal: { kind: 'person', id: person.id, name: person.name, roles: person.roles } }
  }

  /** Checks a terminal's id against its secret (21 CFR 11.10(h)): the terminal proves it is the one it names. */
  checkTerminal(id: string, secret: string | undefined): TerminalCheck {
    return this.terminals.check(id, secret === undefined ? null : hashToken(secret))
  }

  /**
   * Registers a terminal or changes it. A secret is issued (and returned, this once) when the terminal
   * is new, has none yet, or `rotate` asks for a new one; only its hash is kept.
   */
  registerTerminal(t: { id: string; name: string; location: string; active: boolean }, by: string, now: Date, rotate: boolean): { terminal: ReturnType<Terminals['register']>; secret: string | null } {
    const issue = rotate || !this.terminals.hasSecret(t.id)
    const secret = issue ? newToken('taktt') : null
    const terminal = this.terminals.register(t, by, now, secret === null ? null : hashToken(secret))
    return { terminal, secret }
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

  /**
   * Sets a password under the rules (21 CFR 11.300(b)): long enough, none of the last few again. A
   * new password starts a new age and clears a lockout. One set by an administrator (`by`) may have
   * to be replaced by its owner at the next login.
   */
  async setPassword(personId: string, password: string, now: Date, by: 'admin' | 'owner' = 'admin'): Promise<PasswordSet> {
    const policy = this.passwordPolicy
    if (password.length < policy.minLength) return { ok: false, code: 'password_too_short', message: `A password needs at least ${policy.minLength} characters.` }
    const recent = this.#s.prepare('SELECT password_hash FROM password_history WHERE person_id = ? ORDER BY id DESC LIMIT ?').all(personId, policy.history) as { password_hash: string }[]
    for (const r of recent) {
      if (await verifyPassword(password, r.password_hash)) return { ok: false, code: 'password_reused', message: `The password may not be one of the last ${policy.history} used; choose another.` }
    }
    const hash = await hashPassword(password)
    const at = now.toISOString()
    const changeRequired = by === 'admin' && policy.changeAfterReset ? 1 : 0
    this.#s.transaction(() => {
      this.#s
        .prepare(
          `INSERT INTO credentials (person_id, password_hash, updated_at, failed_attempts, locked_until, change_required) VALUES (?, ?, ?, 0, NULL, ?)
           ON CONFLICT (person_id) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at, failed_attempts = 0, locked_until = NULL, change_required = excluded.change_required`,
        )
        .run(personId, hash, at, changeRequired)
      this.#s.prepare('INSERT INTO password_history (person_id, password_hash, set_at) VALUES (?, ?, ?)').run(personId, hash, at)
    })()
    return { ok: true }
  }

  /** Checks a person's password, counting a wrong one toward the lockout (login and signing alike). */
  async #checkPassword(personId: string, password: string, now: Date): Promise<SecretCheck & { cred?: CredentialRow }> {
    const cred = this.#credential.get(personId) as CredentialRow | undefined
    if (!cred) {
      await verifyPassword(password, dummyHash)
      return { result: 'wrong' }
    }
    const check = await checkCounted(cred, password, cred.password_hash, now, this.#lockout, (n, until) => this.#countPasswordFailure.run(n, until, personId))
    return { ...check, cred }
  }

  /** Logs in with a password; an expired one must be replaced in the same request (`newPassword`). */
  async login(personId: string, password: string, now: Date, newPassword?: string): Promise<PasswordLogin> {
    const check = await this.#checkPassword(personId, password, now)
    if (check.result === 'locked') return { ok: false, why: 'locked', until: check.until, lockout: lockoutOf(check, personId, 'password') }
    const row = this.#person.get(personId) as Record<string, unknown> | undefined
    if (check.result !== 'ok' || !row) return { ok: false, why: 'failed' }
    const person = personFromRow(row)
    if (!person.active) return { ok: false, why: 'failed' }
    if (newPassword !== undefined) {
      const set = await this.setPassword(personId, newPassword, now, 'owner')
      if (!set.ok) return { ok: false, why: 'refused', code: set.code, message: set.message }
    } else if (check.cred!.change_required === 1) return { ok: false, why: 'expired', cause: 'reset' }
    else if (passwordExpired(check.cred!.updated_at, now, this.passwordPolicy)) return { ok: false, why: 'expired', cause: 'age' }
    return { ok: true, session: this.#openSession(personId, person.roles, now, 'password') }
  }

  #openSession(personId: string, roles: Role[], now: Date, method: 'password' | 'badge'): Session {
    const token = newToken('takts')
    const expiresAt = new Date(now.getTime() + this.#sessionTtlMs).toISOString()
    this.#s.prepare('INSERT INTO sessions (token_hash, person_id, expires_at, method, last_seen_at) VALUES (?, ?, ?, ?, ?)').run(hashToken(token), personId, expiresAt, method, now.toISOString())
    return { token, expiresAt, idleMinutes: this.sessionIdleMs / 60_000, roles }
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
    const check = await checkCounted(badge, pin, badge.pin_hash, now, this.#badgePolicy, (n, until) => this.#countFailure.run(n, until, badgeId))
    if (check.result === 'locked') return { ok: false, locked: true, until: check.until, lockout: lockoutOf(check, badge.person_id, 'pin') }
    const row = this.#person.get(badge.person_id) as Record<string, unknown> | undefined
    const person = row && personFromRow(row)
    if (check.result !== 'ok' || !person || !person.active || person.roles.some((r) => badgeForbiddenRoles.includes(r))) return { ok: false, locked: false }
    return { ok: true, session: this.#openSession(person.id, person.roles, now, 'badge') }
  }

  /**
   * Re-authenticates the person of a session for an electronic signature (21 CFR 11.200(a)(1)): both
   * components at the session's first signing, the secret alone at later ones. Wrong secrets count
   * toward the same lockout as logins.
   */
  async sign(bearer: string, principal: Principal, creds: SigningCredentials, now: Date): Promise<Signing> {
    const refused = (status: 401 | 403 | 422 | 429, code: string, message: string): Extract<Signing, { ok: false }> => ({ ok: false, status, code, message })
    if (principal.kind !== 'person') return refused(403, 'signature_needs_person', 'An electronic signature belongs to one person: log in as yourself; an API token cannot sign.')
    const tokenHash = hashToken(bearer)
    const session = this.#s.prepare('SELECT person_id, method, first_signed_at FROM sessions WHERE token_hash = ?').get(tokenHash) as { person_id: string; method: string; first_signed_at: string | null } | undefined
    if (!session || session.person_id !== principal.id) return refused(401, 'unauthenticated', 'The session is unknown or expired; log in again.')
    const row = this.#person.get(principal.id) as Record<string, unknown> | undefined
    const person = row && personFromRow(row)
    if (!person || !person.active) return refused(403, 'account_inactive', 'This account is deactivated: it cannot sign.')
    const first = session.first_signed_at === null
    const method = session.method === 'badge' ? 'badge' : 'password'
    let check: SecretCheck
    if (method === 'badge') {
      if (creds.pin === undefined) return refused(422, 'signature_incomplete', 'Sign with your PIN (signature.pin).')
      if (first && creds.badgeId === undefined) return refused(422, 'signature_incomplete', 'The first signature of a session needs both your badge and your PIN (signature.badgeId, signature.pin).')
      const badge = (creds.badgeId !== undefined ? this.#badge.get(creds.badgeId) : this.#s.prepare('SELECT person_id, pin_hash, failed_attempts, locked_until FROM badges WHERE person_id = ?').get(principal.id)) as BadgeRow | undefined
      if (!badge || badge.person_id !== principal.id) return refused(401, 'signature_failed', 'The badge is not the one of the person logged in on this session.')
      const badgeId = (this.#s.prepare('SELECT badge_id FROM badges WHERE person_id = ?').pluck().get(principal.id) as string | undefined) ?? ''
      check = await checkCounted(badge, creds.pin, badge.pin_hash, now, this.#badgePolicy, (n, until) => this.#countFailure.run(n, until, badgeId))
    } else {
      if (creds.password === undefined) return refused(422, 'signature_incomplete', 'Sign with your password (signature.password).')
      if (first && creds.username === undefined) return refused(422, 'signature_incomplete', 'The first signature of a session needs both your user id and your password (signature.username, signature.password).')
      if (creds.username !== undefined && creds.username !== principal.id) return refused(401, 'signature_failed', 'The user id is not the one logged in on this session: each person signs in their own session.')
      const checked = await this.#checkPassword(principal.id, creds.password, now)
      if (checked.result === 'ok' && (checked.cred!.change_required === 1 || passwordExpired(checked.cred!.updated_at, now, this.passwordPolicy))) {
        return refused(403, 'password_change_required', 'Your password has expired or was set by an administrator: change it before signing.')
      }
      check = checked
    }
    if (check.result === 'locked') {
      return { ...refused(429, 'account_locked', `Too many wrong ${method === 'badge' ? 'PINs' : 'passwords'}: the account is locked until ${check.until}; an administrator can unlock it by setting a new ${method === 'badge' ? 'badge PIN' : 'password'}.`), lockout: lockoutOf(check, principal.id, method === 'badge' ? 'pin' : 'password') }
    }
    if (check.result === 'wrong') return refused(401, 'signature_failed', `The ${method === 'badge' ? 'PIN' : 'password'} is wrong; nothing was signed.`)
    if (first) this.#s.prepare('UPDATE sessions SET first_signed_at = ? WHERE token_hash = ?').run(now.toISOString(), tokenHash)
    const both = first || creds.username !== undefined || creds.badgeId !== undefined
    return { ok: true, signer: { id: person.id, name: person.name, method, components: both ? 'both' : 'secret' } }
  }

  /** Ends every session of a person: they were deactivated (21 CFR 11.300), their records stay. */
  endSessionsOf(personId: string): number {
    this.#recent.clear()
    return this.#s.prepare('DELETE FROM sessions WHERE person_id = ?').run(personId).changes
  }

  /** Drops remembered principals: a person's roles or active flag changed. */
  forgetRecent(): void {
    this.#recent.clear()
  }

  logout(bearer: string): void {
    this.#recent.delete(bearer)
    this.#touched.delete(hashToken(bearer))
    this.#s.prepare('DELETE FROM sessions WHERE token_hash = ?').run(hashToken(bearer))
  }
}

export function authenticate(accounts: Accounts, now: () => Date): MiddlewareHandler<AuthEnv> {
  return async function authenticateRequest(c, next) {
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    if (!match) throw new ProblemError(401, 'unauthenticated', 'This request needs a bearer token: log in, or use an API token.')
    const at = now()
    const check = accounts.check(match[1]!, at)
    if (!check.ok) throw new ProblemError(401, check.code, check.message)
    const terminal = terminalOf(c, accounts)
    accounts.touch(match[1]!, check.principal, at)
    c.set('principal', terminal === undefined ? check.principal : { ...check.principal, terminal })
    await next()
  }
}

/**
 * The terminal a request comes from, proven by its secret (21 CFR 11.10(h)): a terminal id without
 * its valid secret is refused, so that no record names a device that did not prove itself. A request
 * naming no terminal has none.
 */
export function terminalOf(c: Context, accounts: Accounts): string | undefined {
  const id = c.req.header('x-takt-terminal')
  if (id === undefined) return undefined
  const check = accounts.checkTerminal(id, c.req.header('x-takt-terminal-key'))
  if (check === 'ok') return id
  if (check === 'unknown' || check === 'retired') throw new ProblemError(403, 'terminal_unknown', `Terminal '${id}' is not registered or was retired; an administrator registers it at PUT /api/v1/terminals/{id}.`)
  const why = check === 'no_secret' ? 'has no secret issued yet: an administrator issues one (PUT /api/v1/terminals/{id} with rotateSecret)' : 'did not send its valid secret (X-Takt-Terminal-Key): enrol this terminal again'
  throw new ProblemError(403, 'terminal_unverified', `Terminal '${id}' ${why}; nothing was done.`)
}

/**
 * Appends the AccountLocked event of a lockout an attempt just started (21 CFR 11.300(d), IEC
 * 62443-3-3 SR 1.11): whose account, which secret, where from, until when; never the secret tried.
 * The actor is the session's person at a signing, `anonymous` at a login (nobody proved who they
 * are). Returns the event's seq; the lockout holds whether or not it could be written.
 */
export async function recordLockout(deps: Pick<ApiDeps, 'store'>, lockout: Lockout, via: 'login' | 'badge' | 'signing', terminal: string | undefined, principal?: Principal): Promise<number | null> {
  const actor = principal ? actorOf(principal) : `anonymous${terminal === undefined ? '' : `;terminal=${terminal}`}`
  const data = { personId: lockout.personId, credential: lockout.credential, via, failures: lockout.failures, lockedUntil: lockout.lockedUntil, terminal: terminal ?? null }
  try {
    const locked = event('AccountLocked', `person/${lockout.personId}`, data)
    const executed = await deps.store.submit(actor, () => accept([locked], null))
    return executed.recorded.at(-1)?.seq ?? null
  } catch {
    // The account stays locked either way: a record that cannot be written must not reopen it.
    return null
  }
}

/** Refuses with 403 unless the principal holds one of the roles (admin holds them all). */
export function guard(c: Context<AuthEnv>, allowed: readonly Role[]): Principal {
  const principal = c.get('principal')
  if (principal.roles.includes('admin') || principal.roles.some((r) => allowed.includes(r))) return principal
  throw new ProblemError(403, 'forbidden', `This action needs one of the roles ${allowed.join(', ')}; you hold ${principal.roles.join(', ') || 'none'}.`)
}
