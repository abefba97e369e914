// The live link to the gateway: server-sent events read with fetch, so the session token travels in a header (EventSource cannot send one, and a token in a URL ends up in logs).
import { addTerminalHeaders } from './api.js'

/**
 * @typedef {{ seq: number, type: string, subject: string, at: string, workCenterId?: string, orderId?: string, opSeq?: number, runId?: string, unitSerial?: string, serial?: string, state?: string }} LiveEvent
 * @typedef {{
 *   token(): string | null,
 *   onEvent(event: LiveEvent): void,
 *   onState(state: 'up' | 'down'): void,
 *   onResync(): void,
 *   onUnauthorized(code: string): void,
 *   silenceMs?: number,
 * }} LiveOptions
 */

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Splits an SSE byte stream (already text) into events: `event`, `data`, `id` per blank-line-terminated block. */
export class SseParser {
  buffer = ''
  /** @param {string} chunk @returns {Array<{ event: string, data: string, id: string | null }>} */
  push(chunk) {
    this.buffer += chunk.replace(/\r\n?/g, '\n')
    const out = []
    let end
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end)
      this.buffer = this.buffer.slice(end + 2)
      let event = 'message'
      /** @type {string[]} */
      const data = []
      /** @type {string | null} */
      let id = null
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const name = colon < 0 ? line : line.slice(0, colon)
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (name === 'event') event = value
        else if (name === 'data') data.push(value)
        else if (name === 'id') id = value
      }
      if (data.length) out.push({ event, data: data.join('\n'), id })
    }
    return out
  }
}

/** @param {LiveOptions} options */
export function createLive(options) {
  // The gateway sends a comment every 15 s: this long without a byte means the link is dead even if TCP has not noticed.
  const silenceMs = options.silenceMs ?? 40000
  let stopped = false
  /** @type {AbortController | null} */
  let current = null
  let lastSeq = 0
  let failures = 0
  let wasDown = false

  /** @param {{ event: string, data: string, id: string | null }} message */
  function handle(message) {
    const data = JSON.parse(message.data)
    if (message.event === 'hello') {
      failures = 0
      options.onState('up')
      if (lastSeq === 0) lastSeq = data.head
      if (wasDown) options.onResync()
      wasDown = false
    } else if (message.event === 'recorded') {
      if (data.seq <= lastSeq) return
      lastSeq = data.seq
      options.onEvent(data)
    } else if (message.event === 'reset') {
      lastSeq = data.head
      options.onResync()
    } else if (message.event === 'expired') {
      options.onUnauthorized('session_expired')
    }
  }

  async function readOnce() {
    const controller = new AbortController()
    current = controller
    /** @type {Record<string, string>} */
    const headers = addTerminalHeaders({ accept: 'text/event-stream', authorization: `Bearer ${options.token() ?? ''}` })
    if (lastSeq > 0) headers['last-event-id'] = String(lastSeq)
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let watchdog
    const arm = () => {
      clearTimeout(watchdog)
      watchdog = setTimeout(() => controller.abort(), silenceMs)
    }
    arm()
    try {
      const res = await fetch('/api/v1/live', { headers, signal: controller.signal, cache: 'no-store' })
      if (res.status === 401) {
        options.onUnauthorized('unauthenticated')
        return 'unauthorized'
      }
      if (!res.ok || !res.body) throw new Error(`live stream answered ${res.status}`)
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      const parser = new SseParser()
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return 'ended'
        arm()
        for (const message of parser.push(value)) handle(message)
      }
    } finally {
      clearTimeout(watchdog)
    }
  }

  async function loop() {
    while (!stopped) {
      let outcome = 'failed'
      try {
        outcome = await readOnce()
      } catch {
        outcome = 'failed'
      }
      if (stopped || outcome === 'unauthorized') return
      // A stream that ended cleanly (a gateway restart) is retried at once; a failed connect means the link is down.
      if (outcome === 'failed') {
        failures += 1
        wasDown = true
        options.onState('down')
      }
      await sleep(outcome === 'ended' ? 100 : Math.min(500 * 2 ** Math.min(failures - 1, 4), 5000))
    }
  }

  return {
    start() {
      stopped = false
      void loop()
    },
    stop() {
      stopped = true
      current?.abort()
    },
  }
}
