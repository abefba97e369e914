// The gateway's connectivity, started and stopped as one: broker, Unified Namespace, bridge, collectors, signal rules, historian.
import { join } from 'node:path'
import { createServer as createTlsServer } from 'node:tls'
import type { GatewayConfig } from '../config.ts'
import { ConfigError } from '../config.ts'
import { loadTls } from '../api/tls.ts'
import type { Gateway } from '../gateway.ts'
import type { Historian, Sample } from '../historian/historian.ts'
import { EnterpriseBridge } from './bridge.ts'
import { LineBroker } from './broker.ts'
import { sqlitePersistence } from './broker-persistence.ts'
import type { RequestsWaiting } from './packet-guard.ts'
import type { Collector } from './collector.ts'
import { ModbusCollector } from './modbus/collector.ts'
import { MqttJsonCollector } from './mqtt-json.ts'
import { LineMetrics, lineMetricsNow } from './line-metrics.ts'
import { SignalRules } from './signal-rules.ts'
import { SparkplugDeviceCollector, SparkplugEdgeNode } from './sparkplug/index.ts'
import { topicMatches } from './topic-acl.ts'
import { UnsPublisher } from './uns.ts'
import { OeeUnsPublisher } from './uns-oee.ts'

/** Longest the gateway waits for one collector to stop. */
const collectorStopMs = 8000

export interface LineConnectivity {
  broker: LineBroker
  historian: Historian
  collectors: Collector[]
  bridge: EnterpriseBridge | null
  edgeNode: SparkplugEdgeNode | null
  ports: { mqtt: number; websocket: number | null; tls: number | null }
  stop(): Promise<void>
}

async function listenOrExplain<T>(what: string, variable: string, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new ConfigError([`${what}: the port is already in use; set ${variable} to a free port`])
    throw error
  }
}

