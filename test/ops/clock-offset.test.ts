// The clock offset: HTTP Date bounds, the NTP daemons' reports, and the upstream pusher against a real cloud stand-in whose clock is off.
import { createServer, type Server } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { clockStatus, HttpDateOffset, parseChronyTracking, parseTimesyncStatus, readLocalNtp, watchHttpDate } from '../../edge/health/clock-offset.ts'
import { systemClock, uuidv7Ids } from '../../edge/store/ids.ts'
import { LineStore } from '../../edge/store/line-store.ts'
import { SyncPusher } from '../../edge/sync/pusher.ts'
import { until } from '../helpers/until.ts'

const httpDate = (ms: number) => new Date(ms).toUTCString()

t.test('one answer bounds the offset to its round trip plus the second the Date header rounds away', async (t) => {
  const o = new HttpDateOffset()
  t.equal(o.estimate(), null, 'no answer yet: no estimate')
  t.equal(o.observe(null, 0, 1), false, 'no Date header: ignored')
  t.equal(o.observe('not a date', 0, 1), false, 'an unreadable Date header: ignored')
  t.equal(o.observe(httpDate(10_000), 5, 1), false, 'received before sent: ignored')
  // The reference reads 12:00:10.000–10.999 while the gateway reads 10.000–10.100: the gateway is 0–1.1 s behind.
  const base = Date.UTC(2026, 11, 2, 12, 0, 10)
  t.ok(o.observe(httpDate(base), base, base + 100))
  t.same(o.estimate(), { offsetMs: -450, uncertaintyMs: 550, source: 'cloud-http-date', at: base + 100 })
  // A second answer, taken just before the reference's second turned: the interval narrows.
  t.ok(o.observe(httpDate(base + 1000), base + 900, base + 950))
  const narrowed = o.estimate()!
  t.ok(narrowed.uncertaintyMs < 550, `a second answer narrows the interval (±${narrowed.uncertaintyMs} ms)`)
  t.ok(narrowed.offsetMs <= 0 && narrowed.offsetMs - narrowed.uncertaintyMs <= -50 && narrowed.offsetMs + narrowed.uncertaintyMs >= -50, 'and it still holds every offset both answers allow')
  // The gateway's clock is stepped by a minute: the old answers contradict the new one and are forgotten.
  t.ok(o.observe(httpDate(base + 2000), base + 62_000, base + 62_010))
  const stepped = o.estimate()!
  t.ok(stepped.offsetMs > 59_000 && stepped.offsetMs < 61_000, `after a step the estimate follows the new answer (${stepped.offsetMs} ms)`)
})

t.test('answers older than the window are forgotten', async (t) => {
  const o = new HttpDateOffset(1000)
  const base = Date.UTC(2026, 11, 2, 12, 0, 0)
  o.observe(httpDate(base), base + 400, base + 450)
  o.observe(httpDate(base), base + 900, base + 910)
  t.same(o.estimate(), { offsetMs: 175, uncertaintyMs: 275, source: 'cloud-http-date', at: base + 910 }, 'two answers inside the window intersect: reference − gateway in [-450, 100] ms')
  o.observe(httpDate(base + 5000), base + 5000, base + 5100)
  t.equal(o.estimate()!.uncertaintyMs, 550, 'an answer after the window starts afresh')
})

t.test('chrony and systemd-timesyncd reports', async (t) => {
  const tracking = (system: string, leap = 'Normal') =>
    [
      'Reference ID    : C0A80001 (ntp.line.local)',
      'Stratum         : 3',
      `System time     : ${system} of NTP time`,
      'Last offset     : -0.000004100 seconds',
      'Root delay      : 0.004000000 seconds',
      'Root dispersion : 0.000500000 seconds',
      `Leap status     : ${leap}`,
    ].join('\n')
  t.same(parseChronyTracking(tracking('0.001250000 seconds fast'), 5), { offsetMs: 1.25, uncertaintyMs: 2.5, source: 'chrony', at: 5 }, 'fast of NTP time: the gateway is ahead')
  t.equal(parseChronyTracking(tracking('0.250000000 seconds slow'), 5)!.offsetMs, -250, 'slow of NTP time: behind')
  t.equal(parseChronyTracking(tracking('0.000000000 seconds slow', 'Not synchronised'), 5), null, 'not synchronised: no offset')
  t.equal(parseChronyTracking('506 Cannot talk to daemon', 5), null, 'no daemon: no offset')
  const timesync = (offset: string) => ['       Server: 192.168.0.1 (ntp.line.local)', '      Stratum: 2', `       Offset: ${offset}`, '        Delay: 3.113ms', '       Jitter: 802us'].join('\n')
  t.same(parseTimesyncStatus(timesync('-1.5ms'), 7), { offsetMs: 1.5, uncertaintyMs: 0.802, source: 'timesyncd', at: 7 }, 'a negative correction: the gateway is ahead')
  t.equal(parseTimesyncStatus(timesync('+2s'), 7)!.offsetMs, -2000, 'a positive correction of seconds: behind')
  t.equal(parseTimesyncStatus('Server: n/a', 7), null, 'no offset yet')
})

