// The disk guard's thresholds on both sides, its refusal, its configuration keys, and the line store's write guard on a real SQLite file.
import { mkdtempSync, rmSync, statfsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ProblemError } from '../../edge/api/problem.ts'
import { ConfigError, loadConfig } from '../../edge/config.ts'
import { accept } from '../../edge/core/decision.ts'
import { DiskGuard, hysteresisBytes, nextDiskState } from '../../edge/health/disk-guard.ts'
import { systemClock, uuidv7Ids } from '../../edge/store/ids.ts'
import { LineStore } from '../../edge/store/line-store.ts'

const MB = 1024 * 1024
const soft = 100 * MB
const hard = 40 * MB

t.test('the state follows free space across both floors, with a margin on the way back', async (t) => {
  t.equal(nextDiskState('ok', soft, soft, hard), 'ok', 'exactly at the historian floor is not below it')
  t.equal(nextDiskState('ok', soft - 1, soft, hard), 'historian-shedding', 'one byte below the historian floor')
  t.equal(nextDiskState('ok', hard, soft, hard), 'historian-shedding', 'exactly at the hard floor: still writable')
  t.equal(nextDiskState('ok', hard - 1, soft, hard), 'hard-floor', 'one byte below the hard floor')
  t.equal(nextDiskState('historian-shedding', soft + 1, soft, hard), 'historian-shedding', 'just above the floor is not enough to stop shedding')
  t.equal(nextDiskState('historian-shedding', soft + hysteresisBytes(soft), soft, hard), 'ok', 'the margin above the floor ends shedding')
  t.equal(nextDiskState('hard-floor', hard + 1, soft, hard), 'hard-floor', 'just above the hard floor is not enough to write again')
  t.equal(nextDiskState('hard-floor', hard + hysteresisBytes(hard), soft, hard), 'historian-shedding', 'past the margin writes resume, telemetry still sheds')
  t.equal(nextDiskState('hard-floor', 10 * soft, soft, hard), 'ok', 'plenty of space: straight back to ok')
  t.equal(hysteresisBytes(10 * MB), MB, 'the margin is at least 1 MB')
  t.equal(hysteresisBytes(1000 * MB), 50 * MB, 'and 5 % of a large floor')
})

t.test('a guard on a real directory: statfs, the 507 below the hard floor, and back', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-guard-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const s = statfsSync(dir)
  const free = s.bavail * s.bsize
  const seen: string[] = []
  const floors = { historianFloorBytes: 0, hardFloorBytes: 0 }
  const guard = new DiskGuard({ dir, ...floors, checkIntervalMs: 50, onCheck: (status) => seen.push(status.state) })
  t.equal(guard.state, 'ok', 'zero floors: ok')
  t.ok(Math.abs(guard.status().freeBytes - free) < 64 * MB, 'free space is the filesystem free space')
  t.doesNotThrow(() => guard.assertWritable(), 'writable')

  const full = new DiskGuard({ dir, historianFloorBytes: free + 1024 * MB, hardFloorBytes: free + 512 * MB, checkIntervalMs: 50, onCheck: (status) => seen.push(status.state) })
  t.equal(full.state, 'hard-floor', 'floors above the free space: the first check already refuses')
  let error: unknown
  try {
    full.assertWritable()
  } catch (e) {
    error = e
  }
  t.type(error, ProblemError)
  t.match(error, { status: 507, code: 'insufficient_storage', extra: { hardFloorBytes: free + 512 * MB } })
  t.match((error as Error).message, new RegExp(`MB free in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, below the floor of .* nothing was recorded`))
  t.equal(full.status().refusedWrites, 1, 'the refusal is counted')
  t.same(seen, ['hard-floor'], 'onCheck saw the change')

  t.throws(() => new DiskGuard({ dir, historianFloorBytes: MB, hardFloorBytes: 2 * MB, checkIntervalMs: 50 }), /hard floor \(2\.0 MB\) is above the historian floor \(1\.0 MB\)/)

  const missing = new DiskGuard({ dir: join(dir, 'gone'), historianFloorBytes: 0, hardFloorBytes: 0, checkIntervalMs: 50, onError: () => {} })
  t.match(missing.status().lastError, /cannot read free space of .*gone/, 'a failed statfs is reported, not thrown')
})

t.test('the line store asks the guard before a command and writes nothing when it refuses', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-guard-store-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const store = new LineStore({ file: join(dir, 'takt.db'), clock: systemClock, ids: uuidv7Ids(systemClock) })
  t.teardown(() => store.close())
  let refuse = false
  store.writeGuard = () => {
    if (refuse) throw new ProblemError(507, 'insufficient_storage', 'full')
  }
  let decided = 0
  const define = () => {
    decided += 1
    return accept([{ type: 'MaterialDefined', subject: 'RESIN', data: { id: 'RESIN', name: 'Resin', uom: 'kg', serialized: false } }], null)
  }
  await store.submit('test', define)
  t.equal(store.head().seq, 1, 'allowed: recorded')
  refuse = true
  const refusal = (run: () => unknown) => Promise.resolve().then(run).then(() => 'accepted', (e: unknown) => (e instanceof ProblemError ? e.status : String(e)))
  t.equal(await refusal(() => store.submit('test', define)), 507, 'submit is refused')
  t.equal(await refusal(() => store.execute('test', define)), 507, 'execute is refused')
  t.equal(decided, 1, 'a refused command is never decided')
  t.equal(store.head().seq, 1, 'nothing was appended')
  refuse = false
  store.execute('test', define)
  t.equal(store.head().seq, 2, 'allowed again: recorded')
})

t.test('configuration: disk floors from the file and the environment, and a hard floor above the historian floor is refused', async (t) => {
  const defaults = loadConfig({ env: {} })
  t.same(defaults.disk, { historianFloorMb: 1024, hardFloorMb: 256, checkIntervalMs: 5000 })
  t.same(defaults.system, { sampleIntervalMs: 15_000 })
  const env = loadConfig({ env: { TAKT_DISK_HISTORIAN_FLOOR_MB: '2048', TAKT_DISK_HARD_FLOOR_MB: '512' } })
  t.same(env.disk, { historianFloorMb: 2048, hardFloorMb: 512, checkIntervalMs: 5000 })
  let problems: string[] = []
  try {
    loadConfig({ env: { TAKT_DISK_HISTORIAN_FLOOR_MB: '100', TAKT_DISK_HARD_FLOOR_MB: '200' } })
  } catch (error) {
    t.type(error, ConfigError)
    problems = (error as ConfigError).problems
  }
  t.same(problems, ['disk.hardFloorMb: 200 is above disk.historianFloorMb (100); telemetry gives way before as-built records do'])
  try {
    loadConfig({ env: { TAKT_DISK_HARD_FLOOR_MB: 'lots' } })
    t.fail('accepted a floor that is not a number')
  } catch (error) {
    t.match((error as ConfigError).problems, [/TAKT_DISK_HARD_FLOOR_MB \(disk\.hardFloorMb\): 'lots' is not a whole number/])
  }
})
