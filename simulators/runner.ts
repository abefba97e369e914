// Runs a scenario: the line model advanced with wall time (times the scale), each machine's device image handed to its protocol adapter, faults applied on time.
import type { HardwareProfile } from '../hardware-profiles/schema.ts'
import { deviceImage } from './device-image.ts'
import { LineModel, type MachineSnapshot } from './model/line-model.ts'
import { faultProblems, machineParams, type Fault, type LoadedScenario, type ScenarioMachine } from './scenario.ts'

export type DeviceImage = Map<string, number | string | boolean>

/** One simulated machine's protocol side: an OPC UA server, a Modbus slave, a Sparkplug device. */
export interface MachineAdapter {
  /** Starts serving; resolves with where a gateway finds it (a URL or host:port). */
  start(): Promise<string>
  /** The machine's current values, in its profile's signal names. */
  update(image: DeviceImage, snapshot: MachineSnapshot, modelTimeMs: number): void
  /** Turns a protocol fault on or off; model faults (counters) never reach the adapter. */
  fault(fault: Fault, on: boolean): void
  stop(): Promise<void>
}

export type AdapterFactory = (machine: ScenarioMachine, profile: HardwareProfile) => MachineAdapter

export interface ActiveFault {
  id: number
  fault: Fault
  /** Model time it started, and when it ends (null: until cleared). */
  since: number
  until: number | null
}


export class LineSimulator {
  readonly loaded: LoadedScenario
  readonly model: LineModel
  readonly #adapters = new Map<string, MachineAdapter>()
  readonly #now: () => number
  readonly #tickMs: number
  readonly #scheduled: Fault[]
  #active: ActiveFault[] = []
  #nextId = 1
  #startedAt = 0
  #timer: NodeJS.Timeout | null = null
  endpoints: Record<string, string> = {}

  constructor(loaded: LoadedScenario, adapters: AdapterFactory, options: { now?: () => number; tickMs?: number } = {}) {
    this.loaded = loaded
    this.model = new LineModel(machineParams(loaded.scenario), loaded.scenario.seed)
    for (const m of loaded.scenario.machines) this.#adapters.set(m.name, adapters(m, loaded.profiles[m.name]!))
    this.#now = options.now ?? Date.now
    this.#tickMs = options.tickMs ?? 100
    this.#scheduled = [...loaded.scenario.faults].filter((f) => f.at !== undefined).sort((a, b) => a.at! - b.at!)
  }

  /** Model milliseconds since the start, at the scenario's time scale. */
  modelTime(): number {
    return (this.#now() - this.#startedAt) * this.loaded.scenario.timeScale
  }

  async start(): Promise<Record<string, string>> {
    for (const [name, adapter] of this.#adapters) this.endpoints[name] = await adapter.start()
    this.#startedAt = this.#now()
    this.tick()
    return this.endpoints
  }

  /** One step: faults due, the model to now, every adapter updated. Runs by itself after start(); tests may call it. */
  tick(): void {
    if (this.#timer) clearTimeout(this.#timer)
    const t = this.modelTime()
    while (this.#scheduled.length > 0 && this.#scheduled[0]!.at! * 1000 <= t) this.inject(this.#scheduled.shift()!)
    for (const a of this.#active.filter((x) => x.until !== null && x.until <= t)) this.clear(a.id)
    this.model.advanceTo(t)
    for (const m of this.loaded.scenario.machines) {
      const snapshot = this.model.snapshot(m.name)
      this.#adapters.get(m.name)!.update(deviceImage(this.loaded.profiles[m.name]!, snapshot), snapshot, t)
    }
    this.#timer = setTimeout(() => this.tick(), this.#tickMs)
    this.#timer.unref()
  }

  /** Applies a fault now (from the scenario or live); returns its id. Throws with the reasons when it does not fit the machine. */
  inject(fault: Fault): ActiveFault {
    const machine = this.loaded.scenario.machines.find((m) => m.name === fault.machine)
    if (!machine) throw new Error(`there is no machine '${fault.machine}'`)
    const problems = faultProblems(fault, machine)
    if (problems.length > 0) throw new Error(problems.join('; '))
    const since = this.modelTime()
    const active: ActiveFault = { id: this.#nextId++, fault, since, until: fault.duration === undefined ? null : since + fault.duration * 1000 }
    if (fault.fault === 'counter_reset') this.model.resetCounters(machine.name)
    else if (fault.fault === 'counter_wrap') this.#bringToWrap(machine)
    else {
      this.#adapters.get(machine.name)!.fault(fault, true)
      this.#active.push(active)
    }
    return active
  }

  /** Ends a protocol fault; false when there is no such active fault. */
  clear(id: number): boolean {
    const i = this.#active.findIndex((a) => a.id === id)
    if (i < 0) return false
    const [a] = this.#active.splice(i, 1)
    this.#adapters.get(a!.fault.machine)!.fault(a!.fault, false)
    return true
  }

  faults(): ActiveFault[] {
    return this.#active.map((a) => ({ ...a }))
  }

  /** Counters jump to a few parts before the profile's wrap value, so the gateway sees them wrap. */
  #bringToWrap(machine: ScenarioMachine): void {
    const profile = this.loaded.profiles[machine.name]!
    const counters = profile.signals.filter((s) => (s.kind === 'good_count' || s.kind === 'total_count') && s.counterWrap !== undefined)
    if (counters.length === 0) throw new Error(`machine '${machine.name}': its profile gives no good or total counter a wrap value`)
    const wrap = Math.min(...counters.map((s) => s.counterWrap!))
    const now = this.model.snapshot(machine.name)
    const highest = Math.max(...counters.map((s) => (s.kind === 'good_count' ? now.good : now.processed) % (wrap + 1)))
    this.model.offsetCounters(machine.name, Math.max(0, wrap - 3 - highest))
  }

  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    for (const adapter of this.#adapters.values()) await adapter.stop()
  }
}
