// The gateway as Sparkplug B host for a device publishing into its broker: births, aliases, seq tracking, rebirth requests, deaths → samples.
import type { Logger } from 'pino'
import type { HardwareProfile } from '../../../hardware-profiles/schema.ts'
import type { Sample } from '../../historian/historian.ts'
import type { LineBroker } from '../broker.ts'
import type { Collector, CollectorStatus, SampleSink } from '../collector.ts'
import { BD_SEQ, checkId, NAMESPACE, nextSeq, parseTopic, REBIRTH, topicOf, type SparkplugTopic } from './namespace.ts'
import { DataType, dataTypeName, decodePayload, encodePayload, type Metric, type Payload } from './payload.ts'

export type SparkplugProfile = Extract<HardwareProfile, { protocol: 'sparkplug' }>
type Signal = SparkplugProfile['signals'][number]

export interface SparkplugDeviceCollectorOptions {
  device: string
  broker: LineBroker
  groupId: string
  edgeNodeId: string
  /** Absent: the profile's metrics are the edge node's own (NBIRTH/NDATA). */
  deviceId?: string
  profile: SparkplugProfile
  sink: SampleSink
  logger: Logger
  /** Shortest wait between two rebirth requests to the edge node, ms. Default 5,000. */
  rebirthIntervalMs?: number
}

export interface SparkplugCollectorStatus extends CollectorStatus {
  /** The bdSeq of the edge node's current birth; null while it has none. */
  bdSeq: number | null
  /** The last seq seen from the edge node. */
  seq: number | null
  rebirthRequests: number
}

interface Birth {
  aliases: Map<bigint, string>
  types: Map<string, number>
}

// Values a historian cannot hold as a number, text or flag.
const notCollected = new Set<number>([DataType.DataSet, DataType.Template, DataType.Bytes, DataType.File, ...Array.from({ length: 13 }, (_, i) => DataType.Int8Array + i)])
// Sparkplug 3.0 §6.4.9.1 quality codes in the `Quality` property.
const QUALITY_BAD = 0
const QUALITY_STALE = 500

export class SparkplugDeviceCollector implements Collector {
  readonly device: string
  readonly #o: SparkplugDeviceCollectorOptions
  readonly #log: Logger
  readonly #signals = new Map<string, Signal[]>()
  readonly #commandTopic: string
  #removal: (() => void) | null = null
  /** The edge node's session as this host has seen it: null until an NBIRTH, again after its NDEATH. */
  #node: { bdSeq: number | null; seq: number } | null = null
  /** The birth of this collector's metrics (the DBIRTH of its device, or the NBIRTH). */
  #birth: Birth | null = null
  #lastRebirth = -Infinity
  #status: SparkplugCollectorStatus

  constructor(options: SparkplugDeviceCollectorOptions) {
    checkId('groupId', options.groupId)
    checkId('edgeNodeId', options.edgeNodeId)
    if (options.deviceId !== undefined) checkId('deviceId', options.deviceId)
    this.device = options.device
    this.#o = options
    this.#log = options.logger.child({ collector: 'sparkplug', device: options.device, groupId: options.groupId, edgeNodeId: options.edgeNodeId, deviceId: options.deviceId ?? null })
    for (const s of options.profile.signals) this.#signals.set(s.metric, [...(this.#signals.get(s.metric) ?? []), s])
    this.#commandTopic = topicOf(options.groupId, 'NCMD', options.edgeNodeId)
    this.#status = { device: options.device, connected: false, cycles: 0, late: 0, lastError: null, bdSeq: null, seq: null, rebirthRequests: 0 }
  }

