// The four Modbus data tables of one simulated device (one unit id), which a caller may read and change while the slave serves them.

/** The Modbus data model's four tables (Modbus Application Protocol V1.1b3 §4.3), named as hardware profiles name them. */
export type Area = 'coil' | 'discrete_input' | 'holding_register' | 'input_register'

export interface RegisterMapSize {
  coils: number
  discreteInputs: number
  holdingRegisters: number
  inputRegisters: number
}

/** A client's write, reported after it is applied: which table and which addresses. */
export type WriteListener = (area: 'coil' | 'holding_register', address: number, count: number) => void

const maxAddresses = 65_536

function checkSize(what: string, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > maxAddresses) throw new RangeError(`${what}: a table holds 0 to ${maxAddresses} entries, not ${n}`)
  return n
}

export class RegisterMap {
  /** One byte per coil, 0 or 1: the request loop reads and writes these directly. */
  readonly coils: Uint8Array
  readonly discreteInputs: Uint8Array
  readonly holdingRegisters: Uint16Array
  readonly inputRegisters: Uint16Array
  /**
   * Called after a client wrote coils or holding registers. A listener that throws makes the
   * slave answer exception 4 (server device failure), as a PLC that could not take the value would.
   */
  onWrite: WriteListener | null = null

  /** Every table the same size (10,000, as the classic 0xxxx/1xxxx/3xxxx/4xxxx ranges), or each its own. */
  constructor(size: number | Partial<RegisterMapSize> = 10_000) {
    const s = typeof size === 'number' ? { coils: size, discreteInputs: size, holdingRegisters: size, inputRegisters: size } : size
    this.coils = new Uint8Array(checkSize('coils', s.coils ?? 10_000))
    this.discreteInputs = new Uint8Array(checkSize('discreteInputs', s.discreteInputs ?? 10_000))
    this.holdingRegisters = new Uint16Array(checkSize('holdingRegisters', s.holdingRegisters ?? 10_000))
    this.inputRegisters = new Uint16Array(checkSize('inputRegisters', s.inputRegisters ?? 10_000))
  }

  table(area: Area): Uint8Array | Uint16Array {
    switch (area) {
      case 'coil':
        return this.coils
      case 'discrete_input':
        return this.discreteInputs
      case 'holding_register':
        return this.holdingRegisters
      case 'input_register':
        return this.inputRegisters
    }
  }

  /** Sets consecutive entries from `address`: registers as 16-bit unsigned words, bits as booleans or 0/1. */
  set(area: Area, address: number, values: number | boolean | ArrayLike<number | boolean>): void {
    const table = this.table(area)
    const list = typeof values === 'object' ? values : [values]
    if (!Number.isInteger(address) || address < 0 || address + list.length > table.length) throw new RangeError(`${area} ${address}..${address + list.length - 1} is outside this map (0..${table.length - 1})`)
    const bits = area === 'coil' || area === 'discrete_input'
    for (let i = 0; i < list.length; i++) table[address + i] = bits ? (list[i] ? 1 : 0) : Number(list[i]) & 0xffff
  }

  /** Reads consecutive entries: numbers for registers, booleans for bits. */
  get(area: 'holding_register' | 'input_register', address: number, count?: number): number[]
  get(area: 'coil' | 'discrete_input', address: number, count?: number): boolean[]
  get(area: Area, address: number, count = 1): number[] | boolean[] {
    const table = this.table(area)
    if (address < 0 || address + count > table.length) throw new RangeError(`${area} ${address}..${address + count - 1} is outside this map (0..${table.length - 1})`)
    const slice = Array.from(table.subarray(address, address + count))
    return area === 'coil' || area === 'discrete_input' ? slice.map((v) => v === 1) : slice
  }

  /** A 32-bit value across two registers, high word first unless `wordOrder` is little (CDAB). */
  setUint32(area: 'holding_register' | 'input_register', address: number, value: number, wordOrder: 'big' | 'little' = 'big'): void {
    const hi = Math.floor(value / 0x10000) & 0xffff
    const lo = value & 0xffff
    this.set(area, address, wordOrder === 'big' ? [hi, lo] : [lo, hi])
  }

  setFloat32(area: 'holding_register' | 'input_register', address: number, value: number, wordOrder: 'big' | 'little' = 'big'): void {
    const b = Buffer.alloc(4)
    b.writeFloatBE(value)
    this.setUint32(area, address, b.readUInt32BE(0), wordOrder)
  }
}
