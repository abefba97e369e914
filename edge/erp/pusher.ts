// Delivers the ERP outbox by HTTP POST, one document at a time in order, retrying with exponential backoff while ERP is unreachable.
import type { Clock } from '../core/ports.ts'
import type { RecordedEvent } from '../core/events.ts'
import { completionEvents, type ErpOutbox, type OutboxEntry } from './outbox.ts'

export interface PushOptions {
  /** The ERP endpoint that receives Sync…Performance BODs. */
  url: string
  /** Sent as the Authorization header; never logged. */
  authorization: string | null
  timeoutMs: number
  /** First retry delay; it doubles with each failed attempt up to maxBackoffMs. */
  minBackoffMs: number
  maxBackoffMs: number
  /** How long the pusher sleeps with nothing to send, unless woken by a completion. */
  idleMs: number
}

export const defaultPushOptions: Omit<PushOptions, 'url' | 'authorization'> = { timeoutMs: 10_000, minBackoffMs: 1_000, maxBackoffMs: 300_000, idleMs: 5_000 }

export interface PushLog {
  warn(obj: object, message: string): void
  error(obj: object, message: string): void
}

/** 408, 425, 429 and 5xx say "not now"; any other refusal is about the document itself. */
const retryable = (status: number) => status === 408 || status === 425 || status === 429 || status >= 500

export class ErpPusher {
  readonly #outbox: ErpOutbox
  readonly #clock: Clock
  readonly #options: PushOptions
  readonly #log: PushLog
  #stopped = false
  #running: Promise<void> | null = null
  #wake: (() => void) | null = null
  #inFlight: AbortController | null = null

  constructor(outbox: ErpOutbox, clock: Clock, options: PushOptions, log: PushLog) {
    this.#outbox = outbox
    this.#clock = clock
    this.#options = options
    this.#log = log
  }

  start(): void {
    if (this.#running) return
    this.#outbox.ensureCursor()
    this.#running = this.#loop()
  }

  /** For the store's onRecorded: a completion was committed, so there may be something to send now. */
  readonly onRecorded = (events: RecordedEvent[]): void => {
    if (events.some((e) => completionEvents.has(e.type))) this.wake()
  }

  wake(): void {
    this.#wake?.()
  }

  /** Stops after the attempt under way (aborted); pending documents stay in the outbox for the next start. */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#inFlight?.abort()
    this.wake()
    await this.#running
    this.#running = null
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      try {
        this.#outbox.produce()
        const next = this.#outbox.next()
        const wait = next ? Date.parse(next.nextAttemptAt) - this.#clock.now().getTime() : this.#options.idleMs
        if (!next || wait > 0) await this.#sleep(Math.min(wait, this.#options.idleMs))
        else await this.#deliver(next)
      } catch (error) {
        // The database may be closing, or a document could not be rendered: say so, wait, go on.
        this.#log.error({ err: error }, 'ERP outbox: the pusher hit an error; retrying')
        await this.#sleep(this.#options.minBackoffMs)
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms))
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.#wake = () => {
        this.#wake = null
        done()
      }
    })
  }

  #backoff(entry: OutboxEntry, retryAfter: string | null): string {
    const exponential = this.#options.minBackoffMs * 2 ** Math.min(entry.attempts, 30)
    const asked = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : 0
    const delay = Math.min(this.#options.maxBackoffMs, Math.max(exponential, asked))
    return new Date(this.#clock.now().getTime() + delay).toISOString()
  }

  async #deliver(entry: OutboxEntry): Promise<void> {
    const controller = new AbortController()
    this.#inFlight = controller
    const timer = setTimeout(() => controller.abort(), this.#options.timeoutMs)
    const headers: Record<string, string> = { 'content-type': 'application/xml; charset=utf-8', 'idempotency-key': `takt-outbox-${entry.id}` }
    if (this.#options.authorization) headers.authorization = this.#options.authorization
    try {
      const res = await fetch(this.#options.url, { method: 'POST', headers, body: entry.body, signal: controller.signal })
      const text = (await res.text()).slice(0, 500)
      const now = this.#clock.now().toISOString()
      if (res.ok) this.#outbox.delivered(entry.id, res.status, now)
      else if (retryable(res.status)) {
        this.#outbox.failed(entry.id, res.status, `ERP answered ${res.status}: ${text}`, this.#backoff(entry, res.headers.get('retry-after')))
        this.#log.warn({ outboxId: entry.id, status: res.status, attempts: entry.attempts + 1 }, 'ERP outbox: ERP is not taking documents now; will retry')
      } else {
        this.#outbox.rejected(entry.id, res.status, `ERP refused the document with ${res.status}: ${text}`)
        this.#log.error({ outboxId: entry.id, status: res.status }, 'ERP outbox: ERP refused a document; it is kept as rejected and the next one is sent')
      }
    } catch (error) {
      if (this.#stopped) return
      const reason = (error as Error).name === 'AbortError' ? `no answer within ${this.#options.timeoutMs} ms` : describe(error)
      this.#outbox.failed(entry.id, null, reason, this.#backoff(entry, null))
      this.#log.warn({ outboxId: entry.id, attempts: entry.attempts + 1, reason }, 'ERP outbox: ERP is unreachable; will retry')
    } finally {
      clearTimeout(timer)
      this.#inFlight = null
    }
  }
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (error as Error).message
}
