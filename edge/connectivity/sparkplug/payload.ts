// Sparkplug B payloads (org.eclipse.tahu.protobuf.Payload): our own protobuf wire-format encoder and decoder.
import { bytesTypes, DataType, dataTypeName, integerAs, intRange, intTypes, longTypes, shortestFloat32, stringTypes } from './datatypes.ts'
import { readProperties, type PropertyValue } from './properties.ts'
import { Cursor, fail, fieldName, Writer, WireType } from './wire.ts'

export { DataType, dataTypeName, scalarTypeNames, shortestFloat32, type DataTypeName, type ScalarTypeName } from './datatypes.ts'
export type { PropertyValue } from './properties.ts'
export { SparkplugPayloadError } from './wire.ts'

export type MetricValue = number | bigint | boolean | string | Uint8Array | null

export interface Metric {
  name?: string
  alias?: bigint
  /** Unix milliseconds: when the value was captured. */
  timestamp?: number
  datatype?: number
  isHistorical?: boolean
  isTransient?: boolean
  isNull?: boolean
  /** Decoded from the PropertySet when it has scalar values (e.g. `Quality`); written only by Tahu-like peers, never by us. */
  properties?: Record<string, PropertyValue>
  /** null when is_null is set, no value was sent, or the value is a DataSet or Template (skipped by this decoder). */
  value: MetricValue
}

export interface Payload {
  /** Unix milliseconds: when the message was published. */
  timestamp?: number
  metrics: Metric[]
  seq?: number
  uuid?: string
  body?: Uint8Array
}

/** Looks up a metric's datatype from its birth when a DATA message leaves it out (the spec requires it only in births). */
export type DatatypeOf = (metric: { name?: string; alias?: bigint }) => number | undefined

// Field numbers from sparkplug_b.proto (message Payload and Payload.Metric).
const P = { timestamp: 1, metrics: 2, seq: 3, uuid: 4, body: 5 } as const
const M = { name: 1, alias: 2, timestamp: 3, datatype: 4, isHistorical: 5, isTransient: 6, isNull: 7, metadata: 8, properties: 9, int: 10, long: 11, float: 12, double: 13, boolean: 14, string: 15, bytes: 16, dataset: 17, template: 18, extension: 19 } as const

// ---------------------------------------------------------------- encoding

/** Encodes a payload; a value that does not fit its datatype throws, naming the metric. */
export function encodePayload(payload: Payload): Buffer {
  const w = new Writer()
  if (payload.timestamp !== undefined) w.tag(P.timestamp, WireType.Varint).varint(payload.timestamp, 'Payload.timestamp')
  for (const [i, metric] of payload.metrics.entries()) w.tag(P.metrics, WireType.Len).message(encodeMetric(metric, i))
  if (payload.seq !== undefined) w.tag(P.seq, WireType.Varint).varint(payload.seq, 'Payload.seq')
  if (payload.uuid !== undefined) w.tag(P.uuid, WireType.Len).string(payload.uuid)
  if (payload.body !== undefined) w.tag(P.body, WireType.Len).bytes(payload.body)
  return w.finish()
}

function encodeMetric(m: Metric, index: number): Writer {
  const w = new Writer()
  if (m.name !== undefined) w.tag(M.name, WireType.Len).string(m.name)
  if (m.alias !== undefined) w.tag(M.alias, WireType.Varint).varint(m.alias, `metric ${describe(m, index)} alias`)
  if (m.timestamp !== undefined) w.tag(M.timestamp, WireType.Varint).varint(m.timestamp, `metric ${describe(m, index)} timestamp`)
  if (m.datatype !== undefined) w.tag(M.datatype, WireType.Varint).varint(m.datatype, `metric ${describe(m, index)} datatype`)
  // proto2 booleans: false is the default, so only a true flag is written.
  if (m.isHistorical) w.tag(M.isHistorical, WireType.Varint).varint(1)
  if (m.isTransient) w.tag(M.isTransient, WireType.Varint).varint(1)
  if (m.isNull || m.value === null) {
    w.tag(M.isNull, WireType.Varint).varint(1)
    return w
  }
  if (m.datatype === undefined) throw new TypeError(`metric ${describe(m, index)}: a value needs a datatype to be encoded`)
  writeValue(w, m.datatype, m.value, () => describe(m, index))
  return w
}

/** Throws the error encoding would throw for this value (null always fits: it travels as is_null). */
export function checkValue(name: string, datatype: number, value: MetricValue): void {
  if (value !== null) writeValue(new Writer(), datatype, value, () => `'${name}'`)
}

