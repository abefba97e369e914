// A lean HTTP/1.1 load client: request bytes written straight to keep-alive sockets, each answer read by its status line and length.
//
// The load generator shares the 2 cores with the gateway it measures. node:http and autocannon
// build request and response objects, header maps and streams for every request, and their
// garbage collection runs on helper threads that take a core from the gateway at random moments.
// Here a request is one write of a string and an answer is found by scanning bytes, so the
// generator stays a small, steady load beside the gateway (its CPU time is reported).

import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

export interface WireTarget {
  url: string
  token: string
  /** The request body, the same for every request. */
  body: string
}

export interface WireResult {
  ok: number
  failed: number
  /** Requests not sent: the pool of paths ran out, time was up, or the target fell behind. */
  notSent: number
  statusCodes: Record<string, number>
  /** From the first request to the last answer. */
  seconds: number
  /** From writing each request to the end of its answer, in ms, for every 2xx answer. */
  latencies: number[]
  /** How late a request was written after it was due, at worst, in ms (paced load only). */
  worstSendLagMs: number
}

type Done = (status: number) => void

const headerEnd = Buffer.from('\r\n\r\n')
const chunkedEnd = Buffer.from('\r\n0\r\n\r\n')
/** A chunked body is complete at its last, empty chunk: after the data, or alone for an empty body. */
const endsChunked = (buf: Buffer) =>
  buf.equals(chunkedEnd.subarray(2)) || (buf.length >= chunkedEnd.length && buf.compare(chunkedEnd, 0, chunkedEnd.length, buf.length - chunkedEnd.length) === 0)

/** One keep-alive connection carrying one request at a time. */
class Connection {
  readonly #socket: Socket
  readonly ready: Promise<void>
  #pending: Buffer | null = null
  #done: Done | null = null
  #status = 0
  /** Bytes of the answer still to come after its head, or -1 for a chunked body. */
  #bodyLeft: number | null = null
  closed = false

  constructor(host: string, port: number) {
    this.#socket = connect({ host, port, noDelay: true })
    this.ready = new Promise((resolve, reject) => {
      this.#socket.once('connect', resolve)
      this.#socket.once('error', reject)
    })
    this.#socket.on('data', (chunk: Buffer) => this.#read(chunk))
    const end = () => {
      this.closed = true
      this.#finish(0)
    }
    this.#socket.on('error', end)
    this.#socket.on('close', end)
  }

  send(request: string, done: Done): void {
    this.#done = done
    this.#status = 0
    this.#bodyLeft = null
    this.#pending = null
    this.#socket.write(request, 'latin1')
  }

  #finish(status: number): void {
    const done = this.#done
    this.#done = null
    done?.(status)
  }

  #read(chunk: Buffer): void {
    let buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk
    if (this.#bodyLeft === null) {
      const end = buf.indexOf(headerEnd)
      if (end < 0) {
        this.#pending = buf
        return
      }
      const head = buf.toString('latin1', 0, end).toLowerCase()
      this.#status = Number(head.slice(9, 12))
      const length = /\r\ncontent-length: *(\d+)/.exec(head)
      this.#bodyLeft = length ? Number(length[1]) : /\r\ntransfer-encoding: *chunked/.test(head) ? -1 : 0
      buf = buf.subarray(end + 4)
      if (/\r\nconnection: *close/.test(head)) this.closed = true
    }
    if (this.#bodyLeft === -1) {
      if (!endsChunked(buf)) {
        this.#pending = buf
        return
      }
    } else if (buf.length < this.#bodyLeft) {
      this.#pending = buf
      return
    }
    this.#pending = null
    this.#bodyLeft = null
    this.#finish(this.#status)
  }

  close(): void {
    this.closed = true
    this.#socket.destroy()
  }
}

class Pool {
  readonly #host: string
  readonly #port: number
  readonly #suffix: string
  readonly #all: Connection[] = []
  readonly #idle: Connection[] = []

