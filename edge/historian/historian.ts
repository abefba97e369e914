// The historian: machine samples in their own SQLite file, written in batches by a writer thread, so telemetry never touches the MES database or holds the event loop.
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'
import { foldMinutes } from './retention.ts'
import { blockSchema, convertSampleRows, deleteBefore, samplesInRange } from './sample-blocks.ts'
import { SamplePage } from './sample-page.ts'

export type Quality = 'good' | 'uncertain' | 'bad'

/** A normalized machine sample: what every collector produces. */
export interface Sample {
  signal: string
  value: number | string | boolean | null
  quality: Quality
  /** Source time, Unix milliseconds. */
  timestamp: number
  /** Why the quality is not good (a timeout, a Modbus exception, an OPC UA status). */
  reason?: string
}

export interface MinuteAggregate {
  signal: string
  minute: number
  count: number
  min: number | null
  max: number | null
  avg: number | null
  last: number | string | null
}

export interface HistorianOptions {
  /** The SQLite file (a path: the writer thread opens it too). */
  file: string
  /** Largest batch handed to the writer at once. */
  maxBatch?: number
  /** Longest a sample waits in memory before its batch goes to the writer, ms; 0: at the end of the event-loop turn that recorded it. */
  flushIntervalMs?: number
  /** Raw samples older than this are deleted by `retain()`, ms; aggregates are kept. */
  rawRetentionMs?: number
  /**
   * How far a QoS 1 PUBACK may run ahead of the disk, ms (see `acknowledgement()`); 0: every
   * PUBACK waits for its samples' commit and sync.
   */
  ackWindowMs?: number
}

/** PUBACKs that ran ahead of the disk, and how far: for metrics and the telemetry benchmark. */
export interface AckAhead {
  /** Batches that held a sample acknowledged before it was on disk, and were then written. */
  batches: number
  /** The longest time from such an acknowledgement to the batch's sync, ms. */
  maxMs: number
  /** Samples acknowledged ahead of the disk whose batch could not be written. */
  lost: number
}

/** A batch as it travels to the writer thread: a page of shared memory and how many of its rows count. */
export interface SampleBatch {
  kind: 'batch'
  seq: number
  page: SharedArrayBuffer
  rows: number
  /** Text values by row, or null when the batch has none. */
  text: Array<string | null> | null
  /** Signals first seen in this batch: [id, name]. */
  signals: Array<[number, string]>
}

export type ToHistorianWriter = SampleBatch | { kind: 'close' } | { kind: 'shed'; maxRows: number; now: number }
export type WriterResult = { kind: 'committed'; seq: number; rows: number } | { kind: 'failed'; seq: number; error: string } | { kind: 'shed'; rows: number } | { kind: 'shed-failed'; error: string }

export interface WriterData {
  file: string
  /** [0]: the last batch seq settled (written or failed); [1]: 1 once the writer's connection is closed; [2]: WAL syncs so far. */
  shared: Int32Array
}

/** Batches out at the writer at once: one being synced while the next is inserted. */
const batchesOut = 2

const qualityCode: Record<Quality, number> = { good: 0, uncertain: 1, bad: 2 }
const qualityName: Quality[] = ['good', 'uncertain', 'bad']

interface Pending {
  seq: number
  promise: Promise<void>
  resolve: () => void
  reject: (error: Error) => void
  /** When its first sample was recorded (performance.now()). */
  openedAt: number
  /** When a sample of it was first acknowledged ahead of the disk, or null. */
  ackedAt: number | null
}

function pending(seq: number): Pending {
  let resolve = () => {}
  let reject: (error: Error) => void = () => {}
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)))
  // A batch nobody waits for must not become an unhandled rejection.
  promise.catch(() => {})
  return { seq, promise, resolve, reject, openedAt: performance.now(), ackedAt: null }
}

export class Historian {
  readonly #db: Database.Database
  readonly #maxBatch: number
  readonly #flushIntervalMs: number
  readonly #rawRetentionMs: number
  readonly #ackWindowMs: number
  /** Set when a batch could not be written: PUBACKs wait for the disk until one is again. */
  #aheadHeld = false
  readonly #ahead: AckAhead = { batches: 0, maxMs: 0, lost: 0 }
  readonly #signalIds = new Map<string, number>()
  #nextSignalId: number
  /** The page being filled, pages free for reuse, and signals first seen since the last hand-over. */
  #page: SamplePage
  readonly #freePages: SamplePage[] = []
  #newSignals: Array<[number, string]> = []
  readonly #writer: Worker
  readonly #results: MessagePort
  readonly #shared = new Int32Array(new SharedArrayBuffer(12))
  #scheduled: { timer: NodeJS.Timeout } | { immediate: NodeJS.Immediate } | null = null
  /** The batch being gathered, and the ones handed to the writer and not yet settled. */
  #gathering: Pending | null = null
  readonly #inWriter = new Map<number, Pending & { page: SamplePage; rows: number; signals: Array<[number, string]> }>()
  #seq = 0
  #written = 0
  #failed: Error | null = null
  #closed = false
  /** Set by the disk guard below its historian floor: new raw samples are dropped, not stored. */
  #rawPaused = false
  #dropped = 0
  /** The shed under way in the writer thread: one at a time. */
  #shedding: { promise: Promise<number>; resolve(rows: number): void; reject(error: Error): void } | null = null

