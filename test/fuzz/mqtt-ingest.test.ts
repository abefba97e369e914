// Fuzz: random topics and payloads into the embedded broker reach the JSON and Sparkplug collectors as Good or Bad samples, or are refused; nothing crashes.
import fc from 'fast-check'
import { join } from 'node:path'
import mqtt from 'mqtt'
import pino from 'pino'
import t from 'tap'
import { checkProfileFile } from '../../hardware-profiles/load.ts'
import { hashPassword } from '../../edge/api/passwords.ts'
import { LineBroker } from '../../edge/connectivity/broker.ts'
import { MqttJsonCollector, type MqttJsonProfile } from '../../edge/connectivity/mqtt-json.ts'
import { DataType, decodePayload, encodePayload, parseTopic, SparkplugDeviceCollector, SparkplugPayloadError, type Metric, type SparkplugProfile } from '../../edge/connectivity/sparkplug/index.ts'
import type { Sample } from '../../edge/historian/historian.ts'
import { repoRoot } from '../helpers/client.ts'
import { runs, seedNote } from './seed.ts'

t.comment(seedNote)

function profile(file: string) {
  const result = checkProfileFile(join(repoRoot, 'hardware-profiles', file))
  if (!result.ok) throw new Error(`${file}: ${JSON.stringify(result.problems)}`)
  return result.profile
}

const samples: Sample[] = []
const sink = (s: Sample[]) => {
  samples.push(...s)
}
const broker = await LineBroker.start({
  logger: pino({ level: 'silent' }),
  accounts: [{ username: 'fuzzer', passwordHash: await hashPassword('fuzzer-secret'), publish: ['#'], subscribe: [] }],
  maxMessagesPerSecond: 1_000_000,
})
const port = await broker.listenTcp(0, '127.0.0.1')
const json = new MqttJsonCollector('oven1', broker, profile('mqtt-json-sensor.yaml') as MqttJsonProfile, sink)
const sparkplug = new SparkplugDeviceCollector({ device: 'filler1', broker, groupId: 'G', edgeNodeId: 'N', deviceId: 'D', profile: profile('sparkplug-b-device.yaml') as SparkplugProfile, sink, logger: pino({ level: 'silent' }), rebirthIntervalMs: 60_000 })
json.start()
sparkplug.start()

let client = await connect()
t.teardown(async () => {
  client.end(true)
  await json.stop()
  await sparkplug.stop()
  await broker.close()
})

async function connect(): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: 'fuzzer', password: 'fuzzer-secret', reconnectPeriod: 0, connectTimeout: 2000 })
}

/** Publishes at QoS 1: the broker acknowledges only after the ingest ran. A refusal or a cut connection is an answer too. */
async function publish(topic: string, payload: Buffer): Promise<'acked' | 'refused'> {
  if (!client.connected) client = await connect()
  const current = client
  const outcome = await new Promise<'acked' | 'refused'>((resolve) => {
    // A publication the broker drops without an answer ends with the connection; the timer is the last resort.
    const timer = setTimeout(() => resolve('refused'), 1500)
    const cut = () => resolve('refused')
    current.once('close', cut)
    current.publishAsync(topic, payload, { qos: 1 }).then(
      () => resolve('acked'),
      () => resolve('refused'),
    ).finally(() => (clearTimeout(timer), current.off('close', cut)))
  })
  if (outcome === 'refused') current.end(true)
  return outcome
}

function checkSamples(from: number): void {
  for (const s of samples.slice(from)) {
    if (!['good', 'uncertain', 'bad'].includes(s.quality)) throw new Error(`sample of quality ${String(s.quality)}`)
    if (s.quality === 'bad' ? s.value !== null && typeof s.reason !== 'string' : s.value === null) throw new Error(`sample ${JSON.stringify(s)} does not match its quality`)
    if (!Number.isFinite(s.timestamp)) throw new Error(`sample without a time: ${JSON.stringify(s)}`)
  }
}

// JSON that resembles what a device sends, and bytes that do not.
const jsonPayload = fc.oneof(
  fc.record({ state: fc.oneof(fc.constantFrom('run', 'idle', 'fault'), fc.string(), fc.integer(), fc.constant(null)), good: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean()), sensors: fc.oneof(fc.record({ temperature: fc.oneof(fc.double(), fc.string(), fc.constant(null), fc.array(fc.integer())) }), fc.jsonValue()) }, { requiredKeys: [] }).map((v) => Buffer.from(JSON.stringify(v))),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
  fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
)
const jsonTopic = fc.oneof(fc.constantFrom('devices/oven1/status', 'devices/oven1/counts', 'devices/oven1/telemetry'), fc.string({ minLength: 1, maxLength: 60 }))

