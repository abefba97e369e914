// One Modbus RTU serial line shared by every device on it: opened once, one request on the wire at a time, the bus left silent between frames.
import { createRequire } from 'node:module'
import type ModbusDefault from 'modbus-serial'

// modbus-serial is CommonJS and its typings describe an ES default export; load it as what it is.
export type ModbusClient = InstanceType<typeof ModbusDefault.default>
export const ModbusClient = createRequire(import.meta.url)('modbus-serial') as new () => ModbusClient

export interface SerialSettings {
  path: string
  baudRate: number
  parity: 'none' | 'even' | 'odd'
  dataBits: 7 | 8
  stopBits: 1 | 2
}

/** `/dev/ttyUSB0 19200 8E1`, as a technician writes a line's settings. */
export function describeSerial(s: SerialSettings): string {
  return `${s.path} ${s.baudRate} ${s.dataBits}${s.parity[0]!.toUpperCase()}${s.stopBits}`
}

/**
 * The silent interval that must separate two frames on the line: 3.5 character times, and a
 * fixed 1.75 ms above 19200 baud (Modbus over Serial Line V1.02 §2.5.1.1). A request sent sooner
 * after the last answer can be read by the other slaves on an RS-485 bus as part of that answer.
 */
export function silentIntervalMs(s: SerialSettings): number {
  if (s.baudRate > 19_200) return 1.75
  const bitsPerCharacter = 1 + s.dataBits + (s.parity === 'none' ? 0 : 1) + s.stopBits
  return (3.5 * bitsPerCharacter * 1000) / s.baudRate
}

/**
 * After a timeout the slave may still answer. The line stays quiet this long so that a late
 * answer arrives while the timed-out transaction is still the current one (and is dropped),
 * rather than being taken as the answer to the next request with the same function code.
 */
const lateAnswerGuardMs = 50

/** The port is closed (unplugged adapter, removed device): a connection problem, not a device answer. */
export class SerialLineClosedError extends Error {
  readonly errno = 'ECLOSED'
  constructor(line: string, why: string | null, options?: ErrorOptions) {
    super(`serial line ${line} is closed${why ? ` (${why})` : ''}`, options)
    this.name = 'SerialLineClosedError'
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.ceil(ms)))
const sameSettings = (a: SerialSettings, b: SerialSettings) => a.baudRate === b.baudRate && a.parity === b.parity && a.dataBits === b.dataBits && a.stopBits === b.stopBits

const open = new Map<string, SerialLine>()

export class SerialLine {
  readonly settings: SerialSettings
  readonly name: string
  #users = 0
  #client: ModbusClient | null = null
  #opening: Promise<void> | null = null
  /** Why the port last closed or failed to open. */
  #lastError: string | null = null
  /** The bus lock: each transaction waits for the one before it to end. */
  #turn: Promise<void> = Promise.resolve()

  private constructor(settings: SerialSettings) {
    this.settings = { ...settings }
    this.name = describeSerial(settings)
  }

  /** The line at this path, shared with every other device on it; one path has one set of settings. */
  static acquire(settings: SerialSettings): SerialLine {
    let line = open.get(settings.path)
    if (line && !sameSettings(line.settings, settings)) throw new Error(`serial line ${settings.path} is already in use as ${line.name}; every device on one line needs the same settings, not ${describeSerial(settings)}`)
    if (!line) {
      line = new SerialLine(settings)
      open.set(settings.path, line)
    }
    line.#users += 1
    return line
  }

  get isOpen(): boolean {
    return this.#client?.isOpen ?? false
  }

  get lastError(): string | null {
    return this.#lastError
  }

  /** Opens the port unless it is open; concurrent callers share one attempt. */
  open(): Promise<void> {
    if (this.isOpen) return Promise.resolve()
    this.#opening ??= this.#open().finally(() => (this.#opening = null))
    return this.#opening
  }

  async #open(): Promise<void> {
    this.#discard()
    const client = new ModbusClient()
    // A serial port reports a lost device as an 'error' event; unheard, it would end the process.
    client.on('error', (error) => (this.#lastError = errorText(error)))
    client.on('close', () => (this.#lastError ??= 'closed'))
    try {
      await client.connectRTUBuffered(this.settings.path, { baudRate: this.settings.baudRate, parity: this.settings.parity, dataBits: this.settings.dataBits, stopBits: this.settings.stopBits })
    } catch (error) {
      this.#lastError = `cannot open: ${errorText(error)}`
      client.close(() => {})
      throw new SerialLineClosedError(this.name, this.#lastError, { cause: error })
    }
    this.#lastError = null
    this.#client = client
  }

  /**
   * Runs one request with the line to itself: no other device's request is on the wire until its
   * answer (or timeout) and the silent interval after it.
   */
  async transact<T>(unitId: number, timeoutMs: number, request: (client: ModbusClient) => Promise<T>): Promise<T> {
    const before = this.#turn
    let endTurn!: () => void
    this.#turn = new Promise((resolve) => (endTurn = resolve))
    await before
    let quietMs = silentIntervalMs(this.settings)
    try {
      const client = this.#client
      if (!client?.isOpen) throw new SerialLineClosedError(this.name, this.#lastError)
      client.setID(unitId)
      client.setTimeout(timeoutMs)
      return await request(client)
    } catch (error) {
      if ((error as { name?: string }).name === 'TransactionTimedOutError') quietMs = Math.max(quietMs, lateAnswerGuardMs)
      throw error
    } finally {
      await sleep(quietMs)
      endTurn()
    }
  }

  /** One device leaves the line; the last one closes the port. */
  async release(): Promise<void> {
    this.#users -= 1
    if (this.#users > 0) return
    if (open.get(this.settings.path) === this) open.delete(this.settings.path)
    await this.#opening?.catch(() => {})
    await this.#turn
    const client = this.#client
    this.#client = null
    if (client?.isOpen) await new Promise<void>((resolve) => client.close(() => resolve()))
  }

  /** Forgets a client whose port has closed, so the next open starts clean. */
  #discard(): void {
    const client = this.#client
    this.#client = null
    if (client?.isOpen) client.close(() => {})
  }
}

function errorText(error: unknown): string {
  const message = (error as { message?: unknown }).message
  return typeof message === 'string' && message !== '' ? message.replace(/^Error: /, '') : String(error)
}
