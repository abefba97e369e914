// The gateway's clock against a reference: the local NTP daemon (chrony, systemd-timesyncd) when there is one, else the cloud's HTTP Date headers.
//
// Every recorded event carries the gateway's time, so a clock that drifted is an audit finding
// (21 CFR 11.10(e)); the offset is reported, never corrected here.
import { execFile } from 'node:child_process'
import diagnostics from 'node:diagnostics_channel'

/** One estimate; `offsetMs` is the gateway's clock minus the reference: positive when the gateway is ahead. */
export interface ClockEstimate {
  offsetMs: number
  /** Half-width of the interval the true offset lies in. */
  uncertaintyMs: number
  source: 'chrony' | 'timesyncd' | 'cloud-http-date'
  /** When the reference was last read, Unix ms. */
  at: number
}

export interface ClockOffsetStatus {
  offsetMs: number | null
  uncertaintyMs: number | null
  source: ClockEstimate['source'] | null
  /** How old the estimate is, ms. */
  ageMs: number | null
  /** Why there is no offset (no reference reachable), or null. */
  reason: string | null
}

/**
 * Offset from HTTP Date headers (RFC 9110 5.6.7: whole seconds). The server wrote [D, D+1 s) at
 * some moment between sending and receiving, so one answer bounds the offset to an interval; the
 * intersection of recent answers narrows it to about a round trip. An empty intersection means a
 * clock was stepped: the older answers are forgotten.
 */
export class HttpDateOffset {
  readonly #windowMs: number
  /** Bounds of reference − local, ms, over the answers kept. */
  #low = -Infinity
  #high = Infinity
  #first = 0
  #last = 0
  #answers = 0

  constructor(windowMs = 10 * 60_000) {
    this.#windowMs = windowMs
  }

  /** One answer: its Date header and the local wall-clock times the request left and the answer arrived. */
  observe(dateHeader: string | null | undefined, sentAt: number, receivedAt: number): boolean {
    if (!dateHeader || receivedAt < sentAt) return false
    const date = Date.parse(dateHeader)
    if (Number.isNaN(date)) return false
    const low = date - receivedAt
    const high = date + 1000 - sentAt
    const stale = receivedAt - this.#first > this.#windowMs
    if (this.#answers === 0 || stale || low > this.#high || high < this.#low) {
      this.#low = low
      this.#high = high
      this.#first = receivedAt
      this.#answers = 1
    } else {
      this.#low = Math.max(this.#low, low)
      this.#high = Math.min(this.#high, high)
      this.#answers += 1
    }
    this.#last = receivedAt
    return true
  }

