// Signal rules: samples from a device bound to a work center become MES commands on the same path as operators'.
import type { HardwareProfile } from '../../hardware-profiles/schema.ts'
import { accept } from '../core/decision.ts'
import { recordMeasurement } from '../core/execution.ts'
import { recordMachineCount, recordMachineState } from '../core/machine.ts'
import { counterDelta, machineStateOf } from '../core/signals.ts'
import type { Sample } from '../historian/historian.ts'
import type { Decide, LineStore } from '../store/line-store.ts'

export interface DeviceBinding {
  device: string
  workCenterId: string
  profile: HardwareProfile
}

type Signal = HardwareProfile['signals'][number]

const ruled = new Set<Signal['kind']>(['machine_state', 'good_count', 'reject_count', 'total_count', 'measurement'])

const hasStopReason = (b: DeviceBinding) => b.profile.signals.some((s) => s.kind === 'stop_reason')

export class SignalRules {
  readonly #store: LineStore
  readonly #signals = new Map<string, { binding: DeviceBinding; signal: Signal }>()
  /** The signals some rule reads (the ruled kinds and stop reasons): a batch with none of them is plain telemetry. */
  readonly #watched = new Set<string>()
  readonly #counters = new Map<string, number>()
  /** The last value of each measurement signal: a polled value that did not change is not a new measurement. */
  readonly #measured = new Map<string, number>()
  /** Rejects counted by a device that reports total and rejects, not yet taken off a total. */
  readonly #unsettledRejects = new Map<string, number>()
  /** The last stop reason each device reported (PackML StopReason), given to the stop it explains. */
  readonly #stopReasons = new Map<string, number>()
  readonly #onError: (error: unknown) => void

  constructor(store: LineStore, bindings: DeviceBinding[], onError: (error: unknown) => void) {
    this.#store = store
    this.#onError = onError
    for (const binding of bindings) {
      for (const signal of binding.profile.signals) {
        const name = `${binding.device}/${signal.name}`
        this.#signals.set(name, { binding, signal })
        if (ruled.has(signal.kind) || signal.kind === 'stop_reason') this.#watched.add(name)
      }
    }
  }

  /** Handles a batch of samples; Bad or Uncertain samples never become MES facts. */
  handle(samples: Sample[]): void {
    // Most batches are plain telemetry (values, alarms): passed over with one set lookup a sample.
    if (!samples.some((sample) => this.#watched.has(sample.signal))) return
    // Counts are summed per device over the batch: a device counting total and rejects reports a
    // reject on both counters, and its good parts are the difference.
    const counts = new Map<string, { binding: DeviceBinding; good: number; reject: number; total: number; source: string; occurredAt: string }>()
    // A machine sets its stop reason with the state, and both may come in one batch in either order:
    // the reason is taken first, so the stop carries it.
    for (const sample of samples) {
      const bound = this.#signals.get(sample.signal)
      if (bound?.signal.kind !== 'stop_reason' || sample.quality !== 'good' || typeof sample.value !== 'number') continue
      this.#stopReasons.set(bound.binding.device, sample.value)
    }
    for (const sample of samples) {
      const bound = this.#signals.get(sample.signal)
      if (!bound || sample.quality !== 'good' || sample.value === null) continue
      const { binding, signal } = bound
      // Most samples are plain telemetry (values, alarms): nothing to decide, and nothing to allocate for them.
      if (!ruled.has(signal.kind)) continue
      const actor = `device:${binding.device}`
      const wc = binding.workCenterId
      const occurredAt = new Date(sample.timestamp).toISOString()
      switch (signal.kind) {
        case 'machine_state': {
          const state = machineStateOf(sample.value, signal.stateMap ?? {})
          const stopReason = hasStopReason(binding) ? this.#stopReasons.get(binding.device) : undefined
          if (state) this.#submit(actor, (v) => recordMachineState(v, wc, state, sample.signal, stopReason), occurredAt)
          break
        }
        case 'good_count':
        case 'reject_count':
        case 'total_count': {
          const value = Number(sample.value)
          if (!Number.isFinite(value)) break
          const { delta } = counterDelta(this.#counters.get(sample.signal) ?? null, { value, wrap: signal.counterWrap })
          this.#counters.set(sample.signal, value)
          if (delta <= 0) break
          const sum = counts.get(binding.device) ?? { binding, good: 0, reject: 0, total: 0, source: sample.signal, occurredAt }
          sum[signal.kind === 'good_count' ? 'good' : signal.kind === 'reject_count' ? 'reject' : 'total'] += delta
          sum.occurredAt = occurredAt
          counts.set(binding.device, sum)
          break
        }
        case 'measurement': {
          if (typeof sample.value !== 'number' || !signal.unit) break
          const value = sample.value
          if (this.#measured.get(sample.signal) === value) break
          this.#measured.set(sample.signal, value)
          const unit = signal.unit
          this.#submit<{ withinLimits: boolean } | null>(
            actor,
            (v, ctx) => {
              const run = v.runningRunAt(wc)
              const op = run && v.operations(run.orderId).find((o) => o.seq === run.opSeq)
              // Only a measurement the operation asks for becomes as-built data; the rest stays telemetry.
              if (!run || !op?.measurements.some((m) => m.name === signal.name)) return accept([], null)
              return recordMeasurement(v, run.id, { name: signal.name, value, unit }, ctx)
            },
            occurredAt,
          )
          break
        }
      }
    }
    for (const [device, c] of counts) this.#count(device, c)
  }

  /** Records a device's counts; with total and reject counters, good = total − rejects, the rejects settled against later totals. */
  #count(device: string, c: { binding: DeviceBinding; good: number; reject: number; total: number; source: string; occurredAt: string }): void {
    let good = c.good
    if (c.binding.profile.signals.some((s) => s.kind === 'total_count')) {
      const owed = (this.#unsettledRejects.get(device) ?? 0) + c.reject
      const settled = Math.min(owed, c.total)
      this.#unsettledRejects.set(device, owed - settled)
      good += c.total - settled
    }
    if (good > 0 || c.reject > 0) this.#submit(`device:${device}`, (v) => recordMachineCount(v, c.binding.workCenterId, good, c.reject, c.source), c.occurredAt)
  }

  #submit<R>(actor: string, decide: Decide<R>, occurredAt: string): void {
    this.#store.submit(actor, decide, occurredAt).catch(this.#onError)
  }
}
