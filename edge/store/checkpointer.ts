// WAL checkpoints in a worker thread, so that copying pages into the database file never stalls a request.
//
// SQLite's automatic checkpoint runs on the writer at the commit that crosses 1,000 WAL pages and
// fsyncs the database file there: 10–30 ms of a blocked event loop every few hundred completions.
// Here the writer never checkpoints; a worker copies the WAL on its own connection (PASSIVE: it
// never takes the writer's lock). SQLite can restart the WAL from its beginning only at a commit
// that finds it wholly copied, which happens by itself in any pause between commits. Under
// sustained load there is none, so when the WAL passes `walFramesLimit` the worker asks the
// writer to pause: the writer holds its next group commit (the event loop stays free, commands
// gather), the worker copies everything in one pass, and that commit restarts the WAL.
import { Worker } from 'node:worker_threads'
import type { Sqlite } from './database.ts'

export interface CheckpointReport {
  /** Frames in the WAL when the pass began. */
  log: number
  /** Frames copied into the database file by the end of the pass. */
  checkpointed: number
  error?: string
}

export interface CheckpointWorkerData {
  file: string
  idleMs: number
  busyMs: number
  walFramesLimit: number
  retryMs: number
  /** Set to 1 by the worker once its connection is closed. */
  closed: Int32Array
}

export type FromCheckpointWorker = { kind: 'report'; report: CheckpointReport } | { kind: 'pause' } | { kind: 'resume'; report: CheckpointReport }
export type ToCheckpointWorker = 'paused' | 'stop'

export interface CheckpointerOptions {
  /** WAL frames (pages) after which the writer pauses for a complete copy. */
  walFramesLimit?: number
  /** Longest the writer pauses; it commits anyway after it. */
  maxWaitMs?: number
  /** Pause between passes while nothing is written, and while writes go on. */
  idleMs?: number
  busyMs?: number
  onError?: (message: string) => void
}

const sqliteAutoCheckpoint = 1000

export class Checkpointer {
  readonly #worker: Worker
  readonly #sqlite: Sqlite
  readonly #maxWaitMs: number
  readonly #onError: (message: string) => void
  readonly #closed = new Int32Array(new SharedArrayBuffer(4))
  #last: CheckpointReport = { log: 0, checkpointed: 0 }
  #paused = false
  #waiting: Array<() => void> = []
  #failed = false
  #stopping = false
  /** Passes reported by the worker, and pauses of the writer it asked for (for health and tests). */
  passes = 0
  pauses = 0

  /** Turns off SQLite's automatic checkpoint on `sqlite` and checkpoints `file` from a worker instead. */
  constructor(sqlite: Sqlite, file: string, options: CheckpointerOptions = {}) {
    this.#sqlite = sqlite
    this.#maxWaitMs = options.maxWaitMs ?? 250
    this.#onError = options.onError ?? (() => {})
    sqlite.pragma('wal_autocheckpoint = 0')
    // After the WAL restarts, trim the file back instead of keeping its high-water mark.
    sqlite.pragma(`journal_size_limit = ${64 * 1024 * 1024}`)
    const workerData: CheckpointWorkerData = {
      file,
      idleMs: options.idleMs ?? 100,
      busyMs: options.busyMs ?? 5,
      walFramesLimit: options.walFramesLimit ?? 4096,
      retryMs: 4 * this.#maxWaitMs,
      closed: this.#closed,
    }
    this.#worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url), { workerData })
    this.#worker.unref()
    this.#worker.on('message', (message: FromCheckpointWorker) => this.#receive(message))
    this.#worker.on('error', (error) => this.#fail(`the checkpoint worker stopped: ${error.message}`))
    this.#worker.on('exit', () => this.#fail('the checkpoint worker exited'))
  }

  #receive(message: FromCheckpointWorker): void {
    if (message.kind === 'pause') {
      // Whenever this runs, no commit is under way (commits are synchronous on this thread).
      if (this.#paused || this.#stopping) return
      this.#paused = true
      this.pauses += 1
      this.#worker.postMessage('paused' satisfies ToCheckpointWorker)
      const timer = setTimeout(() => this.#resume(), this.#maxWaitMs)
      timer.unref()
      this.#waiting.push(() => clearTimeout(timer))
      return
    }
    this.passes += 1
    if (message.report.error) this.#onError(`WAL checkpoint failed: ${message.report.error}`)
    else this.#last = message.report
    if (message.kind === 'resume') this.#resume()
  }

  #resume(): void {
    this.#paused = false
    const waiting = this.#waiting
    this.#waiting = []
    for (const go of waiting) go()
  }

  /** Without the worker the WAL would grow without bound: hand checkpoints back to SQLite. */
  #fail(message: string): void {
    if (this.#stopping || this.#failed) return
    this.#failed = true
    if (this.#sqlite.open) this.#sqlite.pragma(`wal_autocheckpoint = ${sqliteAutoCheckpoint}`)
    this.#resume()
    this.#onError(message)
  }

  /** The worker is copying the whole WAL: a commit now should wait for `resumed()`. */
  get paused(): boolean {
    return this.#paused
  }

  /** Resolves when the writer may commit again (at the latest after `maxWaitMs`). */
  resumed(): Promise<void> {
    if (!this.#paused) return Promise.resolve()
    return new Promise((resolve) => this.#waiting.push(resolve))
  }

  /** The last pass's figures, for health and tests. */
  get last(): CheckpointReport {
    return this.#last
  }

  /**
   * Ends the worker and waits (briefly, blocking) until its connection is closed, so that the
   * caller's close is the last one: SQLite then checkpoints and removes the WAL before it returns.
   */
  stop(): void {
    if (this.#stopping) return
    this.#stopping = true
    this.#resume()
    if (!this.#failed) {
      this.#worker.postMessage('stop' satisfies ToCheckpointWorker)
      Atomics.wait(this.#closed, 0, 0, 2000)
    }
    const ended = setTimeout(() => void this.#worker.terminate(), 1000)
    ended.unref()
    if (this.#sqlite.open) this.#sqlite.pragma(`wal_autocheckpoint = ${sqliteAutoCheckpoint}`)
  }
}
