// MQTT JSON ingest: device topics on the embedded broker, values picked from each payload by JSON path.
import type { HardwareProfile } from '../../hardware-profiles/schema.ts'
import type { Sample } from '../historian/historian.ts'
import type { LineBroker } from './broker.ts'
import type { Collector, CollectorStatus, SampleSink } from './collector.ts'

export type MqttJsonProfile = Extract<HardwareProfile, { protocol: 'mqtt-json' }>

/** Reads `$.a.b[0]` from a parsed JSON value; undefined when the path does not exist. */
export function atPath(value: unknown, path: string): unknown {
  let current = value
  for (const [, key, index] of path.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/g)) {
    if (current === null || typeof current !== 'object') return undefined
    current = key !== undefined ? (current as Record<string, unknown>)[key] : (current as unknown[])[Number(index)]
  }
  return current
}

function sampleValue(raw: unknown): Sample['value'] | undefined {
  if (typeof raw === 'number' || typeof raw === 'string' || typeof raw === 'boolean' || raw === null) return raw
  return undefined
}

export class MqttJsonCollector implements Collector {
  readonly device: string
  readonly #broker: LineBroker
  readonly #profile: MqttJsonProfile
  readonly #sink: SampleSink
  readonly #removals: Array<() => void> = []
  #status: CollectorStatus

  constructor(device: string, broker: LineBroker, profile: MqttJsonProfile, sink: SampleSink) {
    this.device = device
    this.#broker = broker
    this.#profile = profile
    this.#sink = sink
    this.#status = { device, connected: false, cycles: 0, late: 0, lastError: null }
  }

  start(): void {
    const byTopic = new Map<string, MqttJsonProfile['signals']>()
    for (const s of this.#profile.signals) {
      const topic = s.topic.replaceAll('${device}', this.device)
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), s])
    }
    for (const [topic, signals] of byTopic) {
      // The broker acknowledges a QoS 1 publication only once this resolves: the ack means "on disk".
      this.#removals.push(
        this.#broker.ingest(topic, async (_topic, payload) => {
          this.#status.cycles += 1
          await this.#sink(this.#samples(signals, payload))
        }),
      )
    }
    this.#status.connected = true
  }

  #samples(signals: MqttJsonProfile['signals'], payload: Buffer | string): Sample[] {
    const timestamp = Date.now()
    let parsed: unknown
    try {
      parsed = JSON.parse(payload.toString())
    } catch {
      this.#status.lastError = 'payload is not JSON'
      return signals.map((s) => ({ signal: `${this.device}/${s.name}`, value: null, quality: 'bad', timestamp, reason: 'payload is not JSON' }))
    }
    return signals.map((s): Sample => {
      const value = sampleValue(atPath(parsed, s.path))
      if (value === undefined) return { signal: `${this.device}/${s.name}`, value: null, quality: 'bad', timestamp, reason: `no value at ${s.path}` }
      return { signal: `${this.device}/${s.name}`, value, quality: 'good', timestamp }
    })
  }

  status(): CollectorStatus {
    return { ...this.#status }
  }

  async stop(): Promise<void> {
    for (const remove of this.#removals.splice(0)) remove()
    this.#status.connected = false
  }
}