  start(): void {
    if (this.#removal) return
    const filter = `${NAMESPACE}/${this.#o.groupId}/+/${this.#o.edgeNodeId}/#`
    // The broker acknowledges a QoS 1 publication only once this resolves: the ack means "stored".
    this.#removal = this.#o.broker.ingest(filter, (topic, payload) => this.#ingest(topic, payload))
    // A device already connected births again for this host instead of waiting for its next change.
    this.#requestRebirth('host started')
  }

  async stop(): Promise<void> {
    this.#removal?.()
    this.#removal = null
    this.#status.connected = false
  }

  status(): SparkplugCollectorStatus {
    return { ...this.#status, bdSeq: this.#node?.bdSeq ?? null, seq: this.#node?.seq ?? null }
  }

  #ingest(topic: string, payload: Buffer): void | Promise<void> {
    const parsed = parseTopic(topic)
    if (!parsed || parsed.groupId !== this.#o.groupId || parsed.edgeNodeId !== this.#o.edgeNodeId) return
    if (parsed.type === 'NCMD' || parsed.type === 'DCMD') return // commands to the node, not news from it
    this.#status.cycles += 1
    // Decoding, seq and alias bookkeeping happen synchronously, so they follow the order the broker hands messages over.
    const samples = this.#handle(parsed, topic, payload)
    if (samples.length > 0) return this.#o.sink(samples)
  }

  #mine(t: SparkplugTopic): boolean {
    return t.deviceId === this.#o.deviceId
  }

  #handle(t: SparkplugTopic, topic: string, bytes: Buffer): Sample[] {
    const mine = this.#mine(t)
    let payload: Payload
    try {
      payload = decodePayload(bytes, mine && !t.type.endsWith('BIRTH') ? (m) => this.#datatypeOf(m) : undefined)
    } catch (error) {
      const reason = `${t.type} on ${topic} does not decode: ${(error as Error).message}`
      this.#status.lastError = reason
      this.#log.warn({ topic, err: (error as Error).message }, 'Sparkplug payload does not decode')
      // A broken birth or death leaves the whole node's state unknown; another device's broken data is not ours.
      return mine || t.type === 'NBIRTH' || t.type === 'NDEATH' ? this.#allBad(reason, Date.now()) : []
    }
    switch (t.type) {
      case 'NBIRTH': return this.#nodeBirth(payload)
      case 'NDEATH': return this.#nodeDeath(payload)
      case 'DDEATH':
        this.#checkSeq(t.type, payload.seq)
        if (!mine) return []
        this.#birth = null
        this.#status.connected = false
        return this.#allBad('device offline', payload.timestamp ?? Date.now())
      default: {
        if (!this.#checkSeq(t.type, payload.seq) || !mine) return []
        if (t.type === 'DBIRTH') return this.#recordBirth(payload, 'DBIRTH')
        if (!this.#birth) {
          this.#requestRebirth(`${t.type} before the ${this.#o.deviceId === undefined ? 'NBIRTH' : 'DBIRTH'} of this session`)
          return []
        }
        return this.#data(payload, t.type)
      }
    }
  }

  #nodeBirth(payload: Payload): Sample[] {
    const bd = payload.metrics.find((m) => m.name === BD_SEQ)?.value
    const bdSeq = typeof bd === 'bigint' || typeof bd === 'number' ? Number(bd) : null
    if (bdSeq === null) this.#log.warn('NBIRTH without a bdSeq metric; its NDEATH cannot be matched (tck-id-payloads-nbirth-bdseq)')
    if (payload.seq !== 0) this.#log.warn({ seq: payload.seq ?? null }, 'NBIRTH with a seq other than 0 (tck-id-payloads-nbirth-seq)')
    this.#node = { bdSeq, seq: payload.seq ?? 0 }
    this.#log.info({ bdSeq }, 'edge node born')
    // A new session: a device's earlier birth is stale until its DBIRTH in this session.
    this.#birth = null
    if (this.#o.deviceId !== undefined) {
      this.#status.connected = false
      return []
    }
    return this.#recordBirth(payload, 'NBIRTH')
  }

  #nodeDeath(payload: Payload): Sample[] {
    const bd = payload.metrics.find((m) => m.name === BD_SEQ)?.value
    const bdSeq = typeof bd === 'bigint' || typeof bd === 'number' ? Number(bd) : null
    // A will can arrive after the next session's NBIRTH; only the death of the current birth counts (Sparkplug 3.0 §5.2 step 4).
    if (!this.#node || bdSeq === null || bdSeq !== this.#node.bdSeq) {
      this.#log.info({ bdSeq, current: this.#node?.bdSeq ?? null }, 'NDEATH of an earlier session ignored')
      return []
    }
    this.#log.warn({ bdSeq }, 'edge node died')
    this.#node = null
    this.#birth = null
    this.#status.connected = false
    return this.#allBad('device offline', Date.now())
  }

  /** Seq must be the previous + 1 (0..255); a gap or DATA with no birth asks the node for a rebirth. Returns whether a birth is known. */
  #checkSeq(type: string, seq: number | undefined): boolean {
    if (!this.#node) {
      this.#requestRebirth(`${type} before any NBIRTH`)
      return false
    }
    const expected = nextSeq(this.#node.seq)
    // tck-id-operational-behavior-host-reordering-*: the embedded broker hands one client's messages over in order, so the reorder timeout is zero.
    if (seq !== expected) this.#requestRebirth(`seq gap: expected ${expected}, got ${seq ?? 'none'} in ${type}`)
    this.#node.seq = seq ?? expected
    return true
  }

