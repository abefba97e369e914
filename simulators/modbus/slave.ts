// A fast Modbus TCP slave for commissioning and tests: its own request loop over any duplex stream, a register map per unit id, fault hooks; runnable from the command line.
import { createServer, type AddressInfo, type Server } from 'node:net'
import type { Duplex } from 'node:stream'
import { frameResponse, isProblem, MBAP_HEADER_BYTES, MbapDecoder, type MbapRequest } from './mbap.ts'
import { answer, exception, GATEWAY_TARGET_FAILED, summarize, type RequestSummary } from './pdu.ts'
import { RegisterMap } from './register-map.ts'

/** What a faulty device does with a request, instead of answering it properly. */
export type Fault =
  /** Reads the request and never answers (a PLC in STOP, a hung controller). */
  | { kind: 'silence' }
  /** Answers after `ms`; later requests on the connection wait behind it, as on a device that serves one at a time. */
  | { kind: 'delay'; ms: number }
  /** Answers this exception code (Modbus Application Protocol V1.1b3 §7). */
  | { kind: 'exception'; code: number }
  /** Closes the connection without answering. */
  | { kind: 'drop' }
  /** Answers one byte short of what the response promises: a frame a client must reject. */
  | { kind: 'malformed' }

export interface FaultRule {
  fault: Fault
  /** Only requests to this unit id; every unit when absent. */
  unitId?: number
  /** Only requests with this function code. */
  functionCode?: number
  /** How many requests the rule applies to; forever when absent. */
  times?: number
}

export interface SlaveRequest extends RequestSummary {
  unitId: number
  /** Arrival time, Unix milliseconds with a fractional part. */
  at: number
}

/** A frame on the wire that is not Modbus: reported, never thrown. */
export class ModbusFrameError extends Error {
  readonly remote: string
  /** The connection was closed because its framing was lost. */
  readonly fatal: boolean
  constructor(remote: string, problem: string, fatal: boolean) {
    super(`malformed Modbus TCP frame from ${remote}: ${problem}${fatal ? '; connection closed' : '; frame skipped'}`)
    this.name = 'ModbusFrameError'
    this.remote = remote
    this.fatal = fatal
  }
}

export interface ModbusSlaveOptions {
  host?: string
  port?: number
  /** The devices behind this address by unit id; unit 1 with an empty 10,000-entry map when absent. */
  units?: Record<number, RegisterMap> | Map<number, RegisterMap>
  /** A request to a unit id with no map: exception 0x0B as a Modbus TCP gateway answers, or no answer at all. */
  unknownUnit?: 'exception' | 'silence'
  onRequest?: (request: SlaveRequest) => void
  onProtocolError?: (error: ModbusFrameError) => void
  /** Input held while an answer is delayed; a client that sends more is dropped. */
  maxPendingBytes?: number
}

export interface SlaveStats {
  connections: number
  accepted: number
  requests: number
  exceptions: number
  malformed: number
  faulted: number
}

interface Connection {
  stream: Duplex
  decoder: MbapDecoder
  remote: string
  /** A delayed answer is pending: requests behind it wait. */
  waiting: boolean
  timer: NodeJS.Timeout | null
}

/** Requests per connection answered before the loop yields, so one flooding client cannot starve the others. */
const maxPerTurn = 256

export class ModbusSlave {
  readonly #units: Map<number, RegisterMap>
  readonly #options: ModbusSlaveOptions
  readonly #connections = new Set<Connection>()
  #rules: FaultRule[] = []
  #server: Server | null = null
  #stats: SlaveStats = { connections: 0, accepted: 0, requests: 0, exceptions: 0, malformed: 0, faulted: 0 }

  constructor(options: ModbusSlaveOptions = {}) {
    this.#options = options
    const units = options.units ?? { 1: new RegisterMap() }
    this.#units = units instanceof Map ? new Map(units) : new Map(Object.entries(units).map(([id, map]) => [Number(id), map]))
  }

  /** The register map of a unit id, or undefined when no device answers to it. */
  unit(unitId: number): RegisterMap | undefined {
    return this.#units.get(unitId)
  }

  addUnit(unitId: number, map = new RegisterMap()): RegisterMap {
    if (!Number.isInteger(unitId) || unitId < 0 || unitId > 255) throw new RangeError(`a unit id is 0 to 255, not ${unitId}`)
    this.#units.set(unitId, map)
    return map
  }