/** `requestsWaiting`: whether the HTTP server is handling operators' requests, which then go before device telemetry on the event loop. */
export async function startConnectivity(gateway: Gateway, config: GatewayConfig, requestsWaiting: RequestsWaiting = () => false): Promise<LineConnectivity> {
  const log = gateway.logger.child({ module: 'connectivity' })
  const historian = gateway.historian
  const broker = await LineBroker.start({
    accounts: config.mqtt.accounts.map((a) => ({ ...a })),
    logger: log.child({ part: 'broker' }),
    maxClients: config.mqtt.maxClients,
    maxPacketBytes: config.mqtt.maxPacketBytes,
    maxMessagesPerSecond: config.mqtt.maxMessagesPerSecond,
    persistence: sqlitePersistence(join(config.dataDir, 'broker.db')),
    requestsWaiting,
  })
  const stopped: Array<() => Promise<void> | void> = [() => historian.flush(), () => broker.close()]
  const stopAll = async () => {
    for (const stop of stopped.reverse()) await stop()
  }
  try {
    const mqtt = await listenOrExplain('mqtt.port', 'TAKT_MQTT_PORT', () => broker.listenTcp(config.mqtt.port, config.mqtt.host))
    const websocket = config.mqtt.websocketPort === null ? null : await listenOrExplain('mqtt.websocketPort', 'mqtt.websocketPort', () => broker.listenWebSocket(config.mqtt.websocketPort!, config.mqtt.host))
    let tls: number | null = null
    if (config.mqtt.tls) {
      const { port, certFile, keyFile } = config.mqtt.tls
      // The same certificate maker, folder and key-file check as HTTPS: one self-signed certificate per gateway.
      const material = await loadTls(certFile && keyFile ? { certFile, keyFile } : 'self-signed', config.dataDir, config.gatewayId, [config.mqtt.host], 'mqtt.tls')
      const server = createTlsServer({ cert: material.cert, key: material.key })
      log.info({ certFile: material.certFile, fingerprint256: material.fingerprint256, selfSigned: material.selfSigned }, 'MQTT over TLS certificate')
      tls = await listenOrExplain('mqtt.tls.port', 'mqtt.tls.port', () => broker.listenServer(server, port, config.mqtt.host))
    }

    const uns = new UnsPublisher(broker, gateway.store.view, gateway.queries, () => new Date(), (error) => log.warn({ err: String(error) }, 'UNS publish failed'))
    const unsubscribe = gateway.store.onRecorded((events) => uns.publishRecorded(events))
    stopped.push(() => {
      unsubscribe()
      uns.stop()
    })
    const unsOee = new OeeUnsPublisher(broker, gateway.store.view, gateway.store.db.sqlite, () => new Date(), (error) => log.warn({ err: String(error) }, 'UNS OEE publish failed'))
    const unsubscribeOee = gateway.store.onRecorded((events) => unsOee.publishRecorded(events))
    stopped.push(() => {
      unsubscribeOee()
      unsOee.stop()
    })

    let bridge: EnterpriseBridge | null = null
    if (config.bridge) {
      const b = new EnterpriseBridge({ ...config.bridge, clientId: `takt-${config.gatewayId}`, outboxFile: join(config.dataDir, 'bridge-outbox.db'), logger: log.child({ part: 'bridge' }) })
      bridge = b
      const topics = config.bridge.topics
      const forward = (packet: { topic: string; payload: Buffer | string; retain: boolean }, cb: () => void) => {
        if (!packet.topic.startsWith('$') && topics.some((t) => topicMatches(t, packet.topic))) b.forward(packet.topic, Buffer.from(packet.payload), packet.retain)
        cb()
      }
      broker.aedes.subscribe('#', forward, () => {})
      stopped.push(() => b.close())
    }

    let edgeNode: SparkplugEdgeNode | null = null
    if (config.sparkplug) {
      const node = new SparkplugEdgeNode({ ...config.sparkplug, stateFile: join(config.dataDir, 'sparkplug.db'), logger: log.child({ part: 'sparkplug' }) })
      edgeNode = node
      const metrics = lineMetricsNow(gateway.store.db.sqlite)
      const feed = new LineMetrics(metrics)
      node.update(metrics)
      const unsubscribeMetrics = gateway.store.onRecorded((events) => node.update(feed.updates(events)))
      stopped.push(async () => {
        unsubscribeMetrics()
        await node.close()
      })
      await node.start()
    }

    const bindings = config.devices.map((d) => ({ device: d.name, workCenterId: d.workCenterId, profile: config.profiles[d.name]! }))
    const rules = new SignalRules(gateway.store, bindings, (error) => log.warn({ err: String(error) }, 'signal rule failed'))
    const sink = (samples: Sample[]) => {
      historian.record(samples)
      rules.handle(samples)
      return historian.acknowledgement()
    }
    const collectors: Collector[] = []
    for (const device of config.devices) {
      const profile = config.profiles[device.name]!
      if (profile.protocol === 'modbus') collectors.push(new ModbusCollector({ device: device.name, host: device.host, port: device.port, unitId: device.unitId, serial: device.serial }, profile, sink, log))
      else if (profile.protocol === 'mqtt-json') collectors.push(new MqttJsonCollector(device.name, broker, profile, sink))
      else if (profile.protocol === 'opcua') {
        // node-opcua costs about 90 MiB: loaded only when a line has an OPC UA machine.
        const { OpcUaCollector } = await import('./opcua/index.ts')
        const user = device.username !== undefined ? { username: device.username, password: device.password! } : {}
        collectors.push(new OpcUaCollector({ device: device.name, endpoint: device.endpoint!, ...user, pkiDir: join(config.dataDir, 'opcua-pki'), profile, sink, logger: log.child({ device: device.name }) }))
      } else if (profile.protocol === 'sparkplug') collectors.push(new SparkplugDeviceCollector({ device: device.name, broker, ...device.sparkplug!, profile, sink, logger: log.child({ device: device.name }) }))
    }
    for (const c of collectors) c.start()
    const bindingOf = new Map(config.devices.map((d) => [d.name, d]))
    gateway.connectivity.report(() => ({
      devices: collectors.map((c) => ({ ...c.status(), protocol: config.profiles[c.device]!.protocol, workCenterId: bindingOf.get(c.device)!.workCenterId })),
      bridge: bridge ? { ...bridge.status() } : null,
      sparkplug: edgeNode ? { ...edgeNode.status() } : null,
    }))
    // Together, each given a bound: a client caught mid-handshake (an OPC UA session being secured) must not hold the gateway's stop.
    stopped.push(async () => {
      await Promise.all(
        collectors.map(async (c) => {
          let timer: NodeJS.Timeout | undefined
          const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), collectorStopMs)))
          const outcome = await Promise.race([c.stop().then(() => 'stopped' as const), late])
          clearTimeout(timer)
          if (outcome === 'late') log.warn({ device: c.device, waitedMs: collectorStopMs }, 'a collector did not stop in time; the gateway stops without it')
        }),
      )
    })
    log.info({ mqtt, websocket, tls, devices: collectors.length, bridge: config.bridge?.url ?? null }, 'connectivity started')
    return { broker, historian, collectors, bridge, edgeNode, ports: { mqtt, websocket, tls }, stop: stopAll }
  } catch (error) {
    await stopAll()
    throw error
  }
}
