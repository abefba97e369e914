// build(config): the gateway's parts wired together, without listening — what tests and main.ts both use.
import { join } from 'node:path'
import pino, { type Logger } from 'pino'
import type { Clock, Ids } from './core/ports.ts'
import { Accounts, accountOptions } from './api/auth.ts'
import { buildApi } from './api/app.ts'
import { LiveFeed, type LiveOptions } from './api/routes/live.ts'
import type { GatewayConfig } from './config.ts'
import { createErpPush, erpNamespace } from './erp/index.ts'
import { systemClock, uuidv7Ids } from './store/ids.ts'
import { ConnectivityBoard } from './connectivity/status.ts'
import { Historian } from './historian/historian.ts'
import { LineStore } from './store/line-store.ts'
import { LineQueries } from './store/queries.ts'
import { SyncPusher } from './sync/pusher.ts'
import { backupRoutes } from './api/routes/backups.ts'
import { BackupSchedule } from './store/backup-schedule.ts'
import { holdDataDir, ownedMessage, runningGateway } from './store/data-dir-lock.ts'
import { ShapeFollower } from './sync/shape-follower.ts'
import { createGatewayHealth } from './health/index.ts'

export const version = '0.1.0'

export interface GatewayParts {
  clock?: Clock
  ids?: Ids
  logger?: Logger
  /** The HMI's live stream: heartbeat, replay and client limits. */
  live?: LiveOptions
}

export function buildGateway(config: GatewayConfig, parts: GatewayParts = {}) {
  const clock = parts.clock ?? systemClock
  const ids = parts.ids ?? uuidv7Ids(clock)
  const logger = parts.logger ?? pino({ level: config.log.level, redact: ['req.headers.authorization', '*.password', '*.token', '*.authorization'] })
  const storeLog = logger.child({ module: 'store' })
  const store = new LineStore({ file: join(config.dataDir, 'takt.db'), clock, ids, checkpoints: 'worker', sync: 'after-commit', checkpointer: { onError: (message) => storeLog.error(message) } })
  // Offline tools (takt restore, takt import) refuse to write under a running gateway: it says here that it runs.
  const tool = runningGateway(config.dataDir)
  if (tool && tool.role !== undefined && tool.role !== 'gateway') {
    store.close()
    throw new Error(ownedMessage(config.dataDir, tool))
  }
  const releaseDataDir = holdDataDir(config.dataDir, clock.now())
  if (store.db.preMigrationBackup) storeLog.info({ file: store.db.preMigrationBackup }, 'backed up the database before migrating it')
  const accounts = new Accounts(store.db.sqlite, config.sessionTtlMinutes * 60_000, accountOptions(config))
  if (config.adminToken && accounts.ensureBootstrapToken(config.adminToken, clock.now(), ids.next())) {
    logger.info('provisioned the bootstrap admin API token from TAKT_ADMIN_TOKEN')
  }
  // A deactivated person or a changed role takes effect at the next request, not after the cache expires.
  store.onRecorded((events) => {
    if (events.some((e) => e.type === 'PersonDefined')) accounts.forgetRecent()
  })
  const queries = new LineQueries(store.db.sqlite)
  // Telemetry lives in its own file so that it can never slow or endanger an as-built write.
  const historian = new Historian({ file: join(config.dataDir, 'historian.db'), rawRetentionMs: config.historian.rawRetentionDays * 86400_000, ackWindowMs: config.historian.ackWindowMs })
  const connectivity = new ConnectivityBoard()
  // System health and the disk guard (edge/health): the guard's flag is tested before each command; main.ts starts the timers.
  const health = createGatewayHealth(store, historian, { dataDir: config.dataDir, version, ...config.disk, sampleIntervalMs: config.system.sampleIntervalMs, cloudOrigin: config.sync ? new URL(config.sync.url).origin : null }, logger)
  const live = new LiveFeed({ store, accounts, clock }, parts.live)
  // ERP: B2MML in; performance out through a durable outbox when erp.push is set (started by main.ts once listening).
  const erpLog = logger.child({ module: 'erp' })
  const defaultNamespace = erpNamespace(config.erp.defaultVersion)
  const erpPush = config.erp.push ? createErpPush(store, { gatewayId: config.gatewayId, defaultNamespace, push: config.erp.push, clock, logger: erpLog }) : null
  // Upstream sync: the event log is the outbox; the pusher starts once the gateway listens (main.ts).
  const sync = config.sync ? new SyncPusher(store.db.sqlite, clock, { ...config.sync, gatewayId: config.gatewayId }, logger.child({ module: 'sync' })) : null
  if (sync) store.onRecorded(sync.onRecorded)
  // Downstream: the line's orders and master data from the cloud, followed once the gateway listens (main.ts).
  const s = config.sync
  const downstream = s?.lineId ? new ShapeFollower(store, clock, { url: s.url, token: s.token, lineId: s.lineId, minBackoffMs: s.minBackoffMs, maxBackoffMs: s.maxBackoffMs }, logger.child({ module: 'downstream' })) : null
  const erp = { maxDocumentBytes: config.erp.maxDocumentBytes ?? config.http.maxBodyBytes, gatewayId: config.gatewayId, defaultNamespace, outbox: erpPush && { box: erpPush.outbox, wake: () => erpPush.pusher.wake() }, logger: erpLog }
  const app = buildApi({ store, queries, accounts, clock, ids, historian, connectivity, live }, {
    maxBodyBytes: config.http.maxBodyBytes,
    version,
    logger: logger.child({ module: 'api' }),
    erp,
    loginLimit: { maxFailures: config.http.loginLimit.maxFailures, windowMs: config.http.loginLimit.windowSeconds * 1000 },
    health: { system: () => health.system.snapshot(), metrics: health.metrics },
  })
  // Backups every backup.intervalHours (started by main.ts once listening) and on demand by an administrator.
  const historianFile = join(config.dataDir, 'historian.db')
  const backups = new BackupSchedule({ ...config.backup, dir: config.backup.dir ?? join(config.dataDir, 'backups'), mes: store.db.sqlite, historianFile, clock, logger: logger.child({ module: 'backup' }) })
  backupRoutes(app, { backupNow: () => backups.backupNow() })
  const close = () => {
    live.close()
    historian.close()
    store.close()
    releaseDataDir()
  }
  return { app, store, queries, accounts, historian, connectivity, live, erpPush, sync, downstream, backups, health, logger, close }
}

export type Gateway = ReturnType<typeof buildGateway>
