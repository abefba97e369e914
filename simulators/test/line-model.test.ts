// The simulated line's behaviour, with no I/O: determinism, cycle times, scrap, failures, micro-stops, changeovers, buffers.
import t from 'tap'
import { LineModel, type MachineParams, type ModelEvent } from '../model/line-model.ts'
import { Random } from '../model/random.ts'

const machine = (name: string, over: Partial<MachineParams> = {}): MachineParams => ({
  name,
  cycleTime: { mean: 2, sd: 0 },
  scrapRate: 0,
  failures: null,
  microStops: null,
  changeover: null,
  measurements: [],
  bufferAfter: 10,
  counterStart: 0,
  ...over,
})

const hour = 3600_000
const stateEvents = (events: ModelEvent[], name: string) => events.filter((e): e is Extract<ModelEvent, { kind: 'state' }> => e.kind === 'state' && e.machine === name)

/** Milliseconds spent in each state by `name` over the events up to `end`. */
function timeIn(events: ModelEvent[], name: string, end: number): Record<string, number> {
  const out: Record<string, number> = {}
  let state = 'idle'
  let since = 0
  for (const e of stateEvents(events, name)) {
    out[state] = (out[state] ?? 0) + e.at - since
    state = e.state
    since = e.at
  }
  out[state] = (out[state] ?? 0) + end - since
  return out
}

t.test('the random source repeats for a seed, differs between seeds, and forks by name', async (t) => {
  const a = new Random(7)
  const b = new Random(7)
  const xs = Array.from({ length: 5 }, () => a.next())
  t.same(Array.from({ length: 5 }, () => b.next()), xs)
  t.not(new Random(8).next(), xs[0])
  t.ok(xs.every((x) => x >= 0 && x < 1))
  t.equal(new Random(7).fork('press').next(), new Random(7).fork('press').next(), 'a fork depends on the seed and the name only')
  t.not(new Random(7).fork('press').next(), new Random(7).fork('oven').next())
})

t.test('one machine with a fixed cycle makes exactly one part per cycle and runs all the time', async (t) => {
  const line = new LineModel([machine('press')], 1)
  const events = line.advanceTo(60_000)
  const s = line.snapshot('press')
  t.equal(s.processed, 30, '60 s at 2 s per part')
  t.equal(s.good, 30)
  t.equal(s.defective, 0)
  t.same(stateEvents(events, 'press').map((e) => e.state), ['running'], 'running from the start, never stopped')
  t.equal(line.now, 60_000)
})

t.test('the same scenario and seed give the same line, event for event; another seed does not', async (t) => {
  const params = [machine('a', { cycleTime: { mean: 3, sd: 0.5 }, scrapRate: 0.05, failures: { mtbf: 600, mttr: 60, reasons: [101, 102] }, microStops: { mtbf: 120, minS: 2, maxS: 10, reason: 201 } }), machine('b', { cycleTime: { mean: 3.2, sd: 0.3 }, scrapRate: 0.02 })]
  const run = (seed: number) => {
    const line = new LineModel(params, seed)
    return { events: line.advanceTo(hour), snapshots: line.snapshots() }
  }
  const first = run(42)
  t.same(run(42), first)
  t.notSame(run(43).snapshots, first.snapshots)
  // Known counts for seed 42: any change to the model's behaviour shows here.
  t.same(
    first.snapshots.map((s) => [s.name, s.processed, s.good, s.defective, s.state]),
    [
      ['a', 999, 949, 50, 'running'],
      ['b', 948, 930, 18, 'running'],
    ],
  )
})

t.test('scrap follows its rate, and good + defective = processed', async (t) => {
  const line = new LineModel([machine('filler', { cycleTime: { mean: 1, sd: 0.1 }, scrapRate: 0.1 })], 5)
  line.advanceTo(3 * hour)
  const s = line.snapshot('filler')
  t.equal(s.good + s.defective, s.processed)
  const rate = s.defective / s.processed
  const sigma = Math.sqrt((0.1 * 0.9) / s.processed)
  t.ok(Math.abs(rate - 0.1) < 4 * sigma, `scrap rate ${rate.toFixed(4)} over ${s.processed} parts`)
})

