// OPC UA subscriptions: one session and one subscription per device, quality from status codes, Bad on a lost connection, reconnect and resubscribe.
import type { ClientSession, ClientSubscription, NotificationMessage, OPCUAClient } from 'node-opcua-client'
import type { Logger } from 'pino'
import type { HardwareProfile } from '../../../hardware-profiles/schema.ts'
import type { Sample } from '../../historian/historian.ts'
import { pause, type Collector, type CollectorStatus, type SampleSink } from '../collector.ts'
import { planItems, subscribe, type MonitoredSignal } from './monitored-items.ts'
import { clientCertificates, describeConnectionError } from './pki.ts'
import { checkSecurity, closeClient, openSession, routeLibraryLogs } from './session.ts'
import { qualityOf, statusName } from './values.ts'

export type OpcUaProfile = Extract<HardwareProfile, { protocol: 'opcua' }>

export interface OpcUaCollectorOptions {
  device: string
  /** opc.tcp://host:port[/path] */
  endpoint: string
  username?: string
  password?: string
  /** The client's PKI folder, inside the gateway's data directory (e.g. <dataDir>/opcua-pki). */
  pkiDir: string
  profile: OpcUaProfile
  sink: SampleSink
  logger: Logger
}

interface Connection {
  client: OPCUAClient
  session: ClientSession
  subscription: ClientSubscription
  /** Resolves with the reason once the connection, the session or the subscription is gone. */
  lost: Promise<string>
  openedAt: number
}

const firstBackoffMs = 250
const lastBackoffMs = 5_000
/** A connection that lasted this long was healthy: the next failure starts the backoff afresh. */
const healthyAfterMs = 10_000

export class OpcUaCollector implements Collector {
  readonly device: string
  readonly #options: OpcUaCollectorOptions
  readonly #signals: MonitoredSignal[]
  readonly #log: Logger
  readonly #stop = new AbortController()
  readonly #certificates
  #loop: Promise<void> | null = null
  #status: CollectorStatus
  #pending: Sample[] = []
  /** The reason of the last Bad samples sent for every signal, so a server that stays away is not repeated every retry. */
  #badReason: string | null = null

  constructor(options: OpcUaCollectorOptions) {
    const where = `device ${options.device} (profile ${options.profile.profile})`
    if (!/^opc\.tcp:\/\/[^\s/]+/.test(options.endpoint)) throw new Error(`${where}: endpoint must be an opc.tcp:// URL, not '${options.endpoint}'`)
    if ((options.username === undefined) !== (options.password === undefined)) throw new Error(`${where}: username and password go together`)
    const security = checkSecurity(options.profile.connection.securityMode, options.profile.connection.securityPolicy)
    if (security) throw new Error(`${where}: connection: ${security}`)
    this.device = options.device
    this.#options = options
    this.#signals = planItems(options.device, options.profile, where)
    this.#log = options.logger.child({ collector: 'opcua', device: options.device })
    routeLibraryLogs(options.logger)
    this.#certificates = clientCertificates(options.pkiDir)
    this.#status = { device: options.device, connected: false, cycles: 0, late: 0, lastError: null }
  }

  start(): void {
    this.#loop ??= this.#run()
  }

