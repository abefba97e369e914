// A simulated Modbus TCP machine: the device image written into the register map its profile describes, served by the fast slave, with faults.
import type { HardwareProfile } from '../../hardware-profiles/schema.ts'
import { wordsOf, type ModbusSignal } from '../../edge/connectivity/modbus/plan.ts'
import type { DeviceImage, MachineAdapter } from '../runner.ts'
import type { Fault, ScenarioMachine } from '../scenario.ts'
import { RegisterMap } from './register-map.ts'
import { ModbusSlave } from './slave.ts'

type ModbusProfile = Extract<HardwareProfile, { protocol: 'modbus' }>

const scratch = new DataView(new ArrayBuffer(8))

/**
 * The registers that hold `value` for `signal`: the inverse of the collector's decoding (raw =
 * (value − offset) / scale, then type, byte order and word order).
 */
export function encodeSignal(signal: ModbusSignal, value: number | string | boolean): number[] {
  const n = wordsOf(signal)
  if (signal.type === 'string') {
    const text = String(value).padEnd(n * 2, '\0').slice(0, n * 2)
    return Array.from({ length: n }, (_, i) => {
      const [a, b] = [text.charCodeAt(2 * i) & 0xff, text.charCodeAt(2 * i + 1) & 0xff]
      return signal.byteOrder === 'big' ? (a << 8) | b : (b << 8) | a
    })
  }
  const raw = (Number(value) - signal.offset) / signal.scale
  switch (signal.type) {
    case 'bit':
      return [value ? 1 << (signal.bit ?? 0) : 0]
    case 'int16':
      scratch.setInt16(0, Math.round(raw))
      break
    case 'uint16':
      scratch.setUint16(0, Math.round(raw) & 0xffff)
      break
    case 'int32':
      scratch.setInt32(0, Math.round(raw))
      break
    case 'uint32':
      scratch.setUint32(0, Math.round(raw) >>> 0)
      break
    case 'float32':
      scratch.setFloat32(0, raw)
      break
    case 'float64':
      scratch.setFloat64(0, raw)
      break
  }
  const words = Array.from({ length: n }, (_, i) => {
    const w = scratch.getUint16(i * 2)
    return signal.byteOrder === 'big' ? w : ((w & 0xff) << 8) | ((w >> 8) & 0xff)
  })
  return signal.wordOrder === 'big' ? words : words.reverse()
}

export class ModbusMachine implements MachineAdapter {
  readonly #machine: ScenarioMachine
  readonly #profile: ModbusProfile
  readonly #map = new RegisterMap()
  readonly #slave: ModbusSlave
  readonly #faults = new Map<Fault, () => void>()

  constructor(machine: ScenarioMachine, profile: HardwareProfile, host = '127.0.0.1') {
    if (!machine.modbus || profile.protocol !== 'modbus') throw new Error(`machine '${machine.name}' is not a Modbus machine`)
    this.#machine = machine
    this.#profile = profile
    this.#slave = new ModbusSlave({ host, port: machine.modbus.port, units: { [machine.modbus.unitId]: this.#map } })
  }

  async start(): Promise<string> {
    const address = await this.#slave.listen()
    return `${address.address}:${address.port} unit ${this.#machine.modbus!.unitId}`
  }

  update(image: DeviceImage): void {
    for (const s of this.#profile.signals) {
      const value = image.get(s.name)
      if (value === undefined) continue
      if (s.area === 'coil' || s.area === 'discrete_input') this.#map.set(s.area, s.address, Boolean(value))
      else if (s.type === 'bit') {
        const word = this.#map.get(s.area, s.address)[0] ?? 0
        const mask = 1 << (s.bit ?? 0)
        this.#map.set(s.area, s.address, value ? word | mask : word & ~mask)
      } else this.#map.set(s.area, s.address, encodeSignal(s, value))
    }
  }

  fault(f: Fault, on: boolean): void {
    if (!on) {
      this.#faults.get(f)?.()
      this.#faults.delete(f)
      return
    }
    if (f.fault === 'drop_connections') {
      // Drop what is open and every connection that comes while the fault lasts.
      this.#slave.dropConnections()
      const remove = this.#slave.injectFault({ fault: { kind: 'drop' } })
      this.#faults.set(f, remove)
    } else if (f.fault === 'stop_answering') this.#faults.set(f, this.#slave.injectFault({ fault: { kind: 'silence' } }))
    else if (f.fault === 'slow') this.#faults.set(f, this.#slave.injectFault({ fault: { kind: 'delay', ms: f.delayMs ?? 0 } }))
    else if (f.fault === 'modbus_exception') this.#faults.set(f, this.#slave.injectFault({ fault: { kind: 'exception', code: f.code ?? 4 } }))
  }

  async stop(): Promise<void> {
    await this.#slave.close()
  }
}
