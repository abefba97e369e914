// Open-loop load at an even rate: request i is due at start + i/rate, whatever happened to the ones before it.
import { Agent, request } from 'node:http'
import { completionBody } from './bench-line.ts'

export interface PacedOptions {
  url: string
  token: string
  runIds: string[]
  rate: number
  seconds: number
  /** Stop sending when this many requests are waiting for answers: the gateway is not keeping up. */
  maxInFlight: number
}

export interface PacedResult {
  ok: number
  failed: number
  /** Requests not sent because the gateway fell behind by `maxInFlight`. */
  notSent: number
  statusCodes: Record<string, number>
  seconds: number
  /** From sending each request to its full response, in ms. Open loop: a slow answer never delays the next send. */
  latencies: number[]
  /** How late the generator sent a request after it was due, at worst, in ms (timer granularity is about 1 ms). */
  worstSendLagMs: number
}

function post(agent: Agent, url: URL, path: string, token: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, method: 'POST', path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(completionBody) }, timeout: 10_000 },
      (res) => {
        res.resume()
        res.once('end', () => resolve(res.statusCode ?? 0))
        res.once('error', () => resolve(0))
      },
    )
    req.once('timeout', () => req.destroy(new Error('timeout')))
    req.once('error', () => resolve(0))
    req.end(completionBody)
  })
}

export async function runPaced(options: PacedOptions): Promise<PacedResult> {
  const url = new URL(options.url)
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const count = Math.min(options.runIds.length, Math.round(options.rate * options.seconds))
  const interval = 1000 / options.rate
  const latencies: number[] = []
  const statusCodes: Record<string, number> = {}
  const inFlight: Array<Promise<void>> = []
  let worstSendLagMs = 0
  let ok = 0
  let answered = 0
  let sent = 0
  const started = performance.now()
  for (let i = 0; i < count && sent - answered < options.maxInFlight; i++) {
    const due = started + i * interval
    const wait = due - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    const sentAt = performance.now()
    worstSendLagMs = Math.max(worstSendLagMs, sentAt - due)
    sent++
    inFlight.push(
      post(agent, url, `/api/v1/runs/${options.runIds[i]}/complete`, options.token).then((status) => {
        answered++
        statusCodes[status] = (statusCodes[status] ?? 0) + 1
        if (status >= 200 && status < 300) {
          ok++
          latencies.push(performance.now() - sentAt)
        }
      }),
    )
  }
  await Promise.all(inFlight)
  const seconds = (performance.now() - started) / 1000
  agent.destroy()
  return { ok, failed: sent - ok, notSent: count - sent, statusCodes, seconds, latencies, worstSendLagMs }
}
