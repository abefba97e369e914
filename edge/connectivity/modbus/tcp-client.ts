// A lean Modbus TCP client for the collector: one request in flight, every field of the answer checked, little garbage per poll.
import { connect, type Socket } from 'node:net'
import type { Area } from './plan.ts'

// Function codes by data table (Modbus Application Protocol V1.1b3 §6.1–6.4).
const readFunction: Record<Area, number> = { coil: 0x01, discrete_input: 0x02, holding_register: 0x03, input_register: 0x04 }

/** The device answered with an exception (§7). */
export class ModbusExceptionError extends Error {
  readonly modbusCode: number
  constructor(functionCode: number, code: number) {
    super(`Modbus exception ${code} to function 0x${functionCode.toString(16).padStart(2, '0')}`)
    this.name = 'ModbusExceptionError'
    this.modbusCode = code
  }
}

/** No answer within the timeout. */
export class ModbusTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`)
    this.name = 'ModbusTimeoutError'
  }
}

/** An answer that is not a well-formed answer to the request: the byte stream can no longer be trusted. */
export class ModbusResponseError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ModbusResponseError'
  }
}

interface Pending {
  transactionId: number
  unitId: number
  functionCode: number
  count: number
  resolve: (data: number[] | boolean[]) => void
  reject: (error: Error) => void
}

// MBAP header, Modbus Messaging on TCP/IP Implementation Guide V1.0b §3.1.3: transaction id (2),
// protocol id (2, 0), length (2: unit id and PDU), unit id (1).
const MBAP = 7

export class ModbusTcpClient {
  readonly #socket: Socket
  #timer: NodeJS.Timeout | null = null
  #transactionId = 0
  #pending: Pending | null = null
  #input: Buffer | null = null
  #closedBecause: string | null = null

  private constructor(socket: Socket) {
    this.#socket = socket
    socket.on('data', (chunk: Buffer) => this.#receive(chunk))
    socket.on('error', (error: NodeJS.ErrnoException) => (this.#closedBecause ??= error.code ?? error.message))
    socket.on('close', () => {
      this.#closedBecause ??= 'closed by the device'
      this.#settle(Object.assign(new Error(`connection ${this.#closedBecause}`), { code: this.#closedBecause }))
    })
  }

  /** Connects; `timeoutMs` also bounds the TCP handshake (an unplugged PLC drops SYNs rather than refusing). */
  static connect(host: string, port: number, timeoutMs: number): Promise<ModbusTcpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true })
      const timer = setTimeout(() => {
        socket.destroy()
        reject(Object.assign(new Error(`no TCP connection within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }))
      }, timeoutMs)
      socket.once('error', (error) => (clearTimeout(timer), reject(error)))
      socket.once('connect', () => {
        clearTimeout(timer)
        socket.removeAllListeners('error')
        resolve(new ModbusTcpClient(socket))
      })
    })
  }

  get isOpen(): boolean {
    return !this.#socket.destroyed && this.#closedBecause === null
  }

  /** Reads `count` registers or bits (Modbus FC 0x01–0x04); one request at a time. */
  read(unitId: number, area: Area, address: number, count: number, timeoutMs: number): Promise<number[] | boolean[]> {
    if (this.#pending) return Promise.reject(new Error('a request is already in flight on this connection'))
    if (!this.isOpen) return Promise.reject(Object.assign(new Error(`connection ${this.#closedBecause ?? 'closed'}`), { code: this.#closedBecause ?? 'ECLOSED' }))
    this.#transactionId = (this.#transactionId + 1) & 0xffff
    const functionCode = readFunction[area]
    const frame = Buffer.allocUnsafe(MBAP + 5)
    frame.writeUInt16BE(this.#transactionId, 0)
    frame.writeUInt16BE(0, 2)
    frame.writeUInt16BE(6, 4)
    frame[6] = unitId
    frame[7] = functionCode
    frame.writeUInt16BE(address, 8)
    frame.writeUInt16BE(count, 10)
    return new Promise((resolve, reject) => {
      this.#pending = { transactionId: this.#transactionId, unitId, functionCode, count, resolve, reject }
      this.#timer = setTimeout(() => this.#settle(new ModbusTimeoutError(timeoutMs)), timeoutMs)
      this.#socket.write(frame)
    })
  }

  destroy(): void {
    this.#closedBecause ??= 'closed'
    this.#socket.destroy()
  }

  #settle(outcome: Error | number[] | boolean[]): void {
    const p = this.#pending
    if (!p) return
    this.#pending = null
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    if (outcome instanceof Error) p.reject(outcome)
    else p.resolve(outcome)
  }

  #receive(chunk: Buffer): void {
    let input = this.#input ? Buffer.concat([this.#input, chunk]) : chunk
    while (input.length >= MBAP - 1) {
      const length = input.readUInt16BE(4)
      if (input.readUInt16BE(2) !== 0 || length < 2 || length > 254) return this.#corrupt(`MBAP header ${input.subarray(0, 6).toString('hex')} is not Modbus (protocol id 0, length 2 to 254)`)
      if (input.length < 6 + length) break
      this.#answer(input.readUInt16BE(0), input[6]!, input.subarray(MBAP, 6 + length))
      if (!this.isOpen) return
      input = input.subarray(6 + length)
    }
    this.#input = input.length > 0 ? Buffer.from(input) : null
  }

  /** One framed answer. A transaction id other than the pending one is a late answer to a timed-out request: dropped. */
  #answer(transactionId: number, unitId: number, pdu: Buffer): void {
    const p = this.#pending
    if (!p || transactionId !== p.transactionId) return
    const fc = pdu[0]!
    if (unitId !== p.unitId) return this.#corrupt(`answer from unit ${unitId} to a request for unit ${p.unitId}`)
    if (fc === (p.functionCode | 0x80) && pdu.length === 2) return this.#settle(new ModbusExceptionError(p.functionCode, pdu[1]!))
    if (fc !== p.functionCode) return this.#corrupt(`answer with function 0x${fc.toString(16)} to function 0x${p.functionCode.toString(16)}`)
    const bits = fc === 0x01 || fc === 0x02
    const byteCount = bits ? (p.count + 7) >> 3 : 2 * p.count
    if (pdu[1] !== byteCount || pdu.length !== 2 + byteCount) return this.#corrupt(`answer of ${pdu.length - 2} data bytes (byte count ${pdu[1]}) where ${byteCount} were asked for`)
    const data: number[] | boolean[] = new Array(p.count)
    if (bits) for (let i = 0; i < p.count; i++) data[i] = ((pdu[2 + (i >> 3)]! >> (i & 7)) & 1) === 1
    else for (let i = 0; i < p.count; i++) data[i] = pdu.readUInt16BE(2 + 2 * i)
    this.#settle(data)
  }

  /** The stream has lost its framing: fail the request and close, so the collector reconnects afresh. */
  #corrupt(message: string): void {
    this.#input = null
    this.#closedBecause ??= 'closed after a malformed answer'
    this.#settle(new ModbusResponseError(message))
    this.#socket.destroy()
  }
}
