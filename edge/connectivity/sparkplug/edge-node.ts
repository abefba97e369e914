// The gateway as a Sparkplug B edge node on an enterprise broker: NBIRTH/NDATA/NDEATH with bdSeq and seq, rebirth on command, store-and-forward while offline.
import mqtt from 'mqtt'
import type { Logger } from 'pino'
import { BD_SEQ, checkId, nextSeq, REBIRTH, topicOf } from './namespace.ts'
import { EdgeNodeState, type StoredChange, type StoredMetric } from './node-state.ts'
import { checkValue, DataType, decodePayload, encodePayload, scalarTypeNames, type Metric, type ScalarTypeName } from './payload.ts'

export interface SparkplugEdgeNodeOptions {
  /** The enterprise broker, mqtt:// or mqtts://. */
  url: string
  username?: string
  password?: string
  groupId: string
  edgeNodeId: string
  /** SQLite file for bdSeq, metric aliases and last values, and the store-and-forward backlog. */
  stateFile: string
  logger: Logger
  /** Most values kept while the broker is unreachable; the oldest are dropped first. Default 100,000. */
  maxBacklog?: number
  /** Wait between connection attempts, ms. Default 2,000. */
  reconnectMs?: number
  /** Historical values per NDATA when the backlog is sent. Default 200. */
  backlogBatch?: number
  /** MQTT client id; default `takt-{groupId}-{edgeNodeId}`. */
  clientId?: string
}

export interface EdgeNodeMetric {
  name: string
  value: number | bigint | string | boolean | null
  /** Inferred when absent: boolean → Boolean, string → String, bigint → Int64, number → Double. */
  datatype?: ScalarTypeName
  /** Unix milliseconds when the value was captured; default now. */
  timestamp?: number
}

export interface EdgeNodeStatus {
  /** MQTT session up and NBIRTH published. */
  connected: boolean
  /** The bdSeq of the current (or last) CONNECT. */
  bdSeq: number
  /** The seq of the last message published (NBIRTH is 0). */
  seq: number
  /** Values waiting on disk for the broker. */
  backlog: number
}

// Node-level aliases the specification's own metrics keep in every birth; the gateway's metrics start after them.
const REBIRTH_ALIAS = 1n
const BD_SEQ_ALIAS = 2n
const FIRST_ALIAS = 3n
const reserved = new Set([REBIRTH, BD_SEQ])
const typeCodes = new Map<string, number>(scalarTypeNames.map((n) => [n, DataType[n]]))