t.test('the reported offset prefers the NTP daemon, names its source and age, and says why when there is none', async (t) => {
  const ntp = { offsetMs: 0.2, uncertaintyMs: 1, source: 'chrony' as const, at: 1000 }
  const cloud = { offsetMs: -40, uncertaintyMs: 30, source: 'cloud-http-date' as const, at: 1500 }
  t.same(clockStatus(ntp, cloud, 2000, []), { offsetMs: 0.2, uncertaintyMs: 1, source: 'chrony', ageMs: 1000, reason: null })
  t.same(clockStatus(null, cloud, 2000, ['chronyc is not installed']), { offsetMs: -40, uncertaintyMs: 30, source: 'cloud-http-date', ageMs: 500, reason: null })
  t.same(clockStatus(null, null, 2000, ['chronyc is not installed', '', 'upstream sync is off']), { offsetMs: null, uncertaintyMs: null, source: null, ageMs: null, reason: 'chronyc is not installed; upstream sync is off' })
  // This machine: either a daemon answers with an offset, or the reason names both tools.
  const local = await readLocalNtp()
  if (local.estimate) t.ok(['chrony', 'timesyncd'].includes(local.estimate.source), `this machine's NTP daemon: ${local.estimate.source} ${local.estimate.offsetMs} ms`)
  else t.match(local.why, /chrony|timesyncd|timedatectl/, `no NTP daemon here: ${local.why}`)
})

/** A stand-in for cloud-sync that answers every request with 503 and a Date header `skewMs` off the real time. */
async function skewedServer(t: { teardown(fn: () => unknown): void }, skewMs: number): Promise<{ origin: string; requests: () => number }> {
  let requests = 0
  const server: Server = createServer((_req, res) => {
    requests += 1
    res.setHeader('date', httpDate(Date.now() + skewMs))
    res.writeHead(503, { 'content-type': 'application/json' })
    res.end('{"detail":"starting"}')
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  t.teardown(() => new Promise<void>((done) => server.close(() => done())))
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests }
}

t.test("the upstream pusher's answers measure the gateway's clock against the cloud's; other servers do not count", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-clock-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const store = new LineStore({ file: join(dir, 'takt.db'), clock: systemClock, ids: uuidv7Ids(systemClock) })
  t.teardown(() => store.close())
  const cloud = await skewedServer(t, 5000)
  const other = await skewedServer(t, -120_000)
  const offset = new HttpDateOffset()
  const unwatch = watchHttpDate(cloud.origin, offset)
  t.teardown(unwatch)
  const quiet = { info() {}, warn() {}, error() {} }
  const pusher = new SyncPusher(store.db.sqlite, systemClock, { url: cloud.origin, token: 'clock-test-token-0123456789', gatewayId: 'g1', epoch: 1, maxBatch: 10, timeoutMs: 2000, minBackoffMs: 10, maxBackoffMs: 40, idleMs: 50 }, quiet)
  pusher.start()
  t.teardown(() => pusher.stop())
  // Answers from another server (an ERP endpoint, say) with a clock two minutes off must not move the estimate.
  for (let i = 0; i < 5; i++) await (await fetch(`${other.origin}/x`)).text()
  await until('the pusher has asked the cloud 25 times', () => cloud.requests() >= 25)
  const e = offset.estimate()
  t.ok(e, 'an estimate from the cloud answers')
  t.equal(e!.source, 'cloud-http-date')
  t.ok(Math.abs(e!.offsetMs - -5000) <= e!.uncertaintyMs + 20, `the gateway is 5 s behind the cloud: ${e!.offsetMs} ± ${e!.uncertaintyMs} ms`)
  t.ok(e!.uncertaintyMs < 600, `many answers narrow the interval below the Date header's second (±${e!.uncertaintyMs} ms)`)
  t.ok(Date.now() - e!.at < 1000, 'the estimate is fresh')
})
