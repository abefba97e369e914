// Downstream sync: follows this line's definitions shape from the cloud (ElectricSQL protocol) and applies each batch at up-to-date, in one transaction.
//
// The cloud (or the Electric sync service in front of the same PostgreSQL) serves the rows of
// line_definitions where line_id = this line. Changes gather until an up-to-date message; then
// every definition of the batch is decided through the same core functions as the gateway's own
// JSON API — a refused one (a routing change to a started order) is reported and the rest apply —
// and the shape's handle and offset are written in that same transaction. A must-refetch drops
// what was gathered; the snapshot that follows is applied like any batch, and since a definition
// sent again changes nothing, the line goes on working meanwhile.
import { isChangeMessage, isControlMessage, ShapeStream, type Message, type Row } from '@electric-sql/client'
import type { Logger } from 'pino'
import type { z } from '@hono/zod-openapi'
import * as S from '../api/schemas.ts'
import type { Decision } from '../core/decision.ts'
import type { LineView } from '../core/line-view.ts'
import { defineBom, defineEquipment, defineLot, defineMaterial, definePerson, defineRouting } from '../core/master-data.ts'
import { defineOrder } from '../core/orders.ts'
import type { Clock } from '../core/ports.ts'
import type { LineStore } from '../store/line-store.ts'

export interface ShapeFollowerOptions {
  url: string
  token: string
  lineId: string
  /** Delay before the stream is opened again after it stopped on an error, doubling up to maxBackoffMs. */
  minBackoffMs: number
  maxBackoffMs: number
}

export interface FollowerStatus {
  state: 'starting' | 'syncing' | 'up-to-date' | 'backing-off' | 'stopped'
  lineId: string
  handle: string | null
  offset: string | null
  batches: number
  applied: number
  unchanged: number
  refused: number
  refetches: number
  lastUpToDateAt: string | null
  lastError: string | null
  lastRefusal: { kind: string; key: string; reason: string } | null
}

type Apply = (view: LineView, body: never) => Decision<unknown>

/** Each kind with the gateway's own request schema and decide function: the wire is never trusted. */
const kinds: Record<string, { schema: z.ZodType; decide: Apply; rank: number }> = {
  equipment: { schema: S.Equipment, decide: defineEquipment as Apply, rank: 0 },
  material: { schema: S.Material, decide: defineMaterial as Apply, rank: 1 },
  bom: { schema: S.Bom, decide: defineBom as Apply, rank: 2 },
  routing: { schema: S.Routing, decide: defineRouting as Apply, rank: 3 },
  person: { schema: S.Person, decide: definePerson as Apply, rank: 4 },
  lot: { schema: S.Lot, decide: defineLot as Apply, rank: 5 },
  order: { schema: S.OrderRequest, decide: defineOrder as Apply, rank: 6 },
}

type DefinitionRow = Row & { kind: string; key: string; body: string }

const levels = ['site', 'area', 'line', 'work_center']

function rankOf(row: DefinitionRow): number {
  const kind = (kinds[row.kind]?.rank ?? 99) * 10
  if (row.kind !== 'equipment') return kind
  const level = /"level":"([a-z_]+)"/.exec(row.body)?.[1]
  return kind + Math.max(0, levels.indexOf(level ?? ''))
}

const shapeName = 'line_definitions'
export const downstreamActor = 'sync:cloud'

export class ShapeFollower {
  readonly #store: LineStore
  readonly #clock: Clock
  readonly #options: ShapeFollowerOptions
  readonly #log: Logger
  readonly #status: FollowerStatus
  #pending: DefinitionRow[] = []
  #abort: AbortController | null = null
  #retry: NodeJS.Timeout | null = null
  #backoffMs: number
  #stopped = false
  /** Resolved batches, for tests and health: each call waits for the next applied batch. */
  #appliedWaiters: Array<() => void> = []

  constructor(store: LineStore, clock: Clock, options: ShapeFollowerOptions, log: Logger) {
    this.#store = store
    this.#clock = clock
    this.#options = options
    this.#log = log
    this.#backoffMs = options.minBackoffMs
    const saved = this.#saved()
    this.#status = { state: 'starting', lineId: options.lineId, handle: saved?.handle ?? null, offset: saved?.offset ?? null, batches: 0, applied: 0, unchanged: 0, refused: 0, refetches: 0, lastUpToDateAt: null, lastError: null, lastRefusal: null }
  }

