// The Modbus functions the simulator answers, as pure functions from a request PDU and a register map to the response PDU.
import type { RegisterMap } from './register-map.ts'

// Exception codes (Modbus Application Protocol V1.1b3 §7).
export const ILLEGAL_FUNCTION = 0x01
export const ILLEGAL_DATA_ADDRESS = 0x02
export const ILLEGAL_DATA_VALUE = 0x03
export const SERVER_DEVICE_FAILURE = 0x04
export const GATEWAY_TARGET_FAILED = 0x0b

/** What a request asks for, read from its PDU without judging it (for fault rules and request logs). */
export interface RequestSummary {
  functionCode: number
  address: number
  quantity: number
}

export function summarize(pdu: Buffer): RequestSummary {
  const functionCode = pdu[0] ?? 0
  const address = pdu.length >= 3 ? pdu.readUInt16BE(1) : 0
  const single = functionCode === 0x05 || functionCode === 0x06
  const quantity = single ? 1 : pdu.length >= 5 ? pdu.readUInt16BE(3) : 0
  return { functionCode, address, quantity }
}

/**
 * The response PDU to `pdu`, written after `headroom` spare bytes so the caller can put the MBAP
 * header in front without another copy.
 */
export function answer(map: RegisterMap, pdu: Buffer, headroom = 0): Buffer {
  const functionCode = pdu[0] ?? 0
  switch (functionCode) {
    case 0x01: // Modbus FC 0x01 Read Coils (§6.1)
      return readBits(map.coils, pdu, headroom)
    case 0x02: // Modbus FC 0x02 Read Discrete Inputs (§6.2)
      return readBits(map.discreteInputs, pdu, headroom)
    case 0x03: // Modbus FC 0x03 Read Holding Registers (§6.3)
      return readRegisters(map.holdingRegisters, pdu, headroom)
    case 0x04: // Modbus FC 0x04 Read Input Registers (§6.4)
      return readRegisters(map.inputRegisters, pdu, headroom)
    case 0x05:
      return writeSingleCoil(map, pdu, headroom)
    case 0x06:
      return writeSingleRegister(map, pdu, headroom)
    case 0x0f:
      return writeMultipleCoils(map, pdu, headroom)
    case 0x10:
      return writeMultipleRegisters(map, pdu, headroom)
    default:
      return exception(functionCode, ILLEGAL_FUNCTION, headroom)
  }
}

export function exception(functionCode: number, code: number, headroom = 0): Buffer {
  const out = Buffer.allocUnsafe(headroom + 2)
  out[headroom] = (functionCode | 0x80) & 0xff
  out[headroom + 1] = code
  return out
}

/** A request whose length does not fit its function: the spec's "implied length is incorrect" (exception 3, §7). */
const wrongLength = (pdu: Buffer, expected: number) => pdu.length !== expected

function readBits(table: Uint8Array, pdu: Buffer, headroom: number): Buffer {
  const fc = pdu[0]!
  if (wrongLength(pdu, 5)) return exception(fc, ILLEGAL_DATA_VALUE, headroom)
  const address = pdu.readUInt16BE(1)
  const quantity = pdu.readUInt16BE(3)
  if (quantity < 1 || quantity > 0x07d0) return exception(fc, ILLEGAL_DATA_VALUE, headroom)
  if (address + quantity > table.length) return exception(fc, ILLEGAL_DATA_ADDRESS, headroom)
  const byteCount = (quantity + 7) >> 3
  const out = Buffer.alloc(headroom + 2 + byteCount)
  out[headroom] = fc
  out[headroom + 1] = byteCount
  // The first bit requested is the least significant bit of the first data byte (§6.1).
  for (let i = 0; i < quantity; i++) if (table[address + i]) out[headroom + 2 + (i >> 3)]! |= 1 << (i & 7)
  return out
}

function readRegisters(table: Uint16Array, pdu: Buffer, headroom: number): Buffer {
  const fc = pdu[0]!
  if (wrongLength(pdu, 5)) return exception(fc, ILLEGAL_DATA_VALUE, headroom)
  const address = pdu.readUInt16BE(1)
  const quantity = pdu.readUInt16BE(3)
  if (quantity < 1 || quantity > 0x7d) return exception(fc, ILLEGAL_DATA_VALUE, headroom)
  if (address + quantity > table.length) return exception(fc, ILLEGAL_DATA_ADDRESS, headroom)
  const out = Buffer.allocUnsafe(headroom + 2 + 2 * quantity)
  out[headroom] = fc
  out[headroom + 1] = 2 * quantity
  let at = headroom + 2
  for (let i = address; i < address + quantity; i++) {
    const word = table[i]!
    out[at++] = word >> 8
    out[at++] = word & 0xff
  }
  return out
}

