// System health and the disk guard, wired for one gateway: what gateway.ts builds, main.ts starts and stops, the API and the UNS serve.
import type { Logger } from 'pino'
import type { Historian } from '../historian/historian.ts'
import type { LineStore } from '../store/line-store.ts'
import { HttpDateOffset, watchHttpDate } from './clock-offset.ts'
import { DiskGuard, formatMb, type DiskStatus } from './disk-guard.ts'
import { renderMetrics } from './metrics.ts'
import { SystemHealth } from './system-health.ts'

export { DiskGuard, type DiskState, type DiskStatus } from './disk-guard.ts'
export { HttpDateOffset, watchHttpDate } from './clock-offset.ts'
export { metricsContentType, renderMetrics } from './metrics.ts'
export { SystemHealth, type SystemSnapshot } from './system-health.ts'
export { HealthUnsPublisher } from './uns-health.ts'

export interface GatewayHealthOptions {
  dataDir: string
  version: string
  historianFloorMb: number
  hardFloorMb: number
  checkIntervalMs: number
  sampleIntervalMs: number
  /** The cloud's origin when upstream sync is on: its Date headers are a clock reference. */
  cloudOrigin: string | null
}

/** Raw samples the historian gives up per disk check while below its floor. */
const shedRowsPerCheck = 20_000

export type GatewayHealth = ReturnType<typeof createGatewayHealth>

export function createGatewayHealth(store: LineStore, historian: Historian, options: GatewayHealthOptions, logger: Logger) {
  const log = logger.child({ module: 'health' })
  const MB = 1024 * 1024
  let lastState: DiskStatus['state'] = 'ok'
  const stateListeners = new Set<(status: DiskStatus) => void>()
  // Below the historian floor telemetry gives way: no new raw samples, the oldest ones go first.
  const onCheck = (status: DiskStatus) => {
    const short = status.state !== 'ok'
    if (historian.rawPaused !== short) historian.pauseRaw(short)
    // In the historian's writer thread; a check while one is under way joins it.
    if (short) {
      historian.shed(shedRowsPerCheck, Date.now()).then(
        (shed) => {
          if (shed > 0) log.warn({ shed, freeMb: Math.round(status.freeBytes / MB) }, 'disk low: the historian shed its oldest raw samples (1-minute aggregates kept)')
        },
        (error: unknown) => log.error({ err: String(error) }, 'disk low: the historian could not shed raw samples'),
      )
    }
    if (status.state !== lastState) {
      const fields = { state: status.state, from: lastState, free: formatMb(status.freeBytes), historianFloor: formatMb(status.historianFloorBytes), hardFloor: formatMb(status.hardFloorBytes) }
      if (status.state === 'ok') log.info(fields, 'disk space is back above the floors: telemetry and as-built writes as normal')
      else if (status.state === 'historian-shedding') log.warn(fields, 'disk below the historian floor: raw telemetry is not stored and the oldest raw samples are shed')
      else log.error(fields, 'disk below the hard floor: as-built writes are refused (507) until space is freed')
      lastState = status.state
      for (const listen of stateListeners) listen(status)
    }
  }
  const disk = new DiskGuard({
    dir: options.dataDir,
    historianFloorBytes: options.historianFloorMb * MB,
    hardFloorBytes: options.hardFloorMb * MB,
    checkIntervalMs: options.checkIntervalMs,
    onCheck,
    onError: (error) => log.error({ err: error.message }, 'disk guard check failed'),
  })
  // The hot path: a flag test before each command is queued.
  store.writeGuard = () => disk.assertWritable()
  const cloudClock = options.cloudOrigin ? new HttpDateOffset() : null
  const system = new SystemHealth({ disk, cloudClock, intervalMs: options.sampleIntervalMs, onError: (error) => log.warn({ err: error.message }, 'system health sample failed') })
  let unwatch: (() => void) | null = null

  /** What GET /health answers and the UNS health topic carries: no secrets, no paths. */
  const body = () => ({ status: 'ok' as const, version: options.version, eventSeq: store.head().seq, time: new Date().toISOString(), system: system.snapshot() })
  const metrics = () => renderMetrics(system.snapshot(), { version: options.version, eventSeq: store.head().seq, historianWritten: historian.written, historianDropped: historian.dropped, historianAckAhead: historian.ackAhead })

  return {
    disk,
    system,
    cloudClock,
    body,
    metrics,
    /** Called when the disk guard changes state (the UNS publishes health at once). */
    onDiskState(listener: (status: DiskStatus) => void): () => void {
      stateListeners.add(listener)
      return () => stateListeners.delete(listener)
    },
    start(): void {
      disk.start()
      system.start()
      if (cloudClock && options.cloudOrigin && !unwatch) unwatch = watchHttpDate(options.cloudOrigin, cloudClock)
    },
    async stop(): Promise<void> {
      disk.stop()
      unwatch?.()
      unwatch = null
      await system.stop()
    },
  }
}
