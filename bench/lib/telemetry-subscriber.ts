// The telemetry bench's counting subscriber behind Mosquitto, run as its own process: QoS 1, a PUBACK for every message.
//
// `node bench/lib/telemetry-subscriber.ts '<SubscriberPlan as JSON>'` prints `{"ready":true}` once
// subscribed, then one JSON line `{"received":n,"at":ms}` each time the count reaches a mark.
import { WireConnection } from './telemetry-wire.ts'

export interface SubscriberPlan {
  host: string
  port: number
  clientId: string
  username: string
  password: string
  filter: string
  /** Message counts to report the arrival time of, ascending. */
  marks: number[]
}

async function main(): Promise<void> {
  const plan = JSON.parse(process.argv[2] ?? '') as SubscriberPlan
  const conn = await WireConnection.open(plan)
  const marks = [...plan.marks]
  let received = 0
  conn.onPacket = (p) => {
    if (p.type !== 3) return // MQTT-3.3 PUBLISH
    received++
    // MQTT-3.3.1.2: QoS in bits 1–2 of the flags; QoS 1 has a packet id after the topic.
    if (((p.flags >> 1) & 3) === 1) {
      const topicLength = p.body.readUInt16BE(0)
      conn.socket.write(conn.puback(p.body.readUInt16BE(2 + topicLength)))
    }
    while (marks.length > 0 && received >= marks[0]!) {
      marks.shift()
      process.stdout.write(`${JSON.stringify({ received, at: performance.timeOrigin + performance.now() })}\n`)
    }
  }
  conn.onClose = () => process.exit(received >= (plan.marks.at(-1) ?? 0) ? 0 : 1)
  await conn.subscribe(plan.filter)
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`telemetry subscriber: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
