// A small JSON client over fetch for the untimed setup phases, and a bounded parallel runner.

export interface Reply {
  status: number
  body: Record<string, unknown>
}

export class JsonClient {
  readonly #url: string
  readonly #token: string

  constructor(url: string, token: string) {
    this.#url = url
    this.#token = token
  }

  get token(): string {
    return this.#token
  }

  withToken(token: string): JsonClient {
    return new JsonClient(this.#url, token)
  }

  async call(method: string, path: string, body?: unknown): Promise<Reply> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(this.#url + path, { method, headers, body: body === undefined ? null : JSON.stringify(body), signal: AbortSignal.timeout(30_000) })
    const text = await res.text()
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }
  }

  /** Like `call`, but throws with the answer unless the status is one of `ok`. */
  async expect(method: string, path: string, body: unknown, ok: number[] = [200, 201]): Promise<Record<string, unknown>> {
    const reply = await this.call(method, path, body)
    if (!ok.includes(reply.status)) throw new Error(`${method} ${path} answered ${reply.status}: ${JSON.stringify(reply.body)}`)
    return reply.body
  }
}

/** Runs `task(0..count-1)` with at most `concurrency` in flight; results in index order. */
export async function inParallel<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count)
  let next = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      results[i] = await task(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return results
}