  status(): CollectorStatus {
    return { ...this.#status }
  }

  async stop(): Promise<void> {
    this.#stop.abort()
    await this.#loop
    this.#flush()
    await this.#certificates.dispose()
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal
    let backoff = firstBackoffMs
    const stopped = new Promise<null>((resolve) => signal.addEventListener('abort', () => resolve(null), { once: true }))
    let certificateRefused = false
    while (!signal.aborted) {
      // A technician may have moved the refused certificate to trusted/ since; node-opcua's file watchers can miss
      // that (a file written before its watcher was ready, Docker volumes), so the folders are read again.
      if (certificateRefused) await this.#certificates.reloadCertificates().catch(() => {})
      let connection: Connection
      const attempt = this.#connect()
      try {
        // A connect to an unreachable host can take its full timeout; stopping does not wait for it.
        const first = await Promise.race([attempt, stopped])
        if (first === null) {
          attempt.then((c) => closeClient(c.client, c.session), () => {})
          break
        }
        connection = first
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        certificateRefused = reason.startsWith('server certificate')
        if (reason !== this.#status.lastError) this.#log.warn({ endpoint: this.#options.endpoint, reason }, 'opcua connection failed')
        this.#status.lastError = reason
        this.#allBad(reason)
        await pause(backoff, signal)
        backoff = Math.min(backoff * 2, lastBackoffMs)
        continue
      }
      const reason = await connection.lost
      this.#status.connected = false
      await closeClient(connection.client, connection.session)
      if (signal.aborted) break
      this.#log.warn({ reason }, 'opcua connection lost')
      this.#status.lastError = reason
      this.#allBad(reason)
      backoff = Date.now() - connection.openedAt > healthyAfterMs ? firstBackoffMs : Math.min(backoff * 2, lastBackoffMs)
      await pause(backoff, signal)
    }
  }

  /** Session, subscription, monitored items; throws with the reason when any of them fails. */
  async #connect(): Promise<Connection> {
    const { profile, endpoint, pkiDir } = this.#options
    const publishingInterval = profile.connection.publishingIntervalMs
    // The server sends a keep-alive after this many empty publishing intervals (about 5 s); the lifetime is
    // three times that, the least OPC 10000-4 5.13.2.2 allows, so a dead client's subscription goes soon.
    const maxKeepAliveCount = Math.max(3, Math.ceil(5_000 / publishingInterval))
    const keepAlivePeriod = maxKeepAliveCount * publishingInterval
    const { client, session } = await openSession({
      endpoint,
      securityMode: profile.connection.securityMode,
      securityPolicy: profile.connection.securityPolicy,
      ...(this.#options.username !== undefined ? { username: this.#options.username, password: this.#options.password! } : {}),
      certificates: this.#certificates,
      pkiDir,
      sessionName: `takt ${this.device}`,
      sessionTimeoutMs: Math.max(60_000, 6 * keepAlivePeriod),
      // The watchdog below finds a silent server first; the socket's own idle timeout is the backstop.
      idleTimeoutMs: Math.max(60_000, 2 * keepAlivePeriod + 10_000),
    })
    let markLost: (reason: string) => void = () => {}
    const lost = new Promise<string>((resolve) => (markLost = resolve))
    // 'close' follows 'connection_lost' at once and carries the socket's error: wait a turn for the better reason.
    client.on('connection_lost', () => setImmediate(() => markLost('connection lost')))
    client.on('close', (err?: Error | null) => markLost(err ? `connection lost: ${describeConnectionError(err, pkiDir)}` : 'connection closed'))
    session.on('session_closed', (status) => markLost(`session closed (${statusName(status)})`))
    const onStop = () => markLost('stopped')
    if (this.#stop.signal.aborted) onStop()
    this.#stop.signal.addEventListener('abort', onStop, { once: true })
    void lost.then(() => this.#stop.signal.removeEventListener('abort', onStop))
    try {
      // OPC 10000-4 5.13.2: one subscription carries every signal of the device.
      const subscription = await session.createSubscription2({
        requestedPublishingInterval: publishingInterval,
        requestedMaxKeepAliveCount: maxKeepAliveCount,
        requestedLifetimeCount: 3 * maxKeepAliveCount,
        maxNotificationsPerPublish: 0,
        publishingEnabled: true,
        priority: 10,
      })
      this.#watch(subscription, markLost, lost)
      const refused = await subscribe(session, subscription, this.#signals, profile.connection.publishingIntervalMs, this.#log, (sample) => this.#queue(sample))
      for (const r of refused) this.#queue({ signal: r.signal, value: null, quality: 'bad', timestamp: Date.now(), reason: r.reason })
      this.#status.lastError = refused.length > 0 ? `${refused.length} of ${this.#signals.length} signals refused by the server, e.g. ${refused[0]!.signal}: ${refused[0]!.reason}` : null
      this.#status.connected = true
      this.#badReason = null
      this.#log.info({ endpoint, securityMode: profile.connection.securityMode, items: this.#signals.length - refused.length, refused: refused.length, publishingInterval: subscription.publishingInterval }, 'opcua subscribed')
      return { client, session, subscription, lost, openedAt: Date.now() }
    } catch (error) {
      markLost('subscription failed')
      await closeClient(client, session)
      throw new Error(`subscription: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
    }
  }

  /**
   * Counts notification messages, finds gaps in their sequence numbers (OPC 10000-4 5.13.1.1: a
   * keep-alive carries the number the next message will have), and declares the connection lost
   * when neither data nor keep-alive arrives for one and a half keep-alive periods and 3 s more:
   * a server that hangs without closing its socket is found too.
   */
  #watch(subscription: ClientSubscription, markLost: (reason: string) => void, lost: Promise<string>): void {
    let heard = Date.now()
    let expected: number | null = null
    subscription.on('raw_notification', (message: NotificationMessage) => {
      heard = Date.now()
      const data = (message.notificationData ?? []).length > 0
      if (data) {
        if (expected !== null && message.sequenceNumber !== expected) this.#status.late += 1
        this.#status.cycles += 1
        expected = message.sequenceNumber + 1
      } else expected = message.sequenceNumber
    })
    subscription.on('status_changed', (status) => {
      if (qualityOf(status).quality !== 'good') markLost(`subscription ${statusName(status)}`)
    })
    subscription.on('terminated', () => markLost('subscription terminated'))
    subscription.on('internal_error', (err: Error) => markLost(`subscription error: ${err.message}`))
    const check = () => {
      const silentFor = Date.now() - heard
      const limit = 1.5 * subscription.publishingInterval * subscription.maxKeepAliveCount + 3_000
      if (silentFor > limit) markLost(`no publish response for ${silentFor} ms`)
      else timer = setTimeout(check, 1_000)
    }
    let timer = setTimeout(check, 1_000)
    void lost.then(() => clearTimeout(timer))
  }

  /** Samples of one publish response are handed to the sink together, once node-opcua has dispatched them all. */
  #queue(sample: Sample): void {
    if (this.#pending.length === 0) queueMicrotask(() => this.#flush())
    this.#pending.push(sample)
  }

  #flush(): void {
    if (this.#pending.length === 0) return
    const batch = this.#pending
    this.#pending = []
    try {
      const done = this.#options.sink(batch)
      if (done) done.catch((error: unknown) => this.#log.error({ err: String(error) }, 'sample sink failed'))
    } catch (error) {
      this.#log.error({ err: String(error) }, 'sample sink failed')
    }
  }

  /** Every signal Bad with the reason — once per reason, not once per retry. */
  #allBad(reason: string): void {
    if (reason === this.#badReason) return
    this.#badReason = reason
    const timestamp = Date.now()
    for (const s of this.#signals) this.#queue({ signal: s.signal, value: null, quality: 'bad', timestamp, reason })
  }
}
