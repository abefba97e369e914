// The Sparkplug B codec: round trips at every type's limits, interop both ways with Eclipse Tahu, and malformed payloads refused with the byte offset.
import t from 'tap'
import { DataType, decodePayload, encodePayload, SparkplugPayloadError, type Metric, type Payload } from './payload.ts'
import { tahu, tahuBig, type TahuMetric } from './test/tahu.ts'

const ts = 1_700_000_000_123

const limits: Metric[] = [
  { name: 'i8/min', datatype: DataType.Int8, value: -128 },
  { name: 'i8/max', datatype: DataType.Int8, value: 127 },
  { name: 'i16/min', datatype: DataType.Int16, value: -32768 },
  { name: 'i32/min', datatype: DataType.Int32, value: -(2 ** 31) },
  { name: 'i32/max', datatype: DataType.Int32, value: 2 ** 31 - 1 },
  { name: 'i64/min', datatype: DataType.Int64, value: -(2n ** 63n) },
  { name: 'i64/max', datatype: DataType.Int64, value: 2n ** 63n - 1n },
  { name: 'i64/minus-one', datatype: DataType.Int64, value: -1n },
  { name: 'u8/max', datatype: DataType.UInt8, value: 255 },
  { name: 'u16/max', datatype: DataType.UInt16, value: 65535 },
  { name: 'u32/max', datatype: DataType.UInt32, value: 2 ** 32 - 1 },
  { name: 'u64/max', datatype: DataType.UInt64, value: 2n ** 64n - 1n },
  { name: 'u64/above-2^53', datatype: DataType.UInt64, value: 2n ** 53n + 1n },
  { name: 'float', datatype: DataType.Float, value: 12.1 },
  { name: 'double', datatype: DataType.Double, value: -0.1 + 0.3 },
  { name: 'bool/true', datatype: DataType.Boolean, value: true },
  { name: 'bool/false', datatype: DataType.Boolean, value: false },
  { name: 'string', datatype: DataType.String, value: 'Füllgewicht 500 g ✓' },
  { name: 'text', datatype: DataType.Text, value: '' },
  { name: 'uuid', datatype: DataType.UUID, value: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' },
  { name: 'datetime', datatype: DataType.DateTime, value: ts },
  { name: 'bytes', datatype: DataType.Bytes, value: new Uint8Array([0, 1, 254, 255]) },
]

t.test('every scalar type round-trips at its limits, with flags, aliases and the payload envelope', async (t) => {
  const metrics: Metric[] = limits.map((m, i) => ({ ...m, alias: BigInt(i) + 2n ** 60n, timestamp: ts - i }))
  metrics.push({ name: 'null', datatype: DataType.Int32, isNull: true, value: null, isHistorical: true, isTransient: true })
  const payload: Payload = { timestamp: ts, metrics, seq: 255, uuid: 'schema-1', body: new Uint8Array([9, 8, 7]) }
  const back = decodePayload(encodePayload(payload))
  t.same(back, payload, 'decoded exactly as encoded')
  t.equal(typeof back.metrics.find((m) => m.name === 'u64/above-2^53')!.value, 'bigint', '64-bit values stay bigint')
  t.same(decodePayload(encodePayload({ metrics: [] })), { metrics: [] }, 'an empty payload is an empty payload')
})

t.test('the encoder refuses a value that does not fit its datatype and names the metric', async (t) => {
  const one = (m: Metric) => () => encodePayload({ metrics: [m] })
  t.throws(one({ name: 'Counts/Good', datatype: DataType.Int8, value: 128 }), { name: 'RangeError', message: /'Counts\/Good': 128 is outside Int8 \(-128\.\.127\)/ })
  t.throws(one({ name: 'u', datatype: DataType.UInt16, value: -1 }), { name: 'RangeError', message: /outside UInt16/ })
  t.throws(one({ name: 'i', datatype: DataType.Int32, value: 1.5 }), { name: 'TypeError', message: /Int32 needs an integer number/ })
  t.throws(one({ name: 'big', datatype: DataType.Int64, value: 2n ** 63n }), { name: 'RangeError', message: /outside Int64/ })
  t.throws(one({ name: 'lossy', datatype: DataType.UInt64, value: 2 ** 60 }), { name: 'TypeError', message: /bigint or a safe integer/ })
  t.throws(one({ name: 's', datatype: DataType.String, value: 5 }), { name: 'TypeError', message: /String needs a string, got number 5/ })
  t.throws(one({ name: 'ds', datatype: DataType.DataSet, value: 'x' }), { message: /DataSet values are not supported/ })
  t.throws(one({ alias: 7n, value: 1 }), { message: /alias 7: a value needs a datatype/ })
  t.throws(one({ name: 'ts', timestamp: -1, datatype: DataType.Boolean, value: true }), { name: 'RangeError', message: /'ts' timestamp needs a non-negative integer/ })
  t.doesNotThrow(one({ name: 'edge', datatype: DataType.Int16, value: -32768 }), 'the limit itself is fine')
})

t.test('Tahu encodes, we decode: same values, datatypes and flags; DataSets and Templates are skipped without breaking the rest', async (t) => {
  const metrics: TahuMetric[] = [
    { name: 'Status/State', alias: 1, timestamp: ts, type: 'String', value: 'RUNNING' },
    { name: 'Counts/Good', alias: 2, timestamp: ts, type: 'Int64', value: -42 },
    { name: 'Counts/Total', alias: 3, timestamp: ts, type: 'UInt64', value: '18446744073709551615' },
    { name: 'Quality/FillWeight', alias: 4, timestamp: ts, type: 'Float', value: 500.3, isHistorical: true },
    { name: 'i8', type: 'Int8', value: -5, timestamp: ts },
    { name: 'u32', type: 'UInt32', value: 4_000_000_000, timestamp: ts },
    { name: 'table', type: 'DataSet', timestamp: ts, value: { numOfColumns: 1, columns: ['a'], types: ['Int32'], rows: [[1], [2]] } },
    { name: 'udt', type: 'Template', timestamp: ts, value: { isDefinition: true, metrics: [{ name: 'x', type: 'Int32', value: 1 }], parameters: [], version: 'v1' } },
    { name: 'stale', type: 'Double', timestamp: ts, value: 1.5, properties: { Quality: { type: 'Int32', value: 500 }, engUnit: { type: 'String', value: 'g' } } },
    { name: 'missing', type: 'Int32', timestamp: ts, value: null, isNull: true },
    { name: 'after', type: 'Boolean', timestamp: ts, value: true },
  ]
  const decoded = decodePayload(tahu.encodePayload({ timestamp: ts, seq: 7, metrics }))
  t.equal(decoded.timestamp, ts)
  t.equal(decoded.seq, 7)
  const by = new Map(decoded.metrics.map((m) => [m.name, m]))
  t.match(by.get('Status/State'), { alias: 1n, timestamp: ts, datatype: DataType.String, value: 'RUNNING' })
  t.equal(by.get('Counts/Good')!.value, -42n, 'a negative Int64 keeps its sign')
  t.equal(by.get('Counts/Total')!.value, 2n ** 64n - 1n, 'UInt64 max is exact')
  t.match(by.get('Quality/FillWeight'), { value: 500.3, isHistorical: true }, 'a Float reads as the decimal that was sent')
  t.equal(by.get('i8')!.value, -5)
  t.equal(by.get('u32')!.value, 4_000_000_000, "Tahu's UInt32 in long_value is read too")
  t.match(by.get('table'), { datatype: DataType.DataSet, value: null })
  t.match(by.get('udt'), { datatype: DataType.Template, value: null })
  t.same(by.get('stale')!.properties, { Quality: 500, engUnit: 'g' }, 'scalar properties are read')
  t.match(by.get('missing'), { isNull: true, value: null })
  t.match(by.get('after'), { value: true }, 'metrics after the skipped ones decode')
})

t.test('we encode, Tahu decodes: the same values (Tahu returns 64-bit values as unsigned Longs)', async (t) => {
  const decoded = tahu.decodePayload(encodePayload({ timestamp: ts, seq: 3, metrics: limits.map((m) => ({ ...m, timestamp: ts })) }))
  t.equal(Number(tahuBig(decoded.seq)), 3)
  t.equal(Number(tahuBig(decoded.timestamp)), ts)
  const by = new Map((decoded.metrics ?? []).map((m) => [m.name, m]))
  for (const m of limits) {
    const theirs = by.get(m.name)
    if (!theirs) {
      t.fail(`Tahu lost ${m.name}`)
      continue
    }
    t.equal(theirs.type, Object.entries(DataType).find(([, n]) => n === m.datatype)![0], `${m.name}: datatype`)
    if (m.datatype === DataType.UInt32) {
      // Tahu JS 1.0.3 reads UInt32 from long_value; we send it in int_value as the specification says (§6.4.17, Tahu issue #397).
      t.not(theirs.value, m.value, `${m.name}: Tahu JS misreads a spec-conformant UInt32`)
    } else if (m.datatype === DataType.Int64) t.equal(BigInt.asIntN(64, tahuBig(theirs.value)), m.value, `${m.name}: value`)
    else if (m.datatype === DataType.UInt64 || m.datatype === DataType.DateTime) t.equal(tahuBig(theirs.value), BigInt(m.value as number | bigint), `${m.name}: value`)
    else if (m.datatype === DataType.Float) t.equal(theirs.value, Math.fround(m.value as number), `${m.name}: value`)
    else if (m.datatype === DataType.Bytes) t.same(Array.from(theirs.value as Uint8Array), Array.from(m.value as Uint8Array), `${m.name}: value`)
    else t.equal(theirs.value, m.value, `${m.name}: value`)
  }
  const flags = tahu.decodePayload(encodePayload({ metrics: [{ name: 'h', alias: 9n, timestamp: ts, datatype: DataType.Double, value: 2.5, isHistorical: true }] })).metrics![0]!
  t.match(flags, { name: 'h', isHistorical: true, value: 2.5 })
  t.equal(tahuBig(flags.alias), 9n)
})

t.test('a DATA metric without a datatype is read with the datatype from its birth', async (t) => {
  // A lean NDATA metric: alias 5 and long_value -7 as two's complement, no datatype.
  const withoutType = Buffer.from('120d' + '1005' + '58' + 'f9' + 'ff'.repeat(8) + '01', 'hex')
  t.equal(decodePayload(withoutType).metrics[0]!.value, 2n ** 64n - 7n, 'without a birth: the raw unsigned wire value')
  t.equal(decodePayload(withoutType, (m) => (m.alias === 5n ? DataType.Int64 : undefined)).metrics[0]!.value, -7n, 'with the birth datatype: signed')
  t.equal(decodePayload(withoutType, () => DataType.Int16).metrics[0]!.value, -7, 'an Int16 sent sign-extended to 64 bits')
  const signExtended = Buffer.from('1208' + '2002' + '50ffffffff0f', 'hex') // Int16 -1 sign-extended to 32 bits
  t.equal(decodePayload(signExtended).metrics[0]!.value, -1, 'an Int16 sent sign-extended to 32 bits')
})

const errorOf = (hex: string) => {
  try {
    decodePayload(Buffer.from(hex, 'hex'))
  } catch (error) {
    return error
  }
  return undefined
}

t.test('malformed payloads are refused with what is wrong and the byte offset', async (t) => {
  t.match(errorOf('1205' + '0a'), { name: 'SparkplugPayloadError', offset: 1, message: 'Sparkplug payload: Payload.metrics[0]: length 5 runs past the end of its message (1 byte left) at byte 1' })
  t.match(errorOf('0880'), { offset: 2, message: /Payload\.timestamp: varint is cut off \(truncated payload\) at byte 2/ })
  t.match(errorOf('00'), { offset: 0, message: /field number 0 is invalid/ })
  t.match(errorOf('37'), { offset: 1, message: /Payload field 6: wire type 7 does not exist/ })
  t.match(errorOf('0a0141'), { offset: 0, message: /Payload field 1 \(timestamp\) has wire type 2, expected 0/ })
  t.match(errorOf('1203' + '0a01ff'), { offset: 3, message: /Payload\.metrics\[0\]\.name: not valid UTF-8 at byte 3/ })
  t.match(errorOf('1204' + '200c' + '5001'), { offset: 4, message: /metrics\[0\] \(#0\) is String but carries int_value at byte 4/ })
  t.match(errorOf('1202' + '6541'), { offset: 3, message: /float_value: needs 4 bytes, 1 left/ })
  t.match(errorOf('1204' + '4a02' + '1001'), { offset: 4, message: /Payload\.metrics\[0\]\.properties field 2 \(values\) has wire type 0, expected 2/ })
  t.match(errorOf('1206' + '4a04' + '1202' + '2a00'), { offset: 6, message: /properties\.values\[0\] field 5 \(float_value\) has wire type 2, expected 5/ })
  t.match(errorOf('08' + 'ff'.repeat(10) + '01'), { offset: 1, message: /varint overflows 64 bits/ })
  t.match(errorOf('33' + '0801'), { message: /Payload field 6: group is never closed/ })
  t.match(errorOf('08' + 'ffffffffffffffff7f'), { message: /beyond 2\^53/ })
  const ok = errorOf('33080134' + '0801')
  t.equal(ok, undefined, 'a closed group of an unknown field is skipped')
})

t.test('unknown fields of every wire type are skipped, in the payload and in a metric', async (t) => {
  const known = encodePayload({ timestamp: ts, seq: 1, metrics: [{ name: 'a', datatype: DataType.Int32, value: -3 }] })
  const unknown = '98060a' + 'a10601020304050607aa' + 'aa0603010203' + 'b5060a0b0c0d' + 'bb06c8060cbc06' // fields 99..103, wire 0,1,2,5,3
  const metric = Buffer.from('0a0161' + '2003' + '50fdffffff0f' + unknown, 'hex')
  const bytes = Buffer.concat([Buffer.from(unknown, 'hex'), Buffer.from([0x12, metric.length]), metric, encodePayload({ timestamp: ts, seq: 1, metrics: [] })])
  const decoded = decodePayload(bytes)
  t.same(decoded, decodePayload(known), 'the same as without the unknown fields')
})

t.test('every cut of a valid payload and random bytes give a SparkplugPayloadError or a payload, never anything else', async (t) => {
  const full = encodePayload({ timestamp: ts, seq: 9, metrics: limits.map((m, i) => ({ ...m, alias: BigInt(i), timestamp: ts })) })
  let refused = 0
  const outside: number[] = []
  for (let cut = 0; cut < full.length; cut++) {
    try {
      decodePayload(full.subarray(0, cut))
    } catch (error) {
      if (!(error instanceof SparkplugPayloadError)) throw error
      if (error.offset < 0 || error.offset > cut) outside.push(cut)
      refused += 1
    }
  }
  t.same(outside, [], 'every offset points inside the bytes that were given')
  t.ok(refused > full.length * 0.9, `almost every cut is refused (${refused} of ${full.length})`)
  let seed = 42
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 256
  let others = 0
  for (let i = 0; i < 3000; i++) {
    const bytes = Uint8Array.from({ length: 1 + (i % 64) }, () => Math.floor(random()))
    try {
      decodePayload(bytes)
    } catch (error) {
      if (!(error instanceof SparkplugPayloadError)) others += 1
    }
  }
  t.equal(others, 0, 'random bytes never raise anything but a SparkplugPayloadError')
})
