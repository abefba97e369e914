// Machine samples become work center states, machine counts and as-built measurements in the event log.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { checkProfileFile } from '../../hardware-profiles/load.ts'
import { startOperation } from '../core/execution.ts'
import { dispatchOrder } from '../core/orders.ts'
import { loadConfig } from '../config.ts'
import { seedDemoLine } from '../demo.ts'
import { buildGateway } from '../gateway.ts'
import type { Sample } from '../historian/historian.ts'
import { SignalRules } from './signal-rules.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '../..')

t.test('state changes, counter deltas and measurements from a Modbus machine', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-rules-'))
  const gateway = buildGateway(loadConfig({ env: { TAKT_DATA_DIR: dir, TAKT_LOG_LEVEL: 'silent' } }))
  t.teardown(() => {
    gateway.close()
    rmSync(dir, { recursive: true, force: true })
  })
  await seedDemoLine(gateway, new Date())
  const loaded = checkProfileFile(join(root, 'hardware-profiles/generic-modbus-tcp-machine.yaml'))
  if (!loaded.ok) throw new Error('profile')
  // The demo routing measures 'thickness' at the press; give the device a signal of that name.
  const profile = { ...loaded.profile, signals: [...loaded.profile.signals, { name: 'thickness', kind: 'measurement' as const, unit: 'mm', area: 'holding_register' as const, address: 30, type: 'float32' as const, wordOrder: 'big' as const, byteOrder: 'big' as const, scale: 1, offset: 0 }] } as typeof loaded.profile
  const errors: unknown[] = []
  const rules = new SignalRules(gateway.store, [{ device: 'press1', workCenterId: 'WC-PRESS', profile }], (e) => errors.push(e))
  const s = (signal: string, value: Sample['value'], quality: Sample['quality'] = 'good', timestamp = Date.now()): Sample => ({ signal: `press1/${signal}`, value, quality, timestamp })
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50))
  const types = () => (gateway.store.db.sqlite.prepare(`SELECT type, actor FROM events WHERE actor = 'device:press1' ORDER BY seq`).all() as Array<{ type: string }>).map((e) => e.type)

  rules.handle([s('state', 2), s('good_count', 1000), s('reject_count', 7)])
  await settle()
  t.same(types(), ['WorkCenterStateChanged'], 'first counter readings count nothing; the state is recorded')
  rules.handle([s('state', 2), s('state', 99), s('state', 0, 'bad')])
  await settle()
  t.same(types(), ['WorkCenterStateChanged'], 'the same state, an unmapped value and a Bad sample record nothing')
  rules.handle([s('good_count', 1012), s('reject_count', 8)])
  await settle()
  t.same(types(), ['WorkCenterStateChanged', 'MachineCounted'], 'the counts of one batch are one event')
  const counts = gateway.store.db.sqlite.prepare('SELECT good, reject, run_id AS runId FROM machine_counts ORDER BY event_seq').all()
  t.same(counts, [{ good: 12, reject: 1, runId: null }], 'deltas, with no run in progress')

  gateway.store.execute('person:lea', (v) => dispatchOrder(v, 'PO-1003'))
  const started = gateway.store.execute('person:ana', (v, ctx) => startOperation(v, { orderId: 'PO-1003', opSeq: 10, unitSerial: 'PO-1003-0001', quantity: null, operatorId: 'ana', workCenterId: 'WC-PRESS' }, ctx))
  t.ok(started.ok)
  rules.handle([s('good_count', 1013), s('state', 0), s('thickness', 2.3), s('temperature', 80)])
  await settle()
  t.same(types().slice(2), ['WorkCenterStateChanged', 'MeasurementRecorded', 'NonconformanceOpened', 'UnitHeld', 'MachineCounted'], 'the count goes to the running run; an out-of-limit thickness holds the unit; temperature stays telemetry')
  const run = started.ok ? (started.result as { runId: string }).runId : ''
  t.same(gateway.store.db.sqlite.prepare('SELECT run_id AS runId, good FROM machine_counts ORDER BY event_seq DESC LIMIT 1').get(), { runId: run, good: 1 })
  t.equal(gateway.store.view.workCenterState('WC-PRESS'), 'down')
  rules.handle([s('good_count', 3)])
  await settle()
  t.same(gateway.store.db.sqlite.prepare('SELECT good FROM machine_counts ORDER BY event_seq DESC LIMIT 1').get(), { good: 3 }, 'a counter reset counts from zero')
  const measurements = () => types().filter((type) => type === 'MeasurementRecorded').length
  const measured = measurements()
  rules.handle([s('thickness', 2.3)])
  await settle()
  t.equal(measurements(), measured, 'a polled measurement that did not change is not measured again')
  rules.handle([s('thickness', 2.31)])
  await settle()
  t.equal(measurements(), measured + 1, 'a new value is')
  const before = types().length
  rules.handle([s('temperature', 81), s('temperature', 82)])
  await settle()
  t.equal(types().length, before, 'a batch of plain telemetry records nothing')
  rules.handle([s('temperature', 83), s('state', 2)])
  await settle()
  t.same(types().slice(before), ['WorkCenterStateChanged'], 'a ruled signal among plain telemetry is still decided')
  t.same(errors, [])
})

