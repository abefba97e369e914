// The whole gateway with its connectivity: a device publishes JSON, the historian stores it, rules record the state, the UNS shows it.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import mqtt from 'mqtt'
import t from 'tap'
import { hashPassword } from '../edge/api/passwords.ts'
import { loadConfig } from '../edge/config.ts'
import { seedDemoLine } from '../edge/demo.ts'
import { storedSampleCount } from '../edge/historian/sample-blocks.ts'
import { startGateway } from '../edge/main.ts'
import { adminToken } from './helpers/gateway.ts'

const run = promisify(execFile)

t.test('device → broker → historian, signal rules and Unified Namespace', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-line-'))
  const file = join(dir, 'takt.yaml')
  const profile = join(import.meta.dirname, '..', 'hardware-profiles', 'mqtt-json-sensor.yaml')
  writeFileSync(
    file,
    [
      'mqtt:',
      '  accounts:',
      `    - { username: oven1, passwordHash: "${await hashPassword('oven1-secret')}", publish: ["devices/\${username}/#"] }`,
      `    - { username: board, passwordHash: "${await hashPassword('board-secret')}", subscribe: ["ACME/#"] }`,
      'devices:',
      `  - { name: oven1, workCenterId: WC-PRESS, profile: ${profile} }`,
    ].join('\n'),
  )
  const config = loadConfig({ file, env: { TAKT_DATA_DIR: dir, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } })
  const running = await startGateway(config)
  t.teardown(async () => {
    await running.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  await seedDemoLine(running.gateway, new Date())
  const port = running.connectivity.ports.mqtt
  const board = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: 'board', password: 'board-secret', protocolVersion: 4, reconnectPeriod: 0 })
  const states: string[] = []
  board.on('message', (topic, payload) => states.push(`${topic} ${JSON.parse(payload.toString()).data.state}`))
  await board.subscribeAsync('ACME/ACME.ASSY/L1/events/WorkCenterStateChanged', { qos: 1 })

  const pub = (topic: string, body: unknown) => run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', 'oven1', '-P', 'oven1-secret', '-q', '1', '-t', topic, '-m', JSON.stringify(body)])
  const before = new Date(Date.now() - 1000).toISOString()
  await pub('devices/oven1/telemetry', { sensors: { temperature: 180.5 } })
  await pub('devices/oven1/telemetry', { sensors: { temperature: 181 } })
  await pub('devices/oven1/status', { state: 'run' })
  for (let i = 0; i < 60 && states.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(states, ['ACME/ACME.ASSY/L1/events/WorkCenterStateChanged running'], 'the state change is a recorded event, visible on the UNS')

  const to = new Date(Date.now() + 1000).toISOString()
  const res = await fetch(`http://127.0.0.1:${running.port}/api/v1/historian/samples?signal=oven1/temperature&from=${before}&to=${to}`, { headers: { authorization: `Bearer ${adminToken}` } })
  const body = (await res.json()) as { items: Array<{ value: number; quality: string }> }
  t.equal(res.status, 200)
  t.same(body.items.map((s) => [s.value, s.quality]), [[180.5, 'good'], [181, 'good']], 'telemetry is in the historian, queryable over the API')
  const backwards = await fetch(`http://127.0.0.1:${running.port}/api/v1/historian/samples?signal=oven1/temperature&from=${to}&to=${before}`, { headers: { authorization: `Bearer ${adminToken}` } })
  t.equal(backwards.status, 422, 'a range that ends before it starts is refused')
  t.equal(running.gateway.store.view.workCenterState('WC-PRESS'), 'running')
  const status = await fetch(`http://127.0.0.1:${running.port}/api/v1/connectivity`, { headers: { authorization: `Bearer ${adminToken}` } })
  const report = (await status.json()) as { devices: Array<{ device: string; protocol: string; workCenterId: string; connected: boolean; cycles: number }>; bridge: unknown }
  t.equal(status.status, 200)
  t.match(report.devices, [{ device: 'oven1', protocol: 'mqtt-json', workCenterId: 'WC-PRESS', connected: true }], 'the connectivity status lists the device and its collector')
  t.ok(report.devices[0]!.cycles >= 3, `it counted the publications it took (${report.devices[0]!.cycles})`)
  t.equal(report.bridge, null, 'no bridge configured')

  // QoS 1: a PUBACK may run ahead of the disk by a few ms (historian.ackWindowMs); the sample is then in the historian file — read with a connection of our own.
  const reader = new Database(join(dir, 'historian.db'), { readonly: true })
  t.teardown(() => reader.close())
  const stored = () => storedSampleCount(reader, 'oven1/temperature')
  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: 'oven1', password: 'oven1-secret', protocolVersion: 4, reconnectPeriod: 0 })
  const n0 = stored()
  for (let i = 0; i < 5; i++) {
    await device.publishAsync('devices/oven1/telemetry', JSON.stringify({ sensors: { temperature: 190 + i } }), { qos: 1 })
    for (let waited = 0; stored() < n0 + i + 1 && waited < 5000; waited += 2) await new Promise((resolve) => setTimeout(resolve, 2))
    t.equal(stored(), n0 + i + 1, `sample ${i + 1} is on disk right after its PUBACK`)
  }
  await device.endAsync()
  await board.endAsync()
})
