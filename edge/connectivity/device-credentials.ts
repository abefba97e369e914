// Checks MQTT clients' passwords against their scrypt hashes on one small thread of its own, one at a time.
//
// scrypt with the gateway's parameters takes 16 MiB of working memory per check. On libuv's
// thread pool every pool thread that ever ran a check keeps those 16 MiB in its malloc arena
// (glibc raises its mmap threshold after the first free), so four devices connecting at once
// left 64 MiB of resident memory behind for good. One thread that checks in turn keeps 16 MiB at
// most, and a storm of reconnecting devices queues here instead of taking every pool thread from
// the file system and the MES database's syncs.
import { timingSafeEqual } from 'node:crypto'
import { Worker } from 'node:worker_threads'

// Plain JavaScript evaluated in the worker: no TypeScript loader, so the thread stays small.
const checker = `
const { parentPort } = require('node:worker_threads')
const { scryptSync } = require('node:crypto')
parentPort.on('message', ({ id, password, salt, length, N, r, p }) => {
  try {
    parentPort.postMessage({ id, key: scryptSync(password, Buffer.from(salt, 'base64url'), length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }) })
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message) })
  }
})
`

interface Answer {
  id: number
  key?: Uint8Array
  error?: string
}

export class DeviceCredentials {
  #worker: Worker | null = null
  readonly #waiting = new Map<number, { resolve: (key: Uint8Array) => void; reject: (error: Error) => void }>()
  #nextId = 1

  /** True when `password` matches `stored` (`scrypt$N$r$p$salt$hash`, as `takt hash-password` writes it). */
  async verify(password: string, stored: string): Promise<boolean> {
    const [scheme, n, r, p, salt, hash] = stored.split('$')
    if (scheme !== 'scrypt' || !salt || !hash) return false
    const expected = Buffer.from(hash, 'base64url')
    const key = await this.#derive({ password, salt, length: expected.length, N: Number(n), r: Number(r), p: Number(p) })
    return key.length === expected.length && timingSafeEqual(expected, key)
  }

  #derive(job: { password: string; salt: string; length: number; N: number; r: number; p: number }): Promise<Uint8Array> {
    const worker = this.#start()
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject })
      // A check under way must keep the process alive to answer; an idle checker must not.
      if (this.#waiting.size === 1) worker.ref()
      worker.postMessage({ id, ...job })
    })
  }

  #start(): Worker {
    if (this.#worker) return this.#worker
    const worker = new Worker(checker, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 } })
    worker.unref()
    worker.on('message', (answer: Answer) => {
      const waiter = this.#waiting.get(answer.id)
      if (!waiter) return
      this.#waiting.delete(answer.id)
      if (this.#waiting.size === 0) worker.unref()
      if (answer.key) waiter.resolve(answer.key)
      else waiter.reject(new Error(`password check failed: ${answer.error}`))
    })
    const fail = (error: Error) => {
      // A thread closed on purpose has nothing left to answer.
      if (this.#worker !== worker) return
      // The next check starts a new thread; the ones waiting are refused.
      this.#worker = null
      this.#refuseWaiting(error)
    }
    worker.on('error', (error) => fail(new Error(`the password checker stopped: ${error.message}`, { cause: error })))
    worker.on('exit', () => fail(new Error('the password checker exited')))
    this.#worker = worker
    return worker
  }

  #refuseWaiting(error: Error): void {
    for (const waiter of this.#waiting.values()) waiter.reject(error)
    this.#waiting.clear()
  }

  async close(): Promise<void> {
    const worker = this.#worker
    this.#worker = null
    this.#refuseWaiting(new Error('the password checker is closed'))
    if (worker) await worker.terminate()
  }
}
