// Metric PropertySets (Sparkplug 3.0 §6.4.8–6.4.9), read for their scalar values such as the `Quality` property; nested sets are skipped.
import { DataType, integerAs, shortestFloat32 } from './datatypes.ts'
import { Cursor, fail, fieldName, WireType } from './wire.ts'

export type PropertyValue = number | bigint | boolean | string | null

// Field numbers from sparkplug_b.proto (Payload.PropertySet and Payload.PropertyValue).
const SET = { keys: 1, values: 2 } as const
const VALUE = { type: 1, isNull: 2, int: 3, long: 4, float: 5, double: 6, boolean: 7, string: 8, propertyset: 9, propertysets: 10, extension: 11 } as const

function expectWire(message: 'PropertySet' | 'PropertyValue', field: number, wire: number, at: number, where: string): void {
  let want: number = WireType.Len
  if (message === 'PropertyValue') {
    if (field === VALUE.float) want = WireType.Fixed32
    else if (field === VALUE.double) want = WireType.Fixed64
    else if (field < VALUE.string) want = WireType.Varint
  }
  if (wire !== want) fail(at, `${where} field ${field} (${fieldName(message, field)}) has wire type ${wire}, expected ${want}`)
}

/** Reads a PropertySet from `c.pos` to `end` into key → value. */
export function readProperties(c: Cursor, end: number, where: string): Record<string, PropertyValue> {
  const keys: string[] = []
  const values: PropertyValue[] = []
  while (c.pos < end) {
    const { field, wire, at } = c.tag(end, where)
    if (field !== SET.keys && field !== SET.values) {
      c.skip(end, wire, field, where)
      continue
    }
    expectWire('PropertySet', field, wire, at, where)
    if (field === SET.keys) keys.push(c.string(end, `${where}.keys[${keys.length}]`))
    else {
      const inner = `${where}.values[${values.length}]`
      const len = c.length(end, inner)
      values.push(readPropertyValue(c, c.pos + len, inner))
    }
  }
  // tck-id-payloads-propertyset-keys-array-size asks for equal counts; a sloppy publisher's unpaired entries are dropped, not fatal.
  const properties: Record<string, PropertyValue> = {}
  for (let i = 0; i < Math.min(keys.length, values.length); i++) properties[keys[i]!] = values[i]!
  return properties
}

function readPropertyValue(c: Cursor, end: number, where: string): PropertyValue {
  let type: number | undefined
  let isNull = false
  let raw: { kind: 'int' | 'float' | 'double'; value: number } | { kind: 'long'; value: bigint } | { kind: 'other'; value: boolean | string | null } = { kind: 'other', value: null }
  while (c.pos < end) {
    const { field, wire, at } = c.tag(end, where)
    if (field < VALUE.type || field > VALUE.extension) {
      c.skip(end, wire, field, where)
      continue
    }
    expectWire('PropertyValue', field, wire, at, where)
    const f = `${where}.${fieldName('PropertyValue', field)}`
    switch (field) {
      case VALUE.type: type = c.uint32(end, f); break
      case VALUE.isNull: isNull = c.uint32(end, f) !== 0; break
      case VALUE.int: raw = { kind: 'int', value: c.uint32(end, f) }; break
      case VALUE.long: raw = { kind: 'long', value: c.uint64(end, f) }; break
      case VALUE.float: raw = { kind: 'float', value: shortestFloat32(c.float(end, f)) }; break
      case VALUE.double: raw = { kind: 'double', value: c.double(end, f) }; break
      case VALUE.boolean: raw = { kind: 'other', value: c.uint32(end, f) !== 0 }; break
      case VALUE.string: raw = { kind: 'other', value: c.string(end, f) }; break
      default: // nested PropertySet / PropertySetList / extension: not needed for scalar properties
        c.skip(end, wire, field, where)
        raw = { kind: 'other', value: null }
    }
  }
  if (isNull) return null
  if ((raw.kind === 'int' || raw.kind === 'long') && type !== undefined && type !== DataType.Unknown) return integerAs(type, raw.value) ?? null
  return raw.value
}
