// Opening the central database: PostgreSQL through `pg` when a URL is given, else PGlite in the data directory; the same migrations for both.
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import * as schema from './schema.ts'

export type CloudOrm = PgDatabase<PgQueryResultHKT, typeof schema>

export interface CloudDatabase {
  orm: CloudOrm
  /** 'postgres' for a server reached by URL, 'pglite' for the embedded default. */
  kind: 'postgres' | 'pglite'
  close(): Promise<void>
}

const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), 'migrations')

export interface OpenOptions {
  /** A postgres:// URL; without one, PGlite keeps the database under dataDir. */
  databaseUrl?: string | null
  dataDir: string
}

export async function openCloudDatabase(options: OpenOptions): Promise<CloudDatabase> {
  const db = options.databaseUrl ? await openPostgres(options.databaseUrl) : await openPglite(join(options.dataDir, 'pglite'))
  try {
    await migrate(db)
  } catch (error) {
    await db.close()
    throw new Error(`could not migrate the central database (${db.kind}): ${(error as Error).message}`, { cause: error })
  }
  return db
}

async function openPostgres(url: string): Promise<CloudDatabase> {
  const { default: pg } = await import('pg')
  const { drizzle } = await import('drizzle-orm/node-postgres')
  const pool = new pg.Pool({ connectionString: url, max: 8 })
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => {})
  try {
    const client = await pool.connect()
    client.release()
  } catch (error) {
    await pool.end()
    throw new Error(`cannot reach the PostgreSQL server of DATABASE_URL (${redactUrl(url)}): ${(error as Error).message}`, { cause: error })
  }
  return { orm: drizzle(pool, { schema }) as unknown as CloudOrm, kind: 'postgres', close: () => pool.end() }
}

async function openPglite(dir: string): Promise<CloudDatabase> {
  const { PGlite } = await import('@electric-sql/pglite')
  const { drizzle } = await import('drizzle-orm/pglite')
  mkdirSync(dirname(dir), { recursive: true })
  const client = await PGlite.create(dir)
  return { orm: drizzle(client, { schema }) as unknown as CloudOrm, kind: 'pglite', close: () => client.close() }
}

async function migrate(db: CloudDatabase): Promise<void> {
  if (db.kind === 'postgres') {
    const { migrate: run } = await import('drizzle-orm/node-postgres/migrator')
    await run(db.orm as never, { migrationsFolder })
  } else {
    const { migrate: run } = await import('drizzle-orm/pglite/migrator')
    await run(db.orm as never, { migrationsFolder })
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(not a valid URL)'
  }
}
