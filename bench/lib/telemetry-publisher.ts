// The telemetry bench's device side, run as its own process: N connections publish QoS 1 JSON, each with a window of unacknowledged messages.
//
// `node bench/lib/telemetry-publisher.ts '<PublisherPlan as JSON>'` prints one JSON line, a
// PublisherReport, when every connection is done. The same program and plan drive the gateway,
// Mosquitto and Node-RED, so that the publisher is the one thing the three runs share.
import { publishPacket, WireConnection } from './telemetry-wire.ts'

export interface PublisherDevice {
  clientId: string
  username?: string
  password?: string
  topic: string
}

export interface PublisherPlan {
  host: string
  port: number
  /** One connection per device. */
  devices: PublisherDevice[]
  /** Unacknowledged QoS 1 publications allowed per connection. */
  window: number
  samplesPerMessage: number
  /** Messages per connection; or null to publish for `seconds`. */
  messagesPerConnection: number | null
  seconds: number | null
  /** Added to every value, so that two runs into one store never write the same values. */
  valueBase: number
}

export interface PublisherReport {
  /** Wall-clock Unix ms (performance.timeOrigin + now), comparable across processes on one machine. */
  firstSentAt: number
  lastAckAt: number
  sent: number
  acknowledged: number
  /** Connections that closed before their last acknowledgement. */
  lost: number
  /** From writing a PUBLISH to reading its PUBACK, ms (0.1 ms buckets). */
  ackMs: { p50: number; p99: number; max: number }
}

const now = () => performance.timeOrigin + performance.now()

/** `{"p0":v,"p1":v+1,…}`: one numeric sample per key, as a device with several sensors would send. */
export function payloadOf(value: number, samplesPerMessage: number): Buffer {
  let text = '{'
  for (let i = 0; i < samplesPerMessage; i++) text += `${i === 0 ? '' : ','}"p${i}":${value + i}`
  return Buffer.from(`${text}}`)
}

interface Tally {
  firstSentAt: number
  lastAckAt: number
  sent: number
  acknowledged: number
  /** Acknowledgement latencies in 0.1 ms buckets, up to 10 s. */
  histogram: Uint32Array
}

function percentileOf(histogram: Uint32Array, count: number, p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * count))
  let seen = 0
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i]!
    if (seen >= rank) return (i + 1) / 10
  }
  return Number.NaN
}

/** Opens one device's connection (its CONNACK received). */
function connect(device: PublisherDevice, plan: PublisherPlan): Promise<WireConnection> {
  return WireConnection.open({ host: plan.host, port: plan.port, clientId: device.clientId, ...(device.username === undefined ? {} : { username: device.username }), ...(device.password === undefined ? {} : { password: device.password }) })
}

/** Publishes one connection's share; resolves when its last publication is acknowledged (or the connection is gone). */
function publishFrom(conn: WireConnection, device: PublisherDevice, index: number, plan: PublisherPlan, tally: Tally): Promise<boolean> {
  const topic = Buffer.concat([Buffer.from([0, Buffer.byteLength(device.topic)]), Buffer.from(device.topic)])
  const quota = plan.messagesPerConnection ?? Number.POSITIVE_INFINITY
  const deadline = plan.seconds === null ? Number.POSITIVE_INFINITY : now() + plan.seconds * 1000
  // Values are distinct across connections: connection i writes base + (i + n·connections)·samples.
  const stride = plan.devices.length * plan.samplesPerMessage
  const sentAt = new Float64Array(65536)
  let sent = 0
  let inFlight = 0
  return new Promise<boolean>((resolve) => {
    const refill = () => {
      conn.socket.cork()
      while (inFlight < plan.window && sent < quota && now() < deadline) {
        const value = plan.valueBase + index * plan.samplesPerMessage + sent * stride
        // Packet ids 1..65535, reused only long after their acknowledgement (the window is far smaller).
        const packetId = (sent % 65535) + 1
        conn.socket.write(publishPacket(topic, payloadOf(value, plan.samplesPerMessage), packetId))
        sentAt[packetId] = now()
        if (tally.firstSentAt === 0) tally.firstSentAt = sentAt[packetId]!
        sent++
        tally.sent++
        inFlight++
      }
      conn.socket.uncork()
      if (inFlight === 0) {
        conn.close()
        resolve(true)
      }
    }
    conn.onPacket = (p) => {
      if (p.type !== 4) return // MQTT-3.4: PUBACK
      inFlight--
      tally.acknowledged++
      tally.lastAckAt = now()
      const latency = tally.lastAckAt - sentAt[p.body.readUInt16BE(0)]!
      const bucket = Math.min(tally.histogram.length - 1, Math.floor(latency * 10))
      tally.histogram[bucket] = (tally.histogram[bucket] ?? 0) + 1
      if (inFlight < plan.window / 2 || inFlight === 0) refill()
    }
    conn.onClose = () => resolve(inFlight === 0)
    refill()
  })
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '') as PublisherPlan
  const tally: Tally = { firstSentAt: 0, lastAckAt: 0, sent: 0, acknowledged: 0, histogram: new Uint32Array(100_000) }
  // Every connection is open before the first PUBLISH: the run times publishing, not logging in
  // (the gateway checks a device's password with scrypt, slow on purpose, one check at a time).
  const connections = await Promise.all(plan.devices.map((d) => connect(d, plan)))
  const done = await Promise.all(plan.devices.map((d, i) => publishFrom(connections[i]!, d, i, plan, tally)))
  const { histogram, ...counts } = tally
  const ackMs = { p50: percentileOf(histogram, counts.acknowledged, 50), p99: percentileOf(histogram, counts.acknowledged, 99), max: percentileOf(histogram, counts.acknowledged, 100) }
  const report: PublisherReport = { ...counts, lost: done.filter((ok) => !ok).length, ackMs }
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

if (import.meta.main) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`telemetry publisher: ${error instanceof Error ? error.message : String(error)}\n`)
      process.exit(1)
    },
  )
}