/** Calls the map's write listener; one that throws is a device that could not take the value. */
function notify(map: RegisterMap, area: 'coil' | 'holding_register', address: number, count: number): boolean {
  try {
    map.onWrite?.(area, address, count)
    return true
  } catch {
    return false
  }
}

/** FC 0x05/0x06/0x0F/0x10 answer with the first 5 bytes of the request: function, address and value or quantity. */
function echo(pdu: Buffer, headroom: number): Buffer {
  const out = Buffer.allocUnsafe(headroom + 5)
  pdu.copy(out, headroom, 0, 5)
  return out
}

// Modbus FC 0x05 Write Single Coil (§6.5): 0xFF00 is on, 0x0000 off, anything else is refused.
function writeSingleCoil(map: RegisterMap, pdu: Buffer, headroom: number): Buffer {
  if (wrongLength(pdu, 5)) return exception(0x05, ILLEGAL_DATA_VALUE, headroom)
  const address = pdu.readUInt16BE(1)
  const value = pdu.readUInt16BE(3)
  if (value !== 0xff00 && value !== 0x0000) return exception(0x05, ILLEGAL_DATA_VALUE, headroom)
  if (address >= map.coils.length) return exception(0x05, ILLEGAL_DATA_ADDRESS, headroom)
  map.coils[address] = value === 0xff00 ? 1 : 0
  return notify(map, 'coil', address, 1) ? echo(pdu, headroom) : exception(0x05, SERVER_DEVICE_FAILURE, headroom)
}

// Modbus FC 0x06 Write Single Register (§6.6).
function writeSingleRegister(map: RegisterMap, pdu: Buffer, headroom: number): Buffer {
  if (wrongLength(pdu, 5)) return exception(0x06, ILLEGAL_DATA_VALUE, headroom)
  const address = pdu.readUInt16BE(1)
  if (address >= map.holdingRegisters.length) return exception(0x06, ILLEGAL_DATA_ADDRESS, headroom)
  map.holdingRegisters[address] = pdu.readUInt16BE(3)
  return notify(map, 'holding_register', address, 1) ? echo(pdu, headroom) : exception(0x06, SERVER_DEVICE_FAILURE, headroom)
}

// Modbus FC 0x0F Write Multiple Coils (§6.11): 1 to 1968 coils, and the byte count must match the quantity.
function writeMultipleCoils(map: RegisterMap, pdu: Buffer, headroom: number): Buffer {
  if (pdu.length < 6) return exception(0x0f, ILLEGAL_DATA_VALUE, headroom)
  const address = pdu.readUInt16BE(1)
  const quantity = pdu.readUInt16BE(3)
  const byteCount = pdu[5]!
  if (quantity < 1 || quantity > 0x07b0 || byteCount !== (quantity + 7) >> 3 || pdu.length !== 6 + byteCount) return exception(0x0f, ILLEGAL_DATA_VALUE, headroom)
  if (address + quantity > map.coils.length) return exception(0x0f, ILLEGAL_DATA_ADDRESS, headroom)
  for (let i = 0; i < quantity; i++) map.coils[address + i] = (pdu[6 + (i >> 3)]! >> (i & 7)) & 1
  return notify(map, 'coil', address, quantity) ? echo(pdu, headroom) : exception(0x0f, SERVER_DEVICE_FAILURE, headroom)
}

// Modbus FC 0x10 Write Multiple Registers (§6.12): 1 to 123 registers, byte count twice the quantity.
function writeMultipleRegisters(map: RegisterMap, pdu: Buffer, headroom: number): Buffer {
  if (pdu.length < 6) return exception(0x10, ILLEGAL_DATA_VALUE, headroom)
  const address = pdu.readUInt16BE(1)
  const quantity = pdu.readUInt16BE(3)
  const byteCount = pdu[5]!
  if (quantity < 1 || quantity > 0x7b || byteCount !== 2 * quantity || pdu.length !== 6 + byteCount) return exception(0x10, ILLEGAL_DATA_VALUE, headroom)
  if (address + quantity > map.holdingRegisters.length) return exception(0x10, ILLEGAL_DATA_ADDRESS, headroom)
  for (let i = 0; i < quantity; i++) map.holdingRegisters[address + i] = pdu.readUInt16BE(6 + 2 * i)
  return notify(map, 'holding_register', address, quantity) ? echo(pdu, headroom) : exception(0x10, SERVER_DEVICE_FAILURE, headroom)
}
