// The gateway as Sparkplug host: a device on mqtt.js + Tahu publishes into a real LineBroker; births, aliases, seq, deaths and bad payloads become samples.
import t from 'tap'
import { REBIRTH } from './namespace.ts'
import { until } from './test/mosquitto.ts'
import { collector, deathPayload, DEVICE, EDGE, fillerBirth, GROUP, lineBroker, TahuDevice } from './test/device.ts'
import { tahuBig } from './test/tahu.ts'

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('births and data by alias become samples; DDEATH, a stale NDEATH and the NDEATH will', async (t) => {
  const { broker, port } = await lineBroker(t)
  const { collector: c, samples } = collector(t, broker)
  const device = await TahuDevice.connect(port)
  const ts = Date.now() - 5000
  await device.nbirth()
  await device.publish('DBIRTH', fillerBirth(ts))
  t.ok(await until(() => samples.length === 4), 'one sample per profile signal from the DBIRTH')
  t.same(samples, [
    { signal: 'filler1/state', timestamp: ts, value: 'RUNNING', quality: 'good' },
    { signal: 'filler1/good_count', timestamp: ts, value: 100, quality: 'good' },
    { signal: 'filler1/reject_count', timestamp: ts, value: 2, quality: 'good' },
    { signal: 'filler1/fill_weight', timestamp: ts, value: 500.3, quality: 'good' },
  ], 'birth values with their metric timestamps; the unmapped metric is left out')
  t.match(c.status(), { connected: true, bdSeq: 0, seq: 1, rebirthRequests: 1 })

  samples.length = 0
  await device.publish('DDATA', [
    { alias: 2, timestamp: ts + 1000, type: 'Int64', value: 101 },
    { alias: 4, timestamp: ts + 1000, type: 'Float', value: 499.9, properties: { Quality: { type: 'Int32', value: 500 } } },
    { alias: 2, timestamp: ts - 60_000, type: 'Int64', value: 97, isHistorical: true },
    { alias: 5, timestamp: ts + 1000, type: 'Double', value: 42 },
  ])
  t.ok(await until(() => samples.length === 3))
  t.same(samples, [
    { signal: 'filler1/good_count', timestamp: ts + 1000, value: 101, quality: 'good' },
    { signal: 'filler1/fill_weight', timestamp: ts + 1000, value: 499.9, quality: 'uncertain', reason: 'the device reports Sparkplug quality STALE (500)' },
    { signal: 'filler1/good_count', timestamp: ts - 60_000, value: 97, quality: 'uncertain', reason: 'historical value (store-and-forward)' },
  ], 'aliases resolve through the birth; a historical value keeps its own timestamp')

  samples.length = 0
  await device.publish('DDEATH', [])
  t.ok(await until(() => samples.length === 4))
  t.ok(samples.every((s) => s.quality === 'bad' && s.value === null && s.reason === 'device offline'), 'DDEATH: every signal Bad, device offline')
  t.equal(c.status().connected, false)

  await device.publish('DBIRTH', fillerBirth(ts + 2000))
  t.ok(await until(() => c.status().connected), 'a new DBIRTH brings it back')
  samples.length = 0
  await device.client.publishAsync(`spBv1.0/${GROUP}/NDEATH/${EDGE}`, deathPayload(7))
  await pause(100)
  t.same(samples, [], 'an NDEATH whose bdSeq is not the current birth is ignored')
  t.equal(c.status().bdSeq, 0)

  // Cut the device's socket: the broker publishes its will, the NDEATH with the birth's bdSeq.
  ;(device.client as unknown as { stream: { destroy(): void } }).stream.destroy()
  t.ok(await until(() => samples.length === 4), 'the will arrives through the broker')
  t.ok(samples.every((s) => s.quality === 'bad' && s.reason === 'device offline'), 'NDEATH: every signal Bad, device offline')
  t.match(c.status(), { connected: false, bdSeq: null })
})

