// A lean MQTT 3.1.1 client for the telemetry bench: QoS 1 publishing with an in-flight window, and a QoS 1 subscriber that counts.
//
// The bench's publisher must cost as little CPU as possible, so that on two cores the broker
// under test is what limits the rate, not the device simulator. It writes each PUBLISH as one
// buffer and reads only the few packet types it needs.
import { connect, type Socket } from 'node:net'

/** MQTT-2.2.3 remaining length: 7 bits per byte, high bit set while more follow. */
function remainingLength(length: number): number[] {
  const bytes: number[] = []
  do {
    let byte = length % 128
    length = Math.floor(length / 128)
    if (length > 0) byte |= 0x80
    bytes.push(byte)
  } while (length > 0)
  return bytes
}

function utf8(text: string): Buffer {
  const body = Buffer.from(text, 'utf8')
  const out = Buffer.allocUnsafe(2 + body.length)
  out.writeUInt16BE(body.length, 0)
  body.copy(out, 2)
  return out
}

function packet(typeAndFlags: number, ...parts: Buffer[]): Buffer {
  const length = parts.reduce((n, p) => n + p.length, 0)
  return Buffer.concat([Buffer.from([typeAndFlags, ...remainingLength(length)]), ...parts])
}

export interface ConnectOptions {
  host: string
  port: number
  clientId: string
  username?: string
  password?: string
}

/** MQTT-3.1: CONNECT, protocol level 4, clean session, keep-alive 60 s. */
function connectPacket(o: ConnectOptions): Buffer {
  const flags = 0x02 | (o.username !== undefined ? 0x80 : 0) | (o.password !== undefined ? 0x40 : 0)
  const header = Buffer.concat([utf8('MQTT'), Buffer.from([4, flags, 0, 60])])
  const payload = [utf8(o.clientId), ...(o.username !== undefined ? [utf8(o.username)] : []), ...(o.password !== undefined ? [utf8(o.password)] : [])]
  return packet(0x10, header, ...payload)
}

/** MQTT-3.3: PUBLISH with QoS 1 (flags 0b0010) and the packet identifier. */
export function publishPacket(topic: Buffer, payload: Buffer, packetId: number): Buffer {
  const length = topic.length + 2 + payload.length
  const lengthBytes = remainingLength(length)
  const out = Buffer.allocUnsafe(1 + lengthBytes.length + length)
  out[0] = 0x32
  let at = 1
  for (const b of lengthBytes) out[at++] = b
  at += topic.copy(out, at)
  out.writeUInt16BE(packetId, at)
  payload.copy(out, at + 2)
  return out
}

export interface Received {
  type: number
  flags: number
  body: Buffer
}

/** Splits a byte stream into MQTT packets (fixed header, remaining length, body). */
export class PacketReader {
  #pending: Buffer = Buffer.alloc(0)

  /** Hands every complete packet in `chunk` (and what was left of the one before) to `take`. */
  read(chunk: Buffer, take: (p: Received) => void): void {
    const data = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk])
    let at = 0
    while (data.length - at >= 2) {
      let length = 0
      let multiplier = 1
      let i = at + 1
      let complete = false
      while (i < data.length && i < at + 5) {
        const byte = data[i++]!
        length += (byte & 0x7f) * multiplier
        multiplier *= 128
        if ((byte & 0x80) === 0) {
          complete = true
          break
        }
      }
      if (!complete || data.length - i < length) break
      take({ type: data[at]! >> 4, flags: data[at]! & 0x0f, body: data.subarray(i, i + length) })
      at = i + length
    }
    this.#pending = at === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(at))
  }
}

/** An open MQTT connection after a successful CONNACK; `onPacket` sees every later packet. */
export class WireConnection {
  readonly socket: Socket
  readonly #reader = new PacketReader()
  onPacket: (p: Received) => void = () => {}
  onClose: () => void = () => {}

  private constructor(socket: Socket) {
    this.socket = socket
  }

  static open(o: ConnectOptions): Promise<WireConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(o.port, o.host)
      socket.setNoDelay(true)
      const conn = new WireConnection(socket)
      let connected = false
      socket.once('error', (error) => (connected ? undefined : reject(error)))
      socket.on('close', () => conn.onClose())
      socket.on('data', (chunk: Buffer) => {
        // Everything written in answer to one chunk (acknowledgements, the next publications) leaves in one segment.
        socket.cork()
        process.nextTick(() => socket.uncork())
        conn.#reader.read(chunk, (p) => {
          if (connected) return conn.onPacket(p)
          // MQTT-3.2.2.3: CONNACK return code 0 is "accepted".
          if (p.type !== 2 || p.body[1] !== 0) {
            reject(new Error(`${o.clientId}: CONNACK refused with return code ${p.body[1]}`))
            socket.destroy()
            return
          }
          connected = true
          resolve(conn)
        })
      })
      socket.once('connect', () => socket.write(connectPacket(o)))
    })
  }

  /** MQTT-3.8: SUBSCRIBE to one filter at QoS 1; resolves on the SUBACK. */
  subscribe(filter: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const previous = this.onPacket
      this.onPacket = (p) => {
        if (p.type !== 9) return previous(p)
        this.onPacket = previous
        // MQTT-3.9.3: 0x80 is a refused subscription.
        if (p.body[2] === 0x80) reject(new Error(`subscription to ${filter} refused`))
        else resolve()
      }
      this.socket.write(packet(0x82, Buffer.from([0, 1]), utf8(filter), Buffer.from([1])))
    })
  }

  /** MQTT-3.4: PUBACK for a received QoS 1 PUBLISH. */
  puback(packetId: number): Buffer {
    return Buffer.from([0x40, 2, packetId >> 8, packetId & 0xff])
  }

  close(): void {
    // MQTT-3.14: DISCONNECT, then the client closes the connection.
    this.socket.end(Buffer.from([0xe0, 0]))
  }
}
