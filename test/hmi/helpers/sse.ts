// A server-sent events reader for tests, written from the WHATWG spec and not from the page's own parser, so each checks the other.
export interface SseMessage {
  event: string
  data: string
  id: string | null
}

export interface SseStream {
  status: number
  headers: Headers
  /** The next message, or null once the stream has ended; fails after `timeoutMs`. */
  next(timeoutMs?: number): Promise<SseMessage | null>
  /** Comment lines (heartbeats) seen so far. */
  comments: number
  close(): void
}

export async function openSse(url: string, headers: Record<string, string>): Promise<SseStream> {
  const controller = new AbortController()
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal })
  const queue: SseMessage[] = []
  const waiting: Array<(m: SseMessage | null) => void> = []
  let ended = false
  const stream: SseStream = {
    status: res.status,
    headers: res.headers,
    comments: 0,
    next(timeoutMs = 5000) {
      const ready = queue.shift()
      if (ready) return Promise.resolve(ready)
      if (ended) return Promise.resolve(null)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no server-sent event within ${timeoutMs} ms`)), timeoutMs)
        waiting.push((m) => {
          clearTimeout(timer)
          resolve(m)
        })
      })
    },
    close: () => controller.abort(),
  }
  const deliver = (m: SseMessage | null) => {
    const w = waiting.shift()
    if (w) w(m)
    else if (m) queue.push(m)
  }
  if (!res.ok || !res.body) {
    ended = true
    return stream
  }
  void (async () => {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true })
        let cut: number
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          const m: SseMessage = { event: 'message', data: '', id: null }
          let hasData = false
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              stream.comments += 1
              continue
            }
            const [field, ...rest] = line.split(':')
            const value = rest.join(':').replace(/^ /, '')
            if (field === 'event') m.event = value
            else if (field === 'id') m.id = value
            else if (field === 'data') {
              m.data = hasData ? `${m.data}\n${value}` : value
              hasData = true
            }
          }
          if (hasData) deliver(m)
        }
      }
    } catch {
      // aborted by close(), or the server went away
    }
    ended = true
    while (waiting.length) deliver(null)
  })()
  return stream
}