function describe(m: { name?: string; alias?: bigint }, index: number): string {
  return m.name !== undefined ? `'${m.name}'` : m.alias !== undefined ? `alias ${m.alias}` : `#${index}`
}

function writeValue(w: Writer, datatype: number, value: Exclude<MetricValue, null>, who: () => string): void {
  const wrong = (what: string) => new TypeError(`metric ${who()}: ${dataTypeName(datatype)} ${what}, got ${typeof value} ${String(value)}`)
  if (intTypes.has(datatype)) {
    const [min, max] = intRange[datatype]!
    if (typeof value !== 'number' || !Number.isInteger(value)) throw wrong('needs an integer number')
    if (value < min || value > max) throw new RangeError(`metric ${who()}: ${value} is outside ${dataTypeName(datatype)} (${min}..${max})`)
    // Signed types travel as their 32-bit two's complement in uint32 int_value (Sparkplug 3.0 §6.4.17).
    w.tag(M.int, WireType.Varint).varint(value >>> 0)
  } else if (longTypes.has(datatype)) {
    w.tag(M.long, WireType.Varint).varint(toUint64(datatype, value, who))
  } else if (datatype === DataType.Float || datatype === DataType.Double) {
    if (typeof value !== 'number') throw wrong('needs a number')
    if (datatype === DataType.Float) w.tag(M.float, WireType.Fixed32).float(value)
    else w.tag(M.double, WireType.Fixed64).double(value)
  } else if (datatype === DataType.Boolean) {
    if (typeof value !== 'boolean') throw wrong('needs a boolean')
    w.tag(M.boolean, WireType.Varint).varint(value ? 1 : 0)
  } else if (stringTypes.has(datatype)) {
    if (typeof value !== 'string') throw wrong('needs a string')
    w.tag(M.string, WireType.Len).string(value)
  } else if (bytesTypes.has(datatype)) {
    if (!(value instanceof Uint8Array)) throw wrong('needs bytes (a Uint8Array)')
    w.tag(M.bytes, WireType.Len).bytes(value)
  } else {
    throw new TypeError(`metric ${who()}: ${dataTypeName(datatype)} values are not supported by this encoder`)
  }
}

function toUint64(datatype: number, value: Exclude<MetricValue, null>, who: () => string): bigint {
  let big: bigint
  if (typeof value === 'bigint') big = value
  else if (typeof value === 'number' && Number.isSafeInteger(value)) big = BigInt(value)
  else throw new TypeError(`metric ${who()}: ${dataTypeName(datatype)} needs a bigint or a safe integer number, got ${typeof value} ${String(value)}`)
  const [min, max] = datatype === DataType.Int64 ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n]
  if (big < min || big > max) throw new RangeError(`metric ${who()}: ${big} is outside ${dataTypeName(datatype)} (${min}..${max})`)
  // Int64 travels as its 64-bit two's complement in uint64 long_value.
  return BigInt.asUintN(64, big)
}

// ---------------------------------------------------------------- decoding

/**
 * Decodes a payload. Unknown fields are skipped by wire type; metadata, DataSets and Templates
 * are skipped. A truncated or malformed payload throws a SparkplugPayloadError with the byte offset.
 */
export function decodePayload(bytes: Uint8Array, datatypeOf?: DatatypeOf): Payload {
  const c = new Cursor(bytes)
  const payload: Payload = { metrics: [] }
  const end = bytes.length
  while (c.pos < end) {
    const { field, wire, at } = c.tag(end, 'Payload')
    if (field === P.timestamp && wire === WireType.Varint) payload.timestamp = c.uint53(end, 'Payload.timestamp')
    else if (field === P.metrics && wire === WireType.Len) {
      const index = payload.metrics.length
      const len = c.length(end, `Payload.metrics[${index}]`)
      payload.metrics.push(decodeMetric(c, c.pos + len, index, datatypeOf))
    } else if (field === P.seq && wire === WireType.Varint) payload.seq = c.uint53(end, 'Payload.seq')
    else if (field === P.uuid && wire === WireType.Len) payload.uuid = c.string(end, 'Payload.uuid')
    else if (field === P.body && wire === WireType.Len) payload.body = c.bytes(end, 'Payload.body')
    else if (field <= P.body) fail(at, `Payload field ${field} (${fieldName('Payload', field)}) has wire type ${wire}, expected ${field === P.timestamp || field === P.seq ? WireType.Varint : WireType.Len}`)
    else c.skip(end, wire, field, 'Payload')
  }
  return payload
}

