// takt backup while a gateway runs and writes, takt restore into a fresh data directory (chain intact, counts equal), refused onto a running gateway and for a tampered backup; the admin API's backup.
import Database from 'better-sqlite3'
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { verifyChain } from '../../edge/store/event-log.ts'
import { jsonClient, startChildGateway, takt, type ChildGateway } from '../helpers/client.ts'
import { adminToken, scratchDir } from '../helpers/gateway.ts'

t.setTimeout(180_000)

const scratch = (prefix: string) => scratchDir(t, prefix)


const count = (file: string, sql: string) => {
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    return db.prepare(sql).pluck().get() as number
  } finally {
    db.close()
  }
}

const dataDir = scratch('takt-cli-live-')
// A database of a few MB (thousands of materials), so that the backup takes many steps while the gateway writes.
const seed = join(scratch('takt-cli-seed-'), 'materials.json')
writeFileSync(seed, JSON.stringify({ materials: Array.from({ length: 4000 }, (_, i) => ({ id: `M-${i}`, name: `Material ${i} `.padEnd(200, 'x'), uom: 'kg' })) }))
const seeded = await takt(['import', seed, '--quiet'], { TAKT_DATA_DIR: dataDir })
if (seeded.code !== 0) throw new Error(`seeding failed: ${seeded.stderr}`)

const gw: ChildGateway = await startChildGateway({ TAKT_DATA_DIR: dataDir, TAKT_ADMIN_TOKEN: adminToken, TAKT_LOG_LEVEL: 'warn' })
t.teardown(() => gw.kill('SIGKILL'))
const call = jsonClient(gw.url, adminToken)
const eventSeq = async () => (await call('GET', '/health')).body.eventSeq as number

// The line keeps recording while the backup is taken.
let writing = true
let writes = 0
const writer = (async () => {
  while (writing) {
    const r = await call('PUT', `/api/v1/materials/W-${writes}`, { id: `W-${writes}`, name: `Written during the backup ${writes}`, uom: 'kg' })
    if (r.status !== 200) throw new Error(`a write failed: ${r.status} ${JSON.stringify(r.body)}`)
    writes += 1
  }
})()
while (writes < 5) await new Promise((r) => setTimeout(r, 20))
const seqBefore = await eventSeq()
const out = join(scratch('takt-cli-backups-'), 'live.db')
const backup = await takt(['backup', '--out', out, '--json'], { TAKT_DATA_DIR: dataDir })
const writesDuringBackup = writes
writing = false
await writer
const seqAfter = await eventSeq()
const result = backup.code === 0 ? (JSON.parse(backup.stdout) as { events: number; head: string; historianFile: string | null; file: string }) : null

t.test('takt backup while the gateway writes: a verified copy of a consistent moment', async (t) => {
  t.equal(backup.code, 0, backup.stderr)
  t.ok(result, 'the result is printed as JSON')
  if (!result) return
  t.ok(writesDuringBackup > 5, `the gateway kept writing (${writesDuringBackup} writes)`)
  t.ok(result.events >= seqBefore && result.events <= seqAfter, `the backup holds ${result.events} events: between ${seqBefore} (before) and ${seqAfter} (after)`)
  t.equal(result.historianFile, out.replace(/\.db$/, '.historian.db'), 'the historian is copied beside it')
  t.ok(existsSync(result.historianFile!), 'the historian copy exists')
  t.match(backup.stderr, /takt backup: MES database 100% \(\d+ of \d+ pages\)/, 'progress is shown')
  t.same(readdirSync(join(out, '..')).sort(), ['live.db', 'live.historian.db'], 'two self-contained files: no -wal, -shm or partial file')
  const db = new Database(out, { readonly: true })
  t.match(verifyChain(db), { ok: true, count: result.events, head: result.head }, 'the chain in the copy verifies')
  db.close()
  const again = await takt(['backup', '--out', out], { TAKT_DATA_DIR: dataDir })
  t.equal(again.code, 2, 'a backup never overwrites a file')
  t.match(again.stderr, /exists already/)
})

t.test('takt restore onto the running gateway is refused and changes nothing', async (t) => {
  const before = readdirSync(dataDir).sort()
  const r = await takt(['restore', out], { TAKT_DATA_DIR: dataDir })
  t.equal(r.code, 1)
  t.match(r.stderr, new RegExp(`^takt restore: refused: the gateway \\(pid ${gw.child.pid} on .+\\) is running on ${dataDir}; stop it first`))
  t.same(readdirSync(dataDir).sort(), before, 'the data directory is as it was (no pre-restore copy either)')
  t.equal(await eventSeq(), seqAfter, 'the gateway still answers with its own record')
})