t.test('JSON ingest: any payload on any topic gives Good or Bad samples, never a crash', async (t) => {
  const before = samples.length
  const outcome = { acked: 0, refused: 0 }
  await fc.assert(
    fc.asyncProperty(jsonTopic, jsonPayload, async (topic, payload) => {
      const from = samples.length
      outcome[await publish(topic, payload)]++
      checkSamples(from)
    }),
    runs(400),
  )
  t.ok(outcome.acked > outcome.refused * 3, `most publications were acknowledged: ${JSON.stringify(outcome)}`)
  t.ok(samples.slice(before).some((s) => s.quality === 'bad') && samples.slice(before).some((s) => s.quality === 'good'), 'both Good and Bad samples came out')
  t.equal(json.status().connected, true, 'the JSON collector still runs')
})

// Sparkplug: valid payloads of random metrics, the same with bytes changed or cut, and plain noise.
const metric = fc.record({
  name: fc.oneof(fc.constantFrom('Status/State', 'Counts/Good', 'Counts/Reject', 'Quality/FillWeight', 'bdSeq'), fc.string({ maxLength: 30 })),
  datatype: fc.constantFrom(DataType.Int32, DataType.Int64, DataType.UInt64, DataType.Double, DataType.Float, DataType.Boolean, DataType.String),
  seed: fc.double({ noNaN: true, min: -1e9, max: 1e9 }),
})
const toMetric = (m: { name: string; datatype: number; seed: number }): Metric => {
  const value = m.datatype === DataType.Boolean ? m.seed > 0 : m.datatype === DataType.String ? String(m.seed) : m.datatype === DataType.Int64 || m.datatype === DataType.UInt64 ? BigInt(Math.abs(Math.trunc(m.seed))) : m.datatype === DataType.Int32 ? Math.trunc(m.seed) % 2 ** 31 : m.datatype === DataType.Float ? Math.fround(m.seed) : m.seed
  return { name: m.name, datatype: m.datatype, value }
}
const sparkplugPayload = fc.oneof(
  fc.record({ metrics: fc.array(metric, { maxLength: 8 }), seq: fc.integer({ min: 0, max: 300 }), mutate: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), cut: fc.option(fc.nat()) }).map((c) => {
    let bytes: Buffer
    try {
      bytes = encodePayload({ timestamp: Date.now(), seq: c.seq, metrics: c.metrics.map(toMetric) })
    } catch {
      bytes = Buffer.alloc(0)
    }
    for (const [at, value] of c.mutate) if (bytes.length > 0) bytes[at % bytes.length] = value
    return c.cut === null ? bytes : bytes.subarray(0, c.cut % (bytes.length + 1))
  }),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
)
const sparkplugTopic = fc.oneof(
  fc.tuple(fc.constantFrom('NBIRTH', 'NDEATH', 'DBIRTH', 'DDEATH', 'NDATA', 'DDATA', 'NCMD', 'DCMD', 'STATE', 'XDATA'), fc.constantFrom('D', 'other', '')).map(([type, dev]) => `spBv1.0/G/${type}/N${dev ? `/${dev}` : ''}`),
  fc.string({ minLength: 1, maxLength: 40 }).map((s) => `spBv1.0/G/${s}`),
)

t.test('Sparkplug ingest: any payload on a Sparkplug topic gives Good, Uncertain or Bad samples, never a crash', async (t) => {
  const outcome = { acked: 0, refused: 0 }
  await fc.assert(
    fc.asyncProperty(sparkplugTopic, sparkplugPayload, async (topic, payload) => {
      const from = samples.length
      outcome[await publish(topic, payload)]++
      checkSamples(from)
    }),
    runs(400),
  )
  t.ok(outcome.acked > outcome.refused * 3, `most publications were acknowledged: ${JSON.stringify(outcome)}`)
  t.ok(typeof sparkplug.status().cycles === 'number' && sparkplug.status().cycles > 0, 'the Sparkplug collector saw the messages')
})

t.test('the Sparkplug decoder and topic parser: a payload or a SparkplugPayloadError, a topic or null', async (t) => {
  fc.assert(
    fc.property(sparkplugPayload, (bytes) => {
      try {
        const p = decodePayload(bytes)
        return Array.isArray(p.metrics)
      } catch (error) {
        if (!(error instanceof SparkplugPayloadError)) throw error
        return true
      }
    }),
    runs(3000),
  )
  fc.assert(
    fc.property(fc.oneof(fc.string(), sparkplugTopic), (topic) => {
      const parsed = parseTopic(topic)
      return parsed === null || (typeof parsed.groupId === 'string' && typeof parsed.edgeNodeId === 'string')
    }),
    runs(2000),
  )
  t.pass('thousands of payloads and topics')
})
