// Drives run completions at the gateway with autocannon: each request takes the next pre-started run from a pool.
import autocannon from 'autocannon'
import { completionBody, completionPath } from './bench-line.ts'

export interface LoadOptions {
  url: string
  token: string
  runIds: string[]
  connections: number
  /** Requests to send; at most the runs in the pool. */
  amount: number
  /** Requests per second from all connections together; unlimited when absent. */
  overallRate?: number
  /** Hard stop, whatever is left. */
  maxSeconds: number
}

export interface LoadResult {
  ok: number
  non2xx: number
  errors: number
  statusCodes: Record<string, number>
  /** From the start of the load to the last response. */
  seconds: number
  /** Every 2xx response time, in ms, as measured by autocannon's clients (hrtime). */
  latencies: number[]
}

export function runCompletions(options: LoadOptions): Promise<LoadResult> {
  const amount = Math.min(options.amount, options.runIds.length)
  let next = 0
  const latencies: number[] = []
  const started = performance.now()
  let lastResponse = started
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        amount,
        timeout: 10,
        ...(options.overallRate ? { overallRate: options.overallRate } : {}),
        headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
        requests: [
          {
            method: 'POST',
            body: completionBody,
            // A pool that runs dry sends to a run that does not exist: a 404, counted as a failure.
            setupRequest: (request) => ({ ...request, path: completionPath(options.runIds[next++] ?? 'pool-exhausted') }),
          },
        ],
      },
      (error, result) => {
        clearTimeout(stopper)
        if (error) return reject(error)
        const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, Number(s.count)]))
        resolve({ ok: result['2xx'], non2xx: result.non2xx, errors: result.errors, statusCodes, seconds: (lastResponse - started) / 1000, latencies })
      },
    )
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      lastResponse = performance.now()
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime)
    })
    const stopper = setTimeout(() => instance.stop(), options.maxSeconds * 1000)
  })
}
