// The Modbus collector over RTU: Debian's pymodbus RTU server on a socat pseudo-terminal pair, two machines on one line, an exception, the line unplugged and back.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { checkProfileFile } from '../../../hardware-profiles/load.ts'
import { startPymodbusRtu, startSerialPair } from '../../../test/peers/serial-pair.ts'
import type { Sample } from '../../historian/historian.ts'
import { ModbusCollector, type SerialSettings } from './collector.ts'
import type { ModbusProfile } from './plan.ts'
import { SerialLine, silentIntervalMs } from './serial-line.ts'

const root = join(import.meta.dirname, '../../..')

function rtuProfile(timeoutMs = 300): ModbusProfile {
  const result = checkProfileFile(join(root, 'hardware-profiles/generic-modbus-tcp-machine.yaml'))
  if (!result.ok || result.profile.protocol !== 'modbus') throw new Error('the shipped Modbus profile does not load')
  return { ...result.profile, connection: { ...result.profile.connection, transport: 'rtu', timeoutMs } }
}

async function line(t: { teardown(fn: () => Promise<void> | void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'takt-rtu-'))
  let pair = await startSerialPair(dir)
  let plc = await startPymodbusRtu(pair.plc, 19_200, 'N')
  const serial: SerialSettings = { path: pair.gateway, baudRate: 19_200, parity: 'none', dataBits: 8, stopBits: 1 }
  t.teardown(async () => {
    await plc.stop()
    await pair.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    serial,
    async unplug() {
      await plc.stop()
      await pair.stop()
    },
    async plugIn() {
      pair = await startSerialPair(dir)
      plc = await startPymodbusRtu(pair.plc, 19_200, 'N')
    },
  }
}

function collect(t: { teardown(fn: () => Promise<void>): void }, device: string, serial: SerialSettings, p: ModbusProfile, unitId?: number) {
  const latest = new Map<string, Sample>()
  const collector = new ModbusCollector({ device, serial, ...(unitId === undefined ? {} : { unitId }) }, p, (samples) => samples.forEach((s) => latest.set(s.signal, s)), pino({ level: 'silent' }))
  collector.start()
  t.teardown(() => collector.stop())
  const value = (name: string) => latest.get(`${device}/${name}`)
  return { collector, latest, value }
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  return check()
}

t.test('the shipped profile read over RTU from a pymodbus PLC', async (t) => {
  const { serial } = await line(t)
  const { collector, latest, value } = collect(t, 'press1', serial, rtuProfile())
  t.ok(await until(() => latest.size === 6 && [...latest.values()].every((s) => s.quality === 'good')), 'every signal arrives with good quality')
  t.equal(value('state')?.value, 2)
  t.equal(value('good_count')?.value, 1234, 'uint32 across two registers')
  t.equal(value('cycle_time')?.value, 12.5, 'float32')
  t.equal(value('temperature')?.value, 653 * 0.1, 'input register, scaled')
  t.equal(value('fault')?.value, true, 'coil')
  t.ok(collector.status().connected)
  t.equal(collector.status().lastError, null)
})

t.test('an RTU exception response is Bad quality with its reason; the rest stays good', async (t) => {
  const { serial } = await line(t)
  const p = rtuProfile()
  const broken: ModbusProfile = { ...p, signals: [...p.signals, { ...p.signals[1]!, name: 'missing', address: 5000 }] }
  const { value } = collect(t, 'press1', serial, broken)
  t.ok(await until(() => value('missing') !== undefined && value('state')?.quality === 'good'))
  t.match(value('missing'), { quality: 'bad', value: null, reason: 'Modbus exception 2 (illegal data address)' })
  t.equal(value('good_count')?.quality, 'good', 'other blocks are unaffected')
})

t.test('two machines share one line: both read, one request on the wire at a time; a silent unit times out alone', async (t) => {
  const { serial } = await line(t)
  const a = collect(t, 'press1', serial, rtuProfile(), 1)
  const b = collect(t, 'press2', serial, rtuProfile(), 2)
  const ghost = collect(t, 'press9', serial, rtuProfile(150), 9)
  t.ok(await until(() => a.value('state')?.quality === 'good' && b.value('state')?.quality === 'good' && ghost.value('state') !== undefined))
  t.equal(a.value('state')?.value, 2, 'unit 1')
  t.equal(b.value('state')?.value, 3, 'unit 2, same line')
  t.match(ghost.value('state'), { quality: 'bad', reason: 'timeout: no answer within 150 ms' }, 'no machine answers unit 9')
  const cycles = [a.collector.status().cycles, b.collector.status().cycles]
  await new Promise((resolve) => setTimeout(resolve, 1000))
  t.ok(a.collector.status().cycles > cycles[0]! && b.collector.status().cycles > cycles[1]!, 'both keep polling beside the silent one')
  t.equal(b.value('good_count')?.value, 1234)
  t.same([a.collector.status().lastError, b.collector.status().lastError], [null, null], 'not one failed request for units 1 and 2: requests never overlap on the wire')
})

t.test('the line unplugged turns Bad with a connection reason and recovers when it is back', async (t) => {
  const plug = await line(t)
  const { collector, value } = collect(t, 'press1', plug.serial, rtuProfile())
  t.ok(await until(() => value('state')?.quality === 'good'), 'connected')
  await plug.unplug()
  t.ok(await until(() => value('state')?.quality === 'bad' && !collector.status().connected), 'Bad quality while the line is gone')
  t.match(value('state')?.reason, /^(connection: serial line .* is closed|timeout)/)
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.match(collector.status().lastError, /^connection: serial line .*gateway 19200 8N1 is closed \(cannot open/, 'while it is gone, the reason says the port cannot be opened')
  await plug.plugIn()
  t.ok(await until(() => value('state')?.quality === 'good' && collector.status().connected), 'good again after reopening')
  t.equal(value('state')?.value, 2)
})

t.test('one serial path has one set of settings', async (t) => {
  const settings: SerialSettings = { path: '/dev/ttyTAKT-none', baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 }
  const first = SerialLine.acquire(settings)
  const second = SerialLine.acquire({ ...settings })
  t.equal(first, second, 'devices on one path share the line')
  t.throws(() => SerialLine.acquire({ ...settings, baudRate: 19_200 }), /already in use as \/dev\/ttyTAKT-none 9600 8N1; .* not \/dev\/ttyTAKT-none 19200 8N1/)
  await first.release()
  await second.release()
  t.not(SerialLine.acquire({ ...settings, baudRate: 19_200 }), first, 'once released, the path can be opened with other settings')
  t.equal(silentIntervalMs(settings), (3.5 * 10 * 1000) / 9600, '3.5 characters of 10 bits at 9600 baud')
  t.equal(silentIntervalMs({ ...settings, baudRate: 115_200 }), 1.75, 'fixed 1.75 ms above 19200 baud')
})
