// Signal rules: machine values become MES facts — states mapped, counter deltas with wrap and reset handled.
import type { MachineState } from './model.ts'

export interface CounterReading {
  value: number
  /** The value at which the device counter wraps to zero, if it does. */
  wrap?: number | undefined
}

/**
 * Parts counted since the previous reading. A counter that went down either wrapped (it was in
 * the top tenth of its range) or was reset (the new value is the count since the reset).
 */
export function counterDelta(previous: number | null, current: CounterReading): { delta: number; event: 'first' | 'counted' | 'wrapped' | 'reset' } {
  if (previous === null) return { delta: 0, event: 'first' }
  if (current.value >= previous) return { delta: current.value - previous, event: 'counted' }
  if (current.wrap !== undefined && previous > current.wrap * 0.9) return { delta: current.wrap - previous + 1 + current.value, event: 'wrapped' }
  return { delta: current.value, event: 'reset' }
}

/** A device's state value in Takt's words; undefined when the profile does not map it. */
export function machineStateOf(value: unknown, stateMap: Readonly<Record<string, MachineState>>): MachineState | undefined {
  if (value === null || value === undefined) return undefined
  return stateMap[String(value)]
}
