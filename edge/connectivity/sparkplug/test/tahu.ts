// Test peer only: Eclipse Tahu's JavaScript payload library (a devDependency), loaded as the independent Sparkplug B implementation.
import { createRequire } from 'node:module'

/** A metric as Tahu's library takes and gives it (`type` is the datatype's name). */
export interface TahuMetric {
  name?: string
  alias?: number | bigint | TahuLong
  timestamp?: number | TahuLong
  type?: string
  value?: unknown
  isHistorical?: boolean
  isTransient?: boolean
  isNull?: boolean
  properties?: Record<string, { type: string; value: unknown }>
}

export interface TahuPayload {
  timestamp?: number | TahuLong
  metrics?: TahuMetric[]
  seq?: number | TahuLong
  uuid?: string
  body?: Uint8Array
}

/** protobufjs hands 64-bit fields back as `long` objects. */
export interface TahuLong {
  low: number
  high: number
  unsigned: boolean
  toString(): string
}

interface TahuPayloadLibrary {
  encodePayload(payload: TahuPayload): Uint8Array
  decodePayload(bytes: Uint8Array): TahuPayload
}

export const tahu = (createRequire(import.meta.url)('sparkplug-payload') as { get(ns: 'spBv1.0'): TahuPayloadLibrary }).get('spBv1.0')

/** A Tahu 64-bit value as a bigint (its Long is unsigned even for Int64; the caller applies the sign). */
export function tahuBig(value: unknown): bigint {
  if (typeof value === 'bigint') return value
  if (typeof value === 'number') return BigInt(value)
  if (value && typeof value === 'object' && 'low' in value) return BigInt((value as TahuLong).toString())
  throw new TypeError(`not a Tahu integer: ${String(value)}`)
}