  #saved(): { handle: string; offset: string } | undefined {
    return this.#store.db.sqlite.prepare('SELECT handle, "offset" FROM shape_state WHERE shape = ?').get(shapeName) as { handle: string; offset: string } | undefined
  }

  status(): FollowerStatus {
    return { ...this.#status }
  }

  start(): void {
    if (this.#stopped || this.#abort) return
    const saved = this.#saved()
    const abort = new AbortController()
    this.#abort = abort
    this.#pending = []
    const stream = new ShapeStream<DefinitionRow>({
      url: `${this.#options.url.replace(/\/$/, '')}/v1/shape`,
      params: { table: shapeName, where: `line_id = '${this.#options.lineId.replaceAll("'", "''")}'` },
      headers: { Authorization: `Bearer ${this.#options.token}` },
      ...(saved ? { offset: saved.offset as `${number}_${number}`, handle: saved.handle } : { offset: '-1' }),
      signal: abort.signal,
      // The client has already retried what it retries; the follower opens a new stream after a pause.
      onError: (error) => this.#failed(abort, error),
    })
    stream.subscribe(
      (messages) => this.#receive(stream, messages),
      (error) => this.#failed(abort, error),
    )
  }

  #failed(abort: AbortController, error: unknown): void {
    if (this.#abort !== abort) return
    abort.abort()
    this.#abort = null
    if (this.#stopped) return
    this.#status.state = 'backing-off'
    this.#status.lastError = error instanceof Error ? error.message : String(error)
    this.#log.warn({ err: this.#status.lastError, retryInMs: this.#backoffMs }, 'downstream shape stopped; opening it again later')
    this.#retry = setTimeout(() => {
      this.#retry = null
      this.start()
    }, this.#backoffMs)
    this.#retry.unref()
    this.#backoffMs = Math.min(this.#options.maxBackoffMs, this.#backoffMs * 2)
  }

  async #receive(stream: ShapeStream<DefinitionRow>, messages: Array<Message<DefinitionRow>>): Promise<void> {
    // Read now: the stream does not fetch again until this returns, so these are this response's.
    const handle = stream.shapeHandle
    const offset = stream.lastOffset
    if (this.#stopped) return
    try {
      for (const m of messages) {
        if (isChangeMessage(m)) {
          if (m.headers.operation !== 'delete') this.#pending.push(m.value)
        } else if (isControlMessage(m) && m.headers.control === 'must-refetch') {
          this.#pending = []
          this.#status.refetches += 1
          this.#status.state = 'syncing'
          this.#log.info({ lineId: this.#options.lineId }, 'downstream shape must be refetched: reading it again from the start')
        } else if (isControlMessage(m) && m.headers.control === 'up-to-date' && handle !== undefined) {
          await this.#apply(handle, offset)
        }
      }
    } catch (error) {
      // A throw here would escape the client as an uncaught exception: report and open the stream again.
      if (this.#abort) this.#failed(this.#abort, error)
    }
  }

  async #apply(handle: string, offset: string): Promise<void> {
    if (this.#stopped) return
    const batch = this.#pending
    this.#pending = []
    // Definitions before the orders that name them, a site before its areas; the log order otherwise.
    const ordered = batch.map((row, i) => ({ row, i, rank: rankOf(row) })).sort((a, b) => a.rank - b.rank || a.i - b.i)
    const refusals: Array<{ kind: string; key: string; reason: string }> = []
    const decides = ordered.map(({ row }) => this.#decision(row))
    const now = this.#clock.now().toISOString()
    const outcomes = await this.#store.applyBatch(downstreamActor, decides, () => {
      this.#store.db.sqlite
        .prepare('INSERT INTO shape_state (shape, handle, "offset", updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (shape) DO UPDATE SET handle = excluded.handle, "offset" = excluded."offset", updated_at = excluded.updated_at')
        .run(shapeName, handle, offset, now)
    })
    let applied = 0
    outcomes.forEach((o, i) => {
      const { kind, key } = ordered[i]!.row
      if ('error' in o) refusals.push({ kind, key, reason: o.error instanceof Error ? o.error.message : String(o.error) })
      else if (!o.executed.ok) refusals.push({ kind, key, reason: o.executed.rejection.message })
      else if (o.executed.recorded.length > 0) applied += 1
    })
    const s = this.#status
    s.batches += 1
    s.applied += applied
    s.refused += refusals.length
    s.unchanged += batch.length - applied - refusals.length
    s.handle = handle
    s.offset = offset
    s.state = 'up-to-date'
    s.lastUpToDateAt = now
    s.lastError = null
    this.#backoffMs = this.#options.minBackoffMs
    for (const r of refusals) this.#log.warn(r, 'a definition from the cloud was refused by the line')
    if (refusals.length > 0) s.lastRefusal = refusals.at(-1)!
    if (batch.length > 0) this.#log.info({ definitions: batch.length, applied, refused: refusals.length, offset }, 'downstream batch applied')
    for (const wake of this.#appliedWaiters.splice(0)) wake()
  }

  /** The decide function for one row; a row that does not parse is refused inside the batch like any other. */
  #decision(row: DefinitionRow): (view: LineView) => Decision<unknown> {
    const kind = kinds[row.kind]
    const fail = (reason: string) => () => {
      throw new Error(reason)
    }
    if (!kind) return fail(`unknown kind '${row.kind}'`)
    let body: unknown
    try {
      body = JSON.parse(row.body)
    } catch {
      return fail(`${row.kind} ${row.key}: the body is not JSON`)
    }
    const parsed = kind.schema.safeParse(body)
    if (!parsed.success) return fail(`${row.kind} ${row.key}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
    return (view) => kind.decide(view, parsed.data as never)
  }

  /** Resolves after the next batch has been applied (tests, and a caller that waits for a first sync). */
  nextBatch(): Promise<void> {
    return new Promise((resolve) => this.#appliedWaiters.push(resolve))
  }

  stop(): void {
    this.#stopped = true
    if (this.#retry) clearTimeout(this.#retry)
    this.#abort?.abort()
    this.#abort = null
    this.#status.state = 'stopped'
  }
}
