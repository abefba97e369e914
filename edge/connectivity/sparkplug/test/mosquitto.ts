// Test plumbing: a real Mosquitto on a free port, a TCP proxy whose sockets can be cut, and a host that records Sparkplug traffic decoded by Tahu.
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer, connect, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { tahu, tahuBig, type TahuPayload } from './tahu.ts'

export class Mosquitto {
  readonly port: number
  readonly #conf: string
  #child: ChildProcess | null = null

  private constructor(dir: string, port: number, persistent: boolean) {
    this.port = port
    this.#conf = join(dir, `mosquitto-${port}.conf`)
    // Persistence and queued QoS 0 let a host with a persistent session see what was published while it reconnected.
    // `user root`: as root, mosquitto would otherwise switch to its own user and could not write the test folder.
    const lines = [`user root`, `listener ${port} 127.0.0.1`, `allow_anonymous true`]
    if (persistent) lines.push('persistence true', `persistence_location ${dir}/`, 'queue_qos0_messages true')
    writeFileSync(this.#conf, lines.join('\n') + '\n')
  }

  static async start(dir: string, port: number, options: { persistent?: boolean } = {}): Promise<Mosquitto> {
    const m = new Mosquitto(dir, port, options.persistent ?? false)
    await m.restart()
    return m
  }

  async restart(): Promise<void> {
    this.#child = spawn('mosquitto', ['-c', this.#conf], { stdio: 'ignore' })
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const c = mqtt.connect(`mqtt://127.0.0.1:${this.port}`, { reconnectPeriod: 0, connectTimeout: 500 })
        c.once('connect', () => c.end(true, () => resolve(true)))
        c.once('error', () => c.end(true, () => resolve(false)))
      })
      if (up) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`mosquitto did not start on port ${this.port}`)
  }

  stop(): Promise<void> {
    const child = this.#child
    this.#child = null
    return new Promise((resolve) => {
      if (!child || child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  }
}

/** Forwards TCP to a target; `cut()` destroys every connection as a failing network would. */
export class TcpProxy {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  port = 0

  constructor(targetPort: number) {
    this.#server = createServer((inbound) => {
      const outbound = connect(targetPort, '127.0.0.1')
      for (const s of [inbound, outbound]) {
        this.#sockets.add(s)
        s.on('close', () => this.#sockets.delete(s))
        s.on('error', () => {})
      }
      inbound.pipe(outbound)
      outbound.pipe(inbound)
      inbound.on('close', () => outbound.destroy())
      outbound.on('close', () => inbound.destroy())
    })
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve()))
    this.port = (this.#server.address() as AddressInfo).port
    return this.port
  }

  cut(): void {
    for (const s of this.#sockets) s.destroy()
  }

  close(): Promise<void> {
    this.cut()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}

export interface Observed {
  topic: string
  type: string
  qos: number
  retain: boolean
  payload: TahuPayload
  /** seq as a number, undefined when the message has none. */
  seq: number | undefined
  /** The bdSeq metric's value, when there is one. */
  bdSeq: number | undefined
}

/** A Sparkplug host played by mqtt.js + Tahu: records every spBv1.0 message of a group. */
export async function observe(port: number, groupId: string, options: { clientId?: string; persistent?: boolean } = {}) {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 4,
    reconnectPeriod: 100,
    ...(options.persistent ? { clientId: options.clientId ?? 'plant-host', clean: false } : {}),
  })
  const messages: Observed[] = []
  client.on('message', (topic, bytes, packet) => {
    let payload: TahuPayload
    try {
      payload = tahu.decodePayload(bytes)
    } catch {
      return // a test's own garbage (an NCMD that must not decode) is not Sparkplug traffic to record
    }
    const bd = payload.metrics?.find((m) => m.name === 'bdSeq')
    messages.push({
      topic,
      type: topic.split('/')[2] ?? '',
      qos: packet.qos,
      retain: packet.retain,
      payload,
      seq: payload.seq === undefined || payload.seq === null ? undefined : Number(tahuBig(payload.seq)),
      bdSeq: bd ? Number(BigInt.asIntN(64, tahuBig(bd.value))) : undefined,
    })
  })
  await client.subscribeAsync(`spBv1.0/${groupId}/#`, { qos: 1 })
  return {
    client,
    messages,
    of: (type: string) => messages.filter((m) => m.type === type),
    close: () => client.endAsync(true),
  }
}

/** Polls until `check` holds (or ~5 s pass); returns whether it did. */
export async function until(check: () => boolean, ms = 5000): Promise<boolean> {
  for (let waited = 0; !check() && waited < ms; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20))
  return check()
}
