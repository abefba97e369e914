// Live updates for the HMI: every recorded event, summarized, as server-sent events over an authenticated GET.
import type { Context } from 'hono'
import type { RecordedEvent } from '../../core/events.ts'
import type { Clock } from '../../core/ports.ts'
import { readEvents, type StoredEvent } from '../../store/event-log.ts'
import type { LineStore } from '../../store/line-store.ts'
import { guard, type Accounts, type AuthEnv } from '../auth.ts'
import type { Api, ApiDeps } from '../context.ts'
import { ProblemError } from '../problem.ts'

export interface LiveOptions {
  /** A comment line this often keeps proxies from closing the stream and lets the client see a dead link. */
  heartbeatMs?: number
  maxClients?: number
  /** Most missed events sent again on reconnect; past that the client is told to reload its data. */
  replayLimit?: number
  /** A client that lets this much pile up unread is dropped; it reconnects and catches up. */
  maxQueuedBytes?: number
}

/** What a live event carries: enough to know what changed, nothing a reader of that view could not already see. */
export interface LiveEvent {
  seq: number
  type: string
  subject: string
  /** When it happened (a machine's own time for its signals). */
  at: string
  workCenterId?: string
  orderId?: string
  opSeq?: number
  runId?: string
  unitSerial?: string
  serial?: string
  state?: string
}

// Ids and states only: no actor, reason texts, people's qualifications or measured values.
const carried = ['workCenterId', 'orderId', 'opSeq', 'runId', 'unitSerial', 'serial', 'state'] as const

export function summarize(e: { seq: number; type: string; subject: string; occurredAt: string; data: unknown }): LiveEvent {
  const out: LiveEvent = { seq: e.seq, type: e.type, subject: e.subject, at: e.occurredAt }
  const data = (e.data ?? {}) as Record<string, unknown>
  for (const key of carried) {
    const value = data[key]
    if (typeof value === 'string' || typeof value === 'number') (out as unknown as Record<string, unknown>)[key] = value
  }
  return out
}

const frame = (event: string, data: unknown, id?: number) => `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`

interface LiveClient {
  bearer: string
  lastSeq: number
  send(text: string): void
  end(): void
}

export class LiveFeed {
  readonly #store: LineStore
  readonly #accounts: Accounts
  readonly #clock: Clock
  readonly #options: Required<LiveOptions>
  readonly #clients = new Set<LiveClient>()
  readonly #unsubscribe: () => void
  readonly #heartbeat: NodeJS.Timeout
  readonly #encoder = new TextEncoder()
  /** The last seq announced after its commit reached the disk: a replay never shows more than that. */
  #announced: number
  #closed = false

  constructor(deps: { store: LineStore; accounts: Accounts; clock: Clock }, options: LiveOptions = {}) {
    this.#store = deps.store
    this.#accounts = deps.accounts
    this.#clock = deps.clock
    this.#options = { heartbeatMs: 15_000, maxClients: 100, replayLimit: 1000, maxQueuedBytes: 1 << 20, ...options }
    this.#announced = deps.store.head().seq
    this.#unsubscribe = deps.store.onRecorded((events) => this.#publish(events))
    this.#heartbeat = setInterval(() => this.#beat(), this.#options.heartbeatMs)
    this.#heartbeat.unref()
  }

  get clients(): number {
    return this.#clients.size
  }

  #publish(events: RecordedEvent[]): void {
    const last = events.at(-1)?.seq ?? 0
    if (last > this.#announced) this.#announced = last
    for (const client of this.#clients) {
      const fresh = events.filter((e) => e.seq > client.lastSeq)
      if (fresh.length === 0) continue
      client.lastSeq = fresh.at(-1)!.seq
      client.send(fresh.map((e) => frame('recorded', summarize(e), e.seq)).join(''))
    }
  }

  /** A session that ended (logout, expiry, a deactivated person) ends its stream too. */
  #beat(): void {
    const now = this.#clock.now()
    for (const client of this.#clients) {
      if (this.#accounts.principalFor(client.bearer, now)) client.send(': ping\n\n')
      else {
        client.send(frame('expired', { reason: 'session' }))
        client.end()
      }
    }
  }

  /** A stream for one client: hello, the events it missed after `after` (when given), then every new one. */
  open(bearer: string, after: number | null): ReadableStream<Uint8Array> {
    // A stream opened while the gateway shuts down would hold the HTTP server open.
    if (this.#closed) throw new ProblemError(503, 'shutting_down', 'The gateway is shutting down; the page reconnects once it is back.')
    if (this.#clients.size >= this.#options.maxClients) {
      throw new ProblemError(503, 'live_full', `The gateway already serves ${this.#options.maxClients} live streams; try again shortly.`)
    }
    const head = this.#announced
    let client: LiveClient | undefined
    let open = true
    const remove = () => {
      open = false
      if (client) this.#clients.delete(client)
    }
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          const end = () => {
            if (!open) return
            remove()
            controller.close()
          }
          const send = (text: string) => {
            if (!open) return
            controller.enqueue(this.#encoder.encode(text))
            if ((controller.desiredSize ?? 0) < -this.#options.maxQueuedBytes) end()
          }
          client = { bearer, lastSeq: head, send, end }
          // Replay and registration happen in the same turn, so no event falls between them.
          send(`retry: 2000\n${frame('hello', { head })}`)
          if (after !== null && after < head) this.#replay(client, after, head)
          this.#clients.add(client)
        },
        cancel: () => {
          remove()
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
    )
  }

  #replay(client: LiveClient, after: number, head: number): void {
    if (head - after > this.#options.replayLimit) {
      client.send(frame('reset', { head }))
      return
    }
    const missed: StoredEvent[] = [...readEvents(this.#store.db.sqlite, after, head - after)]
    client.send(missed.map((e) => frame('recorded', summarize({ ...e, data: JSON.parse(e.data) }), e.seq)).join(''))
  }

  /** Ends every stream: the HTTP server can then close without waiting for them. */
  close(): void {
    // Called by the HTTP shutdown and again by the gateway's close: the second time finds nothing to do.
    this.#closed = true
    clearInterval(this.#heartbeat)
    this.#unsubscribe()
    for (const client of [...this.#clients]) client.end()
  }
}

function resumeFrom(c: Context): number | null {
  const raw = c.req.header('last-event-id') ?? c.req.query('after')
  if (raw === undefined || raw === '') return null
  if (!/^\d{1,15}$/.test(raw)) throw new ProblemError(422, 'validation_failed', 'The request is not valid: Last-Event-ID (or after) must be an event sequence number.')
  return Number(raw)
}

export function liveRoutes(app: Api, deps: ApiDeps & { live: LiveFeed }): void {
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/api/v1/live',
    tags: ['Live'],
    summary: 'Server-sent events: every recorded event, summarized (seq, type, subject, ids, state); resume with Last-Event-ID',
    security: [{ bearer: [] }],
    responses: {
      200: { description: 'An event stream: hello, then recorded events (id = seq); reset when too much was missed; expired when the session ends', content: { 'text/event-stream': { schema: { type: 'string' } } } },
      401: { description: 'No valid credentials' },
    },
  })
  app.get('/api/v1/live', (c: Context<AuthEnv>) => {
    guard(c, ['operator', 'lead', 'quality', 'maintenance', 'integration'])
    const bearer = (c.req.header('authorization') ?? '').replace(/^Bearer\s+/i, '')
    const body = deps.live.open(bearer, resumeFrom(c))
    return new Response(body, {
      status: 200,
      // connection: close — a stream ended by shutdown must not leave an idle keep-alive socket the server then waits for.
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', connection: 'close' },
    })
  })
}
