// Fuzz: Modbus TCP answers from a misbehaving device (random and mutated frames) end in data or a clear error, never a crash; decoding any registers gives a value.
import fc from 'fast-check'
import { createServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { decode, type ModbusSignal } from '../../edge/connectivity/modbus/plan.ts'
import { ModbusExceptionError, ModbusResponseError, ModbusTcpClient, ModbusTimeoutError } from '../../edge/connectivity/modbus/tcp-client.ts'
import { runs, seedNote } from './seed.ts'

t.comment(seedNote)

// The device: answers each request with whatever the current case says, built from the request it got.
let answer: (request: Buffer) => Buffer = () => Buffer.alloc(0)
const sockets = new Set<Socket>()
const device = createServer((socket) => {
  sockets.add(socket)
  socket.on('close', () => sockets.delete(socket))
  socket.on('error', () => {})
  socket.on('data', (request) => {
    if (!socket.destroyed) socket.write(answer(request))
  })
})
await new Promise<void>((resolve) => device.listen(0, '127.0.0.1', resolve))
const port = (device.address() as AddressInfo).port
t.teardown(() => {
  for (const s of sockets) s.destroy()
  device.close()
})

/** A well-formed answer to a request (MBAP + FC + byte count + data), which the cases then bend. */
function validAnswer(request: Buffer, data: Buffer): Buffer {
  const fc = request[7]!
  const pdu = Buffer.concat([Buffer.from([fc, data.length & 0xff]), data])
  const head = Buffer.alloc(7)
  request.copy(head, 0, 0, 4)
  head.writeUInt16BE(pdu.length + 1, 4)
  head[6] = request[6]!
  return Buffer.concat([head, pdu])
}

const area = fc.constantFrom('holding_register', 'input_register', 'coil', 'discrete_input') as fc.Arbitrary<'holding_register' | 'input_register' | 'coil' | 'discrete_input'>
const frame = fc.oneof(
  // Anything at all.
  fc.uint8Array({ minLength: 0, maxLength: 300 }).map((bytes) => () => Buffer.from(bytes)),
  // A valid frame with one byte changed, cut short or with bytes after it.
  fc.record({ data: fc.uint8Array({ maxLength: 250 }), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }), cut: fc.nat(), extra: fc.uint8Array({ maxLength: 20 }), how: fc.constantFrom('flip', 'cut', 'append', 'as-is') }).map(
    (c) => (request: Buffer) => {
      // The data the request asked for (FC 0x01/0x02: a bit each, 0x03/0x04: two bytes each), filled from the case's bytes.
      const count = request.readUInt16BE(10)
      const want = request[7]! <= 0x02 ? (count + 7) >> 3 : 2 * count
      const data = Buffer.alloc(want)
      for (let i = 0; i < want; i++) data[i] = c.data[i % Math.max(1, c.data.length)] ?? 0
      const valid = validAnswer(request, data)
      if (c.how === 'flip') valid[c.at % valid.length] = c.value
      if (c.how === 'cut') return valid.subarray(0, c.cut % valid.length)
      if (c.how === 'append') return Buffer.concat([valid, Buffer.from(c.extra)])
      return valid
    },
  ),
  // An exception answer with any code, or one under the wrong function.
  fc.record({ code: fc.integer({ min: 0, max: 255 }), fcDelta: fc.integer({ min: 0, max: 255 }) }).map((c) => (request: Buffer) => {
    const b = Buffer.from(request.subarray(0, 9))
    b.writeUInt16BE(3, 4)
    b[7] = (request[7]! | 0x80) ^ (c.fcDelta & 0x7f)
    b[8] = c.code
    return b
  }),
)

t.test('random answers: data of the asked length, or a Modbus error, and the client stays usable', async (t) => {
  const outcomes = { data: 0, response: 0, exception: 0, timeout: 0 }
  await fc.assert(
    fc.asyncProperty(area, fc.integer({ min: 1, max: 125 }), frame, async (a, count, reply) => {
      answer = reply
      const client = await ModbusTcpClient.connect('127.0.0.1', port, 1000)
      try {
        const data = await client.read(1, a, 0, count, 15)
        if (data.length !== count) throw new Error(`asked for ${count} values, got ${data.length}`)
        const bits = a === 'coil' || a === 'discrete_input'
        for (const v of data) if (bits ? typeof v !== 'boolean' : typeof v !== 'number' || v < 0 || v > 0xffff || !Number.isInteger(v)) throw new Error(`value ${String(v)} is not a ${bits ? 'bit' : 'register'}`)
        outcomes.data++
      } catch (error) {
        if (error instanceof ModbusResponseError) outcomes.response++
        else if (error instanceof ModbusExceptionError) outcomes.exception++
        else if (error instanceof ModbusTimeoutError) outcomes.timeout++
        else if ((error as { code?: string }).code === undefined) throw error
      } finally {
        client.destroy()
      }
    }),
    runs(300),
  )
  t.ok(outcomes.data > 0 && outcomes.response > 0 && outcomes.exception > 0, `every kind of outcome was reached: ${JSON.stringify(outcomes)}`)
  // The well-formed answer path still works after all of that.
  answer = (request) => validAnswer(request, Buffer.from([0x12, 0x34]))
  const client = await ModbusTcpClient.connect('127.0.0.1', port, 1000)
  t.same(await client.read(1, 'holding_register', 0, 1, 500), [0x1234])
  client.destroy()
})

t.test('decoding any register image gives a value of the signal type', async (t) => {
  const signal = fc.record({
    type: fc.constantFrom('bit', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64', 'string'),
    area: fc.constantFrom('holding_register', 'input_register', 'coil', 'discrete_input'),
    wordOrder: fc.constantFrom('big', 'little'),
    byteOrder: fc.constantFrom('big', 'little'),
    address: fc.integer({ min: 0, max: 20 }),
    bit: fc.integer({ min: 0, max: 15 }),
    length: fc.integer({ min: 1, max: 8 }),
    scale: fc.oneof(fc.constant(1), fc.double({ noNaN: true, min: -1e6, max: 1e6 })),
    offset: fc.oneof(fc.constant(0), fc.double({ noNaN: true, min: -1e6, max: 1e6 })),
  })
  let checked = 0
  fc.assert(
    fc.property(signal, fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 }), fc.array(fc.boolean(), { maxLength: 40 }), (s, words, bits) => {
      const value = decode(s as unknown as ModbusSignal, { address: 0 }, s.area === 'coil' || s.area === 'discrete_input' ? bits : words)
      const expected = s.area === 'coil' || s.area === 'discrete_input' || s.type === 'bit' ? 'boolean' : s.type === 'string' ? 'string' : 'number'
      checked++
      return typeof value === expected
    }),
    runs(3000),
  )
  t.ok(checked >= 3000, `${checked} register images decoded`)
})
