// How the Modbus collector reaches its device: a TCP connection of its own, or turns on a shared RTU serial line; and what a failed request means.
import type { ReadBlock } from './plan.ts'
import { ModbusClient, SerialLine, describeSerial, type SerialSettings } from './serial-line.ts'
import { ModbusTcpClient } from './tcp-client.ts'

export interface ModbusLink {
  /** Where the device is, for logs and reasons: `10.0.0.5:502` or `/dev/ttyUSB0 19200 8E1`. */
  readonly name: string
  readonly isOpen: boolean
  /** Opens the transport unless it is open; rejects with the reason it cannot. */
  open(): Promise<void>
  read(unitId: number, timeoutMs: number, block: ReadBlock): Promise<number[] | boolean[]>
  /**
   * After an answer that could not be parsed. A TCP byte stream may have lost its MBAP framing and
   * is dropped; an RTU line finds the next frame by itself (the next request starts a new one).
   */
  desynchronized(): Promise<void>
  /** The collector stops: give the transport back. */
  dispose(): Promise<void>
}

function readBlock(client: ModbusClient, block: ReadBlock): Promise<{ data: number[] | boolean[] }> {
  switch (block.area) {
    case 'coil':
      return client.readCoils(block.address, block.count) // Modbus FC 0x01
    case 'discrete_input':
      return client.readDiscreteInputs(block.address, block.count) // Modbus FC 0x02
    case 'holding_register':
      return client.readHoldingRegisters(block.address, block.count) // Modbus FC 0x03
    case 'input_register':
      return client.readInputRegisters(block.address, block.count) // Modbus FC 0x04
  }
}

/**
 * Modbus TCP: one connection per device, so one device's slow answers never hold up another's.
 * Polled with the lean client in tcp-client.ts rather than modbus-serial, whose TCP path allocates
 * some 15 kB per 100-register poll, computes an RTU CRC for every TCP frame and keeps each
 * device's last 256 answers alive in its transaction table.
 */
export class TcpLink implements ModbusLink {
  readonly name: string
  readonly #host: string
  readonly #port: number
  readonly #connectTimeoutMs: number
  #client: ModbusTcpClient | null = null

  constructor(host: string, port: number, connectTimeoutMs: number) {
    this.name = `${host}:${port}`
    this.#host = host
    this.#port = port
    this.#connectTimeoutMs = connectTimeoutMs
  }

  get isOpen(): boolean {
    return this.#client?.isOpen ?? false
  }

  async open(): Promise<void> {
    if (this.isOpen) return
    this.#client?.destroy()
    this.#client = null
    this.#client = await ModbusTcpClient.connect(this.#host, this.#port, this.#connectTimeoutMs)
  }

  read(unitId: number, timeoutMs: number, block: ReadBlock): Promise<number[] | boolean[]> {
    if (!this.#client) return Promise.reject(Object.assign(new Error('not connected'), { code: 'ENOTCONN' }))
    return this.#client.read(unitId, block.area, block.address, block.count, timeoutMs)
  }

  async desynchronized(): Promise<void> {
    this.#client?.destroy()
  }

  async dispose(): Promise<void> {
    // destroy, not a graceful end: that would wait for a peer that may never answer again.
    this.#client?.destroy()
    this.#client = null
  }
}

/** Modbus RTU: the device's unit id on a serial line it may share with others. */
export class RtuLink implements ModbusLink {
  readonly name: string
  readonly #line: SerialLine

  constructor(settings: SerialSettings) {
    this.name = describeSerial(settings)
    this.#line = SerialLine.acquire(settings)
  }

  get isOpen(): boolean {
    return this.#line.isOpen
  }

  open(): Promise<void> {
    return this.#line.open()
  }

  async read(unitId: number, timeoutMs: number, block: ReadBlock): Promise<number[] | boolean[]> {
    return (await this.#line.transact(unitId, timeoutMs, (client) => readBlock(client, block))).data
  }

  async desynchronized(): Promise<void> {}

  dispose(): Promise<void> {
    return this.#line.release()
  }
}

interface ModbusError {
  modbusCode?: number
  errno?: string
  code?: string
  name?: string
  message?: string
}

// Modbus exception codes (Modbus Application Protocol V1.1b3 §7).
const exceptionNames: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
}

export type FailureKind = 'exception' | 'timeout' | 'frame' | 'connection'

/**
 * What a failed request means. An exception is the device's own answer; a timeout is a device
 * that did not answer; a frame error is an answer that could not be parsed (tcp-client.ts, and
 * modbus-serial on RTU, check length, unit, function and, on RTU, the CRC); anything else is the transport.
 */
export function describeModbusError(error: unknown, timeoutMs?: number): { reason: string; kind: FailureKind } {
  const e = (error ?? {}) as ModbusError
  if (typeof e.modbusCode === 'number') return { reason: `Modbus exception ${e.modbusCode} (${exceptionNames[e.modbusCode] ?? 'unknown'})`, kind: 'exception' }
  if (e.name === 'TransactionTimedOutError' || e.name === 'ModbusTimeoutError') return { reason: `timeout: no answer${timeoutMs === undefined ? ' in time' : ` within ${timeoutMs} ms`}`, kind: 'timeout' }
  const message = e.message ?? ''
  if (e.name === 'ModbusResponseError' || /^(CRC error|Data length error|Unexpected data error)/.test(message)) return { reason: `bad frame: ${message}`, kind: 'frame' }
  if (e.name === 'SerialLineClosedError') return { reason: `connection: ${message}`, kind: 'connection' }
  return { reason: `connection: ${e.code ?? e.errno ?? (message || 'lost')}`, kind: 'connection' }
}
