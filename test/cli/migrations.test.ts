// Migrations run forward only, after a backup: a database with data and a pending migration is copied first; one from a newer Takt is refused untouched.
import Database from 'better-sqlite3'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { migrationsFolder, NewerSchemaError, openDatabase } from '../../edge/store/database.ts'
import { betterSqlite, migrator } from '../../edge/store/drizzle.ts'
import { eventHash, genesisHash, verifyChain } from '../../edge/store/event-log.ts'
import { runTakt } from '../helpers/client.ts'
import { removeDir } from '../helpers/gateway.ts'

t.setTimeout(60_000)

const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ tag: string; when: number }> }
const known = journal.entries.length
const last = journal.entries.at(-1)!

const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-cli-migrate-'))
  t.teardown(() => removeDir(dir))
  return dir
}

const migrationCount = (file: string) => {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get() as number
  } finally {
    db.close()
  }
}

/** A database as the previous build left it: every migration but the last applied, and one recorded event. */
function previousBuildDatabase(dir: string): string {
  const folder = join(dir, 'migrations-before')
  cpSync(migrationsFolder, folder, { recursive: true })
  rmSync(join(folder, `${last.tag}.sql`))
  writeFileSync(join(folder, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, -1) }))
  const file = join(dir, 'takt.db')
  const sqlite = new Database(file)
  sqlite.pragma('journal_mode = WAL')
  migrator.migrate(betterSqlite.drizzle(sqlite), { migrationsFolder: folder })
  const e = { seq: 1, id: '0190a5f0-0000-7000-8000-000000000001', type: 'MaterialDefined', subject: 'material/RESIN', data: '{"id":"RESIN","name":"Resin","uom":"kg","serialized":false}', actor: 'test:migrate', occurredAt: '2026-01-01T00:00:00.000Z', recordedAt: '2026-01-01T00:00:00.000Z', prevHash: genesisHash }
  sqlite
    .prepare('INSERT INTO events (seq, id, type, subject, data, actor, occurred_at, recorded_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .run(e.seq, e.id, e.type, e.subject, e.data, e.actor, e.occurredAt, e.recordedAt, e.prevHash, eventHash(e))
  sqlite.close()
  return file
}

t.test('a pending migration on a database with data: a verified backup first, then the migration', async (t) => {
  const dir = scratch()
  const file = previousBuildDatabase(dir)
  t.equal(migrationCount(file), known - 1, `the previous build applied ${known - 1} migrations`)
  const db = openDatabase(file)
  const backup = db.preMigrationBackup
  db.close()
  t.match(backup, new RegExp(`^${join(dir, 'backups')}/pre-migration-\\d{4}-\\d\\d-\\d\\dT[\\d-]+Z\\.db$`), 'the backup is in backups/ beside the database')
  t.ok(backup && existsSync(backup), 'and it exists')
  if (!backup) return
  t.equal(migrationCount(backup), known - 1, 'the backup is the database before the migration')
  t.equal(migrationCount(file), known, 'the database is migrated to this build')
  const copy = new Database(backup, { readonly: true })
  t.match(verifyChain(copy), { ok: true, count: 1 }, 'the backup holds the recorded event, its chain intact')
  copy.close()
  // The backup restores like any other: the restore brings it back, and the next open migrates it again.
  const restoredDir = join(dir, 'restored')
  const run = runTakt(['restore', backup, '--data-dir', restoredDir], {})
  t.equal((await run.exited).code, 0, run.stderr())
  const again = openDatabase(join(restoredDir, 'takt.db'))
  t.ok(again.preMigrationBackup, 'opening the restored pre-migration copy backs it up and migrates it once more')
  again.close()
})

t.test('no backup where there is nothing to lose: a new database, an up-to-date one, one without events', async (t) => {
  const dir = scratch()
  const file = join(dir, 'takt.db')
  const created = openDatabase(file)
  t.equal(created.preMigrationBackup, null, 'a new database')
  created.close()
  const reopened = openDatabase(file)
  t.equal(reopened.preMigrationBackup, null, 'a database already at this build')
  reopened.close()
  const empty = previousBuildDatabase(scratch())
  const raw = new Database(empty)
  raw.exec('DROP TRIGGER IF EXISTS events_no_delete; DELETE FROM events;')
  raw.close()
  const migrated = openDatabase(empty)
  t.equal(migrated.preMigrationBackup, null, 'a database with no events')
  migrated.close()
  t.notOk(existsSync(join(dir, 'backups')), 'no backups directory was made')
})

t.test('a database from a newer Takt is refused with a clear error and left as it was', async (t) => {
  const dir = scratch()
  const file = join(dir, 'takt.db')
  openDatabase(file).close()
  const raw = new Database(file)
  raw.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('a-migration-of-a-later-build', last.when + 86_400_000)
  raw.close()
  const before = readFileSync(file)
  let refused: unknown = null
  try {
    openDatabase(file)
  } catch (error) {
    refused = error
  }
  t.type(refused, NewerSchemaError, 'openDatabase refuses it')
  {
    const error = refused
    t.match((error as Error).message, new RegExp(`^the database ${file} was written by a newer Takt: it has ${known + 1} migrations applied \\(the last made .+\\), this build knows ${known} \\(up to ${last.tag}\\)`))
  }
  t.same(readFileSync(file), before, 'the file is unchanged')
  t.equal(migrationCount(file), known + 1, 'its migrations table is as the newer build left it')
  t.notOk(existsSync(join(dir, 'backups')), 'no backup is attempted')
  // The gateway refuses to start on it, with the same message.
  const run = runTakt(['edge'], { TAKT_DATA_DIR: dir, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent' })
  const { code } = await run.exited
  t.not(code, 0, 'takt edge exits non-zero')
  t.match(run.stderr(), /was written by a newer Takt/)
  t.same(readdirSync(dir).filter((n) => n === 'gateway.pid'), [], 'and does not claim the directory')
  // A backup of it is refused by restore too.
  const restore = runTakt(['restore', file, '--data-dir', join(dir, 'elsewhere')], {})
  t.equal((await restore.exited).code, 1)
  t.match(restore.stderr(), /refused, nothing was changed: .*was written by a newer Takt/)
})