/** The demo line on a fresh gateway, and signal rules for a PackML filler (the shipped OPC UA profile) at a work center. */
async function packmlFiller(t: { teardown(fn: () => void): void }, workCenterId: string) {
  const dir = mkdtempSync(join(tmpdir(), 'takt-rules-'))
  const gateway = buildGateway(loadConfig({ env: { TAKT_DATA_DIR: dir, TAKT_LOG_LEVEL: 'silent' } }))
  t.teardown(() => {
    gateway.close()
    rmSync(dir, { recursive: true, force: true })
  })
  await seedDemoLine(gateway, new Date())
  const loaded = checkProfileFile(join(root, 'hardware-profiles/packml-opcua-machine.yaml'))
  if (!loaded.ok) throw new Error('profile')
  const errors: unknown[] = []
  const rules = new SignalRules(gateway.store, [{ device: 'filler1', workCenterId, profile: loaded.profile }], (e) => errors.push(e))
  return { gateway, rules, errors }
}

t.test('a device counting total and rejects: good is the difference, rejects settled against later totals', async (t) => {
  const { gateway, rules, errors } = await packmlFiller(t, 'WC-PRESS')
  const s = (signal: string, value: number): Sample => ({ signal: `filler1/${signal}`, value, quality: 'good', timestamp: Date.now() })
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50))
  const counts = () => gateway.store.db.sqlite.prepare('SELECT good, reject FROM machine_counts ORDER BY event_seq').all()
  rules.handle([s('processed_count', 100), s('defective_count', 5)])
  rules.handle([s('processed_count', 110), s('defective_count', 6)])
  await settle()
  t.same(counts(), [{ good: 9, reject: 1 }], 'ten processed, one of them rejected: nine good')
  rules.handle([s('defective_count', 8)])
  await settle()
  t.same(counts().at(-1), { good: 0, reject: 2 }, 'rejects seen before their total are counted as rejects at once')
  rules.handle([s('processed_count', 111)])
  await settle()
  t.equal(counts().length, 2, 'one more processed: it was one of the two rejects, nothing good to count')
  rules.handle([s('processed_count', 115)])
  await settle()
  t.same(counts().at(-1), { good: 3, reject: 0 }, 'four more processed: the other reject and three good')
  const sum = (key: 'good' | 'reject') => (counts() as Array<Record<string, number>>).reduce((n, c) => n + c[key]!, 0)
  t.same([sum('good'), sum('reject')], [12, 3], 'in all 15 processed, 3 rejected, 12 good')
  t.same(errors, [])
})

t.test('a PackML machine gives its own stop reason: the stop carries it, mapped through the reason tree', async (t) => {
  const { gateway, rules, errors } = await packmlFiller(t, 'WC-TEST')
  const s = (signal: string, value: Sample['value']): Sample => ({ signal: `filler1/${signal}`, value, quality: 'good', timestamp: Date.now() })
  const settle = () => new Promise((resolve) => setTimeout(resolve, 50))
  const stops = () =>
    (gateway.store.db.sqlite.prepare(`SELECT e.data, c.state, c.reason FROM events e JOIN oee_state_changes c ON c.event_seq = e.seq WHERE e.actor = 'device:filler1' ORDER BY e.seq`).all() as Array<{ data: string; state: string; reason: string | null }>).map((r) => [r.state, JSON.parse(r.data).stopReason ?? null, r.reason])

  rules.handle([s('state', 6), s('stop_reason', 0)])
  await settle()
  rules.handle([s('state', 11), s('stop_reason', 111)])
  await settle()
  t.same(stops().at(-1), ['down', 111, 'failure.drive'], 'Held with StopReason 111: the stop is a drive fault, from the machine')
  // The reason set in the same batch but read after the state still belongs to this stop.
  rules.handle([s('state', 6)])
  rules.handle([s('state', 9), s('stop_reason', 101)])
  await settle()
  t.same(stops().slice(-2), [['running', null, null], ['down', 101, 'failure.mechanical']], 'running carries no reason; the next stop its own, wherever the reason sat in the batch')
  rules.handle([s('stop_reason', 0), s('state', 6)])
  rules.handle([s('state', 10)])
  await settle()
  t.same(stops().at(-1), ['down', null, null], 'StopReason 0 (none): the stop is left for an operator to classify')
  rules.handle([s('state', 6), s('stop_reason', 999)])
  rules.handle([s('state', 11)])
  await settle()
  t.same(stops().at(-1), ['down', 999, 'packml:999'], 'a code the reason tree does not know is kept as packml:999, not dropped')
  t.same(errors, [])
})
