// Request coalescing and value decoding, checked against hand-made register images.
import t from 'tap'
import { decode, planReads, type ModbusSignal } from './plan.ts'

const sig = (name: string, more: Partial<ModbusSignal>): ModbusSignal => ({ name, kind: 'value', area: 'holding_register', address: 0, type: 'uint16', wordOrder: 'big', byteOrder: 'big', scale: 1, offset: 0, ...more }) as ModbusSignal

t.test('adjacent points become one request; far ones and other areas do not', async (t) => {
  const blocks = planReads([
    sig('a', { address: 0 }),
    sig('b', { address: 2, type: 'uint32' }),
    sig('c', { address: 10, type: 'float32' }),
    sig('far', { address: 200 }),
    sig('in', { area: 'input_register', address: 0 }),
    sig('coil', { area: 'coil', address: 5, type: 'bit' }),
  ])
  t.same(blocks.map((b) => [b.area, b.address, b.count, b.signals.map((s) => s.name)]), [
    ['coil', 5, 1, ['coil']],
    ['holding_register', 0, 12, ['a', 'b', 'c']],
    ['holding_register', 200, 1, ['far']],
    ['input_register', 0, 1, ['in']],
  ])
  t.same(planReads([sig('a', { address: 0 }), sig('b', { address: 20 })], 8).length, 2, 'a gap over the limit splits')
  const wide = planReads([sig('a', { address: 0 }), sig('b', { address: 124 }), sig('c', { address: 125 })], 200)
  t.same(wide.map((b) => [b.address, b.count]), [[0, 125], [125, 1]], 'no request reads more than 125 registers (FC 0x03)')
})

t.test('decoding by type, word order, byte order, scale and offset', async (t) => {
  const at = { address: 0 }
  t.equal(decode(sig('i16', { type: 'int16' }), at, [0xfffe]), -2)
  t.equal(decode(sig('u16', { type: 'uint16' }), at, [0xfffe]), 65534)
  t.equal(decode(sig('u32', { type: 'uint32' }), at, [0x0001, 0x0002]), 65538)
  t.equal(decode(sig('u32le', { type: 'uint32', wordOrder: 'little' }), at, [0x0002, 0x0001]), 65538, 'little-endian word order (CDAB)')
  t.equal(decode(sig('i32', { type: 'int32' }), at, [0xffff, 0xffff]), -1)
  const f = Buffer.alloc(4)
  f.writeFloatBE(12.5)
  t.equal(decode(sig('f32', { type: 'float32' }), at, [f.readUInt16BE(0), f.readUInt16BE(2)]), 12.5)
  t.equal(decode(sig('f32swap', { type: 'float32', byteOrder: 'little' }), at, [((f[1]! << 8) | f[0]!), ((f[3]! << 8) | f[2]!)]), 12.5, 'byte-swapped (BADC)')
  const d = Buffer.alloc(8)
  d.writeDoubleBE(-1234.5678)
  t.equal(decode(sig('f64', { type: 'float64' }), at, [0, 2, 4, 6].map((i) => d.readUInt16BE(i))), -1234.5678)
  t.equal(decode(sig('str', { type: 'string', length: 3 }), at, [0x5441, 0x4b54, 0x0000]), 'TAKT')
  t.equal(decode(sig('bit3', { type: 'bit', bit: 3 }), at, [0b1000]), true)
  t.equal(decode(sig('bit2', { type: 'bit', bit: 2 }), at, [0b1000]), false)
  t.equal(decode(sig('scaled', { type: 'int16', scale: 0.1, offset: -40 }), at, [653]), 653 * 0.1 - 40)
  t.equal(decode(sig('coil', { area: 'coil', type: 'bit', address: 3 }), { address: 2 }, [false, true]), true)
  t.equal(decode(sig('shifted', { address: 12 }), { address: 10 }, [1, 2, 3]), 3, 'offset into the block')
})
