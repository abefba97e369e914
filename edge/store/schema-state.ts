// Where a database stands against this build's migrations: forward only, a backup before migrating, a newer database refused.
import Database from 'better-sqlite3'
import { mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

interface JournalEntry {
  when: number
  tag: string
}

export interface SchemaState {
  /** Migrations this build knows. */
  known: number
  /** Migrations the database records as applied. */
  applied: number
  /** Tags of the known migrations the database has not had yet. */
  pending: string[]
  /** The database has migrations this build does not know: a newer Takt wrote it. */
  newer: boolean
  /** When the last applied migration was made (drizzle's folder timestamp), or null. */
  lastApplied: number | null
  /** The last migration this build knows. */
  lastKnown: string
}

const journals = new Map<string, JournalEntry[]>()

function journalOf(migrationsFolder: string): JournalEntry[] {
  let entries = journals.get(migrationsFolder)
  if (!entries) {
    entries = (JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: JournalEntry[] }).entries
    journals.set(migrationsFolder, entries)
  }
  return entries
}

/** Reads drizzle's migrations table (absent on a new database) against the committed journal. */
export function schemaState(sqlite: Database.Database, migrationsFolder: string): SchemaState {
  const journal = journalOf(migrationsFolder)
  const lastKnown = journal.at(-1)!
  const table = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get()
  const applied = table ? (sqlite.prepare('SELECT created_at FROM __drizzle_migrations').pluck().all() as Array<number | string>).map(Number) : []
  const lastApplied = applied.length > 0 ? Math.max(...applied) : null
  // drizzle applies every journal entry made after the last one applied: those are the pending ones.
  const pending = journal.filter((e) => lastApplied === null || e.when > lastApplied).map((e) => e.tag)
  const newer = (lastApplied !== null && lastApplied > lastKnown.when) || applied.length > journal.length
  return { known: journal.length, applied: applied.length, pending, newer, lastApplied, lastKnown: lastKnown.tag }
}

export function newerSchemaMessage(file: string, state: SchemaState): string {
  const when = state.lastApplied === null ? 'unknown' : new Date(state.lastApplied).toISOString()
  return `the database ${file} was written by a newer Takt: it has ${state.applied} migrations applied (the last made ${when}), this build knows ${state.known} (up to ${state.lastKnown}); run that newer Takt, or restore a backup made by this version – the database was left as it is`
}

/** True when the database holds recorded events: a database worth a backup before it is changed. */
export function holdsData(sqlite: Database.Database): boolean {
  const table = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get()
  return table !== undefined && sqlite.prepare('SELECT EXISTS (SELECT 1 FROM events)').pluck().get() === 1
}

/**
 * A consistent copy of the database before its migrations run, in `backups/` beside it. VACUUM INTO
 * is synchronous and reads one snapshot, which is what a start (no writer yet) needs; the copy is
 * checked before the migration may go on.
 */
export function preMigrationBackup(sqlite: Database.Database, file: string, now: Date): string {
  const dir = join(dirname(file), 'backups')
  mkdirSync(dir, { recursive: true })
  const target = join(dir, `pre-migration-${now.toISOString().replace(/[:.]/g, '-')}.db`)
  sqlite.prepare('VACUUM INTO ?').run(target)
  const copy = new Database(target, { readonly: true, fileMustExist: true })
  try {
    const result = copy.prepare('PRAGMA integrity_check').pluck().all() as string[]
    if (result.length !== 1 || result[0] !== 'ok') throw new Error(`the pre-migration backup ${target} failed its integrity check: ${result.slice(0, 3).join('; ')}`)
  } finally {
    copy.close()
  }
  return target
}
