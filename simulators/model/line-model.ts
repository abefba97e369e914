// The behaviour of a simulated line: machines with cycle times, scrap, failures, micro-stops and changeovers, coupled by buffers.
//
// A discrete-event model in simulated milliseconds, with no clock and no I/O: the runner maps wall
// time to model time (with a time scale) and the protocol adapters publish the snapshots. The same
// scenario and seed give the same states and counts, event for event.
import { Random } from './random.ts'

export type SimState = 'running' | 'idle' | 'starved' | 'blocked' | 'down' | 'setup' | 'planned_stop'

export interface Spread {
  mean: number
  /** Standard deviation; 0 for a fixed value. */
  sd: number
}

export interface MachineParams {
  name: string
  /** Seconds per part. */
  cycleTime: Spread
  /** Probability that a part is defective. */
  scrapRate: number
  /** Breakdowns: mean running seconds between them, mean seconds to repair, the stop reason codes. */
  failures: { mtbf: number; mttr: number; reasons: number[] } | null
  /** Short stops: mean running seconds between them, their length in seconds, the stop reason. */
  microStops: { mtbf: number; minS: number; maxS: number; reason: number } | null
  /** A changeover after every `everyParts` parts, for `durationS`. */
  changeover: { everyParts: number; durationS: number; reason: number } | null
  measurements: Array<{ name: string } & Spread>
  /** Parts the buffer after this machine holds; the next machine takes from it. */
  bufferAfter: number
  /** Where the counters start (to test a counter that wraps soon). */
  counterStart: number
}

export interface MachineSnapshot {
  name: string
  state: SimState
  /** Model time of the last state change, ms. */
  since: number
  /** The reason of the current stop (0 while running). */
  stopReason: number
  processed: number
  good: number
  defective: number
  /** Seconds the last part took. */
  lastCycleS: number
  measurements: Record<string, number>
  /** Parts waiting in the buffer after this machine. */
  buffered: number
}

export type ModelEvent =
  | { at: number; machine: string; kind: 'state'; state: SimState; reason: number }
  | { at: number; machine: string; kind: 'part'; good: boolean; cycleS: number }

type Pending = { kind: 'cycle' } | { kind: 'resume'; remainingMs: number } | { kind: 'changeover-done' } | { kind: 'released' }

interface Machine {
  p: MachineParams
  rng: Random
  state: SimState
  since: number
  reason: number
  processed: number
  good: number
  defective: number
  lastCycleS: number
  measurements: Record<string, number>
  /** Running ms left until the next breakdown or micro-stop. */
  failureBudget: number
  microBudget: number
  partsSinceChangeover: number
  /** A part is on the machine (taken from the input, not yet finished). */
  holding: boolean
  /** The running ms the part on the machine still needs. */
  cycleLeft: number
  /** When the pending event fires, and what it is. */
  at: number
  pending: Pending | null
  /** A planned stop requested from outside (a shift break, a control command). */
  plannedStop: boolean
}

const ms = (s: number) => Math.max(1, Math.round(s * 1000))

export class LineModel {
  readonly #machines: Machine[]
  /** Parts in the buffer after machine i. */
  readonly #buffers: number[]
  #now = 0
  #events: ModelEvent[] = []

