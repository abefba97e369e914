// The disk guard: free space of the data directory's filesystem, read on a timer, turned into one cached state the hot path only looks at.
//
// Below the historian floor telemetry gives way (the historian sheds its oldest raw samples and
// stores no new ones); below the hard floor as-built writes are refused before they start, so a
// full disk never meets an SQLite transaction half way. Each state is left only once free space
// is a margin above its floor, so a filesystem hovering at a floor does not flap.
import { statfsSync } from 'node:fs'
import { ProblemError } from '../api/problem.ts'

export type DiskState = 'ok' | 'historian-shedding' | 'hard-floor'

export interface DiskGuardOptions {
  /** The data directory: its filesystem is the one watched. */
  dir: string
  /** Below this many free bytes the historian sheds raw samples and stores no new ones. */
  historianFloorBytes: number
  /** Below this many free bytes as-built writes are refused (507). */
  hardFloorBytes: number
  /** How often free space is read, ms. */
  checkIntervalMs: number
  /** Called at each check while the state is not ok, and at every change of state. */
  onCheck?: (status: DiskStatus) => void
  /** A check that failed (statfs refused); the last state is kept. */
  onError?: (error: Error) => void
}

export interface DiskStatus {
  state: DiskState
  /** Bytes an unprivileged writer may still use (statfs bavail × bsize). */
  freeBytes: number
  totalBytes: number
  historianFloorBytes: number
  hardFloorBytes: number
  /** When the current state began, ISO 8601. */
  since: string
  /** When free space was last read, ISO 8601. */
  checkedAt: string
  /** As-built writes refused since the start. */
  refusedWrites: number
  lastError: string | null
}

const MB = 1024 * 1024

/** The margin above a floor that free space must reach before the state under that floor is left. */
export function hysteresisBytes(floorBytes: number): number {
  return Math.max(MB, Math.round(floorBytes * 0.05))
}

/** The next state from the current one and the free bytes: pure, so the thresholds are tested without a disk. */
export function nextDiskState(current: DiskState, freeBytes: number, historianFloorBytes: number, hardFloorBytes: number): DiskState {
  if (freeBytes < hardFloorBytes) return 'hard-floor'
  if (current === 'hard-floor' && freeBytes < hardFloorBytes + hysteresisBytes(hardFloorBytes)) return 'hard-floor'
  if (freeBytes < historianFloorBytes) return 'historian-shedding'
  if (current !== 'ok' && freeBytes < historianFloorBytes + hysteresisBytes(historianFloorBytes)) return 'historian-shedding'
  return 'ok'
}

export function formatMb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`
}

export class DiskGuard {
  readonly #options: DiskGuardOptions
  #state: DiskState = 'ok'
  #freeBytes = 0
  #totalBytes = 0
  #since = new Date().toISOString()
  #checkedAt = this.#since
  #refused = 0
  #lastError: string | null = null
  #timer: NodeJS.Timeout | null = null

  constructor(options: DiskGuardOptions) {
    if (options.hardFloorBytes > options.historianFloorBytes) throw new Error(`disk guard: the hard floor (${formatMb(options.hardFloorBytes)}) is above the historian floor (${formatMb(options.historianFloorBytes)})`)
    this.#options = options
    // The state is right from the first command on, before any timer fired.
    this.check()
  }

  /** Reads free space now and updates the state; one statfs, a few microseconds. */
  check(): DiskStatus {
    const o = this.#options
    try {
      const s = statfsSync(o.dir)
      this.#freeBytes = s.bavail * s.bsize
      this.#totalBytes = s.blocks * s.bsize
      this.#lastError = null
    } catch (error) {
      this.#lastError = `cannot read free space of ${o.dir}: ${(error as Error).message}`
      o.onError?.(new Error(this.#lastError, { cause: error }))
      return this.status()
    }
    const now = new Date().toISOString()
    this.#checkedAt = now
    const next = nextDiskState(this.#state, this.#freeBytes, o.historianFloorBytes, o.hardFloorBytes)
    const changed = next !== this.#state
    if (changed) {
      this.#state = next
      this.#since = now
    }
    if (changed || next !== 'ok') o.onCheck?.(this.status())
    return this.status()
  }

  start(): void {
    if (this.#timer) return
    // One check at a time: the next is armed only after this one (and its shedding) returned.
    const tick = () => {
      try {
        this.check()
      } catch (error) {
        this.#options.onError?.(error as Error)
      }
      if (this.#timer) this.#timer = setTimeout(tick, this.#options.checkIntervalMs).unref()
    }
    this.#timer = setTimeout(tick, this.#options.checkIntervalMs).unref()
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
  }

  get state(): DiskState {
    return this.#state
  }

  /** For the line store's write guard: a flag test on the hot path, a 507 below the hard floor (nothing is written). */
  assertWritable(): void {
    if (this.#state !== 'hard-floor') return
    this.#refused += 1
    const o = this.#options
    throw new ProblemError(
      507,
      'insufficient_storage',
      `The gateway's disk is almost full: ${formatMb(this.#freeBytes)} free in ${o.dir}, below the floor of ${formatMb(o.hardFloorBytes)} kept for as-built records; nothing was recorded. Free space on that filesystem; writes are accepted again by themselves.`,
      { freeBytes: this.#freeBytes, hardFloorBytes: o.hardFloorBytes },
    )
  }

  status(): DiskStatus {
    const o = this.#options
    return {
      state: this.#state,
      freeBytes: this.#freeBytes,
      totalBytes: this.#totalBytes,
      historianFloorBytes: o.historianFloorBytes,
      hardFloorBytes: o.hardFloorBytes,
      since: this.#since,
      checkedAt: this.#checkedAt,
      refusedWrites: this.#refused,
      lastError: this.#lastError,
    }
  }
}
