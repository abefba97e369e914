// The event log on a real SQLite file: append-only by trigger, tampering found by the hash chain, UUIDv7 ids.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { accept } from '../edge/core/decision.ts'
import { event } from '../edge/core/events.ts'
import type { LineView } from '../edge/core/line-view.ts'
import { defineMaterial } from '../edge/core/master-data.ts'
import type { Clock } from '../edge/core/ports.ts'
import { eventHash, genesisHash, readEvents, verifyChain, type StoredEvent } from '../edge/store/event-log.ts'
import { systemClock, uuidv7, uuidv7Ids } from '../edge/store/ids.ts'
import { LineStore } from '../edge/store/line-store.ts'
import { removeDir } from './helpers/gateway.ts'


/** A store on a fresh temp file with `count` MaterialDefined events, closed and removed at teardown. */
function storeWith(t: Test, count: number, clock: Clock = systemClock): LineStore {
  const dir = mkdtempSync(join(tmpdir(), 'takt-log-'))
  const store = new LineStore({ file: join(dir, 'takt.db'), clock, ids: uuidv7Ids(clock) })
  t.teardown(() => {
    store.close()
    removeDir(dir)
  })
  for (let i = 1; i <= count; i++) {
    const executed = store.execute('test:log', (view) => defineMaterial(view, { id: `M-${i}`, name: `Material ${i}`, uom: 'kg', serialized: false }))
    if (!executed.ok || executed.recorded.length !== 1) throw new Error(`event ${i} was not recorded`)
  }
  return store
}

const events = (store: LineStore): StoredEvent[] => [...readEvents(store.db.sqlite)]

t.test('UPDATE and DELETE on events are refused by the database itself', async (t) => {
  const store = storeWith(t, 3)
  const sqlite = store.db.sqlite
  const before = events(store)
  t.throws(() => sqlite.prepare(`UPDATE events SET data = '{}' WHERE seq = 2`).run(), /events are append-only: UPDATE refused/)
  t.throws(() => sqlite.prepare('UPDATE events SET actor = ? ').run('someone else'), /UPDATE refused/, 'also a whole-table update')
  t.throws(() => sqlite.prepare('DELETE FROM events WHERE seq = 3').run(), /events are append-only: DELETE refused/)
  t.throws(() => sqlite.prepare('DELETE FROM events').run(), /DELETE refused/)
  t.same(events(store), before, 'every event is as it was')
  t.equal(verifyChain(sqlite).ok, true)

  // The other side: appending still works, and projections (not the log) may be updated in place.
  store.execute('test:log', (view) => defineMaterial(view, { id: 'M-4', name: 'Material 4', uom: 'kg', serialized: false }))
  t.equal(events(store).length, 4)
  t.equal(sqlite.prepare(`UPDATE materials SET name = 'renamed' WHERE id = 'M-1'`).run().changes, 1, 'a projection row is not protected')
  const triggers = sqlite.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events' ORDER BY name`).pluck().all()
  t.same(triggers, ['events_no_delete', 'events_no_update'])
})

t.test('an intact chain verifies, over every event', async (t) => {
  const store = storeWith(t, 5)
  const report = verifyChain(store.db.sqlite)
  t.same(report, { ok: true, count: 5, head: store.head().hash })
  const all = events(store)
  t.equal(all[0]!.prevHash, genesisHash, 'the first event links to the genesis hash')
  for (const [i, e] of all.entries()) {
    t.equal(e.seq, i + 1)
    t.equal(e.hash, eventHash(e), `seq ${e.seq}: the hash covers the stored fields`)
    if (i > 0) t.equal(e.prevHash, all[i - 1]!.hash, `seq ${e.seq} links to seq ${e.seq - 1}`)
  }
})

t.test('altered event data is named as the first broken link', async (t) => {
  const store = storeWith(t, 5)
  const sqlite = store.db.sqlite
  // An attacker with file access drops the trigger first.
  sqlite.exec('DROP TRIGGER events_no_update')
  const victim = events(store)[2]!
  sqlite.prepare('UPDATE events SET data = ? WHERE seq = 3').run(victim.data.replace('Material 3', 'Material 3b'))
  const report = verifyChain(sqlite)
  t.equal(report.ok, false)
  t.match(report, { count: 2, broken: { seq: 3, id: victim.id, reason: /hash does not match the event contents/ } })

  // Re-hashing the altered event only moves the break to the next link.
  const altered = events(store)[2]!
  sqlite.prepare('UPDATE events SET hash = ? WHERE seq = 3').run(eventHash(altered))
  t.match(verifyChain(sqlite), { ok: false, broken: { seq: 4, reason: /prev_hash does not match the hash of seq 3/ } })
})

t.test('an altered actor or time is found too', async (t) => {
  for (const [column, value] of [
    ['actor', 'person:someone-else'],
    ['recorded_at', '2000-01-01T00:00:00.000Z'],
    ['type', 'LotDefined'],
  ] as const) {
    const store = storeWith(t, 3)
    store.db.sqlite.exec('DROP TRIGGER events_no_update')
    store.db.sqlite.prepare(`UPDATE events SET ${column} = ? WHERE seq = 2`).run(value)
    t.match(verifyChain(store.db.sqlite), { ok: false, broken: { seq: 2, reason: /altered/ } }, `a changed ${column}`)
  }
})

