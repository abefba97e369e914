// OPC UA data values into Takt samples: quality from the status code's severity, the value as a number, text or boolean.
import { DataType, VariantArrayType, type DataValue, type StatusCode, type Variant } from 'node-opcua-client'
import type { Quality, Sample } from '../../historian/historian.ts'

export interface SampleQuality {
  quality: Quality
  /** The status code's name when it is anything but plain Good. */
  reason?: string
}

const severities: Quality[] = ['good', 'uncertain', 'bad', 'bad']
const severityNames = ['Good', 'Uncertain', 'Bad', 'Bad']

/**
 * OPC 10000-4 7.39: bits 31–30 of a StatusCode are its severity, 00 Good, 01 Uncertain, 10 Bad
 * (11 is reserved and treated as Bad). The sub-code and info bits do not change the severity,
 * so GoodClamped is still good, and UncertainLastUsableValue is uncertain whatever its limit bits.
 */
export function qualityOf(status: StatusCode | number): SampleQuality {
  const code = typeof status === 'number' ? status >>> 0 : status.value >>> 0
  const quality = severities[code >>> 30]!
  if (code === 0) return { quality }
  return { quality, reason: statusName(status) }
}

/** The status code's name, e.g. BadNodeIdUnknown; the hex code where the name says no more than the severity. */
export function statusName(status: StatusCode | number): string {
  const code = typeof status === 'number' ? status >>> 0 : status.value >>> 0
  const name = typeof status === 'number' ? '' : status.name
  const hex = `0x${code.toString(16).padStart(8, '0')}`
  if (!name || name === 'Good' || name === 'Uncertain' || name === 'Bad') return code === 0 ? 'Good' : `${severityNames[code >>> 30]} (${hex})`
  return name
}

const twoTo32 = 2 ** 32

/** node-opcua carries Int64 and UInt64 as [high, low] 32-bit words; past 2^53 the value is kept exact as text. */
function sixtyFour(words: [number, number], signed: boolean): number | string {
  const [high, low] = words
  const n = high * twoTo32 + (low >>> 0)
  if (Number.isSafeInteger(n)) return n
  const big = (BigInt(signed ? high | 0 : high >>> 0) << 32n) | BigInt(low >>> 0)
  return big.toString()
}

type Scalar = number | string | boolean | null

function scalar(dataType: DataType, value: unknown): Scalar {
  if (value === null || value === undefined) return null
  switch (dataType) {
    case DataType.Boolean:
      return Boolean(value)
    case DataType.SByte:
    case DataType.Byte:
    case DataType.Int16:
    case DataType.UInt16:
    case DataType.Int32:
    case DataType.UInt32:
    case DataType.Float:
    case DataType.Double:
      return Number(value)
    case DataType.Int64:
    case DataType.UInt64:
      return Array.isArray(value) ? sixtyFour(value as [number, number], dataType === DataType.Int64) : Number(value)
    case DataType.DateTime:
      return value instanceof Date ? value.toISOString() : String(value)
    case DataType.ByteString:
      return Buffer.isBuffer(value) ? value.toString('base64') : String(value)
    case DataType.LocalizedText:
      return (value as { text?: string | null }).text ?? ''
    case DataType.StatusCode:
      return statusName(value as StatusCode)
    case DataType.ExtensionObject:
      return JSON.stringify(value)
    default:
      // String, XmlElement, Guid, NodeId, ExpandedNodeId, QualifiedName: their text form.
      return typeof value === 'string' ? value : String(value)
  }
}

/** A variant as a sample value; arrays and matrices become JSON text of their elements. */
export function sampleValue(variant: Variant | null | undefined): Scalar {
  if (!variant || variant.dataType === DataType.Null) return null
  if (variant.arrayType === VariantArrayType.Scalar) return scalar(variant.dataType, variant.value)
  const items = Array.from(variant.value as ArrayLike<unknown>, (v) => scalar(variant.dataType, v))
  return JSON.stringify(items)
}

/** One notification as a sample: source time when the server gives one, else server time, else now. */
export function toSample(signal: string, dataValue: DataValue, now: number): Sample {
  const { quality, reason } = qualityOf(dataValue.statusCode)
  const time = dataValue.sourceTimestamp ?? dataValue.serverTimestamp
  const sample: Sample = { signal, value: quality === 'bad' ? null : sampleValue(dataValue.value), quality, timestamp: time ? time.getTime() : now }
  if (reason) sample.reason = reason
  return sample
}
