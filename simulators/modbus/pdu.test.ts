// The simulator's Modbus functions, pure: both sides of every quantity and address limit, bit packing, writes, exception codes.
import t from 'tap'
import { answer, summarize } from './pdu.ts'
import { RegisterMap } from './register-map.ts'

const pdu = (...bytes: number[]) => Buffer.from(bytes)
const word = (n: number) => [n >> 8, n & 0xff]
const read = (fc: number, address: number, quantity: number) => pdu(fc, ...word(address), ...word(quantity))
const hex = (b: Buffer) => b.toString('hex')

t.test('FC 0x03/0x04 read 1 to 125 registers inside the map', async (t) => {
  const map = new RegisterMap(200)
  map.set('holding_register', 0, [0x1234, 0xabcd])
  map.set('input_register', 199, 7)
  t.equal(hex(answer(map, read(0x03, 0, 2))), '0304' + '1234abcd')
  t.equal(hex(answer(map, read(0x04, 199, 1))), '04020007', 'the last register')
  t.equal(answer(map, read(0x03, 0, 125)).length, 2 + 250, '125 registers is the limit')
  t.equal(hex(answer(map, read(0x03, 0, 126))), '8303', '126 is exception 3 (illegal data value)')
  t.equal(hex(answer(map, read(0x03, 0, 0))), '8303', 'none is exception 3')
  t.equal(hex(answer(map, read(0x04, 199, 2))), '8402', 'one past the end is exception 2 (illegal data address)')
  t.equal(hex(answer(map, read(0x03, 65535, 1))), '8302', 'an address past the map')
  t.equal(hex(answer(map, pdu(0x03, 0, 0, 0))), '8303', 'a request one byte short: the implied length is wrong')
  t.equal(hex(answer(map, pdu(0x03, 0, 0, 0, 1, 9))), '8303', 'one byte too many')
})

t.test('FC 0x01/0x02 read 1 to 2000 bits, first bit in the low bit of the first byte', async (t) => {
  const map = new RegisterMap(3000)
  map.set('coil', 0, [true, false, true, true, false, false, false, false, true])
  map.set('discrete_input', 10, true)
  t.equal(hex(answer(map, read(0x01, 0, 9))), '0102' + '0d01')
  t.equal(hex(answer(map, read(0x02, 8, 3))), '020104', 'discrete input 10 is bit 2 of a read from 8')
  t.equal(answer(map, read(0x01, 0, 2000)).length, 2 + 250, '2000 bits is the limit')
  t.equal(hex(answer(map, read(0x01, 0, 2001))), '8103', '2001 is exception 3')
  t.equal(hex(answer(map, read(0x02, 2999, 2))), '8202', 'past the end is exception 2')
})

t.test('FC 0x05 and 0x06 write one coil or register and echo the request', async (t) => {
  const map = new RegisterMap(10)
  t.equal(hex(answer(map, pdu(0x05, 0, 3, 0xff, 0x00))), '050003ff00')
  t.equal(map.coils[3], 1, 'coil 3 is on')
  t.equal(hex(answer(map, pdu(0x05, 0, 3, 0x00, 0x00))), '0500030000')
  t.equal(map.coils[3], 0, 'and off again')
  t.equal(hex(answer(map, pdu(0x05, 0, 3, 0x12, 0x34))), '8503', 'a coil value other than FF00 or 0000 is exception 3')
  t.equal(hex(answer(map, pdu(0x05, 0, 10, 0xff, 0x00))), '8502', 'coil 10 of 10 is exception 2')
  t.equal(hex(answer(map, pdu(0x06, 0, 9, 0xbe, 0xef))), '060009beef')
  t.equal(map.holdingRegisters[9], 0xbeef)
  t.equal(hex(answer(map, pdu(0x06, 0, 10, 0, 1))), '8602', 'register 10 of 10 is exception 2')
})

