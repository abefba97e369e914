// Sparkplug B data types: their numbers, which protobuf value field each travels in, and how a wire integer becomes the typed value.

/** Sparkplug B data types (Sparkplug 3.0 §6.4.16), by the numbers that travel in `Metric.datatype`. */
export const DataType = {
  Unknown: 0, Int8: 1, Int16: 2, Int32: 3, Int64: 4, UInt8: 5, UInt16: 6, UInt32: 7, UInt64: 8,
  Float: 9, Double: 10, Boolean: 11, String: 12, DateTime: 13, Text: 14, UUID: 15, DataSet: 16,
  Bytes: 17, File: 18, Template: 19, PropertySet: 20, PropertySetList: 21,
  Int8Array: 22, Int16Array: 23, Int32Array: 24, Int64Array: 25, UInt8Array: 26, UInt16Array: 27,
  UInt32Array: 28, UInt64Array: 29, FloatArray: 30, DoubleArray: 31, BooleanArray: 32, StringArray: 33, DateTimeArray: 34,
} as const
export type DataTypeName = keyof typeof DataType

/** The scalar types a gateway metric can have (what `SparkplugEdgeNode.update` accepts by name). */
export const scalarTypeNames = ['Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64', 'Float', 'Double', 'Boolean', 'String', 'DateTime', 'Text', 'UUID'] as const
export type ScalarTypeName = (typeof scalarTypeNames)[number]

const typeNames = new Map<number, DataTypeName>(Object.entries(DataType).map(([name, code]) => [code, name as DataTypeName]))

/** The name of a datatype number, or `datatype N` for one the specification does not define. */
export function dataTypeName(code: number): string {
  return typeNames.get(code) ?? `datatype ${code}`
}

// Which value field each type uses (Sparkplug 3.0 §6.4.17 "Datatype Details").
export const intTypes: ReadonlySet<number> = new Set([DataType.Int8, DataType.Int16, DataType.Int32, DataType.UInt8, DataType.UInt16, DataType.UInt32])
export const longTypes: ReadonlySet<number> = new Set([DataType.Int64, DataType.UInt64, DataType.DateTime])
export const stringTypes: ReadonlySet<number> = new Set([DataType.String, DataType.Text, DataType.UUID])
export const bytesTypes: ReadonlySet<number> = new Set([DataType.Bytes, DataType.File, ...Array.from({ length: 13 }, (_, i) => DataType.Int8Array + i)])

export const intRange: Readonly<Record<number, readonly [number, number]>> = {
  [DataType.Int8]: [-128, 127],
  [DataType.Int16]: [-32768, 32767],
  [DataType.Int32]: [-(2 ** 31), 2 ** 31 - 1],
  [DataType.UInt8]: [0, 255],
  [DataType.UInt16]: [0, 65535],
  [DataType.UInt32]: [0, 2 ** 32 - 1],
}

/**
 * A wire integer (uint32 int_value as a number, uint64 long_value as a bigint) as the value of an
 * integer datatype. Only the type's own low bits count, so an Int16 sent sign-extended to 32 or 64
 * bits reads the same as one sent in 16. Returns undefined for a DateTime beyond any date.
 */
export function integerAs(datatype: number, raw: number | bigint): number | bigint | undefined {
  switch (datatype) {
    case DataType.Int64: return BigInt.asIntN(64, BigInt(raw))
    case DataType.UInt64: return BigInt.asUintN(64, BigInt(raw))
    case DataType.DateTime: {
      const ms = Number(raw)
      return Number.isSafeInteger(ms) ? ms : undefined
    }
  }
  const low = typeof raw === 'number' ? raw : Number(BigInt.asUintN(32, raw))
  switch (datatype) {
    case DataType.Int8: return (low << 24) >> 24
    case DataType.Int16: return (low << 16) >> 16
    case DataType.Int32: return low | 0
    case DataType.UInt8: return low & 0xff
    case DataType.UInt16: return low & 0xffff
    default: return low >>> 0
  }
}

/** The shortest decimal that is the same float32 (12.1, not 12.100000381469727): the value the publisher meant. */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value)) return value
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits))
    if (Math.fround(candidate) === value) return candidate
  }
  return value
}
