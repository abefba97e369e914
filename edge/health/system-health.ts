// The gateway's system health: CPU load, memory, CPU temperature, the data disk and the clock offset, sampled on a timer and served from a cache.
import { clockStatus, readLocalNtp, type ClockEstimate, type ClockOffsetStatus, type HttpDateOffset } from './clock-offset.ts'
import type { DiskGuard, DiskStatus } from './disk-guard.ts'
import { CpuLoad, cpuTemperature, hasTemperatureSensor, memoryFigures, type CpuFigures } from './machine-figures.ts'

/** One sample's readings; a part not read this time is null. */
interface Readings {
  load: CpuFigures | null
  mem: { total: number; available: number } | null
  temperature: { main: number | null } | null
  ntp: { estimate: ClockEstimate | null; why: string } | null
  error: string | null
}

export interface SystemSnapshot {
  /** When these figures were read, ISO 8601; null before the first sample. */
  sampledAt: string | null
  cpu: { loadPercent: number | null; cores: number | null; loadAverage1m: number | null }
  memory: { totalBytes: number | null; availableBytes: number | null; usedPercent: number | null }
  /** Celsius; null with a reason where the machine exposes no sensor. */
  temperature: { cpuCelsius: number | null; reason: string | null }
  disk: DiskStatus
  clock: ClockOffsetStatus
  /** The last sample that failed, or null. */
  lastError: string | null
}

export interface SystemHealthOptions {
  disk: DiskGuard
  /** The cloud's HTTP Date headers, when upstream sync is on. */
  cloudClock: HttpDateOffset | null
  intervalMs: number
  /** The NTP daemon (a child process) and the temperature are read every this many samples. */
  slowEvery?: number
  onError?: (error: Error) => void
}

const noSensor = 'this machine exposes no temperature sensor (no /sys/class/thermal zone, no hwmon temperature input)'

export class SystemHealth {
  readonly #o: SystemHealthOptions
  readonly #sensor: boolean
  #timer: NodeJS.Timeout | null = null
  #running: Promise<void> | null = null
  #stopped = true
  #samples = 0
  #ntp: ClockEstimate | null = null
  #ntpWhy = 'not read yet'
  #snapshot: Omit<SystemSnapshot, 'disk' | 'clock'>
  readonly #cpu = new CpuLoad()
  #sampledOnce!: () => void
  readonly #firstSample = new Promise<void>((resolve) => (this.#sampledOnce = resolve))

  constructor(options: SystemHealthOptions) {
    this.#o = options
    this.#sensor = process.platform !== 'linux' || hasTemperatureSensor()
    this.#snapshot = {
      sampledAt: null,
      cpu: { loadPercent: null, cores: null, loadAverage1m: null },
      memory: { totalBytes: null, availableBytes: null, usedPercent: null },
      temperature: { cpuCelsius: null, reason: this.#sensor ? 'not read yet' : noSensor },
      lastError: null,
    }
  }

  /** Samples once now, then every interval; one sample at a time, never overlapping. */
  start(): void {
    if (this.#running) return
    this.#stopped = false
    const tick = async () => {
      await this.sample()
      if (!this.#stopped) this.#timer = setTimeout(() => void (this.#running = tick()), this.#o.intervalMs).unref()
    }
    this.#running = tick()
  }

  /** Resolves once the first sample has been read (or failed), or the sampler stopped. */
  firstSample(): Promise<void> {
    return this.#firstSample
  }

  async stop(): Promise<void> {
    this.#sampledOnce()
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    await this.#running
    this.#running = null
  }

  /** The machine's figures: counters and sysfs read without blocking, the NTP daemon asked in a child process. */
  async #read(slow: boolean): Promise<Readings> {
    const readings: Readings = { load: null, mem: null, temperature: null, ntp: null, error: null }
    try {
      readings.load = this.#cpu.read()
      readings.mem = memoryFigures()
      if (slow && this.#sensor) readings.temperature = { main: await cpuTemperature() }
      if (slow) readings.ntp = await readLocalNtp()
    } catch (error) {
      readings.error = (error as Error).message
    }
    return readings
  }

  /** Reads every figure once; errors are kept in lastError and reported, never thrown. */
  async sample(): Promise<void> {
    const slow = this.#samples % (this.#o.slowEvery ?? 4) === 0
    this.#samples += 1
    let reply: Readings
    try {
      reply = await this.#read(slow)
    } finally {
      // After this sample's figures are in the snapshot (below, synchronously): the first publication carries them.
      queueMicrotask(() => this.#sampledOnce())
    }
    const s = this.#snapshot
    if (reply.load) s.cpu = { loadPercent: round(reply.load.currentLoad), cores: reply.load.cores || null, loadAverage1m: round(reply.load.avgLoad) }
    if (reply.mem) {
      const { total, available } = reply.mem
      s.memory = { totalBytes: total, availableBytes: available, usedPercent: total > 0 ? round(((total - available) / total) * 100) : null }
    }
    if (reply.temperature) {
      const t = reply.temperature.main
      s.temperature = t === null || !Number.isFinite(t) ? { cpuCelsius: null, reason: 'the temperature sensor gave no reading' } : { cpuCelsius: t, reason: null }
    }
    if (reply.ntp) {
      this.#ntp = reply.ntp.estimate
      this.#ntpWhy = reply.ntp.why
    }
    if (reply.error !== null) {
      s.lastError = reply.error
      this.#o.onError?.(new Error(reply.error))
      return
    }
    s.sampledAt = new Date().toISOString()
    s.lastError = null
  }

  /** The cached figures, with the disk guard's and the clock's current state: no I/O. */
  snapshot(): SystemSnapshot {
    const cloud = this.#o.cloudClock?.estimate() ?? null
    const why = [this.#ntpWhy, this.#o.cloudClock ? (cloud ? '' : 'no answer from the cloud yet') : 'upstream sync is off (no cloud Date header)']
    return { ...this.#snapshot, disk: this.#o.disk.status(), clock: clockStatus(this.#ntp, cloud, Date.now(), why) }
  }
}

function round(n: number): number | null {
  return Number.isFinite(n) ? Math.round(n * 10) / 10 : null
}
