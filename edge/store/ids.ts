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

/**
 * UUIDv7 ids from a clock, strictly increasing even within one millisecond: rand_a (12 bits)
 * is a counter seeded randomly each millisecond (RFC 9562 §6.2, method 1); when it runs out,
 * the timestamp moves on by one. Random bits are refilled in blocks to keep the hot path cheap.
 */
export function uuidv7Ids(clock: Clock): Ids {
  const pool = new Uint8Array(10 * 256)
  let offset = pool.length
  let lastMs = -1
  let counter = 0
  return {
    next() {
      if (offset === pool.length) {
        randomFillSync(pool)
        offset = 0
      }
      const random = pool.subarray(offset, offset + 10)
      offset += 10
      let ms = clock.now().getTime()
      if (ms <= lastMs) {
        ms = lastMs
        counter += 1
        if (counter > 0xfff) {
          ms += 1
          counter = random[0]! & 0x7f
        }
      } else {
        counter = ((random[0]! & 0x07) << 8) | random[1]! // leave room to count up within the millisecond
      }
      lastMs = ms
      random[0] = (counter >> 8) & 0x0f
      random[1] = counter & 0xff
      return uuidv7(ms, random)
    },
  }
}

export const systemClock: Clock = { now: () => new Date() }
