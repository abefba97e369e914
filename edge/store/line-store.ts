// Executes commands: decide against the projections, append the events, update projections — one SQLite transaction.
import type { Decision } from '../core/decision.ts'
import type { RecordedEvent } from '../core/events.ts'
import type { DecisionContext, LineView } from '../core/line-view.ts'
import type { Clock, Ids } from '../core/ports.ts'
import type Database from 'better-sqlite3'
import { Checkpointer, type CheckpointerOptions } from './checkpointer.ts'
import { openDatabase, type OpenDatabase } from './database.ts'
import { WalSync } from './wal-sync.ts'
import { EventLog } from './event-log.ts'
import { sqliteLineView } from './line-view.ts'
import { Projections } from './projections.ts'

export type Decide<R> = (view: LineView, ctx: DecisionContext) => Decision<R>

export type Executed<R> = Decision<R> & { recorded: RecordedEvent[] }

export interface LineStoreOptions {
  file: string
  clock: Clock
  ids: Ids
  /** Most commands committed together by `submit` (group commit). */
  maxGroup?: number
  /**
   * Where WAL checkpoints run: in a worker thread, off the event loop (the gateway), or on the
   * writer at SQLite's automatic threshold (tools and tests that open a store briefly).
   */
  checkpoints?: 'worker' | 'writer'
  /** Limits and error reporting of the checkpoint worker. */
  checkpointer?: CheckpointerOptions
  /**
   * When a commit reaches the disk: inside COMMIT (synchronous=FULL, the event loop waits), or
   * after it, by one fdatasync of the WAL off the event loop for every commit before it (the
   * gateway). Either way a command is answered only once it is on disk.
   */
  sync?: 'in-commit' | 'after-commit'
}

interface Pending {
  actor: string
  decide: Decide<unknown>
  occurredAt: string | undefined
  resolve(executed: Executed<unknown>): void
  reject(error: unknown): void
}

export type Outcome = { executed: Executed<unknown> } | { error: unknown }

export class LineStore {
  readonly db: OpenDatabase
  readonly view: LineView
  readonly #log: EventLog
  readonly #projections: Projections
  readonly #clock: Clock
  readonly #ids: Ids
  readonly #listeners = new Set<(events: RecordedEvent[]) => void>()
  readonly #one: Database.Transaction<(actor: string, decide: Decide<unknown>, occurredAt: string | undefined) => Executed<unknown>>
  readonly #alone: Database.Transaction<(actor: string, decide: Decide<unknown>, occurredAt: string | undefined) => Executed<unknown>>
  readonly #group: Database.Transaction<(batch: Pending[]) => Outcome[]>
  readonly #maxGroup: number
  readonly checkpointer: Checkpointer | undefined
  readonly walSync: WalSync | undefined
  #queue: Pending[] = []
  #draining = false
  /** Runs before a command is executed or queued; a throw refuses it with nothing written (the disk guard below its hard floor). */
  writeGuard: (() => void) | null = null