t.test('a seq gap, data before any birth and an alias no birth announced make the host ask for a rebirth, at most once per interval', async (t) => {
  const { broker, port } = await lineBroker(t)
  const { collector: c, samples } = collector(t, broker, { rebirthIntervalMs: 300 })
  await pause(350) // past the rate limit of the request the collector sends when it starts
  const device = await TahuDevice.connect(port)
  await device.publish('DDATA', [{ alias: 2, timestamp: Date.now(), type: 'Int64', value: 5 }], { seq: 17 })
  t.ok(await until(() => device.commands.length === 1), 'DATA before any NBIRTH: the device is asked for a rebirth')
  const command = device.commands[0]!
  t.equal(command.seq, undefined, 'an NCMD carries no seq (tck-id-payloads-ncmd-seq)')
  t.match(command.metrics, [{ name: REBIRTH, type: 'Boolean', value: true }])
  t.ok(Number(tahuBig(command.timestamp)) > Date.now() - 5000, 'with a timestamp')
  t.same(samples, [], 'nothing is taken from a session the host has not seen born')

  await device.nbirth()
  await device.publish('DBIRTH', fillerBirth(Date.now()))
  await device.publish('DDATA', [{ alias: 2, timestamp: Date.now(), type: 'Int64', value: 101 }])
  t.ok(await until(() => samples.length === 5))
  await pause(350)
  await device.publish('DDATA', [{ alias: 2, timestamp: Date.now(), type: 'Int64', value: 105 }], { seq: 6 })
  t.ok(await until(() => device.commands.length === 2), 'a seq gap (3 expected, 6 came): a rebirth request')
  t.ok(await until(() => samples.at(-1)?.value === 105), 'the values of the message after the gap are still taken')
  await device.publish('DDATA', [{ alias: 2, timestamp: Date.now(), type: 'Int64', value: 106 }], { seq: 9 })
  await pause(150)
  t.equal(device.commands.length, 2, 'a second gap right after is held back by the rate limit')
  await pause(200)
  await device.publish('DDATA', [{ alias: 99, timestamp: Date.now(), type: 'Int64', value: 1 }])
  t.ok(await until(() => device.commands.length === 3), 'an alias the DBIRTH did not announce: a rebirth request')
  t.equal(c.status().rebirthRequests, 4, 'at start, before the birth, for the gap, for the unknown alias')
  await device.client.endAsync()
})

t.test('a payload that does not decode becomes Bad samples with the decode error; the broker and collector stay up', async (t) => {
  const { broker, port } = await lineBroker(t)
  const { collector: c, samples } = collector(t, broker)
  const device = await TahuDevice.connect(port)
  await device.nbirth()
  await device.publish('DBIRTH', fillerBirth(Date.now()))
  t.ok(await until(() => samples.length === 4))
  samples.length = 0
  await device.raw('DDATA', Buffer.from('12050a', 'hex'))
  t.ok(await until(() => samples.length === 4))
  for (const s of samples) {
    t.match(s, { value: null, quality: 'bad', reason: `DDATA on spBv1.0/${GROUP}/DDATA/${EDGE}/${DEVICE} does not decode: Sparkplug payload: Payload.metrics[0]: length 5 runs past the end of its message (1 byte left) at byte 1` })
  }
  t.match(c.status().lastError, /does not decode/)
  samples.length = 0
  await device.publish('DDATA', [{ alias: 3, timestamp: Date.now(), type: 'Int32', value: 3 }])
  t.ok(await until(() => samples.length === 1), 'the next good message is taken')
  t.match(samples[0], { signal: 'filler1/reject_count', value: 3, quality: 'good' })
  t.ok(device.client.connected, 'the device stays connected')
  await device.client.endAsync()
})

t.test("without deviceId the edge node's own NBIRTH/NDATA metrics are the device; a missing or unsupported metric is Bad", async (t) => {
  const { broker, port } = await lineBroker(t)
  const { samples } = collector(t, broker, { deviceId: undefined, device: 'filler-node' })
  const device = await TahuDevice.connect(port)
  const ts = Date.now()
  await device.nbirth([
    { name: 'Status/State', alias: 11, timestamp: ts, type: 'String', value: 'IDLE' },
    { name: 'Counts/Good', alias: 12, timestamp: ts, type: 'UInt64', value: '18446744073709551615' },
    { name: 'Quality/FillWeight', alias: 14, timestamp: ts, type: 'DataSet', value: { numOfColumns: 1, columns: ['g'], types: ['Double'], rows: [[1.5]] } },
  ])
  t.ok(await until(() => samples.length === 4))
  t.same(samples, [
    { signal: 'filler-node/state', timestamp: ts, value: 'IDLE', quality: 'good' },
    { signal: 'filler-node/good_count', timestamp: ts, value: '18446744073709551615', quality: 'good' },
    { signal: 'filler-node/fill_weight', timestamp: ts, value: null, quality: 'bad', reason: 'DataSet metrics are not collected' },
    { signal: 'filler-node/reject_count', timestamp: samples[3]!.timestamp, value: null, quality: 'bad', reason: "metric 'Counts/Reject' is not in the NBIRTH" },
  ], 'a UInt64 beyond 2^53 stays exact as text')
  samples.length = 0
  await device.publish('NDATA', [{ alias: 11, timestamp: ts + 1, type: 'String', value: 'RUNNING' }], { device: false })
  await device.publish('DDATA', [{ alias: 2, timestamp: ts + 1, type: 'Int64', value: 1 }])
  t.ok(await until(() => samples.length === 1))
  await pause(50)
  t.same(samples, [{ signal: 'filler-node/state', timestamp: ts + 1, value: 'RUNNING', quality: 'good' }], 'NDATA is taken, a device DDATA is not this collector’s')
  await device.client.endAsync()
})
