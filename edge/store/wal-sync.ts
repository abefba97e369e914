// Makes committed transactions durable off the event loop: one fdatasync of the WAL, on libuv's thread pool, for every commit before it.
//
// With synchronous=FULL SQLite fsyncs the WAL inside COMMIT, and the event loop stands still for
// it. With synchronous=NORMAL the commit only writes the WAL (crash-safe: a power cut can lose
// the last transactions, never corrupt the database); the gateway then syncs the WAL itself here
// and acknowledges a command only once a sync that began after its commit has finished. What is
// acknowledged survives a power cut exactly as with FULL; meanwhile the event loop decides and
// commits the next commands, and one sync covers every commit that came before it.
import { closeSync, existsSync, fdatasync, fdatasyncSync, openSync } from 'node:fs'

/** fdatasync as libuv runs it on its thread pool; replaceable to test the ordering. */
export type SyncFile = (fd: number, done: (error: NodeJS.ErrnoException | null) => void) => void

export class WalSync {
  readonly #walFile: string
  readonly #syncFile: SyncFile
  #fd: number | undefined
  /** The sync under way, and the commits waiting for the one after it. */
  #running: Promise<void> | null = null
  #next: { promise: Promise<void>; start(): void } | null = null
  #closed = false
  syncs = 0

  constructor(walFile: string, syncFile: SyncFile = fdatasync) {
    this.#walFile = walFile
    this.#syncFile = syncFile
  }

  #open(): number | undefined {
    // SQLite creates the WAL at the first write and keeps the same file while any connection is open.
    if (this.#fd === undefined && existsSync(this.#walFile)) this.#fd = openSync(this.#walFile, 'r')
    return this.#fd
  }

  #sync(): Promise<void> {
    this.syncs += 1
    return new Promise((resolve, reject) => {
      const fd = this.#open()
      if (fd === undefined) return resolve()
      this.#syncFile(fd, (error) => (error ? reject(new Error(`could not sync ${this.#walFile}: ${error.message}`, { cause: error })) : resolve()))
    })
  }

  /** Resolves once everything committed before this call is on disk. */
  afterCommit(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`${this.#walFile} is closed`))
    if (this.#running === null) return this.#start()
    // A sync under way may have begun before this commit's frames were written: wait for the next one.
    if (this.#next === null) {
      let start = () => {}
      const promise = new Promise<void>((resolve, reject) => {
        start = () => this.#start().then(resolve, reject)
      })
      this.#next = { promise, start }
    }
    return this.#next.promise
  }

  #start(): Promise<void> {
    const running = this.#sync()
    this.#running = running
    const settle = () => {
      this.#running = null
      if (this.#closed) return this.#closeFd()
      const next = this.#next
      this.#next = null
      next?.start()
    }
    running.then(settle, settle)
    return running
  }

  /** For synchronous callers: everything committed so far is on disk when this returns. */
  syncNow(): void {
    const fd = this.#open()
    if (fd === undefined) return
    this.syncs += 1
    fdatasyncSync(fd)
  }

  /** Closes the WAL's descriptor, after the sync under way if there is one; later commits are not waited for. */
  close(): void {
    this.#closed = true
    this.#next = null
    if (this.#running === null) this.#closeFd()
  }

  #closeFd(): void {
    if (this.#fd !== undefined) closeSync(this.#fd)
    this.#fd = undefined
  }
}