  #recordBirth(payload: Payload, type: 'NBIRTH' | 'DBIRTH'): Sample[] {
    const birth: Birth = { aliases: new Map(), types: new Map() }
    for (const m of payload.metrics) {
      if (m.name === undefined) continue
      if (m.alias !== undefined) birth.aliases.set(m.alias, m.name)
      if (m.datatype !== undefined) birth.types.set(m.name, m.datatype)
    }
    this.#birth = birth
    this.#status.connected = true
    this.#status.lastError = null
    const samples = this.#samplesOf(payload.metrics.map((m) => [m.name, m]), payload.timestamp)
    const now = payload.timestamp ?? Date.now()
    for (const [metric, signals] of this.#signals) {
      if (birth.types.has(metric) || payload.metrics.some((m) => m.name === metric)) continue
      for (const s of signals) samples.push({ signal: `${this.device}/${s.name}`, value: null, quality: 'bad', timestamp: now, reason: `metric '${metric}' is not in the ${type}` })
    }
    return samples
  }

  #data(payload: Payload, type: string): Sample[] {
    const birth = this.#birth!
    const named: Array<[string | undefined, Metric]> = []
    for (const m of payload.metrics) {
      const name = m.name ?? (m.alias === undefined ? undefined : birth.aliases.get(m.alias))
      if (name === undefined || !birth.types.has(name)) {
        this.#requestRebirth(`${type} has metric ${m.name ?? `alias ${m.alias}`} that its birth did not announce`)
        continue
      }
      named.push([name, m])
    }
    return this.#samplesOf(named, payload.timestamp)
  }

  #datatypeOf(m: { name?: string; alias?: bigint }): number | undefined {
    const name = m.name ?? (m.alias === undefined ? undefined : this.#birth?.aliases.get(m.alias))
    return name === undefined ? undefined : this.#birth?.types.get(name)
  }

  #samplesOf(metrics: Array<[string | undefined, Metric]>, payloadTime: number | undefined): Sample[] {
    const samples: Sample[] = []
    for (const [name, m] of metrics) {
      const signals = name === undefined ? undefined : this.#signals.get(name)
      if (!signals) continue
      const datatype = m.datatype ?? this.#birth?.types.get(name!)
      const timestamp = m.timestamp ?? payloadTime ?? Date.now()
      for (const s of signals) samples.push({ signal: `${this.device}/${s.name}`, timestamp, ...valueOf(m, datatype) })
    }
    return samples
  }

  #allBad(reason: string, timestamp: number): Sample[] {
    return this.#o.profile.signals.map((s) => ({ signal: `${this.device}/${s.name}`, value: null, quality: 'bad', timestamp, reason }))
  }

  /** NCMD Node Control/Rebirth = true (tck-id-operational-behavior-data-commands-ncmd-rebirth-*), at most one per interval. */
  #requestRebirth(reason: string): void {
    const now = Date.now()
    if (now - this.#lastRebirth < (this.#o.rebirthIntervalMs ?? 5000)) {
      this.#log.debug({ reason }, 'rebirth request held back: one was sent moments ago')
      return
    }
    this.#lastRebirth = now
    this.#status.rebirthRequests += 1
    this.#log.warn({ reason, topic: this.#commandTopic }, 'requesting a rebirth from the edge node')
    // tck-id-payloads-ncmd-seq: no seq; tck-id-topics-ncmd-mqtt: QoS 0, not retained.
    const payload = encodePayload({ timestamp: now, metrics: [{ name: REBIRTH, timestamp: now, datatype: DataType.Boolean, value: true }] })
    this.#o.broker.publish(this.#commandTopic, payload, { qos: 0, retain: false }).catch((error: unknown) => this.#log.warn({ err: String(error) }, 'rebirth request could not be published'))
  }
}

/** A metric's value and quality as a sample: Bad for null and unsupported types, Uncertain for stale and historical values. */
function valueOf(m: Metric, datatype: number | undefined): Pick<Sample, 'value' | 'quality' | 'reason'> {
  if (datatype !== undefined && notCollected.has(datatype)) return { value: null, quality: 'bad', reason: `${dataTypeName(datatype)} metrics are not collected` }
  if (m.isNull || m.value === null) return { value: null, quality: 'bad', reason: 'the device sends a null value (is_null)' }
  const v = m.value
  const value = typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)) : v instanceof Uint8Array ? null : v
  if (value === null) return { value: null, quality: 'bad', reason: 'a bytes value is not collected' }
  const quality = m.properties?.Quality
  if (quality === QUALITY_BAD) return { value, quality: 'bad', reason: 'the device reports Sparkplug quality BAD (0)' }
  if (quality === QUALITY_STALE) return { value, quality: 'uncertain', reason: 'the device reports Sparkplug quality STALE (500)' }
  // A replayed value is history, not news: good-quality samples drive signal rules, and a counter replayed after its birth would count twice.
  if (m.isHistorical) return { value, quality: 'uncertain', reason: 'historical value (store-and-forward)' }
  return { value, quality: 'good' }
}
