// MQTT JSON ingest through the embedded broker, fed by mosquitto_pub as the device.
import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import pino from 'pino'
import t from 'tap'
import { checkProfileFile } from '../../hardware-profiles/load.ts'
import { hashPassword } from '../api/passwords.ts'
import type { Sample } from '../historian/historian.ts'
import { LineBroker } from './broker.ts'
import { atPath, MqttJsonCollector, type MqttJsonProfile } from './mqtt-json.ts'

const run = promisify(execFile)
const root = join(dirname(fileURLToPath(import.meta.url)), '../..')

t.test('JSON paths', async (t) => {
  const doc = { a: { b: [10, { c: 'x' }] }, n: null }
  t.equal(atPath(doc, '$.a.b[0]'), 10)
  t.equal(atPath(doc, '$.a.b[1].c'), 'x')
  t.equal(atPath(doc, '$.n'), null)
  t.equal(atPath(doc, '$.a.missing'), undefined)
  t.equal(atPath(doc, '$.a.b[0].deeper'), undefined)
  t.same(atPath(doc, '$'), doc)
})

t.test('device payloads become samples; bad payloads become Bad quality with the reason', async (t) => {
  const result = checkProfileFile(join(root, 'hardware-profiles/mqtt-json-sensor.yaml'))
  if (!result.ok || result.profile.protocol !== 'mqtt-json') throw new Error('profile')
  const profile: MqttJsonProfile = result.profile
  const broker = await LineBroker.start({
    logger: pino({ level: 'silent' }),
    accounts: [{ username: 'oven1', passwordHash: await hashPassword('oven1-secret'), publish: ['devices/${username}/#'], subscribe: [] }],
  })
  const port = await broker.listenTcp(0, '127.0.0.1')
  const samples: Sample[] = []
  const collector = new MqttJsonCollector('oven1', broker, profile, (s) => {
    samples.push(...s)
  })
  collector.start()
  t.teardown(async () => {
    await collector.stop()
    await broker.close()
  })
  const pub = (topic: string, message: string) => run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', 'oven1', '-P', 'oven1-secret', '-q', '1', '-t', topic, '-m', message])
  await pub('devices/oven1/telemetry', JSON.stringify({ sensors: { temperature: 181.5 } }))
  await pub('devices/oven1/counts', JSON.stringify({ good: 17 }))
  await pub('devices/oven1/status', 'not json')
  await pub('devices/oven1/counts', JSON.stringify({ bad: 1 }))
  const refused = await pub('devices/oven2/counts', JSON.stringify({ good: 99 })).then(
    () => 'accepted',
    (error: { stderr: string }) => error.stderr,
  )
  t.match(refused, /connection was lost/, "the broker cuts a device publishing on another device's topic")
  for (let i = 0; i < 40 && samples.length < 4; i++) await new Promise((resolve) => setTimeout(resolve, 25))
  t.match(samples, [
    { signal: 'oven1/temperature', value: 181.5, quality: 'good' },
    { signal: 'oven1/good_count', value: 17, quality: 'good' },
    { signal: 'oven1/state', value: null, quality: 'bad', reason: 'payload is not JSON' },
    { signal: 'oven1/good_count', value: null, quality: 'bad', reason: 'no value at $.good' },
  ])
  t.equal(samples.length, 4, 'nothing from the refused publication')
})
