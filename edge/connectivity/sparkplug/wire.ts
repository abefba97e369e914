// Protobuf wire format (proto2), just what Sparkplug B needs: a bounds-checked reader that names what broke and where, and a growable writer.

/** Protobuf wire types (protobuf encoding guide, "Message Structure"). */
export const WireType = { Varint: 0, Fixed64: 1, Len: 2, GroupStart: 3, GroupEnd: 4, Fixed32: 5 } as const

/** A payload that is not valid Sparkplug B protobuf: what is wrong, and the byte offset where it was found. */
export class SparkplugPayloadError extends Error {
  readonly offset: number
  constructor(message: string, offset: number) {
    super(`Sparkplug payload: ${message} at byte ${offset}`)
    this.name = 'SparkplugPayloadError'
    this.offset = offset
  }
}

export function fail(offset: number, message: string): never {
  throw new SparkplugPayloadError(message, offset)
}

const names: Record<string, string[]> = {
  Payload: ['', 'timestamp', 'metrics', 'seq', 'uuid', 'body'],
  Metric: ['', 'name', 'alias', 'timestamp', 'datatype', 'is_historical', 'is_transient', 'is_null', 'metadata', 'properties', 'int_value', 'long_value', 'float_value', 'double_value', 'boolean_value', 'string_value', 'bytes_value', 'dataset_value', 'template_value', 'extension_value'],
  PropertySet: ['', 'keys', 'values'],
  PropertyValue: ['', 'type', 'is_null', 'int_value', 'long_value', 'float_value', 'double_value', 'boolean_value', 'string_value', 'propertyset_value', 'propertysets_value', 'extension_value'],
}

/** The sparkplug_b.proto name of a field, for error messages. */
export function fieldName(message: string, field: number): string {
  return names[message]?.[field] || `field ${field}`
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
const MAX_DEPTH = 32

export class Cursor {
  readonly #data: Uint8Array
  readonly #view: DataView
  pos = 0

  constructor(bytes: Uint8Array) {
    this.#data = bytes
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  #byte(end: number, what: string): number {
    if (this.pos >= end) fail(this.pos, `${what}: varint is cut off (truncated payload)`)
    return this.#data[this.pos++]!
  }

  /** A varint as a number while it fits in 49 bits (the common case, no bigint cost), else as a bigint. */
  #varint(end: number, what: string): number | bigint {
    const start = this.pos
    let value = 0
    for (let shift = 0; shift < 49; shift += 7) {
      const byte = this.#byte(end, what)
      value += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) return value
    }
    let big = BigInt(value)
    for (let shift = 49n; shift <= 63n; shift += 7n) {
      const byte = this.#byte(end, what)
      if (shift === 63n && byte > 1) fail(start, `${what}: varint overflows 64 bits`)
      big += BigInt(byte & 0x7f) << shift
      if (byte < 0x80) return big
    }
    return fail(start, `${what}: varint is longer than 10 bytes`)
  }

  tag(end: number, where: string): { field: number; wire: number; at: number } {
    const at = this.pos
    const v = this.#varint(end, `${where} tag`)
    if (typeof v === 'bigint' || v > 0xffffffff) return fail(at, `${where}: field tag ${v} is too large`)
    const field = Math.floor(v / 8)
    if (field === 0) fail(at, `${where}: field number 0 is invalid (is this a Sparkplug B payload?)`)
    return { field, wire: v % 8, at }
  }

  /** A uint32 field: the low 32 bits, as protobuf reads a longer varint into a 32-bit field. */
  uint32(end: number, what: string): number {
    const v = this.#varint(end, what)
    return typeof v === 'bigint' ? Number(BigInt.asUintN(32, v)) : v % 2 ** 32
  }

  uint64(end: number, what: string): bigint {
    const v = this.#varint(end, what)
    return typeof v === 'bigint' ? v : BigInt(v)
  }

  /** A uint64 used as a JS number (timestamps, seq): refused when it would lose precision. */
  uint53(end: number, what: string): number {
    const at = this.pos
    const v = this.#varint(end, what)
    if (typeof v === 'number') return v
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(at, `${what}: ${v} is beyond 2^53 and cannot be a time or sequence number`)
    return Number(v)
  }

  length(end: number, what: string): number {
    const at = this.pos
    const v = this.#varint(end, `${what} length`)
    const left = end - this.pos
    if (typeof v === 'bigint' || v > left) return fail(at, `${what}: length ${v} runs past the end of its message (${left} byte${left === 1 ? '' : 's'} left)`)
    return v
  }

  #span(end: number, what: string): Uint8Array {
    const len = this.length(end, what)
    const start = this.pos
    this.pos += len
    return this.#data.subarray(start, start + len)
  }

  string(end: number, what: string): string {
    const at = this.pos
    const data = this.#span(end, what)
    try {
      return utf8.decode(data)
    } catch {
      return fail(at, `${what}: not valid UTF-8`)
    }
  }

  /** A copy, so the value does not pin (or change with) the MQTT packet buffer. */
  bytes(end: number, what: string): Uint8Array {
    return this.#span(end, what).slice()
  }

  #fixed(end: number, size: number, what: string): number {
    if (end - this.pos < size) fail(this.pos, `${what}: needs ${size} bytes, ${end - this.pos} left (truncated payload)`)
    const at = this.pos
    this.pos += size
    return at
  }

  float(end: number, what: string): number {
    return this.#view.getFloat32(this.#fixed(end, 4, what), true)
  }

  double(end: number, what: string): number {
    return this.#view.getFloat64(this.#fixed(end, 8, what), true)
  }

  /** Skips a field this decoder does not read, by its wire type; its extent is still checked. */
  skip(end: number, wire: number, field: number, where: string, depth = 0): void {
    const what = `${where} field ${field}`
    switch (wire) {
      case WireType.Varint: this.#varint(end, what); return
      case WireType.Fixed64: this.#fixed(end, 8, what); return
      case WireType.Fixed32: this.#fixed(end, 4, what); return
      case WireType.Len: {
        const len = this.length(end, what) // read first: `this.pos += …` would add to the position before the length
        this.pos += len
        return
      }
      case WireType.GroupStart: {
        const at = this.pos
        if (depth >= MAX_DEPTH) fail(at, `${what}: groups nested deeper than ${MAX_DEPTH}`)
        while (this.pos < end) {
          const inner = this.tag(end, what)
          if (inner.wire === WireType.GroupEnd) {
            if (inner.field !== field) fail(inner.at, `${what}: group closed as field ${inner.field}`)
            return
          }
          this.skip(end, inner.wire, inner.field, where, depth + 1)
        }
        return fail(at, `${what}: group is never closed (truncated payload)`)
      }
      case WireType.GroupEnd: return fail(this.pos, `${what}: end of a group that was never opened`)
      default: return fail(this.pos, `${what}: wire type ${wire} does not exist (is this a Sparkplug B payload?)`)
    }
  }
}

