// The embedded MQTT broker (aedes, MQTT 3.1.1): every client authenticated, every topic behind an ACL that denies by default.
import { Aedes, type AedesOptions, type Client } from 'aedes'
import { createServer, type Server } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { WebSocketServer, createWebSocketStream } from 'ws'
import { DeviceCredentials } from './device-credentials.ts'
import { guardStream, type RequestsWaiting } from './packet-guard.ts'
import { expandPattern, filterWithin, topicMatches } from './topic-acl.ts'

export interface MqttAccount {
  username: string
  /** scrypt hash, as `takt hash-password` prints it; never the password itself. */
  passwordHash: string
  /** Topic patterns this account may publish to (`${username}` and `${clientId}` are filled in). */
  publish: string[]
  /** Topic filters this account may subscribe within. */
  subscribe: string[]
}

export interface BrokerOptions {
  accounts: MqttAccount[]
  logger: Logger
  maxClients?: number
  maxPacketBytes?: number
  /** Publishes per second one client may send before it is disconnected. */
  maxMessagesPerSecond?: number
  persistence?: AedesOptions['persistence']
  /** Whether operators' HTTP requests are being handled: device connections then get less of each turn of the event loop (packet-guard.ts). */
  requestsWaiting?: RequestsWaiting
}

interface Session {
  publish: string[]
  subscribe: string[]
  /** Topics this client was already allowed to publish to: a device uses a handful, again and again. */
  allowed: Set<string>
  windowStart: number
  inWindow: number
}

/** Topics remembered per client, and topic routes kept, before the cache starts over. */
const aclCacheSize = 256
const routeCacheSize = 4096

// MQTT-3.2.2-3 CONNACK return codes (3.1.1): 4 bad user name or password, 5 not authorized.
const badCredentials = Object.assign(new Error('bad user name or password'), { returnCode: 4 as const })
const serverUnavailable = Object.assign(new Error('server unavailable: client limit reached'), { returnCode: 3 as const })

/** Takes a client's publication before it is acknowledged; the PUBACK waits for the promise. */
export type Ingest = (topic: string, payload: Buffer) => void | Promise<void>

/**
 * The ingest handlers registered by filter, and for each topic seen the handlers it reaches:
 * matching a topic against every filter happens once per topic, not once per publication.
 */
class IngestRoutes {
  readonly byFilter = new Map<string, Set<Ingest>>()
  readonly #byTopic = new Map<string, Ingest[]>()

  route(topic: string): Ingest[] {
    let handlers = this.#byTopic.get(topic)
    if (handlers === undefined) {
      handlers = []
      for (const [filter, set] of this.byFilter) if (topicMatches(filter, topic)) handlers.push(...set)
      if (this.#byTopic.size >= routeCacheSize) this.#byTopic.clear()
      this.#byTopic.set(topic, handlers)
    }
    return handlers
  }

  changed(): void {
    this.#byTopic.clear()
  }
}

/** Runs a publication's ingest handlers; settles once they all have (a handler that throws refuses it too). */
function runIngests(handlers: Ingest[], topic: string, payload: Buffer): void | Promise<unknown> {
  if (handlers.length === 1) return handlers[0]!(topic, payload)
  const pending: Array<void | Promise<void>> = []
  for (const ingest of handlers) pending.push(ingest(topic, payload))
  return Promise.all(pending)
}

/** Whether a client may publish to `topic`, remembered per topic for the session. */
function mayPublish(session: Session, topic: string): boolean {
  if (session.allowed.has(topic)) return true
  if (!session.publish.some((p) => topicMatches(p, topic))) return false
  if (session.allowed.size >= aclCacheSize) session.allowed.clear()
  session.allowed.add(topic)
  return true
}

export class LineBroker {
  readonly aedes: Aedes
  readonly #servers: Array<Server | WebSocketServer> = []
  readonly #ingests: IngestRoutes
  #ownsPersistence = false
  readonly #log: Logger
  readonly #maxPacketBytes: number
  readonly #credentials: DeviceCredentials
  readonly #requestsWaiting: RequestsWaiting

