// A running gateway's system health: GET /health's system object, GET /metrics (Prometheus text, authenticated), the retained UNS health topic, and the clock offset against a cloud whose clock is 5 s ahead.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import t from 'tap'
import { hashPassword } from '../../edge/api/passwords.ts'
import { loadConfig } from '../../edge/config.ts'
import { startGateway } from '../../edge/main.ts'
import { jsonClient } from '../helpers/client.ts'
import { adminToken } from '../helpers/gateway.ts'
import { defineLine } from '../helpers/line.ts'
import { until } from '../helpers/until.ts'

const syncToken = 'health-test-sync-token-0123456789'
const dir = mkdtempSync(join(tmpdir(), 'takt-health-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

// cloud-sync's stand-in: not ready (503), its clock 5 s ahead of this machine's.
const cloud = createServer((_req, res) => {
  res.setHeader('date', new Date(Date.now() + 5000).toUTCString())
  res.writeHead(503, { 'content-type': 'application/json' })
  res.end('{"detail":"starting"}')
})
await new Promise<void>((done) => cloud.listen(0, '127.0.0.1', done))
t.teardown(() => new Promise<void>((done) => cloud.close(() => done())))

const file = join(dir, 'takt.yaml')
writeFileSync(
  file,
  [
    'mqtt:',
    '  host: 127.0.0.1',
    '  accounts:',
    `    - { username: dashboard, passwordHash: "${await hashPassword('dashboard-secret')}", subscribe: ["+/+/+/_gateway/health"] }`,
    `sync: { url: "http://127.0.0.1:${(cloud.address() as AddressInfo).port}", token: "${syncToken}", minBackoffMs: 20, maxBackoffMs: 100 }`,
    'system: { sampleIntervalMs: 1000 }',
  ].join('\n'),
)
const dataDir = join(dir, 'data')
const config = loadConfig({ file, env: { TAKT_DATA_DIR: dataDir, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } })
const running = await startGateway(config)
t.teardown(() => running.stop())
const url = `http://127.0.0.1:${running.port}`
const call = jsonClient(url, adminToken)
await defineLine(call)
const token = async (role: string) => (await call('POST', '/api/v1/tokens', { name: `health-${role}`, role })).body.token as string

const sensor = (() => {
  try {
    return readdirSync('/sys/class/thermal').some((e) => e.startsWith('thermal_zone'))
  } catch {
    return false
  }
})()

t.test('GET /health: anonymous, the old fields and a system object with cached figures', async (t) => {
  await until('the first sample and a clock estimate from the cloud', async () => {
    const b = (await call('GET', '/health', undefined, '')).body
    return b.system?.sampledAt !== null && b.system?.clock?.source === 'cloud-http-date'
  })
  const res = await fetch(`${url}/health`)
  t.equal(res.status, 200, 'no credentials needed')
  const text = await res.text()
  const body = JSON.parse(text)
  t.match(body, { status: 'ok', version: String, eventSeq: Number, time: String })
  t.ok(body.eventSeq > 0, 'the event seq of the defined line')
  const { cpu, memory, temperature, disk, clock } = body.system
  t.ok(cpu.loadPercent >= 0 && cpu.loadPercent <= 100, `CPU load ${cpu.loadPercent} %`)
  t.ok(cpu.cores >= 1, `${cpu.cores} cores`)
  t.ok(memory.totalBytes > 0 && memory.availableBytes > 0 && memory.availableBytes <= memory.totalBytes, 'memory total and available')
  t.ok(memory.usedPercent >= 0 && memory.usedPercent <= 100)
  if (sensor) t.ok(typeof temperature.cpuCelsius === 'number' || temperature.reason !== null, `temperature ${temperature.cpuCelsius} (${temperature.reason})`)
  else t.same(temperature, { cpuCelsius: null, reason: 'this machine exposes no temperature sensor (no /sys/class/thermal zone, no hwmon temperature input)' }, 'no sensor here: null and why, never a made-up figure')
  t.match(disk, { state: 'ok', historianFloorBytes: 1024 * 1024 * 1024, hardFloorBytes: 256 * 1024 * 1024, refusedWrites: 0, lastError: null })
  t.ok(disk.freeBytes > 0 && disk.totalBytes >= disk.freeBytes, 'free and total bytes of the data filesystem')
  t.equal(clock.source, 'cloud-http-date')
  t.ok(Math.abs(clock.offsetMs - -5000) <= clock.uncertaintyMs + 20, `the gateway is 5 s behind the cloud: ${clock.offsetMs} ± ${clock.uncertaintyMs} ms`)
  t.ok(clock.ageMs >= 0 && clock.ageMs < 10_000, `the estimate is ${clock.ageMs} ms old`)
  t.equal(clock.reason, null)
  for (const secret of [syncToken, adminToken, dataDir]) t.notOk(text.includes(secret), `/health does not show ${secret === dataDir ? 'the data directory' : 'a token'}`)
})

t.test('GET /metrics: authenticated, Prometheus text format', async (t) => {
  const anonymous = await fetch(`${url}/metrics`)
  t.equal(anonymous.status, 401, 'anonymous: 401')
  t.match(await anonymous.json(), { code: 'unauthenticated' })
  const operator = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${await token('operator')}` } })
  t.equal(operator.status, 403, 'an operator: 403')
  await operator.text()
  for (const role of ['maintenance', 'integration']) {
    const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${await token(role)}` } })
    t.equal(res.status, 200, `${role}: 200`)
    await res.text()
  }
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } })
  t.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  const text = await res.text()
  t.ok(text.endsWith('\n'), 'ends with a line feed')
  const typed = new Map<string, string>()
  const samples = new Map<string, number>()
  const bad: string[] = []
  for (const line of text.trimEnd().split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)$/.exec(line)
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/.exec(line)
    if (type) typed.set(type[1]!, type[2]!)
    else if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* \S/.test(line)) continue
    else if (sample && typed.has(sample[1]!)) samples.set(sample[1]! + (sample[2] ?? ''), Number(sample[3]))
    else bad.push(line)
  }
  t.same(bad, [], 'every line is a HELP, a TYPE, or a sample of a family typed before it')
  for (const [name, type] of typed) if (type === 'counter') t.ok(name.endsWith('_total'), `counter ${name} ends in _total`)
  t.equal(samples.get('takt_disk_guard_state{state="ok"}'), 1)
  t.equal(samples.get('takt_disk_guard_state{state="hard-floor"}'), 0)
  t.ok((samples.get('takt_disk_free_bytes') ?? 0) > 0)
  t.ok((samples.get('takt_memory_total_bytes') ?? 0) > 0)
  t.equal(samples.get('takt_disk_refused_writes_total'), 0)
  t.ok((samples.get('takt_event_seq') ?? 0) > 0)
  t.equal(samples.get(`takt_info{version="${running.gateway.health.body().version}"}`), 1)
  const offset = samples.get('takt_clock_offset_seconds{source="cloud-http-date"}')
  t.ok(offset !== undefined && Math.abs(offset - -5) < 1.1, `clock offset ${offset} s`)
  if (!sensor) t.notOk(text.includes('takt_cpu_temperature_celsius'), 'no sensor: no temperature series at all')
  t.notOk(text.includes(syncToken), 'no secret in the metrics')
})

t.test('the retained health topic of the line on the UNS', async (t) => {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${running.connectivity.ports.mqtt}`, { username: 'dashboard', password: 'dashboard-secret', protocolVersion: 4, reconnectPeriod: 0 })
  t.teardown(() => client.endAsync())
  const got = new Promise<{ topic: string; body: Record<string, any>; retain: boolean }>((resolve) => client.on('message', (topic, payload, packet) => resolve({ topic, body: JSON.parse(payload.toString()), retain: packet.retain })))
  await client.subscribeAsync('+/+/+/_gateway/health', { qos: 1 })
  const message = await got
  t.equal(message.topic, 'SITE/AREA/L1/_gateway/health', 'under the ISA-95 path of the line')
  t.equal(message.retain, true, 'retained: a late subscriber gets it at once')
  t.match(message.body, { status: 'ok', eventSeq: Number, system: { disk: { state: 'ok' }, cpu: { cores: Number } } })
})