  estimate(): ClockEstimate | null {
    if (this.#answers === 0) return null
    const referenceMinusLocal = (this.#low + this.#high) / 2
    return { offsetMs: Math.round(-referenceMinusLocal), uncertaintyMs: Math.round((this.#high - this.#low) / 2), source: 'cloud-http-date', at: this.#last }
  }
}

/**
 * Feeds every HTTP answer from `origin` (the cloud) into `offset`, whoever made the request (the
 * upstream pusher, the downstream follower): Node's fetch reports requests on its diagnostics
 * channels, so the sync code needs no hook of its own. Returns the unsubscribe.
 */
export function watchHttpDate(origin: string, offset: HttpDateOffset): () => void {
  const sent = new WeakMap<object, number>()
  const onSend = (message: unknown) => {
    const { request } = message as { request: { origin?: unknown } }
    if (String(request.origin) === origin) sent.set(request, Date.now())
  }
  const onHeaders = (message: unknown) => {
    const { request, response } = message as { request: object; response: { headers: Array<Buffer | string> } }
    const sentAt = sent.get(request)
    if (sentAt === undefined) return
    sent.delete(request)
    const headers = response.headers
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === 'date') offset.observe(String(headers[i + 1]), sentAt, Date.now())
    }
  }
  // Headers written to the socket (after any connect and TLS handshake): the tighter start of the round trip.
  diagnostics.subscribe('undici:client:sendHeaders', onSend)
  diagnostics.subscribe('undici:request:headers', onHeaders)
  return () => {
    diagnostics.unsubscribe('undici:client:sendHeaders', onSend)
    diagnostics.unsubscribe('undici:request:headers', onHeaders)
  }
}

/** `chronyc -n tracking`: "System time : 0.000012 seconds fast of NTP time"; null when chrony is not synchronised. */
export function parseChronyTracking(text: string, at: number): ClockEstimate | null {
  if (/^Leap status\s*:\s*Not synchronised/im.test(text)) return null
  const m = /^System time\s*:\s*([\d.]+) seconds (fast|slow) of NTP time/im.exec(text)
  if (!m) return null
  const seconds = Number(m[1]) * (m[2] === 'fast' ? 1 : -1)
  // Root dispersion + half the root delay bound the error against true time (chronyc(1), tracking).
  const delay = Number(/^Root delay\s*:\s*([\d.]+) seconds/im.exec(text)?.[1] ?? Number.NaN)
  const dispersion = Number(/^Root dispersion\s*:\s*([\d.]+) seconds/im.exec(text)?.[1] ?? Number.NaN)
  const bound = Number.isFinite(delay) && Number.isFinite(dispersion) ? (delay / 2 + dispersion) * 1000 : 0
  return { offsetMs: Math.round(seconds * 1000 * 1000) / 1000, uncertaintyMs: Math.round(bound * 1000) / 1000, source: 'chrony', at }
}

const units: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, min: 60_000 }

/** `timedatectl timesync-status`: "Offset: -1.234ms" is the correction towards the server (server − local). */
export function parseTimesyncStatus(text: string, at: number): ClockEstimate | null {
  const m = /^\s*Offset:\s*([+-]?[\d.]+)\s*(us|µs|ms|s|min)\s*$/im.exec(text)
  if (!m) return null
  const offset = -Number(m[1]) * units[m[2]!]!
  const jitter = /^\s*Jitter:\s*([\d.]+)\s*(us|µs|ms|s|min)\s*$/im.exec(text)
  return { offsetMs: Math.round(offset * 1000) / 1000, uncertaintyMs: jitter ? Number(jitter[1]) * units[jitter[2]!]! : 0, source: 'timesyncd', at }
}

function run(command: string, args: string[], timeoutMs: number): Promise<{ ok: true; stdout: string } | { ok: false; why: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } }, (error, stdout) => {
      if (error) resolve({ ok: false, why: (error as NodeJS.ErrnoException).code === 'ENOENT' ? `${command} is not installed` : `${command} ${args.join(' ')} failed: ${error.message.split('\n')[0]}` })
      else resolve({ ok: true, stdout })
    })
  })
}

/** Asks the local NTP daemon; a failed or absent one says why. Runs the tools asynchronously, never on a request. */
export async function readLocalNtp(timeoutMs = 2000): Promise<{ estimate: ClockEstimate | null; why: string }> {
  const chrony = await run('chronyc', ['-n', 'tracking'], timeoutMs)
  if (chrony.ok) {
    const estimate = parseChronyTracking(chrony.stdout, Date.now())
    return { estimate, why: estimate ? '' : 'chrony is not synchronised' }
  }
  const timesync = await run('timedatectl', ['timesync-status', '--no-pager'], timeoutMs)
  if (timesync.ok) {
    const estimate = parseTimesyncStatus(timesync.stdout, Date.now())
    return { estimate, why: estimate ? '' : 'systemd-timesyncd reports no offset yet' }
  }
  return { estimate: null, why: `${chrony.why}; ${timesync.why}` }
}

/** The reported offset: a synchronised local NTP daemon first (microseconds), the cloud's Date headers next (about a round trip). */
export function clockStatus(ntp: ClockEstimate | null, cloud: ClockEstimate | null, now: number, why: string[]): ClockOffsetStatus {
  const best = ntp ?? cloud
  if (!best) return { offsetMs: null, uncertaintyMs: null, source: null, ageMs: null, reason: why.filter((w) => w !== '').join('; ') || 'no clock reference' }
  return { offsetMs: best.offsetMs, uncertaintyMs: best.uncertaintyMs, source: best.source, ageMs: Math.max(0, now - best.at), reason: null }
}
