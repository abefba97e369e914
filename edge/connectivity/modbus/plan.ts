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

// One scratch word image reused by every decode: decoding 50,000 samples a second must not allocate a Buffer each.
const scratch = new DataView(new ArrayBuffer(8))

/** Copies `count` registers from `offset` into the scratch image, reordered to big-endian by the signal's word and byte order. */
function load(words: ArrayLike<number>, offset: number, count: number, wordOrder: 'big' | 'little', byteOrder: 'big' | 'little'): void {
  for (let i = 0; i < count; i++) {
    const w = words[offset + (wordOrder === 'big' ? i : count - 1 - i)] ?? 0
    scratch.setUint16(i * 2, byteOrder === 'big' ? w : ((w & 0xff) << 8) | ((w >> 8) & 0xff))
  }
}

/** Registers as text, two Latin-1 characters each, in the signal's byte order; trailing NULs dropped. */
function text(words: ArrayLike<number>, offset: number, count: number, byteOrder: 'big' | 'little'): string {
  let out = ''
  for (let i = 0; i < count; i++) {
    const w = words[offset + i] ?? 0
    const [first, second] = byteOrder === 'big' ? [(w >> 8) & 0xff, w & 0xff] : [w & 0xff, (w >> 8) & 0xff]
    out += String.fromCharCode(first, second)
  }
  return out.replace(/\0+$/, '')
}

/** Decodes one signal from the registers (or bits) a block read returned. */
export function decode(signal: ModbusSignal, block: { address: number }, data: ArrayLike<number> | ArrayLike<boolean>): number | string | boolean {
  const offset = signal.address - block.address
  if (signal.area === 'coil' || signal.area === 'discrete_input') return Boolean((data as ArrayLike<boolean>)[offset])
  const words = data as ArrayLike<number>
  if (signal.type === 'bit') return (((words[offset] ?? 0) >> (signal.bit ?? 0)) & 1) === 1
  if (signal.type === 'string') return text(words, offset, wordsOf(signal), signal.byteOrder)
  load(words, offset, wordsOf(signal), signal.wordOrder, signal.byteOrder)
  let raw: number
  switch (signal.type) {
    case 'int16':
      raw = scratch.getInt16(0)
      break
    case 'uint16':
      raw = scratch.getUint16(0)
      break
    case 'int32':
      raw = scratch.getInt32(0)
      break
    case 'uint32':
      raw = scratch.getUint32(0)
      break
    case 'float32':
      raw = scratch.getFloat32(0)
      break
    case 'float64':
      raw = scratch.getFloat64(0)
      break
  }
  return signal.scale === 1 && signal.offset === 0 ? raw : raw * signal.scale + signal.offset
}
