// ERP integration (B2MML in, performance out): the public face for the composition root and the API.
import type { Logger } from 'pino'
import type { Clock } from '../core/ports.ts'
import type { LineStore } from '../store/line-store.ts'
import { namespaceForVersion, PerformanceExport } from './export.ts'
import { ErpOutbox } from './outbox.ts'
import { defaultPushOptions, ErpPusher, type PushOptions } from './pusher.ts'
import { ErpRecords } from './records.ts'

export { operationsNamespace, versionOf } from './b2mml.ts'
export { namespaceForVersion, PerformanceExport } from './export.ts'
export { receiveDocument } from './intake.ts'
export type { ErpOutbox } from './outbox.ts'
export type { ErpPusher } from './pusher.ts'

/** What `erp.push` configures: where performance documents go, and how delivery retries. */
export interface PushSettings extends Partial<Omit<PushOptions, 'url'>> {
  url: string
  /** Also push each completed operation (default), not only completed orders. */
  segments?: boolean
}

export interface ErpPush {
  outbox: ErpOutbox
  pusher: ErpPusher
  /** Starts delivering; call once the gateway listens. */
  start(): void
  /** Stops delivering (the attempt under way is aborted); pending documents stay for the next start. */
  stop(): Promise<void>
}

/** The namespace of a version label from the configuration (`V0700`, `V0600`, …); throws on a label that is none. */
export function erpNamespace(label: string): string {
  const ns = namespaceForVersion(label)
  if (!ns) throw new Error(`'${label}' is not a B2MML version (V0401 … V0699, or V0700 and later)`)
  return ns
}

/** The durable outbox and its pusher over the gateway's store, not yet started. */
export function createErpPush(store: LineStore, o: { gatewayId: string; defaultNamespace: string; push: PushSettings; clock: Clock; logger: Logger }): ErpPush {
  const sqlite = store.db.sqlite
  const exporter = new PerformanceExport(sqlite, new ErpRecords(sqlite), { gatewayId: o.gatewayId, defaultNamespace: o.defaultNamespace })
  const outbox = new ErpOutbox(sqlite, exporter, {
    gatewayId: o.gatewayId,
    segments: o.push.segments ?? true,
    clock: o.clock,
    onSkipped: (reason) => o.logger.warn({ reason }, 'ERP outbox: a document was skipped'),
  })
  const { segments: _segments, ...delivery } = o.push
  const pusher = new ErpPusher(outbox, o.clock, { ...defaultPushOptions, authorization: null, ...delivery }, o.logger)
  let unsubscribe: (() => void) | null = null
  return {
    outbox,
    pusher,
    start() {
      unsubscribe ??= store.onRecorded(pusher.onRecorded)
      pusher.start()
    },
    async stop() {
      unsubscribe?.()
      unsubscribe = null
      await pusher.stop()
    },
  }
}
