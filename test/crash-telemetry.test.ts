// kill -9 of the gateway during a QoS 1 telemetry stream: what a device got a PUBACK for is in the historian — every sample with
// PUBACKs that wait for the disk, every sample acknowledged longer ago than the window with PUBACKs that may run ahead of it.
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import t, { type Test } from 'tap'
import { hashPassword } from '../edge/api/passwords.ts'
import { storedValues } from '../edge/historian/sample-blocks.ts'
import { freePort, startChildGateway } from './helpers/client.ts'

/** Streams QoS 1 samples into a gateway, kills it with SIGKILL after a second of PUBACKs (at least 300), and returns what was acknowledged when, and what is stored. */
async function killDuringStream(t: Test, ackWindowMs: number): Promise<{ acknowledged: Array<{ value: number; at: number }>; killedAt: number; stored: Set<number>; sent: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'takt-crash-mqtt-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const profile = join(import.meta.dirname, '..', 'hardware-profiles', 'mqtt-json-sensor.yaml')
  const mqttPort = await freePort()
  const file = join(dir, 'takt.yaml')
  writeFileSync(
    file,
    [
      'historian:',
      `  ackWindowMs: ${ackWindowMs}`,
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
  const acknowledged: Array<{ value: number; at: number }> = []
  let sent = 0
  const publishers = Array.from({ length: 4 }, async () => {
    while (device.connected && sent < 100_000) {
      const value = ++sent
      try {
        await device.publishAsync('devices/oven1/telemetry', JSON.stringify({ sensors: { temperature: value } }), { qos: 1 })
        acknowledged.push({ value, at: Date.now() })
      } catch {
        return
      }
    }
  })
  // Long enough that most acknowledged samples are older than any window when the kill comes.
  while (acknowledged.length < 300 || Date.now() - acknowledged[0]!.at < 1000) await new Promise((resolve) => setTimeout(resolve, 5))
  const killedAt = Date.now()
  gateway.child.kill('SIGKILL')
  await gateway.exited
  // Publications in flight at the kill never get an answer; only what was acknowledged counts.
  const counted = [...acknowledged]
  device.end(true)
  void publishers

  const db = new Database(join(dir, 'historian.db'), { readonly: true })
  t.teardown(() => db.close())
  const stored = new Set(storedValues(db, 'oven1/temperature') as number[])
  return { acknowledged: counted, killedAt, stored, sent }
}

t.test('PUBACKs that wait for the disk: no acknowledged sample is lost to a kill -9', async (t) => {
  const { acknowledged, stored, sent } = await killDuringStream(t, 0)
  const lost = acknowledged.filter((a) => !stored.has(a.value)).map((a) => a.value)
  t.ok(acknowledged.length >= 300, `${acknowledged.length} samples acknowledged before the kill`)
  t.same(lost, [], `every acknowledged sample is in the historian (${stored.size} stored, ${sent} sent)`)
})

t.test('PUBACKs ahead of the disk (the default, 50 ms): a kill -9 loses nothing acknowledged before the window', async (t) => {
  const windowMs = 100
  const { acknowledged, killedAt, stored, sent } = await killDuringStream(t, 50)
  const lost = acknowledged.filter((a) => !stored.has(a.value))
  const lostBeforeWindow = lost.filter((a) => a.at < killedAt - windowMs).map((a) => a.value)
  t.ok(acknowledged.length >= 300, `${acknowledged.length} samples acknowledged before the kill`)
  t.same(lostBeforeWindow, [], `every sample acknowledged more than ${windowMs} ms before the kill is in the historian (${stored.size} stored, ${sent} sent)`)
  t.comment(`lost to the kill among the samples acknowledged in its last ${windowMs} ms: ${lost.length} of ${acknowledged.filter((a) => a.at >= killedAt - windowMs).length}`)
})
