// A small seeded generator of random timelines, counts and calendars for the OEE property tests (no dependencies).
import type { MachineState } from '../../model.ts'
import type { ShiftCalendar } from '../calendar.ts'
import type { ProductionCount } from '../oee.ts'
import type { Classification, StateChange } from '../timeline.ts'

/** mulberry32: 32 bits of state, good enough to shake out edge cases, reproducible from the seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface Random {
  next(): number
  int(lo: number, hi: number): number
  pick<T>(items: readonly T[]): T
  chance(p: number): boolean
  shuffle<T>(items: readonly T[]): T[]
}

export function random(seed: number): Random {
  const next = rng(seed)
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1))
  return {
    next,
    int,
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
    shuffle(items) {
      const out = [...items]
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1))
        ;[out[i], out[j]] = [out[j]!, out[i]!]
      }
      return out
    },
  }
}

const states: readonly MachineState[] = ['running', 'running', 'running', 'down', 'down', 'idle', 'setup', 'starved', 'blocked', 'planned_stop']
export const someReasons: readonly (string | null)[] = [null, null, 'failure.mechanical', 'failure.sensor', 'small_stop.jam', 'setup.changeover', 'planned.no_orders', 'packml:999']

export interface RandomTimeline {
  changes: StateChange[]
  counts: ProductionCount[]
  classifications: Classification[]
}

/**
 * State changes from `from` for about `spanMs`, mostly seconds to minutes apart, some at odd
 * milliseconds and some sharing an instant (with seqs so ties are defined), with counts and a few
 * operator classifications. `products` ideal cycle times (null: the work center's rated speed).
 */
export function randomTimeline(r: Random, from: number, spanMs: number, products: readonly (number | null)[] = [2]): RandomTimeline {
  const changes: StateChange[] = []
  let at = from + r.int(-600_000, 600_000)
  let seq = 0
  while (at < from + spanMs) {
    const state = r.pick(states)
    changes.push({ at, state, reason: state === 'running' ? null : r.pick(someReasons), seq: seq++ })
    const gap = r.chance(0.05) ? 0 : r.chance(0.5) ? r.int(1, 90) * 1000 : r.chance(0.7) ? r.int(1, 3_600_000) : r.int(1, 14_400) * 1000
    at += gap
  }
  const counts: ProductionCount[] = []
  for (let t = from + r.int(0, 60_000); t < from + spanMs; t += r.int(1, 600) * 1000 + (r.chance(0.2) ? r.int(1, 999) : 0)) {
    const product = r.int(0, products.length - 1)
    const reject = r.chance(0.3) ? r.int(1, 3) : 0
    counts.push({
      at: t,
      good: r.int(0, 20),
      reject,
      idealCycleTimeS: products[product]!,
      productId: `P${product}`,
      orderId: `O${Math.floor((t - from) / (spanMs / 3))}-${product}`,
      ...(reject > 0 && r.chance(0.7) ? { scrapReason: r.pick(['reject.visual', 'startup.warmup', 'reject.rework']) } : {}),
    })
  }
  const classifications: Classification[] = []
  const n = r.int(0, 6)
  for (let i = 0; i < n && changes.length > 0; i++) {
    const c = r.pick(changes)
    const open = r.chance(0.3)
    classifications.push({ from: c.at + (r.chance(0.3) ? r.int(0, 30_000) : 0), to: open ? null : c.at + r.int(1_000, 1_800_000), reason: r.pick(['failure.drive', 'setup.cleaning', 'planned.maintenance', 'small_stop.misfeed']) })
  }
  return { changes, counts, classifications }
}

const zones = ['Europe/Berlin', 'America/New_York', 'UTC', 'Asia/Kathmandu', 'Australia/Lord_Howe'] as const

/** A calendar of two or three shifts with breaks, a holiday and planned downtime at odd instants. */
export function randomCalendar(r: Random, from: number): ShiftCalendar {
  const three = r.chance(0.5)
  const day = new Date(from).toISOString().slice(0, 10)
  const downFrom = from + r.int(0, 86_400_000 * 3)
  return {
    id: 'random',
    timeZone: r.pick(zones),
    shifts: three
      ? [
          { name: 'early', days: [1, 2, 3, 4, 5, 6, 7], start: '06:00', end: '14:00', breaks: [{ start: '09:00', end: '09:15' }, { start: '11:30', end: '12:00' }] },
          { name: 'late', days: [1, 2, 3, 4, 5, 6], start: '14:00', end: '22:00', breaks: [{ start: '18:00', end: '18:30' }] },
          { name: 'night', days: [1, 2, 3, 4, 5, 7], start: '22:00', end: '06:00', breaks: [{ start: '02:00', end: '02:30' }] },
        ]
      : [
          { name: 'day', days: [1, 2, 3, 4, 5], start: '07:15', end: '16:45', breaks: [{ start: '12:00', end: '12:45' }] },
          { name: 'night', days: [1, 2, 3, 4], start: '20:00', end: '04:30', breaks: [] },
        ],
    holidays: r.chance(0.5) ? [day] : [],
    plannedDowntime: [{ from: new Date(downFrom).toISOString(), to: new Date(downFrom + r.int(1, 7_200_000)).toISOString(), reason: 'maintenance' }],
  }
}
