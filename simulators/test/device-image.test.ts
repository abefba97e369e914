// A simulated machine reads, through each shipped profile, as that device would: states by its own codes, wrapped counters, measurements.
import { join } from 'node:path'
import t from 'tap'
import { checkProfileFile } from '../../hardware-profiles/load.ts'
import type { HardwareProfile } from '../../hardware-profiles/schema.ts'
import { deviceImage, deviceStateValue } from '../device-image.ts'
import type { MachineSnapshot } from '../model/line-model.ts'

const profile = (file: string): HardwareProfile => {
  const r = checkProfileFile(join(import.meta.dirname, '..', '..', 'hardware-profiles', file))
  if (!r.ok) throw new Error(file)
  return r.profile
}

const snapshot = (over: Partial<MachineSnapshot> = {}): MachineSnapshot => ({ name: 'm', state: 'running', since: 0, stopReason: 0, processed: 120, good: 117, defective: 3, lastCycleS: 5.5, measurements: { fill_weight: 500.4, temperature: 181.9 }, buffered: 0, ...over })

t.test('the Modbus machine: numeric state codes, counters, measurements and the cycle time', async (t) => {
  const image = deviceImage(profile('generic-modbus-tcp-machine.yaml'), snapshot())
  t.same(Object.fromEntries(image), { state: 2, good_count: 117, reject_count: 3, cycle_time: 5.5, temperature: 181.9, fault: false })
  t.same(deviceImage(profile('generic-modbus-tcp-machine.yaml'), snapshot({ state: 'down', stopReason: 101 })).get('fault'), true, 'a breakdown raises the fault coil')
  t.equal(deviceImage(profile('generic-modbus-tcp-machine.yaml'), snapshot({ good: 4294967296 + 5 })).get('good_count'), 5, 'a 32-bit counter wraps as the PLC would')
})

t.test('the PackML machine: PackML state numbers, processed and defective totals', async (t) => {
  const p = profile('packml-opcua-machine.yaml')
  const image = deviceImage(p, snapshot({ state: 'starved' }))
  t.equal(image.get('state'), 5, 'starved is Suspended')
  t.equal(image.get('processed_count'), 120)
  t.equal(image.get('defective_count'), 3)
  t.equal(deviceImage(p, snapshot({ state: 'blocked' })).get('state'), 5, 'blocked has no code of its own in PackML: Suspended too')
  t.equal(deviceImage(p, snapshot({ state: 'running' })).get('state'), 6, 'Execute')
})

t.test('the Sparkplug device: text states', async (t) => {
  const image = deviceImage(profile('sparkplug-b-device.yaml'), snapshot({ state: 'down' }))
  t.equal(image.get('state'), 'FAULT')
})

t.test('a state the profile cannot express is an error naming the signal', async (t) => {
  const signal = { name: 'state', kind: 'machine_state' as const, stateMap: { '1': 'running' as const }, metric: 'x' }
  t.throws(() => deviceStateValue(signal, 'down'), /signal 'state': its stateMap has no value for 'down'/)
})
