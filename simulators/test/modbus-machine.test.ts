// The simulated Modbus machine read by the gateway's own Modbus collector over TCP: the model's values, and each fault as the right quality.
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { ModbusCollector } from '../../edge/connectivity/modbus/collector.ts'
import { decode, type ModbusSignal } from '../../edge/connectivity/modbus/plan.ts'
import type { Sample } from '../../edge/historian/historian.ts'
import { checkProfileFile } from '../../hardware-profiles/load.ts'
import { encodeSignal, ModbusMachine } from '../modbus/machine.ts'
import { LineSimulator } from '../runner.ts'
import { checkScenarioFile } from '../scenario.ts'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'

const profiles = join(import.meta.dirname, '..', '..', 'hardware-profiles')

t.test('encoding is the collector decoding backwards, for every type and order', async (t) => {
  const base = { kind: 'value' as const, area: 'holding_register' as const, address: 0, scale: 1, offset: 0 }
  const cases: Array<[Partial<ModbusSignal>, number | string]> = [
    [{ type: 'int16' }, -1234],
    [{ type: 'uint16' }, 65000],
    [{ type: 'int32', wordOrder: 'little' }, -70000],
    [{ type: 'uint32', byteOrder: 'little' }, 4000000000],
    [{ type: 'float32' }, 12.5],
    [{ type: 'float64', wordOrder: 'little', byteOrder: 'little' }, 3.141592653589793],
    [{ type: 'int16', scale: 0.1, offset: -40 }, 25.3],
    [{ type: 'string', length: 4 }, 'PRESS-1'],
  ]
  for (const [over, value] of cases) {
    const signal = { ...base, name: 'x', wordOrder: 'big', byteOrder: 'big', ...over } as ModbusSignal
    const decoded = decode(signal, { address: 0 }, encodeSignal(signal, value))
    if (typeof value === 'number' && signal.scale !== 1) t.ok(Math.abs((decoded as number) - value) < 0.05, `${JSON.stringify(over)}: ${decoded}`)
    else if (signal.type === 'float32') t.equal(decoded, value)
    else t.equal(decoded, value, `${JSON.stringify(over)} round trip`)
  }
})

t.test('the gateway reads the simulated press, and sees every Modbus fault as the right quality', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-sim-mb-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 's.yaml'), `scenario: mb\nseed: 1\ntimeScale: 20\nmachines:\n  - name: press1\n    profile: ${profiles}/generic-modbus-tcp-machine.yaml\n    modbus: { port: 0, unitId: 1 }\n    cycleTime: { mean: 2 }\n    measurements: [{ name: temperature, mean: 180, sd: 0 }]\n`)
  const loaded = checkScenarioFile(join(dir, 's.yaml'))
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems))
  const sim = new LineSimulator(loaded.loaded, (m, p) => new ModbusMachine(m, p), { tickMs: 20 })
  const endpoints = await sim.start()
  t.teardown(() => sim.stop())
  const port = Number(/:(\d+) /.exec(endpoints.press1!)![1])
  const profile = checkProfileFile(join(profiles, 'generic-modbus-tcp-machine.yaml'))
  if (!profile.ok || profile.profile.protocol !== 'modbus') throw new Error('profile')
  const fast = { ...profile.profile, connection: { ...profile.profile.connection, pollIntervalMs: 50, timeoutMs: 200 } }
  const latest = new Map<string, Sample>()
  const collector = new ModbusCollector({ device: 'press1', host: '127.0.0.1', port }, fast, (samples) => samples.forEach((s) => latest.set(s.signal, s)), pino({ level: 'silent' }))
  collector.start()
  t.teardown(() => collector.stop())
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25))
    return check()
  }
  const get = (name: string) => latest.get(`press1/${name}`)
  t.ok(await until(() => get('state')?.value === 2 && Number(get('good_count')?.value) > 0), 'running (state 2), counting good parts')
  t.equal(get('temperature')?.value, 180, 'the measurement, scaled by the profile')
  const before = Number(get('good_count')!.value)
  t.ok(await until(() => Number(get('good_count')?.value) > before), 'the counter goes up as the model makes parts')

  const exception = sim.inject({ machine: 'press1', fault: 'modbus_exception', code: 2 })
  t.ok(await until(() => get('state')?.quality === 'bad'))
  t.match(get('state'), { quality: 'bad', reason: 'Modbus exception 2 (illegal data address)' })
  sim.clear(exception.id)
  t.ok(await until(() => get('state')?.quality === 'good'), 'good again when it is cleared')

  const silent = sim.inject({ machine: 'press1', fault: 'stop_answering' })
  t.ok(await until(() => get('state')?.quality === 'bad'))
  t.match(get('state')?.reason, /timeout/, 'a PLC that stops answering is a timeout')
  sim.clear(silent.id)
  t.ok(await until(() => get('state')?.quality === 'good'))

  const drop = sim.inject({ machine: 'press1', fault: 'drop_connections' })
  t.ok(await until(() => get('state')?.quality === 'bad'))
  t.match(get('state')?.reason, /connection/, 'dropped connections')
  sim.clear(drop.id)
  t.ok(await until(() => get('state')?.quality === 'good'), 'reconnected')

  const reset = Number(get('good_count')!.value)
  sim.inject({ machine: 'press1', fault: 'counter_reset' })
  t.ok(await until(() => Number(get('good_count')?.value) < reset), 'the counter starts again from zero')
  sim.inject({ machine: 'press1', fault: 'counter_wrap' })
  t.ok(await until(() => Number(get('good_count')?.value) > 4294967290), 'the counter jumps to just before its wrap')
  t.ok(await until(() => Number(get('good_count')?.value) < 100), 'and wraps past 4294967295 to zero')
})
