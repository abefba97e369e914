// Opening the gateway's SQLite database: durable pragmas, then the committed drizzle migrations.
import Database from 'better-sqlite3'
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import { betterSqlite, migrator } from './drizzle.ts'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as schema from './schema.ts'
import { holdsData, newerSchemaMessage, preMigrationBackup, schemaState } from './schema-state.ts'

export type Sqlite = Database.Database
export type Drizzle = BetterSQLite3Database<typeof schema>

export interface OpenDatabase {
  sqlite: Sqlite
  orm: Drizzle
  close(): void
  /** The backup written before this open migrated a database that held data, else null. */
  preMigrationBackup: string | null
}

/** A database with migrations this build does not know: refused, never opened for writing. */
export class NewerSchemaError extends Error {}

export const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), 'migrations')

/** Opens (and creates) the MES database at `file`, in WAL mode with synchronous=FULL (a store may relax it: docs/storage.md), migrated to the latest schema. */
export function openDatabase(file: string): OpenDatabase {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
  const sqlite = new Database(file)
  sqlite.pragma('journal_mode = WAL')
  // Every acknowledged as-built write must survive a power cut.
  sqlite.pragma('synchronous = FULL')
  sqlite.pragma('foreign_keys = ON')
  // Each command of a group commit runs in a savepoint; keep its statement journal in memory, not a temp file.
  sqlite.pragma('temp_store = MEMORY')
  sqlite.pragma('busy_timeout = 5000')
  const orm = betterSqlite.drizzle(sqlite, { schema })
  let backup: string | null = null
  try {
    // Forward only: a database from a newer Takt is not touched; one with data is copied before it is migrated.
    const state = schemaState(sqlite, migrationsFolder)
    if (state.newer) throw new NewerSchemaError(newerSchemaMessage(file, state))
    if (file !== ':memory:' && state.applied > 0 && state.pending.length > 0 && holdsData(sqlite)) backup = preMigrationBackup(sqlite, file, new Date())
    migrator.migrate(orm, { migrationsFolder })
  } catch (error) {
    sqlite.close()
    if (error instanceof NewerSchemaError) throw error
    throw new Error(`could not migrate the database ${file}: ${(error as Error).message}`, { cause: error })
  }
  return { sqlite, orm, close: () => sqlite.close(), preMigrationBackup: backup }
}