t.test('a deleted event is named as a gap', async (t) => {
  const store = storeWith(t, 5)
  const sqlite = store.db.sqlite
  sqlite.exec('DROP TRIGGER events_no_delete')
  const next = events(store)[3]!
  sqlite.prepare('DELETE FROM events WHERE seq = 3').run()
  t.match(verifyChain(sqlite), { ok: false, count: 2, broken: { seq: 4, id: next.id, reason: 'sequence gap: expected seq 3, found 4' } })
})

t.test('a deleted first event is found as well', async (t) => {
  const store = storeWith(t, 2)
  store.db.sqlite.exec('DROP TRIGGER events_no_delete')
  store.db.sqlite.prepare('DELETE FROM events WHERE seq = 1').run()
  t.match(verifyChain(store.db.sqlite), { ok: false, count: 0, broken: { seq: 2, reason: /expected seq 1, found 2/ } })
})

t.test('a rewritten prev_hash is named', async (t) => {
  const store = storeWith(t, 5)
  const sqlite = store.db.sqlite
  sqlite.exec('DROP TRIGGER events_no_update')
  const victim = events(store)[3]!
  sqlite.prepare('UPDATE events SET prev_hash = ? WHERE seq = 4').run('f'.repeat(64))
  t.match(verifyChain(sqlite), { ok: false, count: 3, broken: { seq: 4, id: victim.id, reason: 'prev_hash does not match the hash of seq 3' } })
})

// RFC 9562 §5.7: 48-bit Unix milliseconds, version 7, variant 10xx, then randomness.
const shape = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const millisOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16)

t.test('event ids are UUIDv7 carrying the time they were recorded', async (t) => {
  let ms = Date.parse('2026-03-01T06:00:00.000Z')
  const ticking: Clock = { now: () => new Date(ms++) }
  const store = storeWith(t, 20, ticking)
  const all = events(store)
  t.equal(new Set(all.map((e) => e.id)).size, 20, 'unique')
  for (const e of all) {
    t.match(e.id, shape, `${e.id} is version 7, variant 10xx`)
    const idMs = millisOf(e.id)
    const recorded = Date.parse(e.recordedAt)
    t.ok(idMs >= recorded && idMs <= recorded + 5, `seq ${e.seq}: its id's time (${idMs}) is its recording time (${recorded})`)
  }
  const ids = all.map((e) => e.id)
  t.same([...ids].sort(), ids, 'recorded in different milliseconds, the ids sort in sequence order')
})

t.test('uuidv7: bit layout and order by time', async (t) => {
  const zeros = new Uint8Array(10)
  const ones = new Uint8Array(10).fill(0xff)
  t.equal(uuidv7(0, zeros), '00000000-0000-7000-8000-000000000000', 'all-zero randomness keeps version and variant')
  t.equal(uuidv7(0xffffffffffff, ones), 'ffffffff-ffff-7fff-bfff-ffffffffffff', 'all-one randomness cannot overwrite them')
  t.equal(millisOf(uuidv7(1_700_000_000_123, ones)), 1_700_000_000_123, 'the first 48 bits are the milliseconds')
  const later = uuidv7(1_700_000_000_124, zeros)
  const earlier = uuidv7(1_700_000_000_123, ones)
  t.ok(earlier < later, 'one millisecond later sorts later, whatever the random bits')

  let ms = 1_700_000_000_000
  const ids = uuidv7Ids({ now: () => new Date((ms += 1)) })
  const made = Array.from({ length: 3000 }, () => ids.next())
  t.equal(new Set(made).size, made.length, 'unique, across refills of the random pool')
  t.ok(made.every((id) => shape.test(id)), 'every one is version 7, variant 10xx')
  t.same([...made].sort(), made, 'ids from an advancing clock are in time order')
  const variants = new Set(made.map((id) => id[19]))
  t.ok([...variants].every((v) => '89ab'.includes(v!)) && variants.size > 1, 'the variant nibble is 10xx with random low bits')
})

t.test('a command rolled back after appending leaves no gap: the next one continues the chain from the database', async (t) => {
  const store = storeWith(t, 2)
  // A MaterialDefined without its fields passes the event log and fails in the projection (NOT NULL), after the append.
  const broken = () => accept([event('MaterialDefined', 'material/broken', { id: 'broken' } as never)], null)
  const good = (id: string) => (view: LineView) => defineMaterial(view, { id, name: id, uom: 'kg', serialized: false })
  const [a, b, c] = await Promise.allSettled([store.submit('test:log', good('M-a')), store.submit('test:log', broken), store.submit('test:log', good('M-c'))])
  t.equal(a.status, 'fulfilled')
  t.equal(b.status, 'rejected', 'the broken command fails alone')
  t.equal(c.status, 'fulfilled', 'the one after it in the same group commit is recorded')
  t.throws(() => store.execute('test:log', broken), /NOT NULL/)
  store.execute('test:log', good('M-d'))
  t.same(events(store).map((e) => e.seq), [1, 2, 3, 4, 5], 'no sequence number was taken by the rolled-back commands')
  t.same(verifyChain(store.db.sqlite), { ok: true, count: 5, head: store.head().hash })
})
