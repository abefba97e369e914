// A simulated Sparkplug B device: births and deaths, data by alias, rebirth on request, and the faults a technician injects.
import mqtt from 'mqtt'
import type { HardwareProfile } from '../../hardware-profiles/schema.ts'
import { DataType, decodePayload, encodePayload, topicOf, type Metric } from '../../edge/connectivity/sparkplug/index.ts'
import type { DeviceImage, MachineAdapter } from '../runner.ts'
import type { Fault, ScenarioMachine } from '../scenario.ts'

type SparkplugProfile = Extract<HardwareProfile, { protocol: 'sparkplug' }>
type Value = number | string | boolean

function datatypeOf(value: Value, kind: string): number {
  if (typeof value === 'string') return DataType.String
  if (typeof value === 'boolean') return DataType.Boolean
  return kind.endsWith('_count') || kind === 'stop_reason' ? DataType.Int64 : DataType.Double
}

const wire = (value: Value, datatype: number) => (datatype === DataType.Int64 ? BigInt(Math.trunc(value as number)) : value)

export class SparkplugDevice implements MachineAdapter {
  readonly #machine: ScenarioMachine
  readonly #cfg: NonNullable<ScenarioMachine['sparkplug']>
  readonly #profile: SparkplugProfile
  readonly #deviceId: string
  #client: mqtt.MqttClient | null = null
  #bdSeq = 0
  #seq = 0
  #last = new Map<string, Value>()
  #image: DeviceImage = new Map()
  #skewMs = 0
  #delayMs = 0
  #silent = false
  #dropped = false

  constructor(machine: ScenarioMachine, profile: HardwareProfile) {
    if (!machine.sparkplug || profile.protocol !== 'sparkplug') throw new Error(`machine '${machine.name}' is not a Sparkplug machine`)
    this.#machine = machine
    this.#cfg = machine.sparkplug
    this.#profile = profile
    this.#deviceId = machine.sparkplug.deviceId ?? machine.name
  }

  async start(): Promise<string> {
    await this.#connect()
    return `${this.#cfg.broker} ${topicOf(this.#cfg.groupId, 'DDATA', this.#cfg.edgeNodeId, this.#deviceId)}`
  }

  /**
   * Connects and keeps reconnecting, as a device on the line does: the broker (the gateway) may start
   * after the simulator, or restart. Every (re)connection births again.
   */
  async #connect(): Promise<void> {
    const death = encodePayload({ timestamp: this.#now(), metrics: [{ name: 'bdSeq', datatype: DataType.Int64, value: BigInt(this.#bdSeq) }] })
    const client = mqtt.connect(this.#cfg.broker, {
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 1000,
      // No store and forward: data made while offline is dropped, and a reconnection births with current values.
      queueQoSZero: false,
      clientId: `takt-sim-${this.#machine.name}`,
      ...(this.#cfg.username ? { username: this.#cfg.username, password: this.#cfg.password ?? '' } : {}),
      // tck-id-payloads-ndeath-will-message: the death is registered as the will, with this session's bdSeq.
      will: { topic: topicOf(this.#cfg.groupId, 'NDEATH', this.#cfg.edgeNodeId), payload: death, qos: 1, retain: false },
    })
    this.#client = client
    // A broker that is not up yet, or refuses the credentials, is retried; the reason is kept for status.
    client.on('error', (error) => (this.lastError = error.message))
    client.on('message', (_topic, bytes) => this.#command(bytes))
    client.on('connect', () => {
      this.lastError = null
      void client
        .subscribeAsync(topicOf(this.#cfg.groupId, 'NCMD', this.#cfg.edgeNodeId), { qos: 0 })
        .then(() => this.#birth())
        .catch((error: Error) => (this.lastError = error.message))
    })
  }

  /** Why the device is not connected, while it is not. */
  lastError: string | null = null

  #now(): number {
    return Date.now() + this.#skewMs
  }

  #command(bytes: Buffer): void {
    try {
      const p = decodePayload(bytes)
      if (p.metrics.some((m) => m.name === 'Node Control/Rebirth' && m.value === true)) void this.#birth().catch(() => {})
    } catch {
      // A command that does not decode is ignored, as a device would.
    }
  }

  /** NBIRTH (seq 0, bdSeq) then DBIRTH with every metric, named and aliased. */
  async #birth(): Promise<void> {
    const client = this.#client
    if (!client || !client.connected || this.#dropped) return
    const ts = this.#now()
    this.#seq = 0
    const nbirth = encodePayload({ timestamp: ts, seq: 0, metrics: [{ name: 'bdSeq', datatype: DataType.Int64, value: BigInt(this.#bdSeq), timestamp: ts }, { name: 'Node Control/Rebirth', datatype: DataType.Boolean, value: false, timestamp: ts }] })
    await client.publishAsync(topicOf(this.#cfg.groupId, 'NBIRTH', this.#cfg.edgeNodeId), nbirth, { qos: 0 })
    const metrics: Metric[] = []
    this.#profile.signals.forEach((s, i) => {
      const value = this.#image.get(s.name)
      if (value === undefined) return
      const datatype = datatypeOf(value, s.kind)
      metrics.push({ name: s.metric, alias: BigInt(i + 1), timestamp: ts, datatype, value: wire(value, datatype) })
      this.#last.set(s.name, value)
    })
    await client.publishAsync(topicOf(this.#cfg.groupId, 'DBIRTH', this.#cfg.edgeNodeId, this.#deviceId), encodePayload({ timestamp: ts, seq: this.#nextSeq(), metrics }), { qos: 0 })
  }

  #nextSeq(): number {
    this.#seq = (this.#seq + 1) % 256
    return this.#seq
  }

  update(image: DeviceImage): void {
    const first = this.#image.size === 0
    this.#image = image
    if (first) return void this.#birth().catch(() => {})
    if (!this.#client?.connected || this.#silent || this.#dropped) return
    const ts = this.#now()
    const changed: Metric[] = []
    this.#profile.signals.forEach((s, i) => {
      const value = image.get(s.name)
      if (value === undefined || this.#last.get(s.name) === value) return
      this.#last.set(s.name, value)
      const datatype = datatypeOf(value, s.kind)
      changed.push({ alias: BigInt(i + 1), timestamp: ts, datatype, value: wire(value, datatype) })
    })
    if (changed.length === 0) return
    const bytes = encodePayload({ timestamp: ts, seq: this.#nextSeq(), metrics: changed })
    const topic = topicOf(this.#cfg.groupId, 'DDATA', this.#cfg.edgeNodeId, this.#deviceId)
    const send = () => void this.#client?.publishAsync(topic, bytes, { qos: 0 }).catch(() => {})
    if (this.#delayMs > 0) setTimeout(send, this.#delayMs)
    else send()
  }

  fault(f: Fault, on: boolean): void {
    if (f.fault === 'clock_skew') this.#skewMs = on ? (f.skewMs ?? 0) : 0
    else if (f.fault === 'slow') this.#delayMs = on ? (f.delayMs ?? 0) : 0
    else if (f.fault === 'stop_answering') this.#silent = on
    else if (f.fault === 'drop_connections') {
      this.#dropped = on
      // Cut the socket as a failing network would: the broker then publishes the will (NDEATH).
      if (on) {
        const client = this.#client
        this.#client = null
        client?.stream.destroy()
        void client?.endAsync(true)
      } else {
        this.#bdSeq = (this.#bdSeq + 1) % 256
        void this.#connect()
      }
    }
  }

  async stop(): Promise<void> {
    await this.#client?.endAsync(true)
    this.#client = null
  }
}
