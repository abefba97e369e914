// Authentication (bearer API tokens and login sessions) and role checks. Deny unless a rule allows.
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

/** The actor written into the event log for a principal. */
export const actorOf = (p: Principal) => `${p.kind}:${p.id}`

export class Accounts {
  readonly #s: Sqlite
  readonly #sessionTtlMs: number
  readonly #byToken
  readonly #bySession
  readonly #person
  readonly #recent = new Map<string, { principal: Principal; until: number }>()

  constructor(sqlite: Sqlite, sessionTtlMs = 8 * 3600_000) {
    this.#s = sqlite
    this.#sessionTtlMs = sessionTtlMs
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

  async login(personId: string, password: string, now: Date): Promise<{ token: string; expiresAt: string; roles: Role[] } | undefined> {
    const cred = this.#s.prepare('SELECT password_hash FROM credentials WHERE person_id = ?').get(personId) as { password_hash: string } | undefined
    const row = this.#person.get(personId) as Record<string, unknown> | undefined
    // Hash even when the account is unknown, so timing does not reveal which ids exist.
    const ok = await verifyPassword(password, cred?.password_hash ?? 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')
    if (!ok || !cred || !row) return undefined
    const person = personFromRow(row)
    if (!person.active) return undefined
    const token = newToken('takts')
    const expiresAt = new Date(now.getTime() + this.#sessionTtlMs).toISOString()
    this.#s.prepare('INSERT INTO sessions (token_hash, person_id, expires_at) VALUES (?, ?, ?)').run(hashToken(token), personId, expiresAt)
    return { token, expiresAt, roles: person.roles }
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
