// MQTT JSON ingest: device topics on the embedded broker, values picked from each payload by JSON path.
import type { HardwareProfile } from '../../hardware-profiles/schema.ts'
import type { Sample } from '../historian/historian.ts'
import type { LineBroker } from './broker.ts'
import type { Collector, CollectorStatus, SampleSink } from './collector.ts'

export type MqttJsonProfile = Extract<HardwareProfile, { protocol: 'mqtt-json' }>

/** A JSON path as the steps it takes: member names and array indexes. */
export type JsonPath = Array<string | number>

/** `$.a.b[0]` → ['a', 'b', 0]; parsed once per signal, not once per message. */
export function compilePath(path: string): JsonPath {
  return [...path.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/g)].map(([, key, index]) => (key !== undefined ? key : Number(index)))
}

/** Reads a compiled path (or `$.a.b[0]`) from a parsed JSON value; undefined when the path does not exist. */
export function atPath(value: unknown, path: string | JsonPath): unknown {
  let current = value
  for (const step of typeof path === 'string' ? compilePath(path) : path) {
    if (current === null || typeof current !== 'object') return undefined
    // Only own members count: a path must not reach Object.prototype (`$.constructor`).
    if (typeof step === 'string' && !Object.hasOwn(current, step)) return undefined
    current = (current as Record<string | number, unknown>)[step]
  }
  return current
}

/** What the collector needs per signal of a topic, worked out at start. */
interface TopicSignal {
  /** `device/name`, built once: the same string for every sample, so map lookups downstream hash it once. */
  signal: string
  path: JsonPath
  /** The member name when the path is one member of the top-level object (`$.temperature`), the common case: read without walking. */
  member: string | null
  source: string
}

/** The value at a signal's path in a parsed payload. */
function valueAt(parsed: unknown, s: TopicSignal): unknown {
  if (s.member === null) return atPath(parsed, s.path)
  // Only own members count, as in atPath.
  return parsed !== null && typeof parsed === 'object' && Object.hasOwn(parsed, s.member) ? (parsed as Record<string, unknown>)[s.member] : undefined
}

// JSON null is no value: a Good sample must carry one (as a Sparkplug is_null metric is Bad).
function sampleValue(raw: unknown): Sample['value'] | undefined {
  if (typeof raw === 'number' || typeof raw === 'string' || typeof raw === 'boolean') return raw
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
    const byTopic = new Map<string, TopicSignal[]>()
    for (const s of this.#profile.signals) {
      const topic = s.topic.replaceAll('${device}', this.device)
      const path = compilePath(s.path)
      const member = path.length === 1 && typeof path[0] === 'string' ? path[0] : null
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), { signal: `${this.device}/${s.name}`, path, member, source: s.path }])
    }
    for (const [topic, signals] of byTopic) {
      // The broker acknowledges a QoS 1 publication only once this resolves: the ack means "on disk".
      this.#removals.push(
        this.#broker.ingest(topic, (_topic, payload) => {
          this.#status.cycles += 1
          return this.#sink(this.#samples(signals, payload))
        }),
      )
    }
    this.#status.connected = true
  }

  #samples(signals: TopicSignal[], payload: Buffer | string): Sample[] {
    const timestamp = Date.now()
    let parsed: unknown
    try {
      parsed = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'))
    } catch {
      this.#status.lastError = 'payload is not JSON'
      return signals.map((s) => ({ signal: s.signal, value: null, quality: 'bad', timestamp, reason: 'payload is not JSON' }))
    }
    const samples: Sample[] = new Array(signals.length)
    for (let i = 0; i < signals.length; i++) {
      const s = signals[i]!
      const value = sampleValue(valueAt(parsed, s))
      samples[i] = value === undefined ? { signal: s.signal, value: null, quality: 'bad', timestamp, reason: `no value at ${s.source}` } : { signal: s.signal, value, quality: 'good', timestamp }
    }
    return samples
  }

  status(): CollectorStatus {
    return { ...this.#status }
  }

  async stop(): Promise<void> {
    for (const remove of this.#removals.splice(0)) remove()
    this.#status.connected = false
  }
}
