// The upstream pusher: sends the event log (the outbox) to cloud-sync in seq order, resumes from the cloud's acknowledged head, backs off while it is away.
import type { Clock } from '../core/ports.ts'
import { genesisHash, readEvents, type StoredEvent } from '../store/event-log.ts'
import type { Sqlite } from '../store/database.ts'

export interface SyncOptions {
  /** cloud-sync's base URL, e.g. https://cloud.example:8090 */
  url: string
  /** This gateway's token, provisioned by the cloud; sent as a Bearer token, never logged. */
  token: string
  gatewayId: string
  /** The log's epoch: raised only when the gateway's database was replaced by a new one (a new chain from seq 1). */
  epoch: number
  /** Most events per push; smaller batches are sent while the link times out. */
  maxBatch: number
  timeoutMs: number
  /** First retry delay; it doubles with each failure up to maxBackoffMs. */
  minBackoffMs: number
  maxBackoffMs: number
  /** Sleep with nothing to send, unless woken by a new event. */
  idleMs: number
  /**
   * Pushes on the wire at once (default 2): while the cloud stores one batch, the next is already
   * sent and checked, and the cloud applies them in seq order. 1 sends the next only after the ack.
   */
  pipeline?: number
}

export const defaultSyncOptions = { epoch: 1, maxBatch: 2000, timeoutMs: 15_000, minBackoffMs: 500, maxBackoffMs: 60_000, idleMs: 5_000 } as const

export type SyncState = 'starting' | 'pushing' | 'caught-up' | 'backing-off' | 'refused' | 'stopped'

export interface SyncStatus {
  state: SyncState
  /** The cloud's origin only: no path, query or credentials. */
  cloud: string
  epoch: number
  /** Last seq the cloud acknowledged; null until it has answered once. */
  ackedSeq: number | null
  localSeq: number
  /** Events recorded here and not yet acknowledged by the cloud. */
  backlog: number
  /** Age of the oldest unacknowledged event (by its recorded-at time), 0 when caught up. */
  lagMs: number
  /** Backlog divided by the recent push rate; null while nothing has been pushed. */
  catchUpSeconds: number | null
  eventsPerSecond: number | null
  batchSize: number
  lastAckAt: string | null
  lastError: string | null
  /** Failed attempts in a row. */
  failures: number
}

/** Events after seq `after`, and the push body that carries them. */
interface Batch {
  after: number
  events: StoredEvent[]
  body: string
}

export interface SyncLog {
  info(obj: object, message: string): void
  warn(obj: object, message: string): void
  error(obj: object, message: string): void
}

/** The header that carries the gateway's head seq with each push (cloud-sync reads it). */
export const headSeqHeader = 'takt-head-seq'

interface Head {
  epoch: number
  seq: number
  hash: string
}

/** What a push learned: the cloud's head, and whether the batch did not continue it. */
interface PushReply {
  head: Head
  gap: boolean
}

/** Refusals that retrying the same batch cannot fix: an operator has to look (credentials, a forked or tampered log). */
const permanent = new Set([400, 401, 403, 404, 409, 422])

class PushFailure extends Error {
  readonly status: number | null
  readonly body: Record<string, unknown>
  constructor(message: string, status: number | null, body: Record<string, unknown> = {}) {
    super(message)
    this.status = status
    this.body = body
  }
}

export class SyncPusher {
  readonly #sqlite: Sqlite
  readonly #clock: Clock
  readonly #options: SyncOptions
  readonly #log: SyncLog
  readonly #localHead
  readonly #recordedAt
  /** The URL with a trailing slash, so that API paths resolve below it. */
  readonly #base: string
  #acked: Head | null = null
  #state: SyncState = 'starting'
  #batch: number
  #failures = 0
  #lastAckAt: string | null = null
  #lastError: string | null = null
  #rate: number | null = null
  /** When the last push was answered (performance.now()): with pushes pipelined, the rate is events over the time between answers. */
  #lastAnswer = 0
  #stopped = false
  #running: Promise<void> | null = null
  #wake: (() => void) | null = null
  readonly #inFlight = new Set<AbortController>()

  constructor(sqlite: Sqlite, clock: Clock, options: SyncOptions, log: SyncLog) {
    this.#sqlite = sqlite
    this.#clock = clock
    this.#options = options
    this.#log = log
    this.#batch = options.maxBatch
    this.#base = options.url.endsWith('/') ? options.url : `${options.url}/`
    this.#localHead = sqlite.prepare<[], { seq: number }>('SELECT seq FROM events ORDER BY seq DESC LIMIT 1')
    this.#recordedAt = sqlite.prepare<[number], { recordedAt: string }>('SELECT recorded_at AS recordedAt FROM events WHERE seq = ?')
  }

