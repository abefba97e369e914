// What the gateway's connectivity reports about itself: each device's collector, the bridge, the Sparkplug edge node.
import type { CollectorStatus } from './collector.ts'

export interface ConnectivityStatus {
  devices: Array<CollectorStatus & { protocol: string; workCenterId: string }>
  bridge: Record<string, unknown> | null
  sparkplug: Record<string, unknown> | null
}

/** Filled in by the connectivity once it runs; empty before (and in gateways built without it). */
export class ConnectivityBoard {
  #read: () => ConnectivityStatus = () => ({ devices: [], bridge: null, sparkplug: null })

  report(read: () => ConnectivityStatus): void {
    this.#read = read
  }

  current(): ConnectivityStatus {
    return this.#read()
  }
}
