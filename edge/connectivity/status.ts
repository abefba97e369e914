// What the gateway's connectivity reports about itself: each device's collector, the bridge, the Sparkplug edge node.
import type { CollectorStatus } from './collector.ts'
import type { SyncStatus } from '../sync/pusher.ts'

export interface ConnectivityStatus {
  devices: Array<CollectorStatus & { protocol: string; workCenterId: string }>
  bridge: Record<string, unknown> | null
  sparkplug: Record<string, unknown> | null
  /** Upstream cloud sync (edge/sync): backlog, lag, state; absent when sync is not configured. */
  sync?: SyncStatus
}

/** Filled in by the connectivity once it runs; empty before (and in gateways built without it). */
export class ConnectivityBoard {
  #read: () => ConnectivityStatus = () => ({ devices: [], bridge: null, sparkplug: null })

  #sync: (() => SyncStatus) | null = null

  report(read: () => ConnectivityStatus): void {
    this.#read = read
  }

  /** The cloud sync pusher reports apart from the line's connectivity, which may start and stop on its own. */
  reportSync(read: () => SyncStatus): void {
    this.#sync = read
  }

  current(): ConnectivityStatus {
    const status = this.#read()
    return this.#sync ? { ...status, sync: this.#sync() } : status
  }
}