const utf8Encoder = new TextEncoder()

export class Writer {
  #buf = new Uint8Array(64)
  #len = 0

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n))
    next.set(this.#buf.subarray(0, this.#len))
    this.#buf = next
  }

  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire)
  }

  varint(value: number | bigint, what = 'a varint'): this {
    this.#room(10)
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} needs a non-negative integer, got ${value}`)
      let v = value
      while (v >= 0x80) {
        this.#buf[this.#len++] = (v % 0x80) | 0x80
        v = Math.floor(v / 0x80)
      }
      this.#buf[this.#len++] = v
      return this
    }
    if (value < 0n || value >= 2n ** 64n) throw new RangeError(`${what} needs an unsigned 64-bit integer, got ${value}`)
    let v = value
    while (v >= 0x80n) {
      this.#buf[this.#len++] = Number(v & 0x7fn) | 0x80
      v >>= 7n
    }
    this.#buf[this.#len++] = Number(v)
    return this
  }

  bytes(data: Uint8Array): this {
    this.varint(data.length)
    this.#room(data.length)
    this.#buf.set(data, this.#len)
    this.#len += data.length
    return this
  }

  string(text: string): this {
    return this.bytes(utf8Encoder.encode(text))
  }

  message(inner: Writer): this {
    return this.bytes(inner.view())
  }

  float(value: number): this {
    this.#room(4)
    new DataView(this.#buf.buffer).setFloat32(this.#len, value, true)
    this.#len += 4
    return this
  }

  double(value: number): this {
    this.#room(8)
    new DataView(this.#buf.buffer).setFloat64(this.#len, value, true)
    this.#len += 8
    return this
  }

  view(): Uint8Array {
    return this.#buf.subarray(0, this.#len)
  }

  finish(): Buffer {
    return Buffer.from(this.#buf.buffer, 0, this.#len)
  }
}