  constructor(target: WireTarget) {
    const url = new URL(target.url)
    this.#host = url.hostname
    this.#port = Number(url.port)
    const length = Buffer.byteLength(target.body)
    this.#suffix =
      ` HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${target.token}\r\ncontent-type: application/json\r\n` +
      `content-length: ${length}\r\n\r\n${target.body}`
  }

  async open(count: number): Promise<void> {
    const opened = Array.from({ length: count }, () => new Connection(this.#host, this.#port))
    await Promise.all(opened.map((c) => c.ready))
    this.#all.push(...opened)
    this.#idle.push(...opened)
  }

  /** An idle connection, or a new one when every connection waits for an answer. */
  async take(): Promise<Connection> {
    let c = this.#idle.pop()
    while (c?.closed) c = this.#idle.pop()
    if (c) return c
    const fresh = new Connection(this.#host, this.#port)
    this.#all.push(fresh)
    await fresh.ready
    return fresh
  }

  give(c: Connection): void {
    if (!c.closed) this.#idle.push(c)
  }

  request(path: string): string {
    return `POST ${path}${this.#suffix}`
  }

  close(): void {
    for (const c of this.#all) c.close()
  }
}

function record(result: WireResult, status: number, ms: number): void {
  result.statusCodes[status] = (result.statusCodes[status] ?? 0) + 1
  if (status >= 200 && status < 300) {
    result.ok++
    result.latencies.push(ms)
  } else result.failed++
}

const empty = (): WireResult => ({ ok: 0, failed: 0, notSent: 0, statusCodes: {}, seconds: 0, latencies: [], worstSendLagMs: 0 })

/** Closed loop: `connections` clients, each sending the next path as soon as its last answer is in. */
export async function runClosedLoop(target: WireTarget, paths: string[], connections: number, maxSeconds: number): Promise<WireResult> {
  const pool = new Pool(target)
  await pool.open(connections)
  const result = empty()
  const started = performance.now()
  const deadline = started + maxSeconds * 1000
  let next = 0
  let last = started
  const client = async () => {
    let c = await pool.take()
    while (next < paths.length && performance.now() < deadline) {
      const request = pool.request(paths[next++]!)
      const sentAt = performance.now()
      const status = await new Promise<number>((resolve) => c.send(request, resolve))
      last = performance.now()
      record(result, status, last - sentAt)
      if (c.closed) c = await pool.take()
    }
    pool.give(c)
  }
  await Promise.all(Array.from({ length: connections }, client))
  pool.close()
  result.notSent = paths.length - next
  result.seconds = (last - started) / 1000
  return result
}

/**
 * Open loop: request i is written at start + i/rate whatever happened to the ones before it, on an
 * idle connection (a new one when all are waiting). Stops sending when `maxInFlight` wait.
 */
export async function runOpenLoop(target: WireTarget, paths: string[], rate: number, seconds: number, maxInFlight: number): Promise<WireResult> {
  const pool = new Pool(target)
  await pool.open(8)
  const result = empty()
  const count = Math.min(paths.length, Math.round(rate * seconds))
  const interval = 1000 / rate
  let inFlight = 0
  let sent = 0
  let sending = true
  let allAnswered: () => void = () => {}
  const answered = new Promise<void>((resolve) => (allAnswered = resolve))
  const started = performance.now()
  let last = started
  for (let i = 0; i < count && inFlight < maxInFlight; i++) {
    const due = started + i * interval
    const wait = due - performance.now()
    if (wait > 0) await sleep(wait)
    const c = await pool.take()
    const request = pool.request(paths[i]!)
    const sentAt = performance.now()
    result.worstSendLagMs = Math.max(result.worstSendLagMs, sentAt - due)
    sent++
    inFlight++
    c.send(request, (status) => {
      last = performance.now()
      record(result, status, last - sentAt)
      pool.give(c)
      if (--inFlight === 0 && !sending) allAnswered()
    })
  }
  sending = false
  if (inFlight > 0) await answered
  pool.close()
  result.notSent = count - sent
  result.seconds = (last - started) / 1000
  return result
}
