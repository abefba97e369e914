// kill -9 of the gateway during a QoS 1 telemetry stream: every sample a device got a PUBACK for is in the historian.
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import t from 'tap'
import { hashPassword } from '../edge/api/passwords.ts'
import { freePort, startChildGateway } from './helpers/client.ts'

t.test('no acknowledged sample is lost to a kill -9', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-crash-mqtt-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const profile = join(import.meta.dirname, '..', 'hardware-profiles', 'mqtt-json-sensor.yaml')
  const mqttPort = await freePort()
  const file = join(dir, 'takt.yaml')
  writeFileSync(
    file,
    [
      'mqtt:',
      '  host: 127.0.0.1',
      '  accounts:',
      `    - { username: oven1, passwordHash: "${await hashPassword('oven1-secret')}", publish: ["devices/\${username}/#"] }`,
      'devices:',
      `  - { name: oven1, workCenterId: WC-1, profile: ${profile} }`,
    ].join('\n'),
  )
  const gateway = await startChildGateway({ TAKT_CONFIG: file, TAKT_DATA_DIR: dir, TAKT_MQTT_PORT: String(mqttPort), TAKT_LOG_LEVEL: 'warn' })
  t.teardown(() => gateway.kill('SIGKILL'))
  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: 'oven1', password: 'oven1-secret', protocolVersion: 4, reconnectPeriod: 0 })
  device.on('error', () => {})
  const acknowledged: number[] = []
  let sent = 0
  const publishers = Array.from({ length: 4 }, async () => {
    while (device.connected && sent < 100_000) {
      const value = ++sent
      try {
        await device.publishAsync('devices/oven1/telemetry', JSON.stringify({ sensors: { temperature: value } }), { qos: 1 })
        acknowledged.push(value)
      } catch {
        return
      }
    }
  })
  while (acknowledged.length < 300) await new Promise((resolve) => setTimeout(resolve, 5))
  gateway.child.kill('SIGKILL')
  await gateway.exited
  // Publications in flight at the kill never get an answer; only what was acknowledged counts.
  const counted = [...acknowledged]
  device.end(true)
  void publishers

  const db = new Database(join(dir, 'historian.db'), { readonly: true })
  t.teardown(() => db.close())
  const stored = new Set((db.prepare(`SELECT s.value FROM samples s JOIN signals g ON g.id = s.signal_id WHERE g.name = 'oven1/temperature'`).all() as Array<{ value: number }>).map((r) => r.value))
  const lost = counted.filter((v) => !stored.has(v))
  t.ok(counted.length >= 300, `${counted.length} samples acknowledged before the kill`)
  t.same(lost, [], `every acknowledged sample is in the historian (${stored.size} stored, ${sent} sent)`)
})