  constructor(options: HistorianOptions) {
    mkdirSync(dirname(options.file), { recursive: true })
    this.#db = new Database(options.file)
    // Only a new, empty file takes it (before WAL mode writes its header): raw samples shed on a full disk then give their pages back to the filesystem.
    this.#db.pragma('auto_vacuum = INCREMENTAL')
    this.#db.pragma('journal_mode = WAL')
    // Telemetry gives up SQLite's sync inside COMMIT for throughput; the writer syncs the WAL itself before anything is acknowledged.
    this.#db.pragma('synchronous = NORMAL')
    // Downsampling and retention write from this thread and wait their turn behind the writer's batch.
    this.#db.pragma('busy_timeout = 5000')
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS signals (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
      ${blockSchema}
      CREATE TABLE IF NOT EXISTS minutes (
        minute INTEGER NOT NULL, signal_id INTEGER NOT NULL, count INTEGER NOT NULL,
        min REAL, max REAL, sum REAL, last_value REAL, last_text TEXT, last_ts INTEGER NOT NULL,
        PRIMARY KEY (minute, signal_id)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS watermarks (name TEXT PRIMARY KEY, ts INTEGER NOT NULL);
    `)
    // A file of an earlier version holds a row per sample: it becomes blocks once, before the writer starts.
    convertSampleRows(this.#db)
    let maxId = 0
    for (const row of this.#db.prepare('SELECT id, name FROM signals').all() as Array<{ id: number; name: string }>) {
      this.#signalIds.set(row.name, row.id)
      maxId = Math.max(maxId, row.id)
    }
    this.#nextSignalId = maxId + 1
    this.#maxBatch = options.maxBatch ?? 10_000
    this.#page = new SamplePage(this.#maxBatch)
    this.#flushIntervalMs = options.flushIntervalMs ?? 0
    this.#rawRetentionMs = options.rawRetentionMs ?? 30 * 86400_000
    this.#ackWindowMs = options.ackWindowMs ?? 0
    const channel = new MessageChannel()
    this.#results = channel.port1
    this.#results.on('message', (result: WriterResult) => this.#settle(result))
    this.#results.unref()
    const workerData: WriterData & { results: MessagePort } = { file: options.file, shared: this.#shared, results: channel.port2 }
    this.#writer = new Worker(new URL('./historian-writer.ts', import.meta.url), {
      workerData,
      transferList: [channel.port2],
      // The writer allocates only short-lived argument values: a small young generation keeps its isolate small.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    })
    this.#writer.unref()
    this.#writer.on('error', (error) => this.#fail(new Error(`the historian writer stopped: ${error.message}`, { cause: error })))
    this.#writer.on('exit', () => this.#fail(new Error('the historian writer exited')))
  }

  /** Samples written to disk so far. */
  get written(): number {
    return this.#written
  }

  /** fdatasyncs of the WAL the writer made so far: one per commit (for health and tests). */
  get walSyncs(): number {
    return Atomics.load(this.#shared, 2)
  }

  /**
   * Queues samples. They go to the writer at the end of this event-loop turn, or, while the writer
   * has two batches (one being synced, one being inserted), as soon as one is done (group commit:
   * under load the batches grow and the writer never falls behind); with flushIntervalMs, after
   * that long; at once when a batch is full.
   */
  record(samples: Sample | Sample[]): void {
    if (this.#rawPaused) {
      this.#dropped += Array.isArray(samples) ? samples.length : 1
      return
    }
    if (Array.isArray(samples)) for (const s of samples) this.#push(s)
    else this.#push(samples)
    if (this.#page.full) this.#handOver()
    else this.#schedule()
  }

  #schedule(): void {
    if (this.#scheduled !== null || this.#gathering === null) return
    const handOver = () => this.#handOver()
    if (this.#flushIntervalMs > 0) this.#scheduled = { timer: setTimeout(handOver, this.#flushIntervalMs) }
    else if (this.#inWriter.size < batchesOut) this.#scheduled = { immediate: setImmediate(handOver) }
  }

  #push(s: Sample): void {
    // A page holds one batch at most: a full one goes to the writer before the next sample.
    if (this.#page.full) this.#handOver()
    this.#gathering ??= pending(this.#seq + 1)
    this.#page.push(s.timestamp, this.#signalId(s.signal), s.value, qualityCode[s.quality])
  }

  /** Resolves once everything recorded before the call is on disk; rejects if the writer could not write it. */
  durable(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed)
    const last = this.#gathering ?? this.#inWriter.get(this.#seq)
    return last ? last.promise : Promise.resolve()
  }

  /**
   * What a QoS 1 PUBACK for the samples just recorded must wait for. Nothing, while the writer
   * keeps up: no sample recorded before is still unwritten after half of `ackWindowMs`, so these
   * reach the disk within the window (normally a few ms). Otherwise — the writer or the disk is
   * behind, a batch could not be written, or the window is 0 — `durable()`: the device waits,
   * which is what slows a flood down to what the disk takes.
   */
  acknowledgement(): Promise<void> | undefined {
    if (this.#ackWindowMs === 0 || this.#aheadHeld || this.#failed) return this.durable()
    const newest = this.#gathering ?? this.#inWriter.get(this.#seq)
    if (newest === undefined) return undefined
    const now = performance.now()
    const oldest = this.#inWriter.values().next().value ?? newest
    if (now - oldest.openedAt > this.#ackWindowMs / 2) return this.durable()
    newest.ackedAt ??= now
    return undefined
  }

  /** PUBACKs given ahead of the disk so far (see `acknowledgement()`). */
  get ackAhead(): Readonly<AckAhead> {
    return this.#ahead
  }

  /** Hands the gathered samples to the writer. */
  #handOver(): void {
    if (this.#scheduled !== null) {
      if ('timer' in this.#scheduled) clearTimeout(this.#scheduled.timer)
      else clearImmediate(this.#scheduled.immediate)
      this.#scheduled = null
    }
    const gathering = this.#gathering
    if (gathering === null) return
    this.#gathering = null
    if (this.#failed) {
      this.#page.reset()
      return gathering.reject(this.#failed)
    }
    const page = this.#page
    const batch: SampleBatch = { kind: 'batch', seq: ++this.#seq, page: page.memory, rows: page.length, text: page.text, signals: this.#newSignals }
    this.#page = this.#freePages.pop() ?? new SamplePage(this.#maxBatch)
    this.#newSignals = []
    this.#inWriter.set(batch.seq, { ...gathering, page, rows: batch.rows, signals: batch.signals })
    // While a batch is out, its answer must keep the process alive; an idle historian must not.
    if (this.#inWriter.size === 1) this.#results.ref()
    this.#writer.postMessage(batch)
  }

  #settle(result: WriterResult): void {
    if (result.kind === 'shed' || result.kind === 'shed-failed') return this.#shed(result)
    for (const [seq, p] of this.#inWriter) {
      if (seq > result.seq) break
      this.#inWriter.delete(seq)
      // The writer is done with the page: it can take the next batch (a few are kept, a burst's extra ones go).
      p.page.reset()
      if (this.#freePages.length < 4) this.#freePages.push(p.page)
      if (result.kind === 'committed') {
        if (p.ackedAt !== null) {
          this.#ahead.batches += 1
          this.#ahead.maxMs = Math.max(this.#ahead.maxMs, performance.now() - p.ackedAt)
        }
        this.#aheadHeld = false
        p.resolve()
        continue
      }
      // Acknowledged samples are gone with the batch: count them, and let no PUBACK run ahead until a batch is written again.
      if (p.ackedAt !== null) this.#ahead.lost += p.rows
      this.#aheadHeld = true
      // Signals first seen in a batch that failed are not in the file: they go with the next batch.
      this.#newSignals.push(...p.signals)
      p.reject(new Error(result.error))
    }
    if (result.kind === 'committed') this.#written += result.rows
    if (this.#inWriter.size === 0 && this.#shedding === null) this.#results.unref()
    // What gathered while the writer was busy goes now, in one batch.
    if (this.#flushIntervalMs === 0 && this.#gathering !== null && this.#inWriter.size < batchesOut) this.#handOver()
  }

  #fail(error: Error): void {
    if (this.#closed || this.#failed) return
    this.#failed = error
    for (const p of this.#inWriter.values()) p.reject(error)
    this.#inWriter.clear()
    this.#results.unref()
    this.#gathering?.reject(error)
    this.#gathering = null
    this.#shedding?.reject(error)
    this.#shedding = null
  }

  /** Writes everything recorded so far and waits for it (blocking, for a query that must see it, and for close). */
  flush(): void {
    this.#handOver()
    if (this.#failed) return
    const deadline = Date.now() + 10_000
    while (Atomics.load(this.#shared, 0) < this.#seq && Date.now() < deadline) Atomics.wait(this.#shared, 0, Atomics.load(this.#shared, 0), 100)
    // The writer's answers are waiting on the port; take them now so durable() and written agree with the file.
    for (let r = receiveMessageOnPort(this.#results); r !== undefined; r = receiveMessageOnPort(this.#results)) this.#settle(r.message as WriterResult)
  }

  #signalId(name: string): number {
    let id = this.#signalIds.get(name)
    if (id === undefined) {
      id = this.#nextSignalId++
      this.#signalIds.set(name, id)
      this.#newSignals.push([id, name])
    }
    return id
  }

  /** Every signal name the historian has seen, sorted (from memory: the names are loaded at start and added as they come). */
  signals(): string[] {
    return [...this.#signalIds.keys()].sort()
  }

  /** Raw samples of one signal in [from, to), oldest first. */
  range(signal: string, from: number, to: number, limit = 100_000): Sample[] {
    const id = this.#signalIds.get(signal)
    if (id === undefined) return []
    return samplesInRange(this.#db, id, from, to, limit).map((r) => ({ signal, value: r.value, quality: qualityName[r.quality] ?? 'bad', timestamp: r.ts }))
  }

  /** Folds complete minutes up to `now` into 1-minute aggregates (good-quality numeric samples only). */
  downsample(now: number): number {
    return foldMinutes(this.#db, now)
  }

  /** 1-minute aggregates of one signal in [from, to). */
  minutes(signal: string, from: number, to: number): MinuteAggregate[] {
    const id = this.#signalIds.get(signal)
    if (id === undefined) return []
    const rows = this.#db.prepare('SELECT * FROM minutes WHERE minute >= ? AND minute < ? AND signal_id = ? ORDER BY minute').all(from, to, id) as Array<Record<string, number | string | null>>
    return rows.map((r) => ({
      signal,
      minute: Number(r.minute),
      count: Number(r.count),
      min: r.min as number | null,
      max: r.max as number | null,
      avg: r.sum === null ? null : Number(r.sum) / Number(r.count),
      last: (r.last_text as string | null) ?? (r.last_value as number | null),
    }))
  }

  /** Deletes raw samples past retention that are already folded into minutes. Returns rows deleted. */
  retain(now: number): number {
    const mark = (this.#db.prepare(`SELECT ts FROM watermarks WHERE name = 'minutes'`).get() as { ts: number } | undefined)?.ts ?? 0
    const cutoff = Math.min(now - this.#rawRetentionMs, mark)
    return deleteBefore(this.#db, cutoff)
  }

  /** Raw samples dropped while the disk guard had raw storage paused. */
  get dropped(): number {
    return this.#dropped
  }

  get rawPaused(): boolean {
    return this.#rawPaused
  }

  /** The disk guard's switch: while paused, record() drops new samples (signal rules still see them). */
  pauseRaw(paused: boolean): void {
    if (paused) this.#handOver()
    this.#rawPaused = paused
  }

  /**
   * Frees disk space in the writer thread, off the event loop (edge/historian/retention.ts): folds
   * the minutes about to go into aggregates, deletes up to `maxRows` of the oldest raw samples and
   * gives their pages back to the filesystem. Resolves with the rows deleted; a call while one is
   * under way joins it.
   */
  shed(maxRows: number, now: number): Promise<number> {
    if (this.#failed) return Promise.reject(this.#failed)
    if (this.#closed) return Promise.reject(new Error('the historian is closed'))
    if (this.#shedding) return this.#shedding.promise
    let resolve: (rows: number) => void = () => {}
    let reject: (error: Error) => void = () => {}
    const promise = new Promise<number>((res, rej) => ((resolve = res), (reject = rej)))
    // A shed nobody waits for must not become an unhandled rejection.
    promise.catch(() => {})
    this.#shedding = { promise, resolve, reject }
    this.#results.ref()
    this.#writer.postMessage({ kind: 'shed', maxRows, now } satisfies ToHistorianWriter)
    return promise
  }

  #shed(result: Extract<WriterResult, { kind: 'shed' | 'shed-failed' }>): void {
    const shedding = this.#shedding
    this.#shedding = null
    if (this.#inWriter.size === 0) this.#results.unref()
    if (result.kind === 'shed') shedding?.resolve(result.rows)
    else shedding?.reject(new Error(result.error))
  }

  close(): void {
    if (this.#closed) return
    this.flush()
    this.#closed = true
    // The writer closes its connection first, so that this last close checkpoints and removes the WAL.
    this.#writer.postMessage({ kind: 'close' } satisfies ToHistorianWriter)
    // As long as flush() may wait: on a loaded machine the writer thread can take seconds to get the CPU.
    Atomics.wait(this.#shared, 1, 0, 10_000)
    this.#shedding?.reject(new Error('the historian was closed while it shed raw samples'))
    this.#shedding = null
    this.#results.close()
    this.#db.close()
  }
}
