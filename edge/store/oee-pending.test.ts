// The OEE projection holds count deltas back until the transaction commits: a command rolled back alone
// in a group commit takes its counts with it, the others' stay, and the tables equal a rebuild from the log.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { recordMachineCount, recordMachineState } from '../core/machine.ts'
import { defineEquipment } from '../core/master-data.ts'
import type { Clock } from '../core/ports.ts'
import { uuidv7Ids } from './ids.ts'
import { LineStore, type Decide } from './line-store.ts'
import { dumpProjections, rebuildProjections } from './projections.ts'

const START = Date.parse('2026-05-04T06:00:00Z')
const WC = 'WC-1'

function openStore(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'takt-oee-pending-'))
  let now = START
  const clock: Clock = { now: () => new Date(now) }
  const store = new LineStore({ file: join(dir, 'line.db'), clock, ids: uuidv7Ids(clock) })
  t.teardown(() => {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const must = (decide: Decide<unknown>) => {
    const done = store.execute('test', decide)
    if (!done.ok) throw new Error(done.rejection.message)
  }
  must((v) => defineEquipment(v, { id: 'S', level: 'site', name: 'Site', parentId: null, ratedCycleTimeS: null }))
  must((v) => defineEquipment(v, { id: 'A', level: 'area', name: 'Area', parentId: 'S', ratedCycleTimeS: null }))
  must((v) => defineEquipment(v, { id: 'L', level: 'line', name: 'Line', parentId: 'A', ratedCycleTimeS: null }))
  must((v) => defineEquipment(v, { id: WC, level: 'work_center', name: 'Cell', parentId: 'L', ratedCycleTimeS: 10 }))
  return { store, must, tick: (ms: number) => (now += ms) }
}

const count = (good: number, reject = 0): Decide<unknown> => (v) => recordMachineCount(v, WC, good, reject, 'test')
/** A command whose decision passes but whose last event no projection knows: its savepoint rolls back after its counts were booked. */
const countThenThrow = (good: number): Decide<unknown> => (v) => {
  const d = recordMachineCount(v, WC, good, 0, 'test')
  if (!d.ok) return d
  return { ...d, events: [...d.events, { type: 'NoSuchEvent', subject: WC, data: {} } as never] }
}

function bucketCounts(store: LineStore): Array<{ unit: number; good: number; reject: number }> {
  const rows = store.db.sqlite.prepare('SELECT unit, counts FROM oee_buckets WHERE work_center_id = ? ORDER BY unit').all(WC) as Array<{ unit: number; counts: string }>
  return rows.map((r) => {
    const lines = Object.values(JSON.parse(r.counts) as Record<string, [number, number]>)
    return { unit: r.unit, good: lines.reduce((n, l) => n + l[0], 0), reject: lines.reduce((n, l) => n + l[1], 0) }
  })
}

t.test('a group commit with a command that throws: its counts go, the others are in every bucket', async (t) => {
  const { store } = openStore(t)
  const results = await Promise.allSettled([store.submit('a', count(3, 1)), store.submit('b', countThenThrow(100)), store.submit('c', count(5))])
  t.equal(results[0]!.status, 'fulfilled')
  t.equal(results[1]!.status, 'rejected', 'the throwing command is refused')
  t.equal(results[2]!.status, 'fulfilled')
  const buckets = bucketCounts(store)
  t.equal(buckets.length, 4, 'minute, quarter, hour and day buckets')
  for (const b of buckets) t.same({ good: b.good, reject: b.reject }, { good: 8, reject: 1 }, `unit ${b.unit}: the two commands that committed, not the one that threw`)
  const live = dumpProjections(store.db.sqlite)
  rebuildProjections(store.db.sqlite)
  t.same(dumpProjections(store.db.sqlite), live, 'a rebuild from the log equals the live projections')
})

t.test('counts pending from earlier commands survive a later command that flushed them and then threw', async (t) => {
  const { store, must, tick } = openStore(t)
  must((v) => recordMachineState(v, WC, 'running', 'test'))
  tick(60_000)
  // The second command changes the state (a time delta: the pending counts are written first), then throws.
  const stateThenThrow: Decide<unknown> = (v) => {
    const d = recordMachineState(v, WC, 'down', 'test')
    if (!d.ok) return d
    return { ...d, events: [...d.events, { type: 'NoSuchEvent', subject: WC, data: {} } as never] }
  }
  const results = await Promise.allSettled([store.submit('a', count(7)), store.submit('b', stateThenThrow), store.submit('c', count(2, 2))])
  t.same(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  )
  for (const b of bucketCounts(store)) t.same({ good: b.good, reject: b.reject }, { good: 9, reject: 2 }, `unit ${b.unit}: the first command's counts were written again after the rollback`)
  t.equal(store.view.workCenterState(WC), 'running', 'the rolled-back state change left no trace')
  const live = dumpProjections(store.db.sqlite)
  rebuildProjections(store.db.sqlite)
  t.same(dumpProjections(store.db.sqlite), live, 'a rebuild from the log equals the live projections')
})

t.test('a single command that throws after booking counts writes nothing; the next one counts from the stored buckets', async (t) => {
  const { store, must } = openStore(t)
  must(count(4))
  t.throws(() => store.execute('b', countThenThrow(50)))
  must(count(1, 1))
  for (const b of bucketCounts(store)) t.same({ good: b.good, reject: b.reject }, { good: 5, reject: 1 }, `unit ${b.unit}`)
  // The live store after a rebuild on its own connection: it forgets what it remembered and counts on.
  rebuildProjections(store.db.sqlite)
  must(count(2))
  for (const b of bucketCounts(store)) t.same({ good: b.good, reject: b.reject }, { good: 7, reject: 1 }, `unit ${b.unit}, after a rebuild`)
  const live = dumpProjections(store.db.sqlite)
  rebuildProjections(store.db.sqlite)
  t.same(dumpProjections(store.db.sqlite), live)
})
