// The two databases every cloud test runs on: a fresh database on the machine's PostgreSQL server, and PGlite in a fresh data directory.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { sql } from 'drizzle-orm'
import { openCloudDatabase, type CloudDatabase } from '../database.ts'

/** The machine's PostgreSQL (trust auth); CI reaches the same server. */
export const postgresUrl = process.env.TAKT_TEST_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test'

export interface TestDatabase {
  db: CloudDatabase
  /** For PGlite, its data directory; for PostgreSQL, an empty directory the test may use. */
  dataDir: string
  databaseUrl: string | null
  dispose(): Promise<void>
}

export interface Backend {
  name: 'postgres' | 'pglite'
  open(): Promise<TestDatabase>
}

let counter = 0

const postgres: Backend = {
  name: 'postgres',
  async open() {
    const name = `takt_cloud_test_${process.pid}_${Date.now()}_${counter++}`
    const admin = new pg.Client({ connectionString: postgresUrl })
    await admin.connect()
    try {
      await admin.query(`CREATE DATABASE ${name}`)
    } finally {
      await admin.end()
    }
    const url = new URL(postgresUrl)
    url.pathname = `/${name}`
    const dataDir = mkdtempSync(join(tmpdir(), 'takt-cloud-pg-'))
    const db = await openCloudDatabase({ databaseUrl: url.toString(), dataDir })
    return {
      db,
      dataDir,
      databaseUrl: url.toString(),
      async dispose() {
        await db.close()
        const drop = new pg.Client({ connectionString: postgresUrl })
        await drop.connect()
        try {
          await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
        } finally {
          await drop.end()
        }
        rmSync(dataDir, { recursive: true, force: true })
      },
    }
  },
}

// A PGlite start costs many seconds of WASM and initdb on a loaded machine, so the tests of one
// process share one instance, migrated by the same code as any start, and each test begins on
// emptied tables: a fresh database in all that a test can see.
let shared: Promise<{ db: CloudDatabase; dataDir: string }> | null = null

function sharedPglite(): Promise<{ db: CloudDatabase; dataDir: string }> {
  shared ??= (async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'takt-cloud-pglite-'))
    const db = await openCloudDatabase({ databaseUrl: null, dataDir })
    process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }))
    return { db, dataDir }
  })()
  return shared
}

const pglite: Backend = {
  name: 'pglite',
  async open() {
    const { db } = await sharedPglite()
    await db.orm.execute(sql`TRUNCATE orders, events, gateways, api_tokens, line_definitions, definition_changes, cloud_settings, central_consumptions, central_units, central_lots, central_operations, central_runs, central_work_centers, central_reason_codes, central_state_changes, central_counts, central_oee_buckets, central_calendars, central_calendar_assignments, central_classifications`)
    const dataDir = mkdtempSync(join(tmpdir(), 'takt-cloud-pglite-test-'))
    return {
      // The shared instance outlives each test: its close is left to the process.
      db: { ...db, close: async () => {} },
      dataDir,
      databaseUrl: null,
      async dispose() {
        rmSync(dataDir, { recursive: true, force: true })
      },
    }
  },
}

export const backends: Backend[] = [postgres, pglite]
