// A full disk under a running gateway: telemetry gives way first (oldest raw samples shed), as-built writes are refused cleanly at the hard floor, and everything resumes once space is back.
import Database from 'better-sqlite3'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import t from 'tap'
import { hashPassword } from '../../edge/api/passwords.ts'
import { loadConfig } from '../../edge/config.ts'
import { storedSampleCount, storedValues } from '../../edge/historian/sample-blocks.ts'
import { startGateway } from '../../edge/main.ts'
import { jsonClient } from '../helpers/client.ts'
import { adminToken } from '../helpers/gateway.ts'
import { completion, defineLine, dispatchedOrder, startRun } from '../helpers/line.ts'
import { until } from '../helpers/until.ts'

const MB = 1024 * 1024
const root = mkdtempSync(join(tmpdir(), 'takt-disk-full-'))
const dataDir = join(root, 'data')
mkdirSync(dataDir)

/** Why a tmpfs cannot be mounted here, or null when it is. */
function mountTmpfs(): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dataDir], { stdio: 'pipe' })
    return null
  } catch (error) {
    return `cannot mount a 64 MB tmpfs as the data directory (needs root and mount permission): ${String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim()}`
  }
}
const skip = mountTmpfs()
if (skip) t.comment(`skipped: ${skip}`)
t.teardown(() => {
  if (!skip) execFileSync('umount', [dataDir])
  rmSync(root, { recursive: true, force: true })
})

const free = () => {
  const s = statfsSync(dataDir)
  return s.bavail * s.bsize
}

