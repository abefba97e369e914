// The gateway's composition root: configuration, logger, HTTP listener, signals, shutdown in reverse start order.
import { serve, type ServerType } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import { ConfigError, loadConfig, type GatewayConfig } from './config.ts'
import { startConnectivity, type LineConnectivity } from './connectivity/line-connectivity.ts'
import { buildGateway, type Gateway, type GatewayParts } from './gateway.ts'

export interface RunningGateway {
  gateway: Gateway
  config: GatewayConfig
  connectivity: LineConnectivity
  port: number
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
  try {
    connectivity = await startConnectivity(gateway, config)
  } catch (error) {
    gateway.close()
    throw error
  }
  const server = serve({ fetch: gateway.app.fetch, hostname: config.http.host, port: config.http.port })
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
  gateway.logger.info({ host: config.http.host, port, mqtt: connectivity.ports.mqtt, dataDir: config.dataDir, config: config.source }, 'gateway listening')
  // The ERP outbox delivers once the gateway is up; only the endpoint's origin is logged (no path, query or credentials).
  if (gateway.erpPush && config.erp.push) {
    gateway.erpPush.start()
    gateway.logger.info({ erpPush: new URL(config.erp.push.url).origin }, 'ERP outbox delivering')
  }
  // Cloud sync pushes once the gateway is up; its status joins the connectivity report. Only the cloud's origin is logged.
  if (gateway.sync && config.sync) {
    const sync = gateway.sync
    gateway.connectivity.reportSync(() => sync.status())
    sync.start()
    gateway.logger.info({ cloud: new URL(config.sync.url).origin, epoch: config.sync.epoch }, 'cloud sync pushing')
  }
  // Shut down in reverse start order: HTTP, connectivity (collectors, bridge, broker, historian), the MES database.
  const stop = async () => {
    // Live streams first: the server closes only once no response is still open.
    gateway.live.close()
    await new Promise<void>((done) => server.close(() => done()))
    await gateway.erpPush?.stop()
    await gateway.sync?.stop()
    await connectivity.stop()
    gateway.close()
    gateway.logger.info('gateway stopped')
  }
  return { gateway, config, connectivity, port, stop }
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
