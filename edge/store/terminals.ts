// Registered terminals (21 CFR 11.10(h)): the devices allowed to act, each proving itself with a secret issued once; security state, not projections.
import { timingSafeEqual } from 'node:crypto'
import type { Sqlite } from './database.ts'

export interface Terminal {
  id: string
  name: string
  location: string
  active: boolean
  registeredAt: string
  registeredBy: string
  /** Whether a secret was issued: a terminal without one cannot act until an administrator issues it. */
  secretIssued: boolean
}

export class Terminals {
  readonly #s: Sqlite
  readonly #row

  constructor(sqlite: Sqlite) {
    this.#s = sqlite
    this.#row = sqlite.prepare<[string], { active: number; secret_hash: string | null }>('SELECT active, secret_hash FROM terminals WHERE id = ?')
  }

  /** Whether a terminal is registered and not retired. */
  active(id: string): boolean {
    return this.#row.get(id)?.active === 1
  }

  hasSecret(id: string): boolean {
    const row = this.#row.get(id)
    return row !== undefined && row.secret_hash !== null
  }

  /** Checks a terminal against the SHA-256 of the secret it sent (null: it sent none). */
  check(id: string, secretHash: string | null): 'ok' | 'unknown' | 'retired' | 'no_secret' | 'wrong_secret' {
    const row = this.#row.get(id)
    if (!row) return 'unknown'
    if (row.active !== 1) return 'retired'
    if (row.secret_hash === null) return 'no_secret'
    if (secretHash === null) return 'wrong_secret'
    const a = Buffer.from(row.secret_hash, 'hex')
    const b = Buffer.from(secretHash, 'hex')
    return a.length === b.length && timingSafeEqual(a, b) ? 'ok' : 'wrong_secret'
  }

  /**
   * Registers a terminal, or changes its name, place or active flag; who registered it first stays.
   * `secretHash` replaces the terminal's secret when given (the old one stops working at once).
   */
  register(t: Omit<Terminal, 'registeredAt' | 'registeredBy' | 'secretIssued'>, by: string, now: Date, secretHash: string | null = null): Terminal {
    this.#s
      .prepare(
        `INSERT INTO terminals (id, name, location, active, registered_at, registered_by, secret_hash) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, location = excluded.location, active = excluded.active, secret_hash = coalesce(excluded.secret_hash, terminals.secret_hash)`,
      )
      .run(t.id, t.name, t.location, t.active ? 1 : 0, now.toISOString(), by, secretHash)
    return this.list().find((x) => x.id === t.id)!
  }

  list(): Terminal[] {
    const rows = this.#s.prepare('SELECT id, name, location, active, registered_at, registered_by, secret_hash FROM terminals ORDER BY id').all() as Record<string, string | number | null>[]
    return rows.map((r) => ({
      id: String(r.id),
      name: String(r.name),
      location: String(r.location),
      active: r.active === 1,
      registeredAt: String(r.registered_at),
      registeredBy: String(r.registered_by),
      secretIssued: r.secret_hash !== null,
    }))
  }
}
