// The gateway's composition root: configuration, logger, HTTP listener, signals, shutdown in reverse start order.
import { serve, type ServerType } from '@hono/node-server'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { httpTlsOn, loadTls, secretsReadableByOthers, type TlsMaterial } from './api/tls.ts'
import { ConfigError, loadConfig, type GatewayConfig } from './config.ts'
import { startConnectivity, type LineConnectivity } from './connectivity/line-connectivity.ts'
import { buildGateway, type Gateway, type GatewayParts } from './gateway.ts'
import { HealthUnsPublisher } from './health/index.ts'

export interface RunningGateway {
  gateway: Gateway
  config: GatewayConfig
  connectivity: LineConnectivity
  port: number
  /** `https` when http.tls is on (edge/api/tls.ts). */
  scheme: 'http' | 'https'
  stop(): Promise<void>
}

function listen(server: ServerType): Promise<number> {
  return new Promise((resolveListen, rejectListen) => {
    server.once('error', rejectListen)
    server.once('listening', () => resolveListen((server.address() as AddressInfo).port))
  })
}

export async function startGateway(config: GatewayConfig, parts: GatewayParts = {}): Promise<RunningGateway> {
  const gateway = buildGateway(config, parts)
  let connectivity: LineConnectivity
  let tls: TlsMaterial | null = null
  // Requests whose handlers are still running: one whose client went away goes on (a login in its
  // password check, say) and must finish before the stop closes what it uses.
  let handling = 0
  try {
    if (httpTlsOn(config.http.tls, config.http.host)) tls = await loadTls(typeof config.http.tls === 'object' ? config.http.tls : 'self-signed', config.dataDir, config.gatewayId, [config.http.host])
    // While requests are being handled, device telemetry takes less of each turn of the event loop.
    connectivity = await startConnectivity(gateway, config, () => handling > 0)
  } catch (error) {
    gateway.close()
    throw error
  }
  let handled: (() => void) | null = null
  const fetch: typeof gateway.app.fetch = async (...args) => {
    handling += 1
    try {
      return await gateway.app.fetch(...args)
    } finally {
      handling -= 1
      if (handling === 0) handled?.()
    }
  }
  const server = tls
    ? serve({ fetch, hostname: config.http.host, port: config.http.port, createServer: createHttpsServer, serverOptions: { cert: tls.cert, key: tls.key } })
    : serve({ fetch, hostname: config.http.host, port: config.http.port })
  let port: number
  try {
    port = await listen(server)
  } catch (error) {
    await connectivity.stop()
    gateway.close()
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') throw new ConfigError([`http.port: port ${config.http.port} is already in use; set TAKT_HTTP_PORT to a free port`])
    throw error
  }
  const scheme = tls ? 'https' : 'http'
  gateway.logger.info({ host: config.http.host, port, scheme, mqtt: connectivity.ports.mqtt, dataDir: config.dataDir, config: config.source }, 'gateway listening')
  // The fingerprint is what a technician compares when a browser first meets a self-signed certificate.
  if (tls) gateway.logger.info({ certFile: tls.certFile, fingerprint256: tls.fingerprint256, selfSigned: tls.selfSigned, validTo: tls.validTo }, 'HTTPS certificate')
  const secrets = [config.sync?.token, config.erp.push?.authorization, config.bridge?.password, config.sparkplug?.password, ...config.devices.map((d) => d.password)]
  if (config.source !== '(defaults and environment)' && secretsReadableByOthers(config.source, secrets)) {
    gateway.logger.warn({ file: config.source }, 'the configuration file holds a secret and its group or others may read it: chmod 600 it, or give the secret as an environment variable')
  }
  // The ERP outbox delivers once the gateway is up; only the endpoint's origin is logged (no path, query or credentials).
  if (gateway.erpPush && config.erp.push) {
    gateway.erpPush.start()
    gateway.logger.info({ erpPush: new URL(config.erp.push.url).origin }, 'ERP outbox delivering')
  }
  // Cloud sync pushes once the gateway is up; its status joins the connectivity report. Only the cloud's origin is logged.
  if (gateway.sync && config.sync) {
    const sync = gateway.sync
    const downstream = gateway.downstream
    gateway.connectivity.reportSync(() => ({ ...sync.status(), downstream: downstream?.status() ?? null }))
    sync.start()
    downstream?.start()
    gateway.logger.info({ cloud: new URL(config.sync.url).origin, epoch: config.sync.epoch, lineId: config.sync.lineId }, 'cloud sync pushing')
  }
  gateway.backups.start()
  // System health: the disk guard's timer, the sampler, and the retained health topic of each line on the UNS (at once when the guard changes state).
  gateway.health.start()
  const healthUns = new HealthUnsPublisher(connectivity.broker, gateway.store.view, gateway.store.db.sqlite, gateway.health.body, (error) => gateway.logger.warn({ err: String(error) }, 'UNS health publish failed'), { intervalMs: config.system.sampleIntervalMs })
  // The first retained health carries the figures: it goes out once the sampler has read them.
  let stopping = false
  let publishing = false
  void gateway.health.system.firstSample().then(() => {
    if (stopping) return
    publishing = true
    healthUns.start()
  })
  const unsubscribeHealth = gateway.health.onDiskState(() => {
    if (publishing) healthUns.publishNow()
  })
  // A line defined (or moved) while the gateway runs gets its retained health at once, not at the next interval.
  const unsubscribeLines = gateway.store.onRecorded((events) => {
    if (publishing && events.some((e) => e.type === 'EquipmentDefined')) healthUns.publishNow()
  })
  // Shut down in reverse start order: HTTP, connectivity (collectors, bridge, broker, historian), the MES database.
  const stop = async () => {
    // Each step named, so that a stop that takes long says where it waits.
    let step = 'HTTP'
    const slow = setInterval(() => gateway.logger.warn({ step }, 'the gateway is still stopping'), 10_000)
    slow.unref()
    const run = async (name: string, work: () => Promise<void> | void) => {
      step = name
      await work()
    }
    // Live streams first: the server closes only once no response is still open.
    gateway.live.close()
    // Requests still being answered get a few seconds; then their connections are cut, so a client that never finishes cannot hold the stop.
    const cut = setTimeout(() => (server as { closeAllConnections?: () => void }).closeAllConnections?.(), 5000)
    cut.unref()
    await new Promise<void>((done) => {
      server.close(() => done())
      ;(server as { closeIdleConnections?: () => void }).closeIdleConnections?.()
    })
    clearTimeout(cut)
    // Handlers whose connection is already gone get a few more seconds.
    await run('HTTP handlers', () =>
      handling === 0
        ? undefined
        : new Promise<void>((done) => {
            handled = done
            setTimeout(done, 5000).unref()
          }),
    )
    await run('ERP push', () => gateway.erpPush?.stop())
    await run('downstream sync', () => gateway.downstream?.stop())
    await run('upstream sync', () => gateway.sync?.stop())
    stopping = true
    unsubscribeHealth()
    unsubscribeLines()
    healthUns.stop()
    await run('system health', () => gateway.health.stop())
    await run('connectivity', () => connectivity.stop())
    // A backup under way finishes before the databases close.
    await run('backups', () => gateway.backups.stop())
    clearInterval(slow)
    gateway.close()
    gateway.logger.info('gateway stopped')
  }
  return { gateway, config, connectivity, port, scheme, stop }
}

export async function runGateway(file: string | undefined): Promise<void> {
  let config: GatewayConfig
  try {
    config = loadConfig({ file })
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`takt edge: ${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
  let running: RunningGateway
  try {
    running = await startGateway(config)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`takt edge: ${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
  const shutdown = (signal: string) => {
    running.gateway.logger.info({ signal }, 'shutting down')
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}
