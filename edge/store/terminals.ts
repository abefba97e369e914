// Registered terminals (21 CFR 11.10(h)): the devices allowed to name themselves on a request; security state, not projections.
import type { Sqlite } from './database.ts'

export interface Terminal {
  id: string
  name: string
  location: string
  active: boolean
  registeredAt: string
  registeredBy: string
}

export class Terminals {
  readonly #s: Sqlite
  readonly #active

  constructor(sqlite: Sqlite) {
    this.#s = sqlite
    this.#active = sqlite.prepare<[string], number>('SELECT active FROM terminals WHERE id = ?').pluck()
  }

  /** Whether a terminal is registered and not retired. */
  active(id: string): boolean {
    return this.#active.get(id) === 1
  }

  /** Registers a terminal, or changes its name, place or active flag; who registered it first stays. */
  register(t: Omit<Terminal, 'registeredAt' | 'registeredBy'>, by: string, now: Date): Terminal {
    this.#s
      .prepare(
        `INSERT INTO terminals (id, name, location, active, registered_at, registered_by) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, location = excluded.location, active = excluded.active`,
      )
      .run(t.id, t.name, t.location, t.active ? 1 : 0, now.toISOString(), by)
    return this.list().find((x) => x.id === t.id)!
  }

  list(): Terminal[] {
    const rows = this.#s.prepare('SELECT id, name, location, active, registered_at, registered_by FROM terminals ORDER BY id').all() as Record<string, string | number>[]
    return rows.map((r) => ({ id: String(r.id), name: String(r.name), location: String(r.location), active: r.active === 1, registeredAt: String(r.registered_at), registeredBy: String(r.registered_by) }))
  }
}
