// `takt audit verify` as an auditor runs it: exit 0 on an intact record; non-zero naming the first broken record after someone edits the SQLite file.
import Database from 'better-sqlite3'
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { AuditQueries } from '../../edge/store/audit-queries.ts'
import { eventHash, type StoredEvent } from '../../edge/store/event-log.ts'
import { runTakt } from '../helpers/client.ts'
import { removeDir } from '../helpers/gateway.ts'
import { completion, dispatchedOrder, password } from '../helpers/line.ts'
import { heldUnits, part11Gateway } from './part11-gateway.ts'

// Each check starts a `takt` process; on a loaded machine they take longer than tap's default 30 s.
t.setTimeout(180_000)

const gw = await part11Gateway(t, 'signatures:\n  timeZone: UTC\n', { keepData: true })
const paula = await gw.session('paula')
const quentin = await gw.session('quentin')
const { serials } = await heldUnits(gw.call, 'PO-V1', 2, paula)
const signed = await gw.call('POST', `/api/v1/units/${serials[0]}/release-hold`, { reason: 're-measured', signature: { meaning: 'approval', username: 'quentin', password } }, quentin)
if (signed.status !== 200) throw new Error(JSON.stringify(signed.body))
await dispatchedOrder(gw.call, 'PO-V2', 1)
const run = await gw.call('POST', '/api/v1/orders/PO-V2/operations/10/start', { quantity: 1 }, paula)
await gw.call('POST', `/api/v1/runs/${run.body.runId}/complete`, completion, paula)
await gw.stop()
const original = join(gw.dataDir, 'takt.db')
t.teardown(() => removeDir(gw.dataDir))

/** A copy of the stopped gateway's database to tamper with. */
function copyOfDatabase(): string {
  const dir = mkdtempSync(join(tmpdir(), 'takt-tamper-'))
  t.teardown(() => removeDir(dir))
  for (const suffix of ['', '-wal']) if (existsSync(original + suffix)) copyFileSync(original + suffix, join(dir, 'takt.db' + suffix))
  return dir
}

const rowsOf = (db: Database.Database, where: string) =>
  db.prepare(`SELECT seq, id, type, subject, data, actor, occurred_at AS occurredAt, recorded_at AS recordedAt, prev_hash AS prevHash, hash FROM events WHERE ${where} ORDER BY seq`).all() as StoredEvent[]

/** What an attacker with file access does: drop the append-only triggers, then write. */
function openAsAttacker(dir: string): Database.Database {
  const db = new Database(join(dir, 'takt.db'))
  db.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;')
  return db
}

/** Recomputes every hash from `fromSeq` on, so that the chain itself looks intact. */
function rehashFrom(db: Database.Database, fromSeq: number): void {
  let prev = fromSeq === 1 ? '0'.repeat(64) : rowsOf(db, `seq = ${fromSeq - 1}`)[0]!.hash
  const update = db.prepare('UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?')
  for (const row of rowsOf(db, `seq >= ${fromSeq}`)) {
    const hash = eventHash({ ...row, prevHash: prev })
    update.run(prev, hash, row.seq)
    prev = hash
  }
}

async function verify(dir: string, ...args: string[]) {
  const run = runTakt(['audit', 'verify', ...args], { TAKT_DATA_DIR: dir })
  const { code } = await run.exited
  return { code, stdout: run.stdout(), stderr: run.stderr() }
}

t.test('--help says what it checks and what the exit codes mean', async (t) => {
  const run = runTakt(['audit', 'verify', '--help'], {})
  t.equal((await run.exited).code, 0)
  t.match(run.stdout(), /takt audit verify \[--data-dir DIR\]/)
  t.match(run.stdout(), /Exit codes: 0 intact; 1 broken/)
  const top = runTakt(['--help'], {})
  await top.exited
  t.match(top.stdout(), /audit verify/, 'the top-level help lists it')
})

t.test('an intact record: exit 0 and a summary line', async (t) => {
  const r = await verify(copyOfDatabase())
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^takt audit verify: intact: \d+ events, 1 signatures, head [0-9a-f]{64}/)
  const json = await verify(copyOfDatabase(), '--json')
  t.match(JSON.parse(json.stdout), { ok: true, signatures: 1 })
  const none = await verify(join(tmpdir(), 'takt-no-such-dir'))
  t.equal(none.code, 2, 'no database: a usage error, not a pass')
  t.match(none.stderr, /there is no gateway database/)
})

t.test('an edited measurement is found and named', async (t) => {
  const dir = copyOfDatabase()
  const db = openAsAttacker(dir)
  const target = rowsOf(db, `type = 'MeasurementRecorded'`)[0]!
  db.prepare('UPDATE events SET data = ? WHERE seq = ?').run(target.data.replace('"value":50', '"value":5'), target.seq)
  db.close()
  const r = await verify(dir)
  t.equal(r.code, 1)
  t.match(r.stderr, new RegExp(`BROKEN at seq ${target.seq} \\(id ${target.id}\\): hash does not match the event contents`))
})

t.test('a deleted row is found as a gap', async (t) => {
  const dir = copyOfDatabase()
  const db = openAsAttacker(dir)
  db.prepare('DELETE FROM events WHERE seq = 5').run()
  db.close()
  const r = await verify(dir)
  t.equal(r.code, 1)
  t.match(r.stderr, /BROKEN at seq 6 .*sequence gap: expected seq 5, found 6/)
})

t.test('a signature moved to another record fails even when the whole chain is rewritten', async (t) => {
  const dir = copyOfDatabase()
  const db = openAsAttacker(dir)
  const signature = rowsOf(db, `type = 'RecordSigned'`)[0]!
  const other = rowsOf(db, `type = 'UnitHeld' AND subject = 'unit/${serials[1]}'`)[0]!
  const manifest = JSON.parse(signature.data) as Record<string, unknown>
  const moved = { ...manifest, signedSeq: other.seq, signedType: other.type, signedSubject: other.subject }
  db.prepare('UPDATE events SET data = ?, subject = ? WHERE seq = ?').run(JSON.stringify(moved), other.subject, signature.seq)
  rehashFrom(db, signature.seq)
  const shown = new AuditQueries(db).signaturesOf(other.subject)
  t.match(shown, [{ signerId: 'quentin', valid: false, problem: /record hash does not match/ }], 'the record shows the moved signature as invalid')
  db.close()
  const r = await verify(dir)
  t.equal(r.code, 1, r.stdout)
  t.match(r.stderr, new RegExp(`BROKEN at seq ${signature.seq} \\(id ${signature.id}\\): signature .* by quentin: the record hash does not match seq ${other.seq}`))
})

t.test('a signed record changed under its signature, chain rewritten, fails', async (t) => {
  const dir = copyOfDatabase()
  const db = openAsAttacker(dir)
  const manifest = JSON.parse(rowsOf(db, `type = 'RecordSigned'`)[0]!.data) as { signedSeq: number }
  const record = rowsOf(db, `seq = ${manifest.signedSeq}`)[0]!
  db.prepare('UPDATE events SET data = ? WHERE seq = ?').run(record.data.replace('re-measured', 'never looked at'), record.seq)
  rehashFrom(db, record.seq)
  db.close()
  const r = await verify(dir)
  t.equal(r.code, 1)
  t.match(r.stderr, /the record hash does not match seq \d+: the signature was moved or the record changed/)
})
