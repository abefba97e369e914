// Status codes into quality and variants into sample values, without a server.
import { DataType, DataValue, LocalizedText, StatusCodes, Variant, VariantArrayType } from 'node-opcua-client'
import t from 'tap'
import { qualityOf, sampleValue, statusName, toSample } from './values.ts'

t.test('the severity bits decide the quality (OPC 10000-4 7.39)', async (t) => {
  t.same(qualityOf(StatusCodes.Good), { quality: 'good' }, 'Good: no reason')
  t.same(qualityOf(StatusCodes.GoodClamped), { quality: 'good', reason: 'GoodClamped' }, 'a Good sub-code is still good, named')
  t.same(qualityOf(StatusCodes.UncertainLastUsableValue), { quality: 'uncertain', reason: 'UncertainLastUsableValue' })
  t.same(qualityOf(StatusCodes.UncertainSensorNotAccurate), { quality: 'uncertain', reason: 'UncertainSensorNotAccurate' })
  t.same(qualityOf(StatusCodes.BadSensorFailure), { quality: 'bad', reason: 'BadSensorFailure' })
  t.same(qualityOf(StatusCodes.BadNodeIdUnknown), { quality: 'bad', reason: 'BadNodeIdUnknown' })
  t.equal(qualityOf(0x3fffffff).quality, 'good', 'the last code with severity 00 is good')
  t.equal(qualityOf(0x40000000).quality, 'uncertain', 'the first with 01 is uncertain')
  t.equal(qualityOf(0x7fffffff).quality, 'uncertain', 'the last with 01 is uncertain')
  t.equal(qualityOf(0x80000000).quality, 'bad', 'the first with 10 is bad')
  t.equal(qualityOf(0xc0000000).quality, 'bad', 'the reserved 11 is treated as bad')
  t.equal(qualityOf(StatusCodes.UncertainLastUsableValue.value | 0x400).quality, 'uncertain', 'info bits do not change the severity')
})

t.test('a reason names the code, or gives it in hex when no name says more', async (t) => {
  t.equal(statusName(StatusCodes.BadTimeout), 'BadTimeout')
  t.equal(statusName(0), 'Good')
  t.equal(statusName(0x80ab0000), 'Bad (0x80ab0000)', 'a bare number has no name')
})

t.test('variants become numbers, text, booleans or null', async (t) => {
  const v = (dataType: DataType, value: unknown, arrayType = VariantArrayType.Scalar) => sampleValue(new Variant({ dataType, arrayType, value }))
  t.equal(v(DataType.Int32, -7), -7)
  t.equal(v(DataType.Double, 12.5), 12.5)
  t.equal(v(DataType.Boolean, true), true)
  t.equal(v(DataType.String, 'Filling'), 'Filling')
  t.equal(v(DataType.Int64, [0, 42]), 42, 'a 64-bit integer within 2^53 is a number')
  t.equal(v(DataType.Int64, [-1, 0xffffffff]), -1, 'negative Int64')
  t.equal(v(DataType.UInt64, [0x00200000, 1]), '9007199254740993', 'past 2^53 it stays exact, as text')
  t.equal(v(DataType.DateTime, new Date(Date.UTC(2026, 0, 2, 3, 4, 5))), '2026-01-02T03:04:05.000Z')
  t.equal(v(DataType.LocalizedText, new LocalizedText({ text: 'Jam at infeed', locale: 'en' })), 'Jam at infeed')
  t.equal(v(DataType.ByteString, Buffer.from([1, 2, 3])), 'AQID', 'bytes as base64')
  t.equal(v(DataType.Float, new Float32Array([1.5, 2.5]), VariantArrayType.Array), '[1.5,2.5]', 'an array as JSON text')
  t.equal(sampleValue(new Variant({ dataType: DataType.Null })), null)
  t.equal(sampleValue(null), null)
})

t.test('a data value becomes a sample with source time, else server time', async (t) => {
  const source = new Date(Date.UTC(2026, 4, 1, 8, 0, 0))
  const server = new Date(Date.UTC(2026, 4, 1, 8, 0, 1))
  const value = new Variant({ dataType: DataType.Double, value: 3.25 })
  t.same(toSample('m/x', new DataValue({ value, sourceTimestamp: source, serverTimestamp: server }), 1), { signal: 'm/x', value: 3.25, quality: 'good', timestamp: source.getTime() })
  t.same(toSample('m/x', new DataValue({ value, serverTimestamp: server }), 1), { signal: 'm/x', value: 3.25, quality: 'good', timestamp: server.getTime() })
  t.same(toSample('m/x', new DataValue({ value }), 1234), { signal: 'm/x', value: 3.25, quality: 'good', timestamp: 1234 }, 'no timestamps: now')
  t.same(toSample('m/x', new DataValue({ value, statusCode: StatusCodes.BadCommunicationError }), 1), { signal: 'm/x', value: null, quality: 'bad', timestamp: 1, reason: 'BadCommunicationError' })
  t.same(toSample('m/x', new DataValue({ value, statusCode: StatusCodes.UncertainInitialValue }), 1), { signal: 'm/x', value: 3.25, quality: 'uncertain', timestamp: 1, reason: 'UncertainInitialValue' })
})
