// UUIDv7 (RFC 9562 §5.7): 48-bit Unix milliseconds, version and variant bits, then randomness; sorts by time.
import { randomFillSync } from 'node:crypto'
import type { Clock, Ids } from '../core/ports.ts'

const hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

export function uuidv7(ms: number, random: Uint8Array): string {
  const b = new Uint8Array(16)
  let t = ms
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256
    t = Math.floor(t / 256)
  }
  b.set(random.subarray(0, 10), 6)
  b[6] = 0x70 | (b[6]! & 0x0f) // version 7
  b[8] = 0x80 | (b[8]! & 0x3f) // RFC 9562 variant
  let s = ''
  for (let i = 0; i < 16; i++) {
    s += hex[b[i]!]
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-'
  }
  return s
}

/** UUIDv7 ids from a clock; random bits refilled in blocks to keep the hot path cheap. */
export function uuidv7Ids(clock: Clock): Ids {
  const pool = new Uint8Array(10 * 256)
  let offset = pool.length
  return {
    next() {
      if (offset === pool.length) {
        randomFillSync(pool)
        offset = 0
      }
      const id = uuidv7(clock.now().getTime(), pool.subarray(offset, offset + 10))
      offset += 10
      return id
    },
  }
}

export const systemClock: Clock = { now: () => new Date() }