  constructor(machines: MachineParams[], seed: number) {
    const root = new Random(seed)
    this.#machines = machines.map((p) => {
      const rng = root.fork(p.name)
      const m: Machine = {
        p,
        rng,
        state: 'idle',
        since: 0,
        reason: 0,
        processed: p.counterStart,
        good: p.counterStart,
        defective: 0,
        lastCycleS: p.cycleTime.mean,
        measurements: Object.fromEntries(p.measurements.map((x) => [x.name, x.mean])),
        failureBudget: p.failures ? ms(rng.exponential(p.failures.mtbf)) : Infinity,
        microBudget: p.microStops ? ms(rng.exponential(p.microStops.mtbf)) : Infinity,
        partsSinceChangeover: 0,
        holding: false,
        cycleLeft: 0,
        at: Infinity,
        pending: null,
        plannedStop: false,
      }
      return m
    })
    this.#buffers = machines.map(() => 0)
    this.#startWhatCan()
  }

  get now(): number {
    return this.#now
  }

  /** Runs the model to `time` (ms) and returns what happened on the way, in order. */
  advanceTo(time: number): ModelEvent[] {
    for (;;) {
      let next: Machine | undefined
      for (const m of this.#machines) if (m.pending && m.at <= time && (!next || m.at < next.at)) next = m
      if (!next) break
      this.#now = next.at
      this.#fire(next)
      this.#startWhatCan()
    }
    this.#now = Math.max(this.#now, time)
    const out = this.#events
    this.#events = []
    return out
  }

  snapshot(name: string): MachineSnapshot {
    const i = this.#index(name)
    const m = this.#machines[i]!
    return { name, state: m.state, since: m.since, stopReason: m.reason, processed: m.processed, good: m.good, defective: m.defective, lastCycleS: m.lastCycleS, measurements: { ...m.measurements }, buffered: this.#buffers[i]! }
  }

  snapshots(): MachineSnapshot[] {
    return this.#machines.map((m) => this.snapshot(m.p.name))
  }

  /** A planned stop (on) or its end (off), taking effect after the part in progress. */
  setPlannedStop(name: string, on: boolean): void {
    const m = this.#machines[this.#index(name)]!
    m.plannedStop = on
    if (!on && m.state === 'planned_stop') this.#setState(m, 'idle', 0)
    this.#startWhatCan()
  }

  /** Moves the counters on by `parts` good parts at once (to bring a counter to its wrap). */
  offsetCounters(name: string, parts: number): void {
    const m = this.#machines[this.#index(name)]!
    m.processed += parts
    m.good += parts
  }

  /** The machine's counters go back to zero, as after a PLC restart. */
  resetCounters(name: string): void {
    const m = this.#machines[this.#index(name)]!
    m.processed = 0
    m.good = 0
    m.defective = 0
  }

  #index(name: string): number {
    const i = this.#machines.findIndex((m) => m.p.name === name)
    if (i < 0) throw new Error(`the line has no machine '${name}'`)
    return i
  }

  #setState(m: Machine, state: SimState, reason: number): void {
    if (m.state === state && m.reason === reason) return
    m.state = state
    m.reason = reason
    m.since = this.#now
    this.#events.push({ at: this.#now, machine: m.p.name, kind: 'state', state, reason })
  }

  #schedule(m: Machine, afterMs: number, pending: Pending): void {
    m.at = this.#now + afterMs
    m.pending = pending
  }

  /**
   * Every machine without a pending event starts a part if it has one to take and room to put it.
   * A machine that takes a part frees room upstream, so the pass repeats until nothing starts.
   */
  #startWhatCan(): void {
    for (let started = true; started; ) {
      started = false
      this.#machines.forEach((m, i) => {
        if (m.pending) return
        if (m.plannedStop && !m.holding) return this.#setState(m, 'planned_stop', 0)
        if (!m.holding) {
          const input = i === 0 ? Infinity : this.#buffers[i - 1]!
          const room = i === this.#machines.length - 1 || this.#buffers[i]! < m.p.bufferAfter
          if (input <= 0) return this.#setState(m, 'starved', 0)
          if (!room) return this.#setState(m, 'blocked', 0)
          if (i > 0) this.#buffers[i - 1]! -= 1
          m.holding = true
          m.cycleLeft = ms(Math.max(0.05 * m.p.cycleTime.mean, m.rng.normal(m.p.cycleTime.mean, m.p.cycleTime.sd)))
          m.lastCycleS = m.cycleLeft / 1000
        }
        started = true
        this.#run(m)
      })
    }
  }

  /** Runs the part on the machine until it is done or a breakdown or micro-stop comes first. */
  #run(m: Machine): void {
    this.#setState(m, 'running', 0)
    const stopIn = Math.min(m.failureBudget, m.microBudget)
    if (stopIn < m.cycleLeft) {
      m.failureBudget -= stopIn
      m.microBudget -= stopIn
      m.cycleLeft -= stopIn
      this.#schedule(m, stopIn, { kind: 'released' })
    } else {
      m.failureBudget -= m.cycleLeft
      m.microBudget -= m.cycleLeft
      this.#schedule(m, m.cycleLeft, { kind: 'cycle' })
      m.cycleLeft = 0
    }
  }

  #fire(m: Machine): void {
    const pending = m.pending!
    m.pending = null
    m.at = Infinity
    if (pending.kind === 'cycle') return this.#finishPart(m)
    if (pending.kind === 'released') return this.#stop(m)
    if (pending.kind === 'resume') {
      m.cycleLeft = pending.remainingMs
      return this.#run(m)
    }
    // A changeover is done: the machine waits for its next part like any other.
    this.#setState(m, 'idle', 0)
  }

  /** A breakdown (failure budget spent) or a micro-stop, on the part in progress. */
  #stop(m: Machine): void {
    const f = m.p.failures
    const s = m.p.microStops
    if (f && m.failureBudget <= 0) {
      const reason = f.reasons[Math.floor(m.rng.next() * f.reasons.length)] ?? 0
      this.#setState(m, 'down', reason)
      m.failureBudget = ms(m.rng.exponential(f.mtbf))
      this.#schedule(m, ms(m.rng.exponential(f.mttr)), { kind: 'resume', remainingMs: m.cycleLeft })
    } else if (s) {
      this.#setState(m, 'down', s.reason)
      m.microBudget = ms(m.rng.exponential(s.mtbf))
      this.#schedule(m, ms(m.rng.uniform(s.minS, s.maxS)), { kind: 'resume', remainingMs: m.cycleLeft })
    }
  }

  #finishPart(m: Machine): void {
    const i = this.#machines.indexOf(m)
    const good = !m.rng.chance(m.p.scrapRate)
    m.processed += 1
    if (good) m.good += 1
    else m.defective += 1
    for (const x of m.p.measurements) m.measurements[x.name] = m.rng.normal(x.mean, x.sd)
    m.holding = false
    this.#events.push({ at: this.#now, machine: m.p.name, kind: 'part', good, cycleS: m.lastCycleS })
    if (good && i < this.#machines.length - 1) this.#buffers[i]! += 1
    m.partsSinceChangeover += 1
    const c = m.p.changeover
    if (c && m.partsSinceChangeover >= c.everyParts) {
      m.partsSinceChangeover = 0
      this.#setState(m, 'setup', c.reason)
      this.#schedule(m, ms(c.durationS), { kind: 'changeover-done' })
    }
  }
}