/** The broker URL without a password, for logs. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(unparsable url)'
  }
}

export class SparkplugEdgeNode {
  readonly #options: SparkplugEdgeNodeOptions
  readonly #log: Logger
  readonly #state: EdgeNodeState
  readonly #topics
  readonly #metrics = new Map<string, StoredMetric>()
  /** Name → datatype of each metric in the last NBIRTH: a metric outside it needs a new birth before it can be sent. */
  #born = new Map<string, number>()
  #pending: StoredChange[] = []
  #flushQueued = false
  #client: mqtt.MqttClient | null = null
  #session = 0
  #online = false
  #bdSeq = -1
  #seq = 0
  #nextAlias = FIRST_ALIAS
  #draining: Promise<void> | null = null
  #closed = false
  #quiet = false
  #willMayBeRegistered = true

  constructor(options: SparkplugEdgeNodeOptions) {
    checkId('groupId', options.groupId)
    checkId('edgeNodeId', options.edgeNodeId)
    this.#options = options
    this.#log = options.logger.child({ part: 'sparkplug-edge-node', groupId: options.groupId, edgeNodeId: options.edgeNodeId })
    this.#state = new EdgeNodeState(options.stateFile)
    for (const m of this.#state.metrics()) {
      this.#metrics.set(m.name, m)
      if (m.alias >= this.#nextAlias) this.#nextAlias = m.alias + 1n
    }
    const { groupId: g, edgeNodeId: e } = options
    this.#topics = { birth: topicOf(g, 'NBIRTH', e), death: topicOf(g, 'NDEATH', e), data: topicOf(g, 'NDATA', e), command: topicOf(g, 'NCMD', e) }
  }

  /** Connects in the background; resolves after the first NBIRTH, or once the first attempt has failed (values are then stored). */
  start(): Promise<void> {
    if (this.#client || this.#closed) return Promise.resolve()
    const o = this.#options
    this.#bdSeq = this.#state.nextBdSeq()
    const client = mqtt.connect(o.url, {
      protocolVersion: 4,
      clean: true, // Sparkplug 3.0 §5.2: every Sparkplug client connects with Clean Session
      clientId: o.clientId ?? `takt-${o.groupId}-${o.edgeNodeId}`,
      reconnectPeriod: o.reconnectMs ?? 2000,
      connectTimeout: 5000,
      resubscribe: false, // the NCMD subscription is made before each NBIRTH, not by mqtt.js behind our back
      queueQoSZero: false, // the backlog on disk is the queue; nothing waits in memory
      will: this.#will(),
      ...(o.username === undefined ? {} : { username: o.username, password: o.password }),
    })
    this.#client = client
    this.#watchConnect(client)
    // mqtt.js builds every CONNECT from its options: a CONNECT after one that reached a broker gets the next bdSeq
    // (tck-id-topics-nbirth-bdseq-increment); one that found no broker never registered its will, so its bdSeq is reused
    // and the next NBIRTH is the previous one's + 1 (tck-id-payloads-nbirth-bdseq-inc).
    client.on('reconnect', () => {
      if (this.#willMayBeRegistered) {
        this.#bdSeq = this.#state.nextBdSeq()
        client.options.will = this.#will()
      }
      queueMicrotask(() => this.#watchConnect(client)) // mqtt.js makes the new socket synchronously after this event
    })
    client.on('message', (topic, payload) => this.#command(topic, payload))
    client.on('error', (error) => {
      // Once per outage at warn: mqtt.js retries every reconnectMs and would repeat the same error all night.
      this.#log[this.#quiet ? 'debug' : 'warn']({ url: safeUrl(o.url), err: error.message }, 'sparkplug broker connection error')
      this.#quiet = true
    })
    return new Promise((resolve) => {
      client.on('connect', () => void this.#connected(client).then(() => resolve()))
      client.on('close', () => (this.#offline(), resolve()))
    })
  }

  /** Takes new values; only changed ones are sent (report by exception), in one NDATA per event-loop turn. */
  update(metrics: readonly EdgeNodeMetric[]): void {
    if (this.#closed) {
      this.#log.warn({ metrics: metrics.length }, 'update after close; ignored')
      return
    }
    for (const m of metrics) {
      const change = this.#accept(m)
      if (change) this.#pending.push(change)
    }
    if (this.#pending.length > 0 && !this.#flushQueued) {
      this.#flushQueued = true
      setImmediate(() => this.#flush())
    }
  }

  status(): EdgeNodeStatus {
    return { connected: this.#online, bdSeq: this.#bdSeq, seq: this.#seq, backlog: this.#state.backlogSize }
  }

  /** Publishes NDEATH, then disconnects cleanly (so the broker drops the will), then closes the state file. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#flush()
    this.#closed = true
    const client = this.#client
    if (client?.connected) {
      // tck-id-operational-behavior-edge-node-intentional-disconnect-ndeath, then -packet: NDEATH first, DISCONNECT right after.
      const sent = client.publishAsync(this.#topics.death, this.#deathPayload(), { qos: 1, retain: false })
      const ok = await Promise.race([sent.then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), 3000).unref())])
      if (!ok) this.#log.warn('NDEATH was not acknowledged before close')
      this.#online = false
      await client.endAsync(!ok)
    } else if (client) await client.endAsync(true)
    await this.#draining // ending the client fails its pending barrier, so a running drain stops here
    this.#log.info({ bdSeq: this.#bdSeq, backlog: this.#state.backlogSize }, 'sparkplug edge node closed')
    this.#state.close()
  }

  /** Notes whether the current CONNECT got as far as a TCP connection, i.e. whether a broker may hold its will. */
  #watchConnect(client: mqtt.MqttClient): void {
    const stream = client.stream as unknown as { connecting?: unknown; once(event: 'connect', listener: () => void): void }
    // Not a plain socket (WebSocket): no way to tell, so assume the will was registered and move bdSeq on.
    if (typeof stream?.connecting !== 'boolean') {
      this.#willMayBeRegistered = true
      return
    }
    this.#willMayBeRegistered = false
    stream.once('connect', () => (this.#willMayBeRegistered = true))
  }

  #will(): mqtt.IClientOptions['will'] {
    // tck-id-payloads-ndeath-will-message-qos / -retain: QoS 1, not retained; tck-id-payloads-ndeath-bdseq.
    return { topic: this.#topics.death, payload: this.#deathPayload(), qos: 1, retain: false }
  }

  #deathPayload(): Buffer {
    const now = Date.now()
    // tck-id-topics-ndeath-payload: only the bdSeq metric; tck-id-topics-ndeath-seq: no seq.
    return encodePayload({ timestamp: now, metrics: [{ name: BD_SEQ, datatype: DataType.Int64, value: BigInt(this.#bdSeq), timestamp: now }] })
  }

  async #connected(client: mqtt.MqttClient): Promise<void> {
    const session = ++this.#session
    this.#quiet = false
    try {
      // tck-id-message-flow-edge-node-ncmd-subscribe: NCMD at QoS 1, before the birth so no rebirth request is missed.
      await client.subscribeAsync(this.#topics.command, { qos: 1 })
    } catch (error) {
      this.#log.warn({ err: String(error) }, 'NCMD subscription failed; waiting for the next connection')
      return
    }
    if (session !== this.#session || !client.connected || this.#closed) return
    this.#birth('connected')
    this.#log.info({ url: safeUrl(this.#options.url), bdSeq: this.#bdSeq, backlog: this.#state.backlogSize }, 'sparkplug edge node online')
    this.#drain(client)
  }

  #offline(): void {
    if (this.#online) this.#log.warn({ bdSeq: this.#bdSeq }, 'sparkplug edge node offline; values are kept on disk until the broker is back')
    this.#online = false
    this.#quiet = true
  }

  /** NBIRTH: seq 0, bdSeq, Node Control/Rebirth = false and the current value of every metric (tck-id-topics-nbirth-*). */
  #birth(reason: string): void {
    this.#commitPending()
    const now = Date.now()
    const metrics: Metric[] = [
      { name: BD_SEQ, alias: BD_SEQ_ALIAS, timestamp: now, datatype: DataType.Int64, value: BigInt(this.#bdSeq) },
      { name: REBIRTH, alias: REBIRTH_ALIAS, timestamp: now, datatype: DataType.Boolean, value: false },
    ]
    // tck-id-payloads-alias-birth-requirement: name and alias together in the birth.
    for (const m of this.#metrics.values()) metrics.push({ name: m.name, alias: m.alias, timestamp: m.timestamp, datatype: m.datatype, value: m.value })
    this.#seq = 0 // tck-id-topics-nbirth-seq-num
    this.#client!.publish(this.#topics.birth, encodePayload({ timestamp: now, seq: 0, metrics }), { qos: 0, retain: false }) // tck-id-topics-nbirth-mqtt
    this.#born = new Map([...this.#metrics.values()].map((m) => [m.name, m.datatype]))
    this.#online = true
    this.#log.info({ bdSeq: this.#bdSeq, metrics: this.#metrics.size, reason }, 'NBIRTH published')
  }

  #accept(m: EdgeNodeMetric): StoredChange | null {
    const refuse = (why: string) => (this.#log.warn({ metric: m.name, why }, 'metric update refused'), null)
    if (typeof m.name !== 'string' || m.name === '') return refuse('a metric needs a name')
    if (reserved.has(m.name)) return refuse(`'${m.name}' is reserved by Sparkplug`)
    const known = this.#metrics.get(m.name)
    const datatype = m.datatype !== undefined ? typeCodes.get(m.datatype) : (known?.datatype ?? inferType(m.value))
    if (datatype === undefined) return refuse(m.datatype !== undefined ? `unknown datatype ${m.datatype}` : 'a null value needs a datatype the first time')
    const timestamp = m.timestamp ?? Date.now()
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) return refuse(`timestamp ${timestamp} is not Unix milliseconds`)
    try {
      checkValue(m.name, datatype, m.value)
    } catch (error) {
      return refuse((error as Error).message)
    }
    // tck-id-operational-behavior-data-publish-nbirth-change: an unchanged value is not sent again.
    if (known && known.datatype === datatype && Object.is(known.value, m.value)) return null
    const alias = known?.alias ?? this.#nextAlias++
    this.#metrics.set(m.name, { name: m.name, alias, datatype, value: m.value, timestamp })
    return { name: m.name, datatype, value: m.value, timestamp }
  }

  /** Persists what changed; sends it in NDATA when online, else appends it to the backlog. */
  #flush(): void {
    this.#flushQueued = false
    const changes = this.#pending
    if (changes.length === 0) return
    const online = this.#online && this.#client?.connected === true
    this.#commitPending(online ? [] : changes)
    if (!online) return
    if (changes.some((c) => this.#born.get(c.name) !== c.datatype)) {
      // A metric the last NBIRTH did not announce (or announced with another datatype) can only arrive in a new birth.
      this.#birth('new metrics')
      return
    }
    this.#publishData(changes.map((c) => ({ alias: this.#metrics.get(c.name)!.alias, timestamp: c.timestamp, datatype: c.datatype, value: c.value })))
  }

  #commitPending(backlog: readonly StoredChange[] = []): void {
    const changed = new Map<string, StoredMetric>()
    for (const c of this.#pending) changed.set(c.name, this.#metrics.get(c.name)!)
    this.#pending = []
    const dropped = this.#state.commit([...changed.values()], backlog, this.#options.maxBacklog ?? 100_000)
    if (dropped > 0) this.#log.warn({ dropped, kept: this.#state.backlogSize }, 'store-and-forward backlog full; the oldest values were dropped')
  }

  /** NDATA with the next seq; metrics by alias only (tck-id-payloads-alias-data-cmd-requirement), each with its timestamp. */
  #publishData(metrics: Metric[]): void {
    this.#seq = nextSeq(this.#seq) // tck-id-topics-ndata-seq-num
    this.#client!.publish(this.#topics.data, encodePayload({ timestamp: Date.now(), seq: this.#seq, metrics }), { qos: 0, retain: false }) // tck-id-topics-ndata-mqtt
  }

  /** Starts sending the backlog unless a drain is already running (it then goes on with this session). */
  #drain(client: mqtt.MqttClient): void {
    if (this.#draining || this.#state.backlogSize === 0) return
    this.#draining = this.#drainSession(client, this.#session).finally(() => {
      this.#draining = null
      // A drain cut short by a reconnect leaves the new session's birth without one: start it again.
      if (this.#online && !this.#closed && this.#state.backlogSize > 0 && client.connected) this.#drain(client)
    })
  }

  /** Sends the backlog after a birth, oldest first, as historical NDATA; a batch leaves the disk only once the broker has it. */
  async #drainSession(client: mqtt.MqttClient, session: number): Promise<void> {
    const batch = this.#options.backlogBatch ?? 200
    let sent = 0
    let skipped = 0
    try {
      while (session === this.#session && this.#online && !this.#closed) {
        const rows = this.#state.peek(batch)
        if (rows.length === 0) break
        const metrics: Metric[] = []
        for (const row of rows) {
          const known = this.#metrics.get(row.name)
          // A value stored under a datatype the metric no longer has would be misread by the host: drop it.
          if (!known || known.datatype !== row.datatype) skipped += 1
          else metrics.push({ alias: known.alias, timestamp: row.timestamp, datatype: row.datatype, value: row.value, isHistorical: true })
        }
        if (metrics.length > 0) this.#publishData(metrics)
        // NDATA is QoS 0 (no PUBACK). An UNSUBACK answered after it proves the broker has read it: TCP keeps the order.
        await client.unsubscribeAsync(`${this.#topics.command}/takt-backlog-barrier`)
        if (session !== this.#session) break // the connection changed under us: the batch stays and goes again (at least once)
        this.#state.remove(rows.at(-1)!.id)
        sent += metrics.length
      }
    } catch (error) {
      this.#log.warn({ err: String(error), left: this.#state.backlogSize }, 'backlog sending interrupted; the rest goes after the next birth')
    }
    if (sent > 0 || skipped > 0) this.#log.info({ sent, skipped, left: this.#state.backlogSize }, 'store-and-forward backlog sent as historical NDATA')
  }

  #command(topic: string, payload: Buffer): void {
    if (topic !== this.#topics.command) return
    let metrics: Metric[]
    try {
      metrics = decodePayload(payload, (m) => (m.alias === REBIRTH_ALIAS || m.name === REBIRTH ? DataType.Boolean : undefined)).metrics
    } catch (error) {
      this.#log.warn({ topic, err: (error as Error).message }, 'NCMD does not decode; ignored')
      return
    }
    for (const m of metrics) {
      const what = m.name ?? `alias ${m.alias}`
      if ((m.name === REBIRTH || m.alias === REBIRTH_ALIAS) && m.value === true) {
        // tck-id-operational-behavior-data-commands-rebirth-action-1..3: stop DATA, birth again with the same bdSeq.
        if (this.#online && this.#client?.connected) this.#birth('rebirth requested')
      } else this.#log.warn({ metric: what, value: String(m.value) }, 'NCMD for a metric the gateway does not take commands on; ignored')
    }
  }
}

function inferType(value: EdgeNodeMetric['value']): number | undefined {
  switch (typeof value) {
    case 'boolean': return DataType.Boolean
    case 'string': return DataType.String
    case 'bigint': return value > 2n ** 63n - 1n ? DataType.UInt64 : DataType.Int64
    case 'number': return DataType.Double
    default: return undefined
  }
}
