// Test plumbing for the host: the embedded LineBroker with a Sparkplug device account, the Sparkplug profile, and a device played by mqtt.js + Tahu.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import pino from 'pino'
import { checkProfileFile } from '../../../../hardware-profiles/load.ts'
import { hashPassword } from '../../../api/passwords.ts'
import type { Sample } from '../../../historian/historian.ts'
import { LineBroker } from '../../broker.ts'
import { SparkplugDeviceCollector, type SparkplugDeviceCollectorOptions, type SparkplugProfile } from '../host.ts'
import { tahu, type TahuMetric, type TahuPayload } from './tahu.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..')
export const GROUP = 'Line1'
export const EDGE = 'filler-gw'
export const DEVICE = 'filler1'

export function sparkplugProfile(): SparkplugProfile {
  const result = checkProfileFile(join(root, 'hardware-profiles/sparkplug-b-device.yaml'))
  if (!result.ok || result.profile.protocol !== 'sparkplug') throw new Error('hardware-profiles/sparkplug-b-device.yaml is not a sparkplug profile')
  return result.profile
}

/** A LineBroker on port 0 whose device account may publish its edge node's Sparkplug topics and read its commands. */
export async function lineBroker(t: { teardown(fn: () => unknown): void }) {
  const broker = await LineBroker.start({
    logger: pino({ level: 'silent' }),
    accounts: [
      {
        username: 'filler-gw',
        passwordHash: await hashPassword('filler-secret'),
        publish: [`spBv1.0/${GROUP}/+/${EDGE}/#`],
        subscribe: [`spBv1.0/${GROUP}/NCMD/${EDGE}`, `spBv1.0/${GROUP}/DCMD/${EDGE}/#`],
      },
    ],
  })
  const port = await broker.listenTcp(0, '127.0.0.1')
  t.teardown(() => broker.close())
  return { broker, port }
}

export function collector(t: { teardown(fn: () => unknown): void }, broker: LineBroker, overrides: Partial<SparkplugDeviceCollectorOptions> = {}) {
  const samples: Sample[] = []
  const c = new SparkplugDeviceCollector({
    device: 'filler1',
    broker,
    groupId: GROUP,
    edgeNodeId: EDGE,
    deviceId: DEVICE,
    profile: sparkplugProfile(),
    sink: (batch) => {
      samples.push(...batch)
    },
    logger: pino({ level: 'silent' }),
    rebirthIntervalMs: 100,
    ...overrides,
  })
  c.start()
  t.teardown(() => c.stop())
  return { collector: c, samples }
}

export const deathPayload = (bdSeq: number) => Buffer.from(tahu.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'bdSeq', type: 'Int64', value: bdSeq }] }))

/** A Sparkplug device on mqtt.js, encoding with Tahu, that counts its own seq. */
export class TahuDevice {
  readonly client: mqtt.MqttClient
  readonly commands: TahuPayload[] = []
  bdSeq: number
  seq = -1

  private constructor(client: mqtt.MqttClient, bdSeq: number) {
    this.client = client
    this.bdSeq = bdSeq
    client.on('message', (_topic, payload) => this.commands.push(tahu.decodePayload(payload)))
  }

  static async connect(port: number, bdSeq = 0): Promise<TahuDevice> {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      clean: true,
      username: 'filler-gw',
      password: 'filler-secret',
      will: { topic: `spBv1.0/${GROUP}/NDEATH/${EDGE}`, payload: deathPayload(bdSeq), qos: 1, retain: false },
    })
    await client.subscribeAsync(`spBv1.0/${GROUP}/NCMD/${EDGE}`, { qos: 0 })
    return new TahuDevice(client, bdSeq)
  }

  #nextSeq(seq?: number): number {
    this.seq = seq ?? (this.seq + 1) % 256
    return this.seq
  }

  publish(type: string, metrics: TahuMetric[], options: { seq?: number; device?: boolean } = {}): Promise<unknown> {
    const topic = options.device === false ? `spBv1.0/${GROUP}/${type}/${EDGE}` : `spBv1.0/${GROUP}/${type}/${EDGE}/${DEVICE}`
    const payload: TahuPayload = { timestamp: Date.now(), metrics, ...(type === 'NDEATH' ? {} : { seq: this.#nextSeq(options.seq) }) }
    return this.client.publishAsync(topic, Buffer.from(tahu.encodePayload(payload)), { qos: 0 })
  }

  nbirth(metrics: TahuMetric[] = []): Promise<unknown> {
    this.seq = -1
    const bd: TahuMetric[] = [{ name: 'bdSeq', type: 'Int64', value: this.bdSeq, timestamp: Date.now() }, { name: 'Node Control/Rebirth', type: 'Boolean', value: false, timestamp: Date.now() }]
    return this.publish('NBIRTH', [...bd, ...metrics], { device: false })
  }

  raw(type: string, bytes: Buffer): Promise<unknown> {
    this.#nextSeq()
    return this.client.publishAsync(`spBv1.0/${GROUP}/${type}/${EDGE}/${DEVICE}`, bytes, { qos: 0 })
  }
}

/** The DBIRTH of the filler in the sparkplug-b-device profile, plus a metric the profile does not map. */
export function fillerBirth(ts: number): TahuMetric[] {
  return [
    { name: 'Status/State', alias: 1, timestamp: ts, type: 'String', value: 'RUNNING' },
    { name: 'Counts/Good', alias: 2, timestamp: ts, type: 'Int64', value: 100 },
    { name: 'Counts/Reject', alias: 3, timestamp: ts, type: 'Int32', value: 2 },
    { name: 'Quality/FillWeight', alias: 4, timestamp: ts, type: 'Float', value: 500.3 },
    { name: 'Diagnostics/Temperature', alias: 5, timestamp: ts, type: 'Double', value: 41.5 },
  ]
}
