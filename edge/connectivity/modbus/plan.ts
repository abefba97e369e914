// Modbus read planning and decoding: adjacent points coalesced into few requests, values decoded by type, order and scale.
import type { HardwareProfile } from '../../../hardware-profiles/schema.ts'

export type ModbusProfile = Extract<HardwareProfile, { protocol: 'modbus' }>
export type ModbusSignal = ModbusProfile['signals'][number]
export type Area = ModbusSignal['area']

/** Registers (16-bit words) a value of a type occupies. */
export function wordsOf(signal: Pick<ModbusSignal, 'type' | 'length'>): number {
  switch (signal.type) {
    case 'bit':
    case 'int16':
    case 'uint16':
      return 1
    case 'int32':
    case 'uint32':
    case 'float32':
      return 2
    case 'float64':
      return 4
    case 'string':
      return signal.length ?? 1
  }
}

export interface ReadBlock {
  area: Area
  address: number
  count: number
  signals: ModbusSignal[]
}

// Modbus application protocol limits per request: FC 0x03/0x04 read at most 125 registers, FC 0x01/0x02 2000 bits.
const maxCount: Record<Area, number> = { holding_register: 125, input_register: 125, coil: 2000, discrete_input: 2000 }

/**
 * Coalesces signals of one area into blocks: a gap of up to `maxGap` unused registers is read
 * rather than paying for another round trip, and no block exceeds the protocol's limit.
 */
export function planReads(signals: ModbusSignal[], maxGap = 8): ReadBlock[] {
  const blocks: ReadBlock[] = []
  const areas: Area[] = ['coil', 'discrete_input', 'holding_register', 'input_register']
  for (const area of areas) {
    const inArea = signals.filter((s) => s.area === area).sort((a, b) => a.address - b.address)
    let current: ReadBlock | undefined
    for (const s of inArea) {
      const end = s.address + (area === 'coil' || area === 'discrete_input' ? 1 : wordsOf(s))
      if (current && s.address <= current.address + current.count + maxGap && end - current.address <= maxCount[area]) {
        current.count = Math.max(current.count, end - current.address)
        current.signals.push(s)
      } else {
        current = { area, address: s.address, count: end - s.address, signals: [s] }
        blocks.push(current)
      }
    }
  }
  return blocks
}

/** The bytes of `count` registers starting at `offset`, reordered to big-endian by the signal's word and byte order. */
function bytesOf(words: ArrayLike<number>, offset: number, count: number, wordOrder: 'big' | 'little', byteOrder: 'big' | 'little'): Buffer {
  const out = Buffer.alloc(count * 2)
  for (let i = 0; i < count; i++) {
    const w = words[offset + (wordOrder === 'big' ? i : count - 1 - i)] ?? 0
    const hi = (w >> 8) & 0xff
    const lo = w & 0xff
    out[i * 2] = byteOrder === 'big' ? hi : lo
    out[i * 2 + 1] = byteOrder === 'big' ? lo : hi
  }
  return out
}

/** Decodes one signal from the registers (or bits) a block read returned. */
export function decode(signal: ModbusSignal, block: { address: number }, data: ArrayLike<number> | ArrayLike<boolean>): number | string | boolean {
  const offset = signal.address - block.address
  if (signal.area === 'coil' || signal.area === 'discrete_input') return Boolean((data as ArrayLike<boolean>)[offset])
  const words = data as ArrayLike<number>
  if (signal.type === 'bit') return (((words[offset] ?? 0) >> (signal.bit ?? 0)) & 1) === 1
  const b = bytesOf(words, offset, wordsOf(signal), signal.wordOrder, signal.byteOrder)
  if (signal.type === 'string') return b.toString('latin1').replace(/\0+$/, '')
  const raw = {
    int16: () => b.readInt16BE(0),
    uint16: () => b.readUInt16BE(0),
    int32: () => b.readInt32BE(0),
    uint32: () => b.readUInt32BE(0),
    float32: () => b.readFloatBE(0),
    float64: () => b.readDoubleBE(0),
  }[signal.type]()
  return raw * signal.scale + signal.offset
}
