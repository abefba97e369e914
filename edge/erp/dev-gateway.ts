// A gateway with the ERP routes mounted in front of its app, for tests and the bench until edge/api/app.ts and edge/main.ts mount them.
import { serve, type ServerType } from '@hono/node-server'
import { OpenAPIHono } from '@hono/zod-openapi'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import { erpApi } from '../api/routes/erp.ts'
import { loadConfig, type GatewayConfig } from '../config.ts'
import { buildGateway, type Gateway } from '../gateway.ts'
import { systemClock, uuidv7Ids } from '../store/ids.ts'
import { operationsNamespace } from './b2mml.ts'
import { createErpPush, type PushSettings } from './index.ts'
import type { ErpOutbox } from './outbox.ts'
import type { ErpPusher } from './pusher.ts'

export interface ErpSettings {
  /** At most the gateway's http.maxBodyBytes. */
  maxDocumentBytes?: number
  defaultNamespace?: string
  push?: PushSettings | null
}

export interface ErpGateway {
  gateway: Gateway
  port: number
  url: string
  outbox: ErpOutbox | null
  pusher: ErpPusher | null
  stop(): Promise<void>
}

function listen(server: ServerType): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.once('listening', () => resolve((server.address() as AddressInfo).port))
  })
}

export async function startErpGateway(config: GatewayConfig, settings: ErpSettings = {}): Promise<ErpGateway> {
  const clock = systemClock
  const ids = uuidv7Ids(clock)
  const gateway = buildGateway(config, { clock, ids })
  const defaultNamespace = settings.defaultNamespace ?? operationsNamespace
  const push = settings.push ? createErpPush(gateway.store, { gatewayId: config.gatewayId, defaultNamespace, push: settings.push, clock, logger: gateway.logger.child({ module: 'erp-push' }) }) : null
  push?.start()
  const deps = { store: gateway.store, queries: gateway.queries, accounts: gateway.accounts, clock, ids, historian: gateway.historian, connectivity: gateway.connectivity }
  const maxDocumentBytes = Math.min(settings.maxDocumentBytes ?? config.http.maxBodyBytes, config.http.maxBodyBytes)
  const outbox = push && { box: push.outbox, wake: () => push.pusher.wake() }
  const front = new OpenAPIHono()
  front.route('/', erpApi(deps, { maxDocumentBytes, gatewayId: config.gatewayId, defaultNamespace, outbox, logger: gateway.logger.child({ module: 'erp' }) }))
  front.all('*', (c) => gateway.app.fetch(c.req.raw, c.env))
  const server = serve({ fetch: front.fetch, hostname: config.http.host, port: config.http.port })
  const port = await listen(server)
  return {
    gateway,
    port,
    url: `http://127.0.0.1:${port}`,
    outbox: push?.outbox ?? null,
    pusher: push?.pusher ?? null,
    async stop() {
      await new Promise<void>((done) => server.close(() => done()))
      await push?.stop()
      gateway.close()
    },
  }
}

// `node edge/erp/dev-gateway.ts [--config FILE]`: the bench runs the gateway this way, in its own process.
if (import.meta.main) {
  const { values } = parseArgs({ options: { config: { type: 'string' } } })
  const config = loadConfig({ file: values.config })
  const pushUrl = process.env.TAKT_ERP_PUSH_URL
  const running = await startErpGateway(config, { push: pushUrl ? { url: pushUrl } : null })
  running.gateway.logger.info({ port: running.port }, 'gateway with ERP routes listening')
  const shutdown = () => void running.stop().then(() => process.exit(0), () => process.exit(1))
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}