t.test('FC 0x0F and 0x10 write many, and the byte count must agree with the quantity', async (t) => {
  const map = new RegisterMap(2000)
  t.equal(hex(answer(map, pdu(0x0f, 0, 4, 0, 10, 2, 0b1100_1101, 0b01))), '0f0004000a')
  t.same(map.get('coil', 4, 10), [true, false, true, true, false, false, true, true, true, false])
  t.equal(hex(answer(map, pdu(0x0f, 0, 0, 0, 10, 1, 0xff))), '8f03', 'a byte count one short is exception 3')
  const coils1968 = [0x0f, 0, 0, ...word(1968), 246, ...new Array(246).fill(0xff)]
  t.equal(hex(answer(map, pdu(...coils1968))), '0f000007b0', '1968 coils is the limit')
  t.equal(hex(answer(map, pdu(0x0f, 0, 0, ...word(1969), 247, ...new Array(247).fill(0)))), '8f03', '1969 is exception 3')
  t.equal(hex(answer(map, pdu(0x0f, ...word(1999), 0, 2, 1, 3))), '8f02', 'past the end is exception 2')

  t.equal(hex(answer(map, pdu(0x10, 0, 100, 0, 2, 4, 0x12, 0x34, 0x56, 0x78))), '1000640002')
  t.same(map.get('holding_register', 100, 2), [0x1234, 0x5678])
  t.equal(hex(answer(map, pdu(0x10, 0, 100, 0, 2, 3, 0x12, 0x34, 0x56))), '9003', 'byte count not twice the quantity')
  const regs = (n: number) => [0x10, 0, 0, ...word(n), (2 * n) & 0xff, ...new Array(2 * n).fill(1)]
  t.equal(hex(answer(map, pdu(...regs(123)))), '100000007b', '123 registers is the limit')
  t.equal(hex(answer(map, pdu(...regs(124)))), '9003', '124 is exception 3')
  t.equal(hex(answer(map, pdu(0x10, ...word(1999), 0, 2, 4, 0, 1, 0, 2))), '9002', 'past the end is exception 2')
})

t.test('an unknown function is exception 1; a write the device refuses is exception 4', async (t) => {
  const map = new RegisterMap(10)
  t.equal(hex(answer(map, pdu(0x2b, 0x0e, 1, 0))), 'ab01', 'FC 0x2B (device identification) is not served')
  t.equal(hex(answer(map, pdu(0x07))), '8701', 'FC 0x07 neither')
  const seen: string[] = []
  map.onWrite = (area, address, count) => {
    seen.push(`${area} ${address}+${count}`)
    if (address === 5) throw new Error('read-only in this state')
  }
  t.equal(hex(answer(map, pdu(0x06, 0, 4, 0, 1))), '0600040001')
  t.equal(hex(answer(map, pdu(0x06, 0, 5, 0, 1))), '8604', 'the listener threw: server device failure')
  t.same(seen, ['holding_register 4+1', 'holding_register 5+1'])
})

t.test('a request summary for fault rules and logs', async (t) => {
  t.same(summarize(read(0x03, 10, 100)), { functionCode: 3, address: 10, quantity: 100 })
  t.same(summarize(pdu(0x06, 0, 7, 0, 1)), { functionCode: 6, address: 7, quantity: 1 })
  t.same(summarize(pdu(0x11)), { functionCode: 0x11, address: 0, quantity: 0 }, 'a short PDU does not throw')
})

t.test('the register map: typed helpers and its bounds', async (t) => {
  const map = new RegisterMap({ holdingRegisters: 4, coils: 0 })
  map.setUint32('holding_register', 0, 0x00010002)
  map.setFloat32('holding_register', 2, 12.5, 'little')
  t.same(map.get('holding_register', 0, 4), [1, 2, 0x0000, 0x4148], 'uint32 big word order; float32 12.5 little word order')
  t.throws(() => map.set('holding_register', 3, [1, 2]), /holding_register 3\.\.4 is outside this map \(0\.\.3\)/)
  t.throws(() => map.get('coil', 0), /outside this map/)
  t.throws(() => new RegisterMap(70_000), /a table holds 0 to 65536 entries/)
})