  start(): void {
    if (this.#running) return
    this.#stopped = false
    this.#running = this.#loop()
  }

  /** For the store's onRecorded: new events are in the log. */
  readonly onRecorded = (): void => {
    if (this.#state === 'caught-up') this.#wake?.()
  }

  /** Stops after aborting the pushes under way; what was not acknowledged is sent by the next start. */
  async stop(): Promise<void> {
    this.#stopped = true
    for (const c of this.#inFlight) c.abort()
    this.#wake?.()
    await this.#running
    this.#running = null
    this.#state = 'stopped'
  }

  status(): SyncStatus {
    const localSeq = this.#localHead.get()?.seq ?? 0
    const acked = this.#acked?.seq ?? null
    const backlog = Math.max(0, localSeq - (acked ?? 0))
    let lagMs = 0
    if (backlog > 0) {
      const oldest = this.#recordedAt.get((acked ?? 0) + 1)
      if (oldest) lagMs = Math.max(0, this.#clock.now().getTime() - Date.parse(oldest.recordedAt))
    }
    return {
      state: this.#state,
      cloud: new URL(this.#options.url).origin,
      epoch: this.#options.epoch,
      ackedSeq: acked,
      localSeq,
      backlog,
      lagMs,
      catchUpSeconds: this.#rate && backlog > 0 ? Math.round((backlog / this.#rate) * 10) / 10 : backlog === 0 ? 0 : null,
      eventsPerSecond: this.#rate === null ? null : Math.round(this.#rate),
      batchSize: this.#batch,
      lastAckAt: this.#lastAckAt,
      lastError: this.#lastError,
      failures: this.#failures,
    }
  }

  async #loop(): Promise<void> {
    const depth = Math.max(1, Math.floor(this.#options.pipeline ?? 2))
    /** Pushes sent and not yet answered, oldest first; each one's batch follows the one before it. */
    const window: { batch: Batch; reply: Promise<PushReply> }[] = []
    while (!this.#stopped) {
      try {
        // The cloud's head is the acknowledgement: asked at every start, so a restart resumes exactly there.
        if (this.#acked === null) this.#acked = await this.#askHead()
        // The window is refilled while the oldest push is on the wire, so at catch-up the gateway's
        // share of the work (read, serialize, send) and the cloud's checks overlap its database work.
        while (window.length < depth) {
          const batch = this.#read(window.at(-1)?.batch.events.at(-1)!.seq ?? this.#acked.seq)
          if (batch.events.length === 0) break
          const reply = this.#push(batch)
          // Settled later, in order; a rejection is never left unobserved meanwhile.
          reply.catch(() => {})
          window.push({ batch, reply })
        }
        const oldest = window.shift()
        if (!oldest) {
          this.#state = 'caught-up'
          await this.#sleep(this.#options.idleMs)
          continue
        }
        this.#state = 'pushing'
        const outcome = await oldest.reply
        if (outcome.gap) {
          // The cloud's head is elsewhere (restored, or another push got there first). The head in a
          // gap answer may be older than one acknowledged since (it was read before an earlier push
          // committed), so the head is asked again, and the pushes behind this one are dropped.
          await this.#drain(window)
          this.#acked = null
          continue
        }
        this.#acked = outcome.head
        this.#failures = 0
        this.#lastError = null
      } catch (error) {
        await this.#drain(window)
        if (this.#stopped) break
        await this.#failed(error)
      }
    }
    await this.#drain(window)
  }

  /** The acknowledged head moves forward only: an answer computed before an earlier push committed may name an older head. */
  #advance(head: Head): void {
    const acked = this.#acked
    if (acked === null || head.epoch !== acked.epoch || head.seq > acked.seq) this.#acked = head
  }

  /** Aborts the pushes still on the wire and waits for them; what they carried is sent again from the acknowledged head. */
  async #drain(window: { batch: Batch; reply: Promise<PushReply> }[]): Promise<void> {
    const pending = window.splice(0)
    if (pending.length === 0) return
    for (const c of this.#inFlight) c.abort()
    const settled = await Promise.allSettled(pending.map((p) => p.reply))
    // A push that was answered before the abort still tells where the cloud stands.
    for (const r of settled) if (r.status === 'fulfilled' && !r.value.gap) this.#advance(r.value.head)
  }

  #read(after: number): Batch {
    const events = [...readEvents(this.#sqlite, after, this.#batch)]
    return { after, events, body: events.length > 0 ? JSON.stringify({ epoch: this.#options.epoch, events }) : '' }
  }

  async #failed(error: unknown): Promise<void> {
    this.#failures += 1
    const failure = error instanceof PushFailure ? error : new PushFailure(describe(error), null)
    this.#lastError = failure.message
    const refused = failure.status !== null && permanent.has(failure.status)
    this.#state = refused ? 'refused' : 'backing-off'
    // A refused batch waits the longest: retrying it soon would only refuse it again.
    const delay = refused ? this.#options.maxBackoffMs : Math.min(this.#options.maxBackoffMs, this.#options.minBackoffMs * 2 ** Math.min(this.#failures - 1, 30))
    const fields = { status: failure.status, code: failure.body.code, seq: failure.body.seq, failures: this.#failures, retryInMs: delay }
    if (refused) this.#log.error({ ...fields, reason: failure.message }, 'cloud sync: the cloud refused the push; an operator must look (docs/cloud.md)')
    else this.#log.warn({ ...fields, reason: failure.message }, 'cloud sync: the cloud is unreachable; will retry')
    await this.#sleep(delay)
  }

  async #request(method: 'GET' | 'POST', path: string, body?: string, extra: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const controller = new AbortController()
    this.#inFlight.add(controller)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, this.#options.timeoutMs)
    const headers: Record<string, string> = { ...extra, authorization: `Bearer ${this.#options.token}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    try {
      const res = await fetch(new URL(path, this.#base), { method, headers, body: body ?? null, signal: controller.signal })
      const text = await res.text()
      let json: Record<string, unknown> = {}
      try {
        json = text ? (JSON.parse(text) as Record<string, unknown>) : {}
      } catch {
        json = { detail: text.slice(0, 200) }
      }
      if (!res.ok) throw new PushFailure(`cloud answered ${res.status}: ${String(json.detail ?? json.code ?? '')}`, res.status, json)
      return json
    } catch (error) {
      if ((error as Error).name === 'AbortError' && timedOut && !this.#stopped) {
        // A link too slow for this batch gets smaller batches until pushes fit in the timeout again.
        this.#batch = Math.max(50, Math.floor(this.#batch / 2))
        throw new PushFailure(`no answer within ${this.#options.timeoutMs} ms`, null)
      }
      throw error
    } finally {
      clearTimeout(timer)
      this.#inFlight.delete(controller)
    }
  }

  async #askHead(): Promise<Head> {
    const head = (await this.#request('GET', `api/v1/gateways/${encodeURIComponent(this.#options.gatewayId)}/head`)) as unknown as Head
    if (head.epoch > this.#options.epoch) throw new PushFailure(`the cloud holds epoch ${head.epoch} of this gateway, newer than the configured sync.epoch ${this.#options.epoch}`, 409)
    // A newer local epoch is a new chain: the cloud takes it from seq 1.
    const acked = head.epoch < this.#options.epoch ? { epoch: this.#options.epoch, seq: 0, hash: genesisHash } : head
    this.#log.info({ epoch: acked.epoch, ackedSeq: acked.seq }, 'cloud sync: resuming after the acknowledged seq')
    return acked
  }

  async #push({ events, body }: Batch): Promise<PushReply> {
    const started = performance.now()
    const path = `api/v1/gateways/${encodeURIComponent(this.#options.gatewayId)}/events`
    try {
      // The local head as the push leaves: the cloud keeps the backlog (head minus what it applied) and its age.
      const reply = await this.#request('POST', path, body, { [headSeqHeader]: String(this.#localHead.get()?.seq ?? 0) })
      this.#lastAckAt = this.#clock.now().toISOString()
      const now = performance.now()
      const seconds = Math.max((now - started) / 1000, 0.001)
      const rate = events.length / Math.max((now - Math.max(started, this.#lastAnswer)) / 1000, 0.001)
      this.#lastAnswer = now
      this.#rate = this.#rate === null ? rate : this.#rate * 0.7 + rate * 0.3
      // Grow back towards the full batch while pushes answer well within the timeout.
      if (seconds * 1000 < this.#options.timeoutMs / 4) this.#batch = Math.min(this.#options.maxBatch, this.#batch * 2)
      return { head: reply.head as Head, gap: false }
    } catch (error) {
      // A gap means the cloud's head is elsewhere: the loop continues from it.
      if (error instanceof PushFailure && error.status === 409 && error.body.code === 'sync.gap' && typeof error.body.expectedSeq === 'number') {
        return { head: error.body.head as Head, gap: true }
      }
      throw error
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms))
      const self = this
      function done() {
        clearTimeout(timer)
        self.#wake = null
        resolve()
      }
      this.#wake = done
    })
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (error as Error).message
}
