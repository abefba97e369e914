// Bridge to an enterprise broker with store-and-forward: every message is queued on disk until the remote broker acknowledges it.
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import mqtt from 'mqtt'
import type { Logger } from 'pino'

export interface BridgeOptions {
  /** The enterprise broker, e.g. mqtt://broker.plant:1883 or mqtts://… */
  url: string
  username?: string
  password?: string
  clientId: string
  /** Where queued messages are kept while the enterprise broker is away. */
  outboxFile: string
  /** Prepended to each local topic on the remote broker (e.g. "plant1/"). */
  remotePrefix?: string
  /** Most messages in flight (sent, not yet acknowledged) at once. */
  window?: number
  reconnectMs?: number
  logger: Logger
}

export interface BridgeStatus {
  connected: boolean
  queued: number
  forwarded: number
}

interface Row {
  id: number
  topic: string
  payload: Buffer
  retain: number
}

export class EnterpriseBridge {
  readonly #db: Database.Database
  readonly #client: mqtt.MqttClient
  readonly #options: BridgeOptions
  readonly #enqueue
  readonly #next
  readonly #remove
  readonly #count
  #inFlight = new Set<number>()
  #lastId = 0
  #forwarded = 0
  #pumping = false
  #closed = false

  constructor(options: BridgeOptions) {
    this.#options = options
    mkdirSync(dirname(options.outboxFile), { recursive: true })
    this.#db = new Database(options.outboxFile)
    this.#db.pragma('journal_mode = WAL')
    this.#db.pragma('synchronous = NORMAL')
    this.#db.exec('CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL, retain INTEGER NOT NULL)')
    this.#enqueue = this.#db.prepare('INSERT INTO outbox (topic, payload, retain) VALUES (?, ?, ?)')
    this.#next = this.#db.prepare<[number, number], Row>('SELECT id, topic, payload, retain FROM outbox WHERE id > ? ORDER BY id LIMIT ?')
    this.#remove = this.#db.prepare('DELETE FROM outbox WHERE id = ?')
    this.#count = this.#db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM outbox')
    this.#client = mqtt.connect(options.url, {
      clientId: options.clientId,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: options.reconnectMs ?? 2000,
      connectTimeout: 5000,
      // The outbox is the queue; mqtt.js must not keep a second one in memory.
      queueQoSZero: false,
      ...(options.username ? { username: options.username, password: options.password } : {}),
    })
    this.#client.on('connect', () => {
      options.logger.info({ url: options.url, queued: this.status().queued }, 'bridge connected to the enterprise broker')
      this.#lastId = 0
      this.#inFlight.clear()
      this.#pump()
    })
    this.#client.on('offline', () => options.logger.warn({ url: options.url }, 'bridge offline; messages are kept until the broker is back'))
    this.#client.on('error', (error) => options.logger.warn({ url: options.url, err: error.message }, 'bridge connection error'))
  }

  /** Queues a message for the enterprise broker; it is on disk when this returns. */
  forward(topic: string, payload: Buffer, retain: boolean): void {
    this.#enqueue.run(topic, payload, retain ? 1 : 0)
    this.#pump()
  }

  status(): BridgeStatus {
    return { connected: this.#client.connected, queued: this.#count.get()?.n ?? 0, forwarded: this.#forwarded }
  }

  #pump(): void {
    if (this.#pumping || this.#closed || !this.#client.connected) return
    this.#pumping = true
    try {
      const room = (this.#options.window ?? 100) - this.#inFlight.size
      if (room <= 0) return
      for (const row of this.#next.all(this.#lastId, room)) {
        this.#lastId = row.id
        this.#inFlight.add(row.id)
        const topic = (this.#options.remotePrefix ?? '') + row.topic
        this.#client.publish(topic, row.payload, { qos: 1, retain: row.retain === 1 }, (error) => {
          this.#inFlight.delete(row.id)
          if (error) return // still in the outbox; sent again after the reconnect
          this.#remove.run(row.id)
          this.#forwarded += 1
          this.#pump()
        })
      }
    } finally {
      this.#pumping = false
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#client.endAsync(true)
    this.#db.close()
  }
}
