// Modbus TCP polling: one request in flight per connection, cycles that never overlap, Bad quality with the reason, reconnect with backoff.
import { createRequire } from 'node:module'
import type ModbusDefault from 'modbus-serial'
import type { Logger } from 'pino'
import type { Sample } from '../../historian/historian.ts'
import { pause, type Collector, type CollectorStatus, type SampleSink } from '../collector.ts'
import { decode, planReads, type ModbusProfile, type ReadBlock } from './plan.ts'

// modbus-serial is CommonJS and its typings describe an ES default export; load it as what it is.
type ModbusRTU = InstanceType<typeof ModbusDefault.default>
const ModbusClient = createRequire(import.meta.url)('modbus-serial') as new () => ModbusRTU

export interface ModbusEndpoint {
  device: string
  host: string
  port: number
  unitId?: number
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

export function describeModbusError(error: ModbusError): { reason: string; connectionLost: boolean } {
  if (typeof error.modbusCode === 'number') return { reason: `Modbus exception ${error.modbusCode} (${exceptionNames[error.modbusCode] ?? 'unknown'})`, connectionLost: false }
  if (error.name === 'TransactionTimedOutError' || /timed out/i.test(error.message ?? '')) return { reason: 'timeout: no answer in time', connectionLost: false }
  return { reason: `connection: ${error.code ?? error.errno ?? error.message ?? 'lost'}`, connectionLost: true }
}

export class ModbusCollector implements Collector {
  readonly device: string
  readonly #endpoint: ModbusEndpoint
  readonly #profile: ModbusProfile
  readonly #blocks: ReadBlock[]
  readonly #sink: SampleSink
  readonly #log: Logger
  readonly #stop = new AbortController()
  #client: ModbusRTU | null = null
  #loop: Promise<void> | null = null
  #status: CollectorStatus

  constructor(endpoint: ModbusEndpoint, profile: ModbusProfile, sink: SampleSink, logger: Logger) {
    this.device = endpoint.device
    this.#endpoint = endpoint
    this.#profile = profile
    this.#blocks = planReads(profile.signals)
    this.#sink = sink
    this.#log = logger.child({ collector: 'modbus', device: endpoint.device })
    this.#status = { device: endpoint.device, connected: false, cycles: 0, late: 0, lastError: null }
  }

  start(): void {
    this.#loop ??= this.#run()
  }

  status(): CollectorStatus {
    return { ...this.#status }
  }

  async stop(): Promise<void> {
    this.#stop.abort()
    await this.#loop
    await this.#disconnect()
  }

  async #connect(): Promise<boolean> {
    const client = new ModbusClient()
    try {
      await client.connectTCP(this.#endpoint.host, { port: this.#endpoint.port })
      client.setID(this.#endpoint.unitId ?? this.#profile.connection.unitId)
      client.setTimeout(this.#profile.connection.timeoutMs)
      this.#client = client
      this.#status.connected = true
      this.#log.info({ host: this.#endpoint.host, port: this.#endpoint.port }, 'modbus connected')
      return true
    } catch (error) {
      this.#status.lastError = describeModbusError(error as ModbusError).reason
      client.close(() => {})
      return false
    }
  }

  async #disconnect(): Promise<void> {
    const client = this.#client
    this.#client = null
    this.#status.connected = false
    if (client?.isOpen) await new Promise<void>((resolve) => client.close(() => resolve()))
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal
    const interval = this.#profile.connection.pollIntervalMs
    let backoff = 100
    let next = Date.now()
    while (!signal.aborted) {
      if (!this.#client) {
        if (!(await this.#connect())) {
          this.#sink(this.#allBad(this.#status.lastError ?? 'not connected'))
          await pause(backoff, signal)
          backoff = Math.min(backoff * 2, 2_000)
          next = Date.now()
          continue
        }
        backoff = 100
      }
      await this.#cycle()
      this.#status.cycles += 1
      next += interval
      const now = Date.now()
      if (now > next) {
        // The cycle overran its slot: start the next at once, count it, and never queue a backlog.
        this.#status.late += 1
        next = now
      }
      await pause(next - now, signal)
    }
  }

  /** Reads every block in turn: one request in flight, never two. */
  async #cycle(): Promise<void> {
    const samples: Sample[] = []
    for (const block of this.#blocks) {
      const client = this.#client
      if (!client) {
        samples.push(...this.#bad(block, this.#status.lastError ?? 'not connected'))
        continue
      }
      const timestamp = Date.now()
      try {
        const { data } = await this.#read(client, block)
        for (const s of block.signals) samples.push({ signal: `${this.device}/${s.name}`, value: decode(s, block, data), quality: 'good', timestamp })
      } catch (error) {
        const { reason, connectionLost } = describeModbusError(error as ModbusError)
        this.#status.lastError = reason
        samples.push(...this.#bad(block, reason))
        if (connectionLost) {
          this.#log.warn({ reason }, 'modbus connection lost')
          await this.#disconnect()
        }
      }
    }
    this.#sink(samples)
  }

  #read(client: ModbusRTU, block: ReadBlock): Promise<{ data: number[] | boolean[] }> {
    switch (block.area) {
      case 'coil':
        return client.readCoils(block.address, block.count) // FC 0x01
      case 'discrete_input':
        return client.readDiscreteInputs(block.address, block.count) // FC 0x02
      case 'holding_register':
        return client.readHoldingRegisters(block.address, block.count) // FC 0x03
      case 'input_register':
        return client.readInputRegisters(block.address, block.count) // FC 0x04
    }
  }

  #bad(block: ReadBlock, reason: string): Sample[] {
    const timestamp = Date.now()
    return block.signals.map((s) => ({ signal: `${this.device}/${s.name}`, value: null, quality: 'bad' as const, timestamp, reason }))
  }

  #allBad(reason: string): Sample[] {
    return this.#blocks.flatMap((b) => this.#bad(b, reason))
  }
}