  private constructor(aedes: Aedes, log: Logger, maxPacketBytes: number, ingests: IngestRoutes, credentials: DeviceCredentials, requestsWaiting: RequestsWaiting) {
    this.aedes = aedes
    this.#requestsWaiting = requestsWaiting
    this.#credentials = credentials
    this.#ingests = ingests
    this.#log = log
    this.#maxPacketBytes = maxPacketBytes
  }

  static async start(options: BrokerOptions): Promise<LineBroker> {
    const log = options.logger
    const accounts = new Map(options.accounts.map((a) => [a.username, a]))
    const sessions = new WeakMap<Client, Session>()
    const maxClients = options.maxClients ?? 500
    const maxRate = options.maxMessagesPerSecond ?? 5_000
    const ingests = new IngestRoutes()
    const credentials = new DeviceCredentials()
    let aedes: Aedes | undefined
    const opts: AedesOptions = {
      ...(options.persistence ? { persistence: options.persistence } : {}),
      maxClientsIdLength: 128,
      authenticate: (client, username, password, done) => {
        const account = username === undefined ? undefined : accounts.get(username)
        if (!account || !password) {
          log.warn({ clientId: client.id, username: username ?? null }, 'mqtt client refused: no or unknown credentials')
          done(badCredentials, false)
          return
        }
        if ((aedes?.connectedClients ?? 0) >= maxClients) {
          log.warn({ clientId: client.id, maxClients }, 'mqtt client refused: client limit reached')
          done(serverUnavailable, false)
          return
        }
        credentials.verify(password.toString('utf8'), account.passwordHash).then(
          (ok) => {
            if (!ok) {
              log.warn({ clientId: client.id, username }, 'mqtt client refused: wrong password')
              return done(badCredentials, false)
            }
            const who = { username: account.username, clientId: client.id }
            sessions.set(client, {
              publish: account.publish.map((p) => expandPattern(p, who)),
              subscribe: account.subscribe.map((p) => expandPattern(p, who)),
              allowed: new Set(),
              windowStart: Date.now(),
              inWindow: 0,
            })
            done(null, true)
          },
          () => done(badCredentials, false),
        )
      },
      authorizePublish: (client, packet, callback) => {
        if (client === null) return callback(null) // the gateway's own publications
        const session = sessions.get(client)
        if (!session || !mayPublish(session, packet.topic)) {
          log.warn({ clientId: client.id, topic: packet.topic }, 'mqtt publish refused by ACL')
          return callback(new Error(`publish to ${packet.topic} not allowed`))
        }
        const now = Date.now()
        if (now - session.windowStart >= 1000) {
          session.windowStart = now
          session.inWindow = 0
        }
        if (++session.inWindow > maxRate) {
          log.warn({ clientId: client.id, maxRate }, 'mqtt client disconnected: message rate over the limit')
          client.close()
          return callback(new Error('message rate over the limit'))
        }
        // aedes writes a QoS 1 PUBACK right after this hook: ingest here, so the ack means "stored".
        const handlers = ingests.route(packet.topic)
        if (handlers.length === 0) return callback(null)
        const refuse = (error: unknown) => {
          log.warn({ clientId: client.id, topic: packet.topic, err: String(error) }, 'ingest failed; publication refused')
          callback(new Error('ingest failed'))
        }
        let settled: void | Promise<unknown>
        try {
          // The parser's payload is already a Buffer and ingest handlers only read it: no copy per publication.
          settled = runIngests(handlers, packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload))
        } catch (error) {
          return refuse(error)
        }
        if (settled === undefined) return callback(null)
        settled.then(() => callback(null), refuse)
      },
      authorizeSubscribe: (client, subscription, callback) => {
        const session = sessions.get(client)
        if (!session || !session.subscribe.some((p) => filterWithin(p, subscription.topic))) {
          log.warn({ clientId: client.id, topic: subscription.topic }, 'mqtt subscribe refused by ACL')
          // MQTT-3.9.3: a refused subscription is answered with return code 0x80, the client stays connected.
          return callback(null, null)
        }
        callback(null, subscription)
      },
    }
    aedes = await Aedes.createBroker(opts)
    aedes.on('clientError', (client, error) => log.debug({ clientId: client.id, err: error.message }, 'mqtt client error'))
    const broker = new LineBroker(aedes, log, options.maxPacketBytes ?? 256 * 1024, ingests, credentials, options.requestsWaiting ?? (() => false))
    broker.#ownsPersistence = options.persistence !== undefined
    return broker
  }