  /** Listens on TCP (127.0.0.1 and a free port unless told otherwise). */
  async listen(): Promise<AddressInfo> {
    const server = createServer({ noDelay: true }, (socket) => this.handle(socket))
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#options.port ?? 0, this.#options.host ?? '127.0.0.1', () => (server.off('error', reject), resolve()))
    })
    return server.address() as AddressInfo
  }

  get port(): number {
    return (this.#server?.address() as AddressInfo | null)?.port ?? 0
  }

  /** Serves Modbus TCP on any duplex stream: a socket, or one end of `duplexPair()` in a test. */
  handle(stream: Duplex): void {
    const s = stream as Duplex & { remoteAddress?: string; remotePort?: number }
    const conn: Connection = { stream, decoder: new MbapDecoder(), remote: s.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : 'stream', waiting: false, timer: null }
    this.#connections.add(conn)
    this.#stats.connections += 1
    this.#stats.accepted += 1
    stream.on('data', (chunk: Buffer) => {
      conn.decoder.push(chunk)
      if (!conn.waiting) this.#drain(conn)
      else if (conn.decoder.pendingBytes > (this.#options.maxPendingBytes ?? 64 * 1024)) this.#drop(conn)
    })
    // A client that resets its connection is routine for a PLC; it must never end the simulator.
    stream.on('error', () => {})
    stream.on('close', () => this.#forget(conn))
    stream.on('end', () => stream.end())
  }

  /** Adds a fault rule (the first matching rule wins); returns a function that removes it. */
  injectFault(rule: FaultRule): () => void {
    const own = { ...rule }
    this.#rules.push(own)
    return () => (this.#rules = this.#rules.filter((r) => r !== own))
  }

  clearFaults(): void {
    this.#rules = []
  }

  /** Drops every open connection at once, as a PLC that reboots. */
  dropConnections(): void {
    for (const conn of [...this.#connections]) this.#drop(conn)
  }

  stats(): SlaveStats {
    return { ...this.#stats }
  }

  async close(): Promise<void> {
    const server = this.#server
    this.#server = null
    this.dropConnections()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Answers every whole request received so far, in order, in one write. */
  #drain(conn: Connection): void {
    const out: Buffer[] = []
    for (let n = 0; n < maxPerTurn && !conn.waiting && !conn.stream.destroyed; n++) {
      const item = conn.decoder.next()
      if (item === null) break
      if (isProblem(item)) {
        this.#stats.malformed += 1
        this.#options.onProtocolError?.(new ModbusFrameError(conn.remote, item.problem, item.fatal))
        if (item.fatal) return this.#flush(conn, out, true)
        continue
      }
      const reply = this.#serve(conn, item)
      if (reply) out.push(reply)
    }
    this.#flush(conn, out, false)
    // Whole requests may remain after a full turn: answer them on the next turn of the event loop.
    if (!conn.waiting && !conn.stream.destroyed && conn.decoder.pendingBytes >= MBAP_HEADER_BYTES) setImmediate(() => !conn.waiting && this.#drain(conn))
  }

  #flush(conn: Connection, out: Buffer[], thenDrop: boolean): void {
    if (out.length > 0 && !conn.stream.destroyed) {
      const ok = conn.stream.write(out.length === 1 ? out[0]! : Buffer.concat(out))
      // A client that pipelines faster than it reads: stop reading until it has taken the answers.
      if (!ok) {
        conn.stream.pause()
        conn.stream.once('drain', () => conn.stream.resume())
      }
    }
    if (thenDrop) this.#drop(conn)
  }

  /** The framed answer to one request, or null when there is none (yet). */
  #serve(conn: Connection, request: MbapRequest): Buffer | null {
    this.#stats.requests += 1
    const onRequest = this.#options.onRequest
    if (onRequest) onRequest({ unitId: request.unitId, ...summarize(request.pdu), at: performance.timeOrigin + performance.now() })
    const fault = this.#rules.length > 0 ? this.#faultFor(request) : null
    if (!fault) return this.#respond(request)
    this.#stats.faulted += 1
    switch (fault.kind) {
      case 'silence':
        return null
      case 'drop':
        this.#drop(conn)
        return null
      case 'exception':
        return this.#framed(request, exception(request.pdu[0]!, fault.code, MBAP_HEADER_BYTES))
      case 'malformed': {
        const whole = this.#respond(request)
        if (!whole) return null
        const short = whole.subarray(0, whole.length - 1)
        return frameResponse(short, request.transactionId, request.unitId)
      }
      case 'delay': {
        // Copied: the decoder's buffer moves on while the answer waits.
        const held = { ...request, pdu: Buffer.from(request.pdu) }
        conn.waiting = true
        conn.timer = setTimeout(() => {
          conn.timer = null
          conn.waiting = false
          if (conn.stream.destroyed) return
          const reply = this.#respond(held)
          this.#flush(conn, reply ? [reply] : [], false)
          this.#drain(conn)
        }, fault.ms)
        return null
      }
    }
  }

  #respond(request: MbapRequest): Buffer | null {
    const map = this.#units.get(request.unitId)
    if (!map && this.#options.unknownUnit === 'silence') return null
    // Modbus Messaging on TCP/IP V1.0b §4.4.2: a unit id with no device behind it is the gateway's exception 0x0B.
    const pdu = map ? answer(map, request.pdu, MBAP_HEADER_BYTES) : exception(request.pdu[0]!, GATEWAY_TARGET_FAILED, MBAP_HEADER_BYTES)
    return this.#framed(request, pdu)
  }

  #framed(request: MbapRequest, frame: Buffer): Buffer {
    if (frame[MBAP_HEADER_BYTES]! & 0x80) this.#stats.exceptions += 1
    return frameResponse(frame, request.transactionId, request.unitId)
  }

  #faultFor(request: MbapRequest): Fault | null {
    const functionCode = request.pdu[0]
    const rule = this.#rules.find((r) => (r.unitId === undefined || r.unitId === request.unitId) && (r.functionCode === undefined || r.functionCode === functionCode))
    if (!rule) return null
    if (rule.times !== undefined && --rule.times <= 0) this.#rules = this.#rules.filter((r) => r !== rule)
    return rule.fault
  }

  #drop(conn: Connection): void {
    conn.stream.destroy()
    this.#forget(conn)
  }

  #forget(conn: Connection): void {
    if (!this.#connections.delete(conn)) return
    if (conn.timer) clearTimeout(conn.timer)
    this.#stats.connections -= 1
  }
}

/** A slave listening on TCP. */
export async function startModbusSlave(options: ModbusSlaveOptions = {}): Promise<ModbusSlave> {
  const slave = new ModbusSlave(options)
  await slave.listen()
  return slave
}

// Not awaited at top level: cli.ts imports this module, which must finish evaluating first.
if (import.meta.main) {
  import('./cli.ts')
    .then(({ runCli }) => runCli(process.argv.slice(2)))
    .catch((error: unknown) => {
      process.stderr.write(`modbus slave: ${error instanceof Error ? error.message : String(error)}\n`)
      process.exit(1)
    })
}
