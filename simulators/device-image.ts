// A simulated machine's state in its hardware profile's own terms: the value of every profile signal, as the device would report it.
import type { HardwareProfile } from '../hardware-profiles/schema.ts'
import type { MachineSnapshot, SimState } from './model/line-model.ts'

type Signal = HardwareProfile['signals'][number]

/** When a profile has no device value for a state, the nearest one it has. */
const nearest: Record<SimState, SimState[]> = {
  running: [],
  idle: [],
  starved: ['idle'],
  blocked: ['starved', 'idle'],
  down: ['idle'],
  setup: ['idle'],
  planned_stop: ['idle'],
}

/** The device value (a stateMap key) the profile uses for a state; numeric keys come back as numbers. */
export function deviceStateValue(signal: Signal, state: SimState): number | string {
  const map = signal.stateMap ?? {}
  for (const wanted of [state, ...nearest[state]]) {
    const key = Object.keys(map).find((k) => map[k] === wanted)
    if (key !== undefined) return /^-?\d+$/.test(key) ? Number(key) : key
  }
  throw new Error(`signal '${signal.name}': its stateMap has no value for '${state}' or a state near it`)
}

const wrapped = (value: number, wrap: number | undefined) => (wrap === undefined ? value : value % (wrap + 1))

/** What a signal reads on the device; undefined for a signal the simulator does not drive. */
export function signalValue(signal: Signal, m: MachineSnapshot): number | string | boolean | undefined {
  switch (signal.kind) {
    case 'machine_state':
      return deviceStateValue(signal, m.state)
    case 'good_count':
      return wrapped(m.good, signal.counterWrap)
    case 'reject_count':
      return wrapped(m.defective, signal.counterWrap)
    case 'total_count':
      return wrapped(m.processed, signal.counterWrap)
    case 'cycle_complete':
      // A bit that toggles with every part, as PLCs signal a finished cycle.
      return m.processed % 2 === 1
    case 'measurement':
      return m.measurements[signal.name]
    case 'stop_reason':
      return m.stopReason
    case 'alarm':
      return m.state === 'down' && m.stopReason !== 0
    case 'value':
      if (/speed/i.test(signal.name)) return m.state === 'running' && m.lastCycleS > 0 ? 60 / m.lastCycleS : 0
      return /cycle/i.test(signal.name) ? m.lastCycleS : undefined
  }
}

/** Every driven signal's value, by signal name. */
export function deviceImage(profile: HardwareProfile, m: MachineSnapshot): Map<string, number | string | boolean> {
  const out = new Map<string, number | string | boolean>()
  for (const s of profile.signals) {
    const v = signalValue(s, m)
    if (v !== undefined) out.set(s.name, v)
  }
  return out
}
