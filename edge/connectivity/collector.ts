// What every collector shares: it turns device values into samples and reports how it is doing.
import type { Sample } from '../historian/historian.ts'

/** Takes samples; the promise, when there is one, resolves once they are on disk. */
export type SampleSink = (samples: Sample[]) => void | Promise<void>

export interface CollectorStatus {
  device: string
  connected: boolean
  /** Poll cycles or notifications handled. */
  cycles: number
  /** Cycles that started later than their schedule (a poll took longer than its interval). */
  late: number
  lastError: string | null
}

export interface Collector {
  readonly device: string
  start(): void
  stop(): Promise<void>
  status(): CollectorStatus
}

/** Waits, but wakes early when the collector stops. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    // The listener goes when the wait ends either way: a polling loop waits forever, and must not leave one behind each cycle.
    const wake = () => (clearTimeout(timer), resolve())
    const timer = setTimeout(() => (signal.removeEventListener('abort', wake), resolve()), ms)
    signal.addEventListener('abort', wake, { once: true })
  })
}