t.test('takt restore into a fresh data directory: the chain verifies and the counts match', async (t) => {
  if (!result) return t.fail('no backup to restore')
  const fresh = join(scratch('takt-cli-restored-'), 'data')
  const r = await takt(['restore', out, '--data-dir', fresh])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, new RegExp(`^takt restore: restored ${out} into ${fresh}: takt\\.db \\(${result.events} events, head ${result.head}, 0 signatures, \\d+ migrations\\), historian\\.db`))
  const restored = join(fresh, 'takt.db')
  t.equal(count(restored, 'SELECT count(*) FROM events'), result.events, 'as many events as the backup')
  t.equal(count(restored, 'SELECT count(*) FROM materials'), count(out, 'SELECT count(*) FROM materials'), 'as many materials as the backup')
  t.ok(count(restored, 'SELECT count(*) FROM materials') >= 4000 + 5, 'the seeded materials and those written before the backup')
  const verify = await takt(['audit', 'verify', '--data-dir', fresh])
  t.equal(verify.code, 0, verify.stderr)
  t.match(verify.stdout, new RegExp(`intact: ${result.events} events`))
  // The restored directory runs as a gateway and carries on from the backup's head.
  const second = await startChildGateway({ TAKT_DATA_DIR: fresh, TAKT_ADMIN_TOKEN: adminToken, TAKT_LOG_LEVEL: 'warn' })
  try {
    const c = jsonClient(second.url, adminToken)
    t.equal((await c('GET', '/health')).body.eventSeq, result.events, 'a gateway on the restored directory starts at the backup head')
    t.equal((await c('PUT', '/api/v1/materials/AFTER', { id: 'AFTER', name: 'After the restore', uom: 'kg' })).status, 200, 'and records on')
  } finally {
    await second.kill()
  }
})

t.test('a tampered backup is refused by restore; nothing is written', async (t) => {
  const tampered = join(scratch('takt-cli-tamper-'), 'tampered.db')
  copyFileSync(out, tampered)
  const db = new Database(tampered)
  db.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;')
  db.prepare("UPDATE events SET data = json_set(data, '$.name', 'changed') WHERE seq = 7").run()
  db.close()
  const fresh = join(scratch('takt-cli-refused-'), 'data')
  const r = await takt(['restore', tampered, '--data-dir', fresh])
  t.equal(r.code, 1)
  t.match(r.stderr, /^takt restore: refused, nothing was changed: .*tampered\.db: the event chain is BROKEN at seq 7 \(id [0-9a-f-]+\): hash does not match/)
  t.notOk(existsSync(fresh), 'the data directory was not even created')
  const notSqlite = join(scratch('takt-cli-junk-'), 'junk.db')
  writeFileSync(notSqlite, 'not a database at all, just text')
  const junk = await takt(['restore', notSqlite, '--data-dir', fresh])
  t.equal(junk.code, 1)
  t.match(junk.stderr, /refused, nothing was changed: .*junk\.db is not an SQLite database/)
})

t.test('POST /api/v1/admin/backups: a verified backup now, for an administrator only', async (t) => {
  const integration = (await call('POST', '/api/v1/tokens', { name: 'cli-erp', role: 'integration' })).body.token as string
  const refused = await call('POST', '/api/v1/admin/backups', undefined, integration)
  t.match(refused, { status: 403, body: { code: 'forbidden' } })
  t.notOk(existsSync(join(dataDir, 'backups')), 'a refused request writes no backup')
  const r = await call('POST', '/api/v1/admin/backups')
  t.equal(r.status, 201, JSON.stringify(r.body))
  t.match(r.body, { file: new RegExp(`^${join(dataDir, 'backups')}/takt-.+Z\\.db$`), events: await eventSeq(), head: /^[0-9a-f]{64}$/ })
  t.ok(existsSync(r.body.file) && existsSync(r.body.historianFile), 'both files are there')
})

t.test('once the gateway is stopped, restore into its directory works and keeps the replaced database', async (t) => {
  if (!result) return t.fail('no backup to restore')
  const lastSeq = await eventSeq()
  await gw.kill()
  t.notOk(existsSync(join(dataDir, 'gateway.pid')), 'a stopped gateway releases its data directory')
  const r = await takt(['restore', out], { TAKT_DATA_DIR: dataDir })
  t.equal(r.code, 0, r.stderr)
  const saved = /saved as (\S+pre-restore-\S+\.db)/.exec(r.stdout)?.[1]
  t.ok(saved && existsSync(saved), `the replaced database is kept (${saved})`)
  if (saved) t.equal(count(saved, 'SELECT count(*) FROM events'), lastSeq, 'the kept copy is the database as it was when the gateway stopped')
  t.equal(count(join(dataDir, 'takt.db'), 'SELECT count(*) FROM events'), result.events)
  t.notOk(existsSync(join(dataDir, 'takt.db-wal')), 'no WAL of the old database is left to replay')
})
