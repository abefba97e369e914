// Modbus TCP and RTU polling: one request in flight per connection (per serial line for RTU), cycles that never overlap, Bad quality with the reason, reconnect with backoff.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import type { Sample } from '../../historian/historian.ts'
import type { Collector, CollectorStatus, SampleSink } from '../collector.ts'
import { describeModbusError, RtuLink, TcpLink, type ModbusLink } from './link.ts'
import { decode, planReads, type ModbusProfile, type ReadBlock } from './plan.ts'
import type { SerialSettings } from './serial-line.ts'

export { describeModbusError } from './link.ts'
export type { SerialSettings } from './serial-line.ts'

export interface ModbusEndpoint {
  device: string
  /** Modbus TCP: the device's address. */
  host?: string
  port?: number
  /** Overrides the profile's unit id (several devices of one profile behind one gateway or on one line). */
  unitId?: number
  /** Modbus RTU: the serial line; devices on one line share it, one request at a time. */
  serial?: SerialSettings
}

const firstBackoffMs = 100
const maxBackoffMs = 2_000

/**
 * Waits, waking early when the collector stops. Not `pause` from ../collector.ts: that one leaves its
 * abort listener (with its timer and promise) on the signal each time, harmless for a backoff but a
 * leak of ten listeners a second per device when every poll slot waits.
 */
const wait = (ms: number, signal: AbortSignal) => sleep(ms, undefined, { signal }).catch(() => {})

function linkFor(endpoint: ModbusEndpoint, profile: ModbusProfile): ModbusLink {
  if (profile.connection.transport === 'rtu') {
    if (!endpoint.serial) throw new Error(`device ${endpoint.device}: its profile ${profile.profile} says transport rtu; the device needs serial settings (path, baudRate, parity, dataBits, stopBits)`)
    return new RtuLink(endpoint.serial)
  }
  if (endpoint.host === undefined || endpoint.port === undefined) throw new Error(`device ${endpoint.device}: a Modbus TCP device needs host and port`)
  return new TcpLink(endpoint.host, endpoint.port, profile.connection.timeoutMs)
}

export class ModbusCollector implements Collector {
  readonly device: string
  readonly #link: ModbusLink
  readonly #unitId: number
  readonly #profile: ModbusProfile
  readonly #blocks: ReadBlock[]
  /** `device/signal` per block signal, built once rather than for every sample of every cycle. */
  readonly #names: string[][]
  readonly #sink: SampleSink
  readonly #log: Logger
  readonly #stop = new AbortController()
  #loop: Promise<void> | null = null
  /** The last cycle's samples on their way to disk. */
  #sinking: Promise<void> | null = null
  #status: CollectorStatus

  constructor(endpoint: ModbusEndpoint, profile: ModbusProfile, sink: SampleSink, logger: Logger) {
    this.device = endpoint.device
    this.#profile = profile
    this.#unitId = endpoint.unitId ?? profile.connection.unitId
    this.#blocks = planReads(profile.signals)
    this.#names = this.#blocks.map((b) => b.signals.map((s) => `${endpoint.device}/${s.name}`))
    this.#sink = sink
    this.#link = linkFor(endpoint, profile)
    this.#log = logger.child({ collector: 'modbus', device: endpoint.device, transport: profile.connection.transport })
    this.#status = { device: endpoint.device, connected: false, cycles: 0, late: 0, lastError: null }
  }

  start(): void {
    this.#loop ??= this.#run()
  }

  status(): CollectorStatus {
    return { ...this.#status, connected: this.#link.isOpen }
  }

  async stop(): Promise<void> {
    this.#stop.abort()
    await this.#loop
    await this.#sinking
    await this.#link.dispose()
  }

  async #connect(): Promise<boolean> {
    try {
      await this.#link.open()
      this.#log.info({ link: this.#link.name, unitId: this.#unitId }, 'modbus connected')
      return true
    } catch (error) {
      this.#status.lastError = describeModbusError(error).reason
      return false
    }
  }

  /**
   * The poll loop: one cycle at a time, each starting on its slot. A cycle that overruns its slot
   * makes the next start at once and counts as late; a backlog of missed slots is never queued.
   */
  async #run(): Promise<void> {
    const signal = this.#stop.signal
    const interval = this.#profile.connection.pollIntervalMs
    let backoff = firstBackoffMs
    let next = Date.now()
    while (!signal.aborted) {
      if (!this.#link.isOpen) {
        if (!(await this.#connect())) {
          await this.#hand(this.#allBad(this.#status.lastError ?? 'not connected'))
          await wait(backoff, signal)
          backoff = Math.min(backoff * 2, maxBackoffMs)
          next = Date.now()
          continue
        }
        backoff = firstBackoffMs
      }
      await this.#cycle()
      this.#status.cycles += 1
      next += interval
      const now = Date.now()
      if (now > next) {
        this.#status.late += 1
        next = now
      }
      await wait(next - now, signal)
    }
  }

  /** Reads every block in turn: one request in flight, never two. */
  async #cycle(): Promise<void> {
    const samples: Sample[] = []
    const timeoutMs = this.#profile.connection.timeoutMs
    for (let b = 0; b < this.#blocks.length; b++) {
      const block = this.#blocks[b]!
      if (!this.#link.isOpen) {
        this.#bad(samples, b, this.#status.lastError ?? 'not connected')
        continue
      }
      const timestamp = Date.now()
      try {
        const data = await this.#link.read(this.#unitId, timeoutMs, block)
        const names = this.#names[b]!
        for (let i = 0; i < block.signals.length; i++) samples.push({ signal: names[i]!, value: decode(block.signals[i]!, block, data), quality: 'good', timestamp })
      } catch (error) {
        const { reason, kind } = describeModbusError(error, timeoutMs)
        this.#status.lastError = reason
        this.#bad(samples, b, reason)
        if (kind === 'frame') await this.#link.desynchronized()
        if (!this.#link.isOpen) this.#log.warn({ reason, link: this.#link.name }, 'modbus connection lost')
      }
    }
    await this.#hand(samples)
  }

  /**
   * Hands a cycle's samples to the sink without waiting for them to be on disk, so polling keeps
   * its slots; but waits for the previous cycle's first, so a historian that falls behind slows
   * polling down rather than letting samples pile up in memory without bound.
   */
  async #hand(samples: Sample[]): Promise<void> {
    await this.#sinking
    let done: void | Promise<void>
    try {
      done = this.#sink(samples)
    } catch (error) {
      // A sink that throws (a full disk) must not end polling: the next cycle tries again.
      this.#log.error({ err: String(error) }, 'the sample sink failed')
      return
    }
    this.#sinking = done
      ? done.then(
          () => {},
          (error: unknown) => void this.#log.error({ err: String(error) }, 'the sample sink failed'),
        )
      : null
  }

  #bad(into: Sample[], b: number, reason: string): void {
    const timestamp = Date.now()
    for (const signal of this.#names[b]!) into.push({ signal, value: null, quality: 'bad', timestamp, reason })
  }

  #allBad(reason: string): Sample[] {
    const samples: Sample[] = []
    for (let b = 0; b < this.#blocks.length; b++) this.#bad(samples, b, reason)
    return samples
  }
}
