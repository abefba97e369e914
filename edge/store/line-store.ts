// Executes commands: decide against the projections, append the events, update projections — one SQLite transaction.
import type { Decision } from '../core/decision.ts'
import type { RecordedEvent } from '../core/events.ts'
import type { DecisionContext, LineView } from '../core/line-view.ts'
import type { Clock, Ids } from '../core/ports.ts'
import { openDatabase, type OpenDatabase } from './database.ts'
import { EventLog } from './event-log.ts'
import { sqliteLineView } from './line-view.ts'
import { Projections } from './projections.ts'

export type Decide<R> = (view: LineView, ctx: DecisionContext) => Decision<R>

export type Executed<R> = Decision<R> & { recorded: RecordedEvent[] }

export interface LineStoreOptions {
  file: string
  clock: Clock
  ids: Ids
}

export class LineStore {
  readonly db: OpenDatabase
  readonly view: LineView
  readonly #log: EventLog
  readonly #projections: Projections
  readonly #clock: Clock
  readonly #ids: Ids
  readonly #listeners = new Set<(events: RecordedEvent[]) => void>()

  constructor(options: LineStoreOptions) {
    this.db = openDatabase(options.file)
    this.view = sqliteLineView(this.db.sqlite)
    this.#log = new EventLog(this.db.sqlite)
    this.#projections = new Projections(this.db.sqlite)
    this.#clock = options.clock
    this.#ids = options.ids
  }

  /**
   * Decides and records a command. Accepted events — or, on a refusal, the events core asks to
   * keep (a refused lot scan) — are appended and projected in one transaction, then announced.
   */
  execute<R>(actor: string, decide: Decide<R>, occurredAt?: string): Executed<R> {
    const now = this.#clock.now()
    const ctx: DecisionContext = { now, nextId: () => this.#ids.next() }
    const meta = { actor, occurredAt: occurredAt ?? now.toISOString(), recordedAt: now.toISOString(), nextId: ctx.nextId }
    const run = this.db.sqlite.transaction((): Executed<R> => {
      const decision = decide(this.view, ctx)
      const toRecord = decision.ok ? decision.events : decision.record
      const recorded = toRecord.length > 0 ? this.#log.append(toRecord, meta) : []
      for (const e of recorded) this.#projections.apply(e)
      return { ...decision, recorded }
    })
    const executed = run.immediate()
    if (executed.recorded.length > 0) for (const listen of this.#listeners) listen(executed.recorded)
    return executed
  }

  /** Called after each commit with the events it recorded (for SSE and the broker). */
  onRecorded(listener: (events: RecordedEvent[]) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  head(): { seq: number; hash: string } {
    return this.#log.head()
  }

  close(): void {
    this.db.close()
  }
}