t.test('telemetry is shed first, as-built is refused at the floor, writes resume when space returns', { skip: skip ?? false }, async (t) => {
  const profile = join(import.meta.dirname, '..', '..', 'hardware-profiles', 'mqtt-json-sensor.yaml')
  const file = join(root, 'takt.yaml')
  writeFileSync(
    file,
    [
      'mqtt:',
      '  host: 127.0.0.1',
      '  accounts:',
      `    - { username: oven1, passwordHash: "${await hashPassword('oven1-secret')}", publish: ["devices/\${username}/#"] }`,
      `    - { username: dashboard, passwordHash: "${await hashPassword('dashboard-secret')}", subscribe: ["+/+/+/_gateway/health"] }`,
      'devices:',
      `  - { name: oven1, workCenterId: WC-OVEN, profile: ${profile} }`,
      'disk: { historianFloorMb: 30, hardFloorMb: 15, checkIntervalMs: 100 }',
    ].join('\n'),
  )
  const config = loadConfig({ file, env: { TAKT_DATA_DIR: dataDir, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } })
  const running = await startGateway(config)
  const stops: Array<() => unknown> = [() => running.stop()]
  // One teardown, newest part first: the device and the reader before the gateway they talk to.
  t.teardown(async () => {
    for (const stop of stops.reverse()) await stop()
  })
  const { historian } = running.gateway
  const call = jsonClient(`http://127.0.0.1:${running.port}`, adminToken)
  const health = async () => (await call('GET', '/health', undefined, '')).body
  const diskState = async () => (await health()).system.disk.state as string
  await defineLine(call)
  await dispatchedOrder(call, 'PO-1', 100)
  const complete = (runId: string) => call('POST', `/api/v1/runs/${runId}/complete`, completion)

  // Old samples, as a device's store-and-forward brings them: 150,000 over 30 complete minutes, value = their order in time.
  const seeded = 150_000
  const t0 = Math.floor((Date.now() - 40 * 60_000) / 60_000) * 60_000
  for (let i = 0; i < seeded; i += 10_000) historian.record(Array.from({ length: 10_000 }, (_, j) => ({ signal: 'seed/temperature', value: i + j, quality: 'good' as const, timestamp: t0 + Math.floor(((i + j) * 30 * 60_000) / seeded) })))
  await historian.durable()

  // Live telemetry over MQTT, QoS 1, for the whole test.
  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${running.connectivity.ports.mqtt}`, { username: 'oven1', password: 'oven1-secret', protocolVersion: 4, reconnectPeriod: 0 })
  device.on('error', () => {})
  let publishing = true
  let sent = 0
  const publisher = (async () => {
    while (publishing && device.connected) {
      await device.publishAsync('devices/oven1/telemetry', JSON.stringify({ sensors: { temperature: ++sent } }), { qos: 1 }).catch(() => {})
      await new Promise((r) => setTimeout(r, 2))
    }
  })()
  stops.push(async () => {
    publishing = false
    device.end(true)
    await Promise.race([publisher, new Promise((r) => setTimeout(r, 2000))])
  })

  // The line's health topic: published at once when the guard changes state, not only every system.sampleIntervalMs (15 s).
  const dashboard = await mqtt.connectAsync(`mqtt://127.0.0.1:${running.connectivity.ports.mqtt}`, { username: 'dashboard', password: 'dashboard-secret', protocolVersion: 4, reconnectPeriod: 0 })
  stops.push(() => dashboard.endAsync())
  const published: string[] = []
  dashboard.on('message', (_topic, payload) => published.push(JSON.parse(payload.toString()).system.disk.state))
  await dashboard.subscribeAsync('+/+/+/_gateway/health', { qos: 1 })

  const hist = new Database(join(dataDir, 'historian.db'), { readonly: true })
  stops.push(() => hist.close())
  const seedStats = () => {
    const values = storedValues(hist, 'seed/temperature') as number[]
    return { n: values.length, low: values.length === 0 ? null : values.reduce((a, b) => Math.min(a, b)), high: values.length === 0 ? null : values.reduce((a, b) => Math.max(a, b)) }
  }
  const liveRows = () => storedSampleCount(hist, 'oven1/temperature')

  t.test('with room to spare: telemetry is stored and completions are accepted', async (t) => {
    t.equal(await diskState(), 'ok')
    await until('live samples in the historian', () => liveRows() > 50)
    t.equal(seedStats().n, seeded, 'the old samples are all there')
    const first = await complete(await startRun(call, 'PO-1'))
    t.equal(first.status, 200, `a completion is recorded (${JSON.stringify(first.body).slice(0, 200)})`)
  })

  let ballastSoft = ''
  t.test('below the historian floor: raw telemetry stops, the oldest raw samples go first, aggregates stay, as-built still works', async (t) => {
    // The file and its WAL: samples not yet checkpointed are in the WAL, and a shed truncates it.
    const historianOnDisk = () => ['historian.db', 'historian.db-wal'].reduce((n, f) => n + (existsSync(join(dataDir, f)) ? statSync(join(dataDir, f)).size : 0), 0)
    const historianBytes = historianOnDisk()
    ballastSoft = join(dataDir, 'ballast-soft')
    writeFileSync(ballastSoft, Buffer.alloc(Math.max(0, free() - 18 * MB)))
    t.ok(free() < 30 * MB && free() > 15 * MB, `free space ${(free() / MB).toFixed(1)} MB is between the floors`)
    await until('the disk guard sheds', async () => (await diskState()) === 'historian-shedding')
    // Every look while it sheds: what is left of the old samples is always their newest part.
    const looks: Array<{ n: number; low: number | null; high: number | null }> = []
    await until('the old raw samples are shed', () => {
      const s = seedStats()
      looks.push(s)
      return s.n === 0
    })
    await until('the shed pages are given back to the filesystem', () => historianOnDisk() < historianBytes / 2)
    t.pass(`the historian file and its WAL shrank from ${(historianBytes / MB).toFixed(1)} MB to ${(historianOnDisk() / MB).toFixed(1)} MB`)
    const partial = looks.filter((s) => s.n > 0 && s.n < seeded)
    t.ok(partial.length > 0, `shedding was seen half way (${partial.length} looks)`)
    t.ok(
      partial.every((s) => s.high === seeded - 1 && s.low === seeded - s.n),
      'at every look the samples left are the newest ones: the oldest went first',
    )
    const minutes = (hist.prepare(`SELECT COUNT(*) AS n, SUM(m.count) AS samples FROM minutes m JOIN signals g ON g.id = m.signal_id WHERE g.name = 'seed/temperature'`).get() as { n: number; samples: number }) ?? { n: 0, samples: 0 }
    t.equal(minutes.n, 30, 'the 1-minute aggregates of the shed minutes stay')
    t.equal(minutes.samples, seeded, 'and they count every shed sample')
    // New telemetry is dropped, not stored, while the device goes on publishing and getting its PUBACKs.
    const stored = liveRows()
    const dropped = historian.dropped
    const sentBefore = sent
    await until('the device publishes on', () => sent > sentBefore + 50)
    t.equal(liveRows(), stored, 'no new raw sample is stored below the floor')
    t.ok(historian.dropped > dropped, `new samples are dropped (${historian.dropped})`)
    t.equal(await diskState(), 'historian-shedding')
    const runId = await startRun(call, 'PO-1')
    const done = await complete(runId)
    t.equal(done.status, 200, 'above the hard floor as-built writes are accepted')
  })

  let ballastHard = ''
  let pendingRun = ''
  t.test('below the hard floor: as-built writes are refused with 507, nothing is written, reads work, the database is sound', async (t) => {
    pendingRun = await startRun(call, 'PO-1')
    const before = (await health()).eventSeq as number
    ballastHard = join(dataDir, 'ballast-hard')
    writeFileSync(ballastHard, Buffer.alloc(Math.max(0, free() - 8 * MB)))
    t.ok(free() < 15 * MB, `free space ${(free() / MB).toFixed(1)} MB is below the hard floor`)
    await until('the disk guard refuses writes', async () => (await diskState()) === 'hard-floor')
    await until('the UNS health topic tells of the hard floor', () => published.includes('hard-floor'), 5000)
    const refused = await complete(pendingRun)
    t.equal(refused.status, 507)
    t.equal(refused.headers.get('content-type'), 'application/problem+json')
    t.match(refused.body, { code: 'insufficient_storage', status: 507, hardFloorBytes: 15 * MB })
    t.match(refused.body.detail, /\d+\.\d MB free .* below the floor of 15\.0 MB .* nothing was recorded/)
    t.ok(refused.body.freeBytes < 15 * MB, 'the problem names the free space')
    const again = await call('POST', '/api/v1/orders/PO-1/hold', { reason: 'full disk' })
    t.equal(again.status, 507, 'every command is refused, not only completions')
    const h = await health()
    t.equal(h.eventSeq, before, 'the event count is unchanged')
    t.match(h.system.disk, { state: 'hard-floor', hardFloorBytes: 15 * MB })
    t.ok(h.system.disk.refusedWrites >= 2, 'health counts the refused writes')
    t.equal((await call('GET', '/api/v1/orders/PO-1')).status, 200, 'reads still work')
    t.equal((await call('GET', `/api/v1/runs/${pendingRun}`)).status, 200, 'the run can be read')
    const mes = new Database(join(dataDir, 'takt.db'), { readonly: true })
    t.equal(mes.pragma('integrity_check', { simple: true }), 'ok', 'PRAGMA integrity_check of the MES database')
    t.equal((mes.prepare('SELECT MAX(seq) AS seq FROM events').get() as { seq: number }).seq, before, 'the log ends where it did')
    mes.close()
    t.equal(hist.pragma('integrity_check', { simple: true }), 'ok', 'PRAGMA integrity_check of the historian')
    const verify = await call('GET', '/api/v1/audit/verify')
    t.equal(verify.body.ok, true, 'the event chain verifies')
  })

  t.test('once space is back, writes and telemetry resume by themselves', async (t) => {
    rmSync(ballastHard)
    rmSync(ballastSoft)
    await until('the disk guard is back to ok', async () => (await diskState()) === 'ok')
    await until('and the UNS health topic tells so', () => published.at(-1) === 'ok', 5000)
    t.ok(published.includes('historian-shedding'), `the health topic followed every state (${[...new Set(published)].join(' → ')})`)
    const before = (await health()).eventSeq as number
    const done = await complete(pendingRun)
    t.equal(done.status, 200, 'the refused completion is accepted now')
    t.ok((await health()).eventSeq > before, 'and recorded')
    const stored = liveRows()
    await until('live samples are stored again', () => liveRows() > stored + 20)
    t.equal(historian.rawPaused, false)
    const verify = await call('GET', '/api/v1/audit/verify')
    t.equal(verify.body.ok, true, 'the event chain verifies')
  })
})
