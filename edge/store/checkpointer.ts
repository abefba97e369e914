// WAL checkpoints in a worker thread, so that copying pages into the database file never stalls a request.
import { Worker } from 'node:worker_threads'
import type { Sqlite } from './database.ts'

export class Checkpointer {
  readonly #worker: Worker
  readonly #sqlite: Sqlite
  #stopping = false

  /** Turns off SQLite's automatic checkpoint on `sqlite` and checkpoints `file` from a worker instead. */
  constructor(sqlite: Sqlite, file: string, intervalMs = 200, onError: (message: string) => void = () => {}) {
    this.#sqlite = sqlite
    sqlite.pragma('wal_autocheckpoint = 0')
    // After a checkpoint resets the WAL, trim the file back instead of keeping its high-water mark.
    sqlite.pragma(`journal_size_limit = ${16 * 1024 * 1024}`)
    this.#worker = new Worker(new URL('./checkpoint-worker.ts', import.meta.url), { workerData: { file, intervalMs } })
    this.#worker.unref()
    this.#worker.on('message', (m: { error?: string }) => m.error && onError(m.error))
    this.#worker.on('error', (error) => {
      if (this.#stopping || !sqlite.open) return
      // Without the worker the WAL would grow without bound: hand checkpoints back to SQLite.
      sqlite.pragma('wal_autocheckpoint = 1000')
      onError(error.message)
    })
  }

  /** Ends the worker at once (for a synchronous close). */
  terminate(): void {
    this.#stopping = true
    void this.#worker.terminate()
  }

  async stop(): Promise<void> {
    this.#stopping = true
    const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()))
    this.#worker.postMessage('stop')
    await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, 1000))])
    await this.#worker.terminate()
    if (this.#sqlite.open) this.#sqlite.pragma('wal_autocheckpoint = 1000')
  }
}
