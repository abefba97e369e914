// cloud-sync's composition root: configuration from the environment, the central database, the HTTP listener, signals, shutdown.
import { serve, type ServerType } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import { isAbsolute, resolve } from 'node:path'
import pino, { type Logger } from 'pino'
import { buildCloudApi } from './app.ts'
import { ensureAdminToken } from './credentials.ts'
import { openCloudDatabase, redactUrl, type CloudDatabase } from './database.ts'
import { ShapeNotifier } from './shapes.ts'

export const cloudVersion = '0.1.0'

export interface CloudConfig {
  dataDir: string
  host: string
  port: number
  databaseUrl: string | null
  adminToken: string | null
  logLevel: string
}

export const cloudHelp = `Usage: takt cloud

Runs cloud-sync, the central replica: gateways push their event logs to it (docs/cloud.md).
Configuration, from the environment:
  DATABASE_URL      postgres://… of the central PostgreSQL; without it, PGlite in TAKT_DATA_DIR
                    (demo and trial only: no fsync, it survives a killed process, not a power cut)
  TAKT_DATA_DIR     data directory for PGlite (default ./data-cloud)
  TAKT_HTTP_HOST    address the API listens on (default 127.0.0.1)
  TAKT_HTTP_PORT    HTTP port (default 8090; 0 picks a free port)
  TAKT_LOG_LEVEL    fatal|error|warn|info|debug|trace|silent (default info)
  TAKT_ADMIN_TOKEN  provisions an admin API token with this value (at least 24 characters)
`

export class CloudConfigError extends Error {}

export function cloudConfigFrom(env: NodeJS.ProcessEnv, cwd = process.cwd()): CloudConfig {
  const problems: string[] = []
  const portText = env.TAKT_HTTP_PORT || '8090'
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) problems.push(`TAKT_HTTP_PORT: '${portText}' is not a port number (0 to 65535)`)
  const databaseUrl = env.DATABASE_URL || null
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push(`DATABASE_URL: ${redactUrl(databaseUrl)} is not a postgres:// or postgresql:// URL`)
  const adminToken = env.TAKT_ADMIN_TOKEN || null
  if (adminToken !== null && adminToken.length < 24) problems.push('TAKT_ADMIN_TOKEN: must be at least 24 characters')
  const logLevel = env.TAKT_LOG_LEVEL || 'info'
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) problems.push(`TAKT_LOG_LEVEL: '${logLevel}' is not one of fatal|error|warn|info|debug|trace|silent`)
  if (problems.length > 0) throw new CloudConfigError(`the configuration is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  const dataDir = env.TAKT_DATA_DIR || './data-cloud'
  return { dataDir: isAbsolute(dataDir) ? dataDir : resolve(cwd, dataDir), host: env.TAKT_HTTP_HOST || '127.0.0.1', port: Number(portText), databaseUrl, adminToken, logLevel }
}

export interface RunningCloud {
  db: CloudDatabase
  port: number
  url: string
  logger: Logger
  stop(): Promise<void>
}

function listen(server: ServerType): Promise<number> {
  return new Promise((done, fail) => {
    server.once('error', fail)
    server.once('listening', () => done((server.address() as AddressInfo).port))
  })
}

export async function startCloud(config: CloudConfig, parts: { logger?: Logger; db?: CloudDatabase } = {}): Promise<RunningCloud> {
  const logger = parts.logger ?? pino({ level: config.logLevel, redact: ['req.headers.authorization', '*.token', '*.authorization'] })
  const db = parts.db ?? (await openCloudDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }))
  if (db.kind === 'pglite') logger.warn({ dataDir: config.dataDir }, 'central database: embedded PGlite, for demos and trials only (no fsync: it survives a killed process, not a power cut); set DATABASE_URL to a PostgreSQL server in production')
  if (config.adminToken && (await ensureAdminToken(db.orm, config.adminToken))) logger.info('provisioned the admin API token from TAKT_ADMIN_TOKEN')
  const notifier = new ShapeNotifier()
  const app = buildCloudApi(db, { version: cloudVersion, log: logger.child({ module: 'api' }), notifier })
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port })
  let port: number
  try {
    port = await listen(server)
  } catch (error) {
    if (!parts.db) await db.close()
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new CloudConfigError(`TAKT_HTTP_PORT: port ${config.port} is already in use`)
    throw error
  }
  logger.info({ host: config.host, port, database: db.kind === 'postgres' && config.databaseUrl ? redactUrl(config.databaseUrl) : 'pglite' }, 'cloud-sync listening')
  const stop = async () => {
    // Live shape requests answer now, before the database they read is closed.
    notifier.close()
    await new Promise<void>((done) => {
      server.close(() => done())
      // Keep-alive connections of pushers would hold the close open.
      ;(server as { closeAllConnections?: () => void }).closeAllConnections?.()
    })
    if (!parts.db) await db.close()
    logger.info('cloud-sync stopped')
  }
  return { db, port, url: `http://${config.host}:${port}`, logger, stop }
}

export async function runCloud(): Promise<void> {
  let running: RunningCloud
  try {
    running = await startCloud(cloudConfigFrom(process.env))
  } catch (error) {
    if (error instanceof CloudConfigError) {
      process.stderr.write(`takt cloud: ${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
  const shutdown = (signal: string) => {
    running.logger.info({ signal }, 'shutting down')
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}
