// The Sparkplug host with a device on an independent MQTT stack: a Python paho-mqtt client (payloads encoded by Tahu) into the LineBroker.
import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { REBIRTH } from './namespace.ts'
import { until } from './test/mosquitto.ts'
import { collector, deathPayload, DEVICE, EDGE, fillerBirth, GROUP, lineBroker } from './test/device.ts'
import { tahu, type TahuMetric, type TahuPayload } from './test/tahu.ts'

const script = join(dirname(fileURLToPath(import.meta.url)), 'test/paho-device.py')
const base = `spBv1.0/${GROUP}`

interface PahoEvent {
  event: string
  topic?: string
  hex?: string
  rc?: number
}

/** Debian's python3 carries python3-paho-mqtt; a python3 earlier on PATH (pyenv) may not. */
function python(): string {
  return process.platform === 'linux' ? '/usr/bin/python3' : 'python3'
}

function pahoDevice(port: number, bdSeq: number) {
  const child: ChildProcess = spawn(python(), [script, '127.0.0.1', String(port), 'filler-gw', 'filler-secret', 'paho-filler', `${base}/NDEATH/${EDGE}`, deathPayload(bdSeq).toString('hex'), `${base}/NCMD/${EDGE}`], { stdio: ['pipe', 'pipe', 'inherit'] })
  const events: PahoEvent[] = []
  createInterface({ input: child.stdout! }).on('line', (line) => events.push(JSON.parse(line) as PahoEvent))
  let seq = -1
  const send = (topic: string, bytes: Uint8Array) => {
    const published = events.filter((e) => e.event === 'published').length
    child.stdin!.write(JSON.stringify({ op: 'publish', topic, hex: Buffer.from(bytes).toString('hex'), qos: 0 }) + '\n')
    return until(() => events.filter((e) => e.event === 'published').length > published)
  }
  const publish = (type: string, metrics: TahuMetric[], options: { seq?: number; device?: boolean } = {}) => {
    seq = options.seq ?? (seq + 1) % 256
    const topic = options.device === false ? `${base}/${type}/${EDGE}` : `${base}/${type}/${EDGE}/${DEVICE}`
    return send(topic, tahu.encodePayload({ timestamp: Date.now(), seq, metrics }))
  }
  const commands = (): TahuPayload[] => events.filter((e) => e.event === 'message').map((e) => tahu.decodePayload(Buffer.from(e.hex!, 'hex')))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return { child, events, publish, send, commands, exited, nextSeq: () => (seq = (seq + 1) % 256) }
}

t.test('a paho-mqtt device: births, data by alias, a seq gap answered by a rebirth request, a malformed payload, and its will', async (t) => {
  const { broker, port } = await lineBroker(t)
  const { collector: c, samples } = collector(t, broker, { rebirthIntervalMs: 100 })
  await new Promise((resolve) => setTimeout(resolve, 150)) // past the rate limit of the request sent at start
  const paho = pahoDevice(port, 3)
  t.teardown(() => {
    if (paho.child.exitCode === null) paho.child.kill('SIGKILL')
  })
  t.ok(await until(() => paho.events.some((e) => e.event === 'connected' && e.rc === 0)), 'paho connects with the device account')
  await new Promise((resolve) => setTimeout(resolve, 100)) // its NCMD subscription is sent right after the CONNACK

  const ts = Date.now() - 1000
  await paho.publish('NBIRTH', [{ name: 'bdSeq', type: 'Int64', value: 3, timestamp: ts }, { name: REBIRTH, type: 'Boolean', value: false, timestamp: ts }], { device: false, seq: 0 })
  await paho.publish('DBIRTH', fillerBirth(ts))
  t.ok(await until(() => samples.length === 4), 'the DBIRTH values arrive')
  t.match(samples.find((s) => s.signal === 'filler1/state'), { value: 'RUNNING', quality: 'good', timestamp: ts })
  t.match(c.status(), { connected: true, bdSeq: 3, seq: 1 })

  await paho.publish('DDATA', [{ alias: 2, type: 'Int64', value: 150, timestamp: ts + 10 }, { alias: 1, type: 'String', value: 'FAULT', timestamp: ts + 10 }])
  t.ok(await until(() => samples.length === 6))
  t.same(samples.slice(4).map((s) => [s.signal, s.value, s.quality, s.timestamp]), [['filler1/good_count', 150, 'good', ts + 10], ['filler1/state', 'FAULT', 'good', ts + 10]], 'by alias')

  await paho.publish('DDATA', [{ alias: 2, type: 'Int64', value: 151, timestamp: ts + 20 }], { seq: 10 })
  t.ok(await until(() => paho.commands().length === 1), 'the seq gap reaches the paho device as a rebirth request')
  t.match(paho.commands()[0], { metrics: [{ name: REBIRTH, value: true, type: 'Boolean' }] })
  t.equal(paho.commands()[0]!.seq, undefined)

  samples.length = 0
  paho.nextSeq()
  await paho.send(`${base}/DDATA/${EDGE}/${DEVICE}`, Buffer.from('0a0b0c', 'hex'))
  t.ok(await until(() => samples.length === 4), 'a malformed payload: every signal Bad')
  t.ok(samples.every((s) => s.quality === 'bad' && /does not decode: Sparkplug payload: Payload field 1 \(timestamp\) has wire type 2, expected 0 at byte 0/.test(s.reason ?? '')), 'with the decode error as the reason')

  samples.length = 0
  paho.child.kill('SIGKILL') // no DISCONNECT: the broker must publish the will
  await paho.exited
  t.ok(await until(() => samples.length === 4), 'the NDEATH will arrives')
  t.ok(samples.every((s) => s.quality === 'bad' && s.reason === 'device offline'), 'every signal Bad, device offline')
  t.match(c.status(), { connected: false, bdSeq: null })
})