t.test('breakdowns: down with a reason, availability near MTBF / (MTBF + MTTR)', async (t) => {
  const end = 200 * hour
  const line = new LineModel([machine('cnc', { cycleTime: { mean: 10, sd: 0 }, failures: { mtbf: 1800, mttr: 200, reasons: [501, 502] } })], 9)
  const events = line.advanceTo(end)
  const downs = stateEvents(events, 'cnc').filter((e) => e.state === 'down')
  t.ok(downs.length > 200, `${downs.length} breakdowns`)
  t.ok(downs.every((e) => e.reason === 501 || e.reason === 502), 'each with one of the configured reasons')
  t.ok(new Set(downs.map((e) => e.reason)).size === 2, 'both reasons occur')
  const spent = timeIn(events, 'cnc', end)
  const availability = spent.running! / end
  t.ok(Math.abs(availability - 1800 / 2000) < 0.02, `availability ${availability.toFixed(3)} (expected 0.900)`)
})

t.test('micro-stops last between their bounds and carry their reason', async (t) => {
  const line = new LineModel([machine('labeler', { microStops: { mtbf: 60, minS: 3, maxS: 8, reason: 77 } })], 3)
  const events = stateEvents(line.advanceTo(2 * hour), 'labeler')
  const stops = events.flatMap((e, i) => (e.state === 'down' ? [{ reason: e.reason, ms: events[i + 1] ? events[i + 1]!.at - e.at : null }] : []))
  t.ok(stops.length > 50, `${stops.length} micro-stops`)
  t.ok(stops.every((s) => s.reason === 77))
  t.ok(stops.every((s) => s.ms === null || (s.ms >= 3000 && s.ms <= 8000)), 'each 3–8 s long')
})

t.test('a changeover after every N parts, as long as configured', async (t) => {
  const line = new LineModel([machine('mold', { changeover: { everyParts: 10, durationS: 30, reason: 900 } })], 1)
  const events = line.advanceTo(5 * 20_000 + 5 * 30_000)
  const setups = stateEvents(events, 'mold').filter((e) => e.state === 'setup')
  t.equal(setups.length, 5, 'five changeovers in five batches of ten')
  t.ok(setups.every((e) => e.reason === 900))
  t.equal(line.snapshot('mold').processed, 50)
  t.equal(setups[0]!.at, 20_000, 'the first after ten parts of 2 s')
})

t.test('buffers couple the machines: a fast machine before a slow one is blocked, the slow one never starves', async (t) => {
  const line = new LineModel([machine('fast', { cycleTime: { mean: 1, sd: 0 }, bufferAfter: 3 }), machine('slow', { cycleTime: { mean: 2, sd: 0 } })], 1)
  const events = line.advanceTo(120_000)
  const fast = timeIn(events, 'fast', 120_000)
  const slow = timeIn(events, 'slow', 120_000)
  t.ok((fast.blocked ?? 0) > 50_000, `fast is blocked ${(fast.blocked ?? 0) / 1000} s of 120`)
  t.ok((slow.starved ?? 0) <= 1000, 'slow starves only before the first part')
  t.ok(line.snapshot('fast').buffered <= 3, 'the buffer never holds more than its capacity')
  t.equal(line.snapshot('slow').processed, 59)
})

t.test('a slow machine before a fast one starves the fast one', async (t) => {
  const line = new LineModel([machine('slow', { cycleTime: { mean: 3, sd: 0 } }), machine('fast', { cycleTime: { mean: 1, sd: 0 } })], 1)
  const events = line.advanceTo(60_000)
  const fast = timeIn(events, 'fast', 60_000)
  t.ok((fast.starved ?? 0) > 35_000, `fast starves ${(fast.starved ?? 0) / 1000} s of 60`)
  const made = line.snapshot('slow').good
  const taken = line.snapshot('fast').processed
  t.ok(made - taken >= 0 && made - taken <= 1, `everything made upstream is made downstream (${taken} of ${made}, one may be on the machine)`)
})

t.test('planned stops, counter resets and counters that start near their wrap', async (t) => {
  const line = new LineModel([machine('press', { counterStart: 4294967290 })], 1)
  line.advanceTo(10_000)
  t.equal(line.snapshot('press').processed, 4294967295)
  line.setPlannedStop('press', true)
  line.advanceTo(30_000)
  t.equal(line.snapshot('press').state, 'planned_stop', 'stopped after the part in progress')
  t.equal(line.snapshot('press').processed, 4294967296)
  line.resetCounters('press')
  t.equal(line.snapshot('press').processed, 0)
  line.setPlannedStop('press', false)
  line.advanceTo(40_000)
  t.equal(line.snapshot('press').state, 'running')
  t.ok(line.snapshot('press').processed >= 4)
  t.throws(() => line.snapshot('nope'), /no machine 'nope'/)
})
