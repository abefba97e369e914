// The demo's ERP: a day of orders for the line, sent to the cloud, which streams them down to the gateway.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { demoBom, demoRouting } from '../demo-line.ts'

export interface OrderDefinition {
  id: string
  productId: string
  quantity: number
  serials: string[]
  bomId: string
  bomVersion: string
  routingId: string
  routingVersion: string
  lineId: string
  priority: number
  dueAt: string
  plannedStartAt: string
}

/** Orders a day holds: one an hour, round the clock as the plant works. */
export const ordersPerDay = 24
const hour = 3600_000

/**
 * Day `day` (0 the first) of the book that starts at `from`: the same arguments give the very same
 * definitions, so sending them again changes nothing in the cloud. Quantities vary between 40 and 90
 * brackets, about what the weld cell (the bottleneck, 45 s a part) makes in an hour.
 */
export function dayOfOrders(from: Date, day: number, lineId: string): OrderDefinition[] {
  const start = from.getTime() + day * 24 * hour
  const stamp = new Date(start).toISOString().slice(0, 10).replaceAll('-', '')
  let seed = (day + 1) * 2654435761
  const next = () => {
    seed = (seed * 1103515245 + 12345) >>> 0
    return seed / 2 ** 32
  }
  return Array.from({ length: ordersPerDay }, (_, i) => ({
    id: `PO-${stamp}-${String(i + 1).padStart(2, '0')}`,
    productId: demoRouting.productId,
    quantity: 40 + 10 * Math.floor(next() * 6),
    serials: [],
    bomId: demoBom.id,
    bomVersion: demoBom.version,
    routingId: demoRouting.id,
    routingVersion: demoRouting.version,
    lineId,
    priority: 500,
    plannedStartAt: new Date(start + i * hour).toISOString(),
    dueAt: new Date(start + (i + 1) * hour).toISOString(),
  }))
}

export interface LotDefinition {
  id: string
  materialId: string
  status: 'released'
  expiresAt: string
  quantity: number
}

/**
 * The material that arrives for a day after the first (the first works from the line's own stock):
 * about what its orders use, with some to spare.
 */
export function dayOfLots(from: Date, day: number): LotDefinition[] {
  if (day === 0) return []
  const start = from.getTime() + day * 24 * hour
  const stamp = new Date(start).toISOString().slice(0, 10).replaceAll('-', '')
  const expiresAt = new Date(start + 180 * 24 * hour).toISOString()
  return [
    { id: `STEEL-${stamp}`, materialId: 'STEEL-2MM', status: 'released', expiresAt, quantity: 1200 },
    { id: `BOLT-${stamp}`, materialId: 'BOLT-M8', status: 'released', expiresAt, quantity: 5000 },
  ]
}

export type Definition = { kind: 'order'; definition: OrderDefinition } | { kind: 'lot'; definition: LotDefinition }

const dayOf = (from: Date, day: number, lineId: string): Definition[] => [
  ...dayOfLots(from, day).map((definition) => ({ kind: 'lot' as const, definition })),
  ...dayOfOrders(from, day, lineId).map((definition) => ({ kind: 'order' as const, definition })),
]

interface BookState {
  /** When the first day of orders began. */
  from: string
  /** Days sent so far. */
  days: number
}

/**
 * Keeps which days were sent in the data directory, so a restart sends the same definitions again
 * (unchanged in the cloud, no duplicate orders) and the next day follows on from the last.
 */
export class OrderBook {
  readonly #file: string
  readonly #post: (definitions: Definition[]) => Promise<{ changed: number; unchanged: number }>
  readonly #lineId: string
  #state: BookState

  constructor(dir: string, lineId: string, now: Date, post: (definitions: Definition[]) => Promise<{ changed: number; unchanged: number }>) {
    this.#file = join(dir, 'order-book.json')
    this.#post = post
    this.#lineId = lineId
    this.#state = existsSync(this.#file) ? (JSON.parse(readFileSync(this.#file, 'utf8')) as BookState) : { from: new Date(Math.floor(now.getTime() / hour) * hour).toISOString(), days: 1 }
    mkdirSync(dir, { recursive: true })
  }

  get days(): number {
    return this.#state.days
  }

  /** Sends every day of the book so far; the cloud keeps what it already has unchanged. */
  async send(): Promise<{ orders: number; changed: number }> {
    const all: Definition[] = Array.from({ length: this.#state.days }, (_, d) => dayOf(new Date(this.#state.from), d, this.#lineId)).flat()
    let changed = 0
    // The cloud takes at most 1000 definitions a batch.
    for (let i = 0; i < all.length; i += 500) changed += (await this.#post(all.slice(i, i + 500))).changed
    this.#save()
    return { orders: all.filter((d) => d.kind === 'order').length, changed }
  }

  /** The next day's orders, once the line has worked through the ones it has. */
  async sendNextDay(): Promise<number> {
    const next = dayOf(new Date(this.#state.from), this.#state.days, this.#lineId)
    await this.#post(next)
    this.#state = { ...this.#state, days: this.#state.days + 1 }
    this.#save()
    return next.filter((d) => d.kind === 'order').length
  }

  #save(): void {
    writeFileSync(this.#file, `${JSON.stringify(this.#state)}\n`)
  }
}