  /** Registers an ingest for client publications on topics matching `filter`; returns its removal. */
  ingest(filter: string, handler: Ingest): () => void {
    const byFilter = this.#ingests.byFilter
    const handlers = byFilter.get(filter) ?? new Set<Ingest>()
    handlers.add(handler)
    byFilter.set(filter, handlers)
    this.#ingests.changed()
    return () => {
      handlers.delete(handler)
      if (handlers.size === 0) byFilter.delete(filter)
      this.#ingests.changed()
    }
  }

  /** MQTT over TCP. Resolves with the port bound (0 picks a free one). */
  async listenTcp(port: number, host = '0.0.0.0'): Promise<number> {
    const server = createServer((socket) => {
      // aedes turns Nagle off on a socket it is given; it gets our wrapper, so do it here (else ~40 ms per ack).
      socket.setNoDelay(true)
      const stream = guardStream(socket, this.#maxPacketBytes, (error) => this.#log.warn({ remote: socket.remoteAddress, size: error.size }, 'mqtt client disconnected: packet too large'), this.#requestsWaiting)
      this.aedes.handle(stream)
    })
    this.#servers.push(server)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => resolve())
    })
    return (server.address() as AddressInfo).port
  }

  /** MQTT on a server the caller made (TLS): each connection guarded like TCP. */
  async listenServer(server: Server, port: number, host = '0.0.0.0'): Promise<number> {
    server.on('secureConnection', (socket) => (socket.setNoDelay(true), this.aedes.handle(guardStream(socket, this.#maxPacketBytes, () => this.#log.warn('mqtt client disconnected: packet too large'), this.#requestsWaiting))))
    this.#servers.push(server)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => resolve())
    })
    return (server.address() as AddressInfo).port
  }

  /** MQTT over WebSocket (for browser HMI clients). */
  async listenWebSocket(port: number, host = '0.0.0.0'): Promise<number> {
    const wss = new WebSocketServer({ port, host, maxPayload: this.#maxPacketBytes + 8 })
    this.#servers.push(wss)
    wss.on('connection', (ws, request) => {
      this.aedes.handle(createWebSocketStream(ws), request)
    })
    await new Promise<void>((resolve, reject) => {
      wss.once('error', reject)
      wss.once('listening', () => resolve())
    })
    return (wss.address() as AddressInfo).port
  }

  /** Publishes as the gateway itself (not subject to client ACLs). */
  publish(topic: string, payload: string | Buffer, options: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    return new Promise((resolve, reject) =>
      this.aedes.publish(
        { cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: options.qos ?? 0, retain: options.retain ?? false, dup: false },
        (error) => (error ? reject(error) : resolve()),
      ),
    )
  }

  async close(): Promise<void> {
    // Stop accepting first, then aedes ends every client's connection: a listener reports closed only
    // once its connections are gone, so waiting for it before that waits on clients that never leave.
    const listening = this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()))
    await Promise.all(listening)
    // aedes does not end its persistence; ours flushes pending retained messages and closes its file.
    const persistence = (this.aedes as unknown as { persistence?: { destroy?: () => Promise<void> } }).persistence
    if (this.#ownsPersistence && persistence?.destroy) await persistence.destroy()
    await this.#credentials.close()
  }
}
