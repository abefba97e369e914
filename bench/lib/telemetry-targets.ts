// The three places the telemetry bench's publisher sends to — the gateway, Mosquitto relaying to a counting subscriber, Mosquitto feeding Node-RED — each able to say when a run's last sample arrived.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { countRows, historianSamples, rowsOf, spawnNodeScript, waitForRows, type Child, type SampleCount } from './telemetry-children.ts'
import { telemetryTopic, type TelemetryGateway } from './telemetry-gateway.ts'
import { startMosquitto } from './telemetry-mosquitto.ts'
import { startNodeRed } from './telemetry-node-red.ts'
import { payloadOf } from './telemetry-publisher.ts'
import { publishPacket, WireConnection } from './telemetry-wire.ts'

export interface Target {
  name: string
  /** Where the publisher connects. */
  port: number
  /** The processes whose CPU time the run costs, and the one whose memory is reported. */
  pids: number[]
  rssPid: number
  /** Call before publishing: resolves with the wall-clock ms at which `samples` more samples have arrived. */
  arrival(samples: number): Promise<() => Promise<number>>
  stop(): Promise<void>
}

export interface TargetSetup {
  dir: string
  devices: string[]
  readerName: string
  password: string
  samplesPerMessage: number
}

/** Samples already in a store, 0 while it does not exist yet. */
function rowsNow(file: string, counted: SampleCount): number {
  try {
    return countRows(file, counted)
  } catch {
    return 0
  }
}

/** A target whose samples end up in a SQLite file. */
function storeArrival(file: string, counted: SampleCount): (samples: number) => Promise<() => Promise<number>> {
  return async (samples) => {
    const base = rowsNow(file, counted)
    return async () => (await waitForRows(file, counted, base + samples, 300_000)).at
  }
}

export function gatewayTarget(gw: TelemetryGateway): Target {
  return { name: 'gateway', port: gw.mqttPort, pids: [gw.pid], rssPid: gw.pid, arrival: storeArrival(gw.historianFile, historianSamples), stop: async () => void (await gw.stop()) }
}

/**
 * Mosquitto relaying to one QoS 1 subscriber that counts. The subscriber reports when its count
 * reaches each of `marks` (cumulative message counts of the runs to come, known in advance).
 */
export async function relayTarget(s: TargetSetup, marks: number[]): Promise<Target & { version: string }> {
  const dir = join(s.dir, 'relay')
  mkdirSync(dir)
  const mosquitto = await startMosquitto({ dir, devices: s.devices, readers: [s.readerName], password: s.password })
  let subscriber: Child
  try {
    subscriber = spawnNodeScript('subscriber', 'bench/lib/telemetry-subscriber.ts', { host: '127.0.0.1', port: mosquitto.port, clientId: s.readerName, username: s.readerName, password: s.password, filter: 'devices/#', marks })
    await subscriber.line((v) => v.ready === true, 10_000)
  } catch (error) {
    await mosquitto.stop()
    throw error
  }
  let expected = 0
  return {
    name: 'mosquitto',
    version: mosquitto.version,
    port: mosquitto.port,
    pids: [mosquitto.pid, subscriber.pid],
    rssPid: mosquitto.pid,
    async arrival(samples) {
      expected += samples / s.samplesPerMessage
      const mark = expected
      return async () => (await subscriber.line<{ at: number }>((v) => Number(v.received) >= mark, 300_000)).at
    },
    async stop() {
      await subscriber.stop()
      await mosquitto.stop()
    },
  }
}

/** Publishes one message at a time until the flow's store holds a row: its subscription is then in place. */
async function probeUntilStored(port: number, s: TargetSetup, file: string): Promise<void> {
  const device = s.devices[0]!
  const conn = await WireConnection.open({ host: '127.0.0.1', port, clientId: `${device}-probe`, username: device, password: s.password })
  const topic = Buffer.concat([Buffer.from([0, Buffer.byteLength(telemetryTopic(device))]), Buffer.from(telemetryTopic(device))])
  try {
    for (let i = 1; i <= 100; i++) {
      conn.socket.write(publishPacket(topic, payloadOf(-i * 100, s.samplesPerMessage), i))
      await new Promise((r) => setTimeout(r, 200))
      if (rowsNow(file, rowsOf('samples')) > 0) return
    }
    throw new Error(`nothing reached ${file} in 20 s`)
  } finally {
    conn.close()
  }
}

/** Node-RED's flow, fed by a Mosquitto of its own (so the relay's subscriber and the flow never share a broker). */
export async function nodeRedTarget(s: TargetSetup): Promise<Target & { description: string }> {
  const dir = join(s.dir, 'node-red')
  mkdirSync(dir)
  const mosquitto = await startMosquitto({ dir, devices: s.devices, readers: [s.readerName], password: s.password })
  try {
    const red = await startNodeRed({ dir, mqttPort: mosquitto.port, username: s.readerName, password: s.password, filter: 'devices/#' })
    try {
      await probeUntilStored(mosquitto.port, s, red.dbFile)
      // Let the probe's last rows land before the first run counts from here.
      await new Promise((r) => setTimeout(r, 500))
    } catch (error) {
      await red.stop()
      throw error
    }
    return {
      name: 'node-red',
      description: red.description,
      port: mosquitto.port,
      pids: [mosquitto.pid, red.pid],
      rssPid: red.pid,
      arrival: storeArrival(red.dbFile, rowsOf('samples')),
      async stop() {
        await red.stop()
        await mosquitto.stop()
      },
    }
  } catch (error) {
    await mosquitto.stop()
    throw error
  }
}
