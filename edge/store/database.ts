// Opening the gateway's SQLite database: durable pragmas, then the committed drizzle migrations.
import Database from 'better-sqlite3'
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3'
import { betterSqlite, migrator } from './drizzle.ts'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as schema from './schema.ts'

export type Sqlite = Database.Database
export type Drizzle = BetterSQLite3Database<typeof schema>

export interface OpenDatabase {
  sqlite: Sqlite
  orm: Drizzle
  close(): void
}

const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), 'migrations')

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
  try {
    migrator.migrate(orm, { migrationsFolder })
  } catch (error) {
    sqlite.close()
    throw new Error(`could not migrate the database ${file}: ${(error as Error).message}`, { cause: error })
  }
  return { sqlite, orm, close: () => sqlite.close() }
}