type Wire = { kind: 'int' | 'float' | 'double'; value: number; at: number } | { kind: 'long'; value: bigint; at: number } | { kind: 'boolean'; value: boolean; at: number } | { kind: 'string'; value: string; at: number } | { kind: 'bytes'; value: Uint8Array; at: number } | { kind: 'complex'; at: number }

function decodeMetric(c: Cursor, end: number, index: number, datatypeOf: DatatypeOf | undefined): Metric {
  const where = `Payload.metrics[${index}]`
  const metric: Metric = { value: null }
  let wire: Wire | undefined
  while (c.pos < end) {
    const tag = c.tag(end, where)
    const { field, at } = tag
    const expect = (type: number) => {
      if (tag.wire !== type) fail(at, `${where} field ${field} (${fieldName('Metric', field)}) has wire type ${tag.wire}, expected ${type}`)
    }
    const known = field >= M.name && field <= M.extension
    if (!known) {
      c.skip(end, tag.wire, field, where)
      continue
    }
    expect(metricWireType(field))
    const f = `${where}.${fieldName('Metric', field)}`
    switch (field) {
      case M.name: metric.name = c.string(end, f); break
      case M.alias: metric.alias = c.uint64(end, f); break
      case M.timestamp: metric.timestamp = c.uint53(end, f); break
      case M.datatype: metric.datatype = c.uint32(end, f); break
      case M.isHistorical: metric.isHistorical = c.uint32(end, f) !== 0; break
      case M.isTransient: metric.isTransient = c.uint32(end, f) !== 0; break
      case M.isNull: metric.isNull = c.uint32(end, f) !== 0; break
      case M.properties: {
        const len = c.length(end, f)
        metric.properties = readProperties(c, c.pos + len, f)
        break
      }
      // protobuf oneof: when a publisher sends several value fields, the last one wins.
      case M.int: wire = { kind: 'int', value: c.uint32(end, f), at }; break
      case M.long: wire = { kind: 'long', value: c.uint64(end, f), at }; break
      case M.float: wire = { kind: 'float', value: c.float(end, f), at }; break
      case M.double: wire = { kind: 'double', value: c.double(end, f), at }; break
      case M.boolean: wire = { kind: 'boolean', value: c.uint32(end, f) !== 0, at }; break
      case M.string: wire = { kind: 'string', value: c.string(end, f), at }; break
      case M.bytes: wire = { kind: 'bytes', value: c.bytes(end, f), at }; break
      default: // metadata, dataset, template, extension: skipped, but their lengths are still checked
        c.skip(end, tag.wire, field, where)
        if (field !== M.metadata) wire = { kind: 'complex', at }
    }
  }
  const datatype = metric.datatype ?? datatypeOf?.(metric)
  if (!metric.isNull && wire) metric.value = interpret(wire, datatype, `${where} (${describe(metric, index)})`)
  return metric
}

function metricWireType(field: number): number {
  if (field === M.float) return WireType.Fixed32
  if (field === M.double) return WireType.Fixed64
  if (field === M.name || field === M.metadata || field === M.properties || field >= M.string) return WireType.Len
  return WireType.Varint
}

/** Turns the value field that arrived into the JS value of the datatype (from the metric itself or from its birth). */
function interpret(wire: Wire, datatype: number | undefined, where: string): MetricValue {
  if (wire.kind === 'complex') return null
  if (datatype === undefined || datatype === DataType.Unknown) return wire.kind === 'float' ? shortestFloat32(wire.value) : wire.value
  const mismatch = () => fail(wire.at, `${where} is ${dataTypeName(datatype)} but carries ${wire.kind}_value`)
  if (intTypes.has(datatype) || longTypes.has(datatype)) {
    // Both integer fields are accepted for every integer type: Tahu's JavaScript library sends UInt32 in long_value.
    if (wire.kind !== 'int' && wire.kind !== 'long') return mismatch()
    const value = integerAs(datatype, wire.value)
    return value ?? fail(wire.at, `${where} DateTime ${wire.value} is beyond any representable date`)
  }
  if (datatype === DataType.Float) return wire.kind === 'float' ? shortestFloat32(wire.value) : mismatch()
  if (datatype === DataType.Double) return wire.kind === 'double' || wire.kind === 'float' ? wire.value : mismatch()
  if (datatype === DataType.Boolean) return wire.kind === 'boolean' ? wire.value : mismatch()
  if (stringTypes.has(datatype)) return wire.kind === 'string' ? wire.value : mismatch()
  if (bytesTypes.has(datatype)) return wire.kind === 'bytes' ? wire.value : mismatch()
  return wire.value
}
