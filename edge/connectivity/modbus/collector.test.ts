// The Modbus collector against Debian's pymodbus server: values, an exception response, a dropped connection.
import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import t from 'tap'
import { freePort } from '../../../test/helpers/client.ts'
import { checkProfileFile } from '../../../hardware-profiles/load.ts'
import type { Sample } from '../../historian/historian.ts'
import { ModbusCollector } from './collector.ts'
import type { ModbusProfile } from './plan.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')
const server = join(root, 'test/peers/pymodbus_server.py')

function startPlc(port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', [server, String(port)], { stdio: ['ignore', 'pipe', 'ignore'] })
    child.once('error', reject)
    child.stdout!.once('data', () => setTimeout(() => resolve(child), 300))
  })
}
const stopPlc = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGKILL'))))

function profile(): ModbusProfile {
  const result = checkProfileFile(join(root, 'hardware-profiles/generic-modbus-tcp-machine.yaml'))
  if (!result.ok || result.profile.protocol !== 'modbus') throw new Error('the shipped Modbus profile does not load')
  return result.profile
}

function collect(t: { teardown(fn: () => Promise<void>): void }, port: number, p: ModbusProfile) {
  const latest = new Map<string, Sample>()
  const collector = new ModbusCollector({ device: 'press1', host: '127.0.0.1', port }, p, (samples) => samples.forEach((s) => latest.set(s.signal, s)), pino({ level: 'silent' }))
  collector.start()
  t.teardown(() => collector.stop())
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    return check()
  }
  return { collector, latest, until }
}

t.test('the shipped Modbus profile read from a pymodbus PLC', async (t) => {
  const port = await freePort()
  const plc = await startPlc(port)
  t.teardown(() => stopPlc(plc))
  const { collector, latest, until } = collect(t, port, profile())
  t.ok(await until(() => latest.size === 6 && [...latest.values()].every((s) => s.quality === 'good')), 'every signal arrives with good quality')
  const value = (name: string) => latest.get(`press1/${name}`)?.value
  t.equal(value('state'), 2)
  t.equal(value('good_count'), 1234, 'uint32 across two registers')
  t.equal(value('reject_count'), 5)
  t.equal(value('cycle_time'), 12.5, 'float32')
  t.equal(value('temperature'), 653 * 0.1, 'input register, scaled')
  t.equal(value('fault'), true, 'coil')
  t.ok(collector.status().connected)
})

t.test('an exception response is Bad quality with its reason; the rest stays good', async (t) => {
  const port = await freePort()
  const plc = await startPlc(port)
  t.teardown(() => stopPlc(plc))
  const p = profile()
  const broken: ModbusProfile = { ...p, signals: [...p.signals, { ...p.signals[1]!, name: 'missing', address: 5000 }] }
  const { latest, until } = collect(t, port, broken)
  t.ok(await until(() => latest.has('press1/missing') && latest.get('press1/state')?.quality === 'good'))
  t.match(latest.get('press1/missing'), { quality: 'bad', value: null, reason: 'Modbus exception 2 (illegal data address)' })
  t.equal(latest.get('press1/good_count')?.quality, 'good', 'other blocks are unaffected')
})

t.test('a dropped connection turns Bad and recovers when the PLC is back', async (t) => {
  const port = await freePort()
  let plc = await startPlc(port)
  t.teardown(() => stopPlc(plc))
  const { collector, latest, until } = collect(t, port, profile())
  t.ok(await until(() => latest.get('press1/state')?.quality === 'good'), 'connected')
  await stopPlc(plc)
  t.ok(await until(() => latest.get('press1/state')?.quality === 'bad'), 'Bad quality while the PLC is gone')
  t.match(latest.get('press1/state')?.reason, /connection|timeout/)
  t.notOk(collector.status().connected)
  plc = await startPlc(port)
  t.ok(await until(() => latest.get('press1/state')?.quality === 'good'), 'good again after the reconnect')
  t.equal(latest.get('press1/state')?.value, 2)
})
