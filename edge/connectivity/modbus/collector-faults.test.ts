// The Modbus TCP collector against the simulator's fault hooks: no overlapping requests behind a slow device, late cycles counted, timeouts, malformed answers, dropped connections.
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { checkProfileFile } from '../../../hardware-profiles/load.ts'
import { RegisterMap, startModbusSlave, type ModbusSlave, type SlaveRequest } from '../../../simulators/modbus/index.ts'
import type { Sample } from '../../historian/historian.ts'
import { ModbusCollector } from './collector.ts'
import type { ModbusProfile } from './plan.ts'

function profile(pollIntervalMs = 100, timeoutMs = 300): ModbusProfile {
  const result = checkProfileFile(join(import.meta.dirname, '../../../hardware-profiles/generic-modbus-tcp-machine.yaml'))
  if (!result.ok || result.profile.protocol !== 'modbus') throw new Error('the shipped Modbus profile does not load')
  return { ...result.profile, connection: { ...result.profile.connection, pollIntervalMs, timeoutMs } }
}

async function plc(t: { teardown(fn: () => Promise<void>): void }) {
  const map = new RegisterMap(100)
  map.set('holding_register', 0, 2)
  map.setUint32('holding_register', 2, 1234)
  const requests: SlaveRequest[] = []
  const slave = await startModbusSlave({ units: { 1: map }, onRequest: (r) => requests.push(r) })
  t.teardown(() => slave.close())
  return { slave, map, requests }
}

function collect(t: { teardown(fn: () => Promise<void>): void }, slave: ModbusSlave, p: ModbusProfile) {
  const latest = new Map<string, Sample>()
  const collector = new ModbusCollector({ device: 'press1', host: '127.0.0.1', port: slave.port }, p, (samples) => samples.forEach((s) => latest.set(s.signal, s)), pino({ level: 'silent' }))
  collector.start()
  t.teardown(() => collector.stop())
  return { collector, state: () => latest.get('press1/state'), latest }
}

const until = async (check: () => boolean, ms = 5000) => {
  for (const deadline = Date.now() + ms; !check() && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20))
  return check()
}

t.test('a slow device: the next request waits for the answer, cycles never overlap, and overruns count as late', async (t) => {
  const { slave, requests } = await plc(t)
  const { collector, state } = collect(t, slave, profile(200, 1000))
  t.ok(await until(() => state()?.quality === 'good'))
  t.equal(collector.status().late, 0, 'on time while the device is quick')
  // Every request now takes 150 ms; the profile's three blocks make a 450 ms cycle in a 200 ms slot.
  slave.injectFault({ fault: { kind: 'delay', ms: 150 } })
  const from = requests.length
  await new Promise((resolve) => setTimeout(resolve, 1200))
  const slow = requests.slice(from + 1)
  const gaps = slow.slice(1).map((r, i) => r.at - slow[i]!.at)
  t.ok(gaps.length >= 4, `requests kept coming (${gaps.length + 1})`)
  t.ok(gaps.every((g) => g >= 145), `never a request while one is unanswered (shortest gap ${Math.min(...gaps).toFixed(0)} ms)`)
  t.ok(collector.status().late >= 2, `late cycles counted (${collector.status().late})`)
  t.equal(state()?.quality, 'good', 'slow, not bad: every answer came within the timeout')
})

t.test('a device that stops answering is Bad with a timeout; it answers again and is good', async (t) => {
  const { slave } = await plc(t)
  const { collector, state } = collect(t, slave, profile(100, 200))
  t.ok(await until(() => state()?.quality === 'good'))
  const clear = slave.injectFault({ fault: { kind: 'silence' } })
  t.ok(await until(() => state()?.quality === 'bad'))
  t.equal(state()?.reason, 'timeout: no answer within 200 ms')
  t.ok(collector.status().connected, 'a timeout is not a lost connection')
  clear()
  t.ok(await until(() => state()?.quality === 'good'))
})

t.test('a malformed answer is Bad with a clear reason, the connection is renewed, and polling goes on', async (t) => {
  const { slave } = await plc(t)
  const { collector, latest } = collect(t, slave, profile(100, 300))
  const goodCount = () => latest.get('press1/good_count')
  t.ok(await until(() => goodCount()?.quality === 'good'))
  const accepted = slave.stats().accepted
  slave.injectFault({ fault: { kind: 'malformed' }, functionCode: 0x03, times: 1 })
  t.ok(await until(() => goodCount()?.quality === 'bad'))
  t.equal(goodCount()?.reason, 'bad frame: answer of 23 data bytes (byte count 24) where 24 were asked for')
  t.ok(await until(() => goodCount()?.quality === 'good'), 'good again')
  t.equal(slave.stats().accepted, accepted + 1, 'the byte stream was not trusted after it: one new connection')
  t.match(collector.status(), { connected: true })
})

t.test('a dropped connection reconnects; a unit with no device is Bad with exception 11', async (t) => {
  const { slave } = await plc(t)
  const { state } = collect(t, slave, profile(100, 300))
  t.ok(await until(() => state()?.quality === 'good'))
  slave.dropConnections()
  t.ok(await until(() => slave.stats().accepted === 2 && state()?.quality === 'good'), 'reconnected and good')

  const latest = new Map<string, Sample>()
  const ghost = new ModbusCollector({ device: 'ghost', host: '127.0.0.1', port: slave.port, unitId: 9 }, profile(), (s) => s.forEach((x) => latest.set(x.signal, x)), pino({ level: 'silent' }))
  ghost.start()
  t.teardown(() => ghost.stop())
  t.ok(await until(() => latest.has('ghost/state')))
  t.match(latest.get('ghost/state'), { quality: 'bad', reason: 'Modbus exception 11 (gateway target device failed to respond)' })
})

t.test('an endpoint that does not fit its profile is refused at construction', async (t) => {
  const log = pino({ level: 'silent' })
  t.throws(() => new ModbusCollector({ device: 'x' }, profile(), () => {}, log), /device x: a Modbus TCP device needs host and port/)
  const rtu: ModbusProfile = { ...profile(), connection: { ...profile().connection, transport: 'rtu' } }
  t.throws(() => new ModbusCollector({ device: 'y', host: '127.0.0.1', port: 502 }, rtu, () => {}, log), /device y: its profile generic-modbus-tcp-machine says transport rtu; the device needs serial settings/)
})

t.test('a sink that throws or rejects does not end polling', async (t) => {
  const { slave } = await plc(t)
  let calls = 0
  const latest = new Map<string, Sample>()
  const sink = (samples: Sample[]) => {
    calls += 1
    if (calls === 1) throw new Error('SQLITE_FULL: database or disk is full')
    if (calls === 2) return Promise.reject(new Error('SQLITE_IOERR'))
    samples.forEach((s) => latest.set(s.signal, s))
  }
  const collector = new ModbusCollector({ device: 'press1', host: '127.0.0.1', port: slave.port }, profile(50), sink, pino({ level: 'silent' }))
  collector.start()
  t.teardown(() => collector.stop())
  t.ok(await until(() => latest.get('press1/state')?.quality === 'good'), 'samples flow once the sink works again')
  t.ok(calls > 2)
})