  constructor(options: LineStoreOptions) {
    this.db = openDatabase(options.file)
    this.view = sqliteLineView(this.db.sqlite)
    this.#log = new EventLog(this.db.sqlite)
    this.#projections = new Projections(this.db.sqlite)
    this.#clock = options.clock
    this.#ids = options.ids
    this.#maxGroup = options.maxGroup ?? 256
    if (options.sync === 'after-commit' && options.file !== ':memory:') {
      // Crash-safe without a sync in COMMIT; durability comes from WalSync before any answer.
      this.db.sqlite.pragma('synchronous = NORMAL')
      this.walSync = new WalSync(`${options.file}-wal`)
    }
    if (options.checkpoints === 'worker' && options.file !== ':memory:') {
      this.checkpointer = new Checkpointer(this.db.sqlite, options.file, options.checkpointer)
    }
    this.#one = this.db.sqlite.transaction((actor: string, decide: Decide<unknown>, occurredAt: string | undefined) => this.#decideAndRecord(actor, decide, occurredAt))
    // A command in a transaction of its own: what the projections hold back is written before it commits.
    this.#alone = this.db.sqlite.transaction((actor: string, decide: Decide<unknown>, occurredAt: string | undefined) => {
      const executed = this.#decideAndRecord(actor, decide, occurredAt)
      this.#projections.flush()
      return executed
    })
    // Inside the group transaction each command runs in its own savepoint (a nested better-sqlite3
    // transaction): one that throws is rolled back alone, the others still commit.
    this.#group = this.db.sqlite.transaction((batch: Pending[]) => {
      const outcomes = batch.map((p) => this.#attempt(p.actor, p.decide, p.occurredAt))
      this.#projections.flush()
      return outcomes
    })
  }

  /** The transaction was rolled back: what was remembered of it goes. */
  #rolledBack(): void {
    this.#log.forgetHead()
    this.#projections.forget()
  }

  /** One command in its own savepoint inside a batch's transaction: one that throws is rolled back alone. */
  #attempt(actor: string, decide: Decide<unknown>, occurredAt: string | undefined): Outcome {
    try {
      return { executed: this.#one(actor, decide, occurredAt) }
    } catch (error) {
      this.#log.forgetHead()
      this.#projections.commandFailed()
      return { error }
    }
  }

  #decideAndRecord<R>(actor: string, decide: Decide<R>, occurredAt: string | undefined): Executed<R> {
    const now = this.#clock.now()
    const ctx: DecisionContext = { now, nextId: () => this.#ids.next() }
    const meta = { actor, occurredAt: occurredAt ?? now.toISOString(), recordedAt: now.toISOString(), nextId: ctx.nextId }
    this.#projections.beginCommand()
    const decision = decide(this.view, ctx)
    const toRecord = decision.ok ? decision.events : decision.record
    const recorded = toRecord.length > 0 ? this.#log.append(toRecord, meta) : []
    for (const e of recorded) this.#projections.apply(e)
    this.#projections.commandDone()
    return { ...decision, recorded }
  }

  #announce(recorded: RecordedEvent[]): void {
    if (recorded.length > 0) for (const listen of this.#listeners) listen(recorded)
  }

  /**
   * Decides and records a command. Accepted events — or, on a refusal, the events core asks to
   * keep (a refused lot scan) — are appended and projected in one transaction, then announced.
   */
  execute<R>(actor: string, decide: Decide<R>, occurredAt?: string): Executed<R> {
    this.writeGuard?.()
    let executed: Executed<R>
    try {
      executed = this.#alone.immediate(actor, decide as Decide<unknown>, occurredAt) as Executed<R>
    } catch (error) {
      this.#rolledBack()
      throw error
    }
    this.walSync?.syncNow()
    this.#announce(executed.recorded)
    return executed
  }

  /**
   * Like `execute`, but commands that arrive while a commit is under way are decided one after
   * another and committed together (group commit): one fsync for many as-built writes. Each
   * promise resolves only after its command is on disk.
   */
  submit<R>(actor: string, decide: Decide<R>, occurredAt?: string): Promise<Executed<R>> {
    return new Promise((resolve, reject) => {
      this.writeGuard?.()
      this.#queue.push({ actor, decide: decide as Decide<unknown>, occurredAt, resolve: resolve as (e: Executed<unknown>) => void, reject })
      if (!this.#draining) {
        this.#draining = true
        setImmediate(() => this.#drain())
      }
    })
  }

  #drain(): void {
    // The checkpoint worker is copying the whole WAL so the next commit can restart it: gather commands meanwhile.
    if (this.checkpointer?.paused) {
      void this.checkpointer.resumed().then(() => this.#commitQueued())
      return
    }
    this.#commitQueued()
  }

  #commitQueued(): void {
    const batch = this.#queue.splice(0, this.#maxGroup)
    let outcomes: Outcome[] = []
    let failure: unknown = null
    try {
      outcomes = this.#group.immediate(batch)
    } catch (error) {
      this.#rolledBack()
      failure = error
    }
    const settle = (syncFailure: unknown) =>
      batch.forEach((p, i) => {
        const outcome = outcomes[i]
        if (failure !== null || outcome === undefined) p.reject(failure)
        else if ('error' in outcome) p.reject(outcome.error)
        else if (syncFailure !== null) p.reject(syncFailure)
        else {
          this.#announce(outcome.executed.recorded)
          p.resolve(outcome.executed)
        }
      })
    // Nothing is answered or announced before it is on disk; the next batch is decided meanwhile.
    if (this.walSync && failure === null) this.walSync.afterCommit().then(() => settle(null), settle)
    else settle(null)
    if (this.#queue.length > 0) setImmediate(() => this.#drain())
    else this.#draining = false
  }

  /**
   * Decides several commands in one transaction, each in its own savepoint (one that fails is
   * rolled back alone), runs `alongside` in the same transaction (where a downstream batch ended,
   * say), and resolves once all of it is on disk. A failure of `alongside` rolls back everything.
   */
  async applyBatch(actor: string, decides: Array<Decide<unknown>>, alongside: () => void): Promise<Outcome[]> {
    if (this.checkpointer?.paused) await this.checkpointer.resumed()
    const batch = this.db.sqlite.transaction(() => {
      const outcomes = decides.map((decide) => this.#attempt(actor, decide, undefined))
      alongside()
      this.#projections.flush()
      return outcomes
    })
    let outcomes: Outcome[]
    try {
      outcomes = batch.immediate()
    } catch (error) {
      this.#rolledBack()
      throw error
    }
    if (this.walSync) await this.walSync.afterCommit()
    for (const o of outcomes) if ('executed' in o) this.#announce(o.executed.recorded)
    return outcomes
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
    this.walSync?.close()
    this.checkpointer?.stop()
    this.db.close()
  }
}
