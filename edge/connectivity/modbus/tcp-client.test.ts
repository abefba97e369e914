// The collector's Modbus TCP client on a real socket against a scripted device: good answers split or late, exceptions, timeouts, and every kind of malformed answer.
import { createServer, type Socket } from 'node:net'
import t from 'tap'
import { describeModbusError } from './link.ts'
import { ModbusTcpClient } from './tcp-client.ts'

type Script = (request: Buffer, socket: Socket) => void

/** A TCP peer that hands each request frame to the test, which writes whatever bytes it likes back. */
async function device(t: { teardown(fn: () => void): void }, script: Script) {
  const server = createServer((socket) => socket.on('data', (frame: Buffer) => script(frame, socket)))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const port = (server.address() as { port: number }).port
  const client = await ModbusTcpClient.connect('127.0.0.1', port, 500)
  t.teardown(() => client.destroy())
  return client
}

/** An answer to `request` with this PDU, in a correct MBAP header unless told otherwise. */
function reply(request: Buffer, pdu: number[], header: { transactionId?: number; protocolId?: number; unitId?: number; length?: number } = {}): Buffer {
  const out = Buffer.alloc(7 + pdu.length)
  out.writeUInt16BE(header.transactionId ?? request.readUInt16BE(0), 0)
  out.writeUInt16BE(header.protocolId ?? 0, 2)
  out.writeUInt16BE(header.length ?? pdu.length + 1, 4)
  out[6] = header.unitId ?? request[6]!
  Buffer.from(pdu).copy(out, 7)
  return out
}

const failure = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => describeModbusError(e, 200))

t.test('registers and bits decoded; an answer split in three chunks is one answer', async (t) => {
  const client = await device(t, (req, socket) => {
    if (req[7] === 0x03) {
      const whole = reply(req, [0x03, 4, 0x12, 0x34, 0xff, 0xfe])
      socket.write(whole.subarray(0, 3))
      setTimeout(() => socket.write(whole.subarray(3, 8)), 5)
      setTimeout(() => socket.write(whole.subarray(8)), 10)
    } else socket.write(reply(req, [0x01, 2, 0b0000_0101, 0b1]))
  })
  t.same(await client.read(1, 'holding_register', 0, 2, 200), [0x1234, 0xfffe])
  t.same(await client.read(1, 'coil', 0, 9, 200), [true, false, true, false, false, false, false, false, true], 'first coil in the low bit')
})

t.test('an exception answer is the device\'s exception; a silent device is a timeout; both leave the connection open', async (t) => {
  let silent = false
  const client = await device(t, (req, socket) => silent || socket.write(reply(req, [0x83, 0x02])))
  t.same(await failure(client.read(1, 'holding_register', 5000, 1, 200)), { reason: 'Modbus exception 2 (illegal data address)', kind: 'exception' })
  silent = true
  t.same(await failure(client.read(1, 'holding_register', 0, 1, 200)), { reason: 'timeout: no answer within 200 ms', kind: 'timeout' })
  t.ok(client.isOpen)
})

t.test('a late answer to a timed-out request is dropped, and the next request gets its own answer', async (t) => {
  let n = 0
  const client = await device(t, (req, socket) => {
    n += 1
    if (n === 1) setTimeout(() => socket.write(reply(req, [0x03, 2, 0, 1])), 150)
    else socket.write(reply(req, [0x03, 2, 0, 2]))
  })
  t.match(await failure(client.read(1, 'holding_register', 0, 1, 100)), { kind: 'timeout' })
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(await client.read(1, 'holding_register', 0, 1, 200), [2], 'the stale answer (value 1) was not taken for this one')
})

t.test('every malformed answer is a frame error with what was wrong, and the connection is closed', async (t) => {
  const cases: Array<[string, (req: Buffer) => Buffer, RegExp]> = [
    ['protocol id not 0', (req) => reply(req, [0x03, 2, 0, 1], { protocolId: 1 }), /MBAP header .* is not Modbus/],
    ['MBAP length over 254', (req) => reply(req, [0x03, 2, 0, 1], { length: 300 }), /is not Modbus \(protocol id 0, length 2 to 254\)/],
    ['MBAP length under 2', (req) => reply(req, [], { length: 1 }), /is not Modbus/],
    ['another unit answers', (req) => reply(req, [0x03, 2, 0, 1], { unitId: 9 }), /answer from unit 9 to a request for unit 1/],
    ['another function', (req) => reply(req, [0x04, 2, 0, 1]), /answer with function 0x4 to function 0x3/],
    ['byte count disagrees', (req) => reply(req, [0x03, 4, 0, 1]), /answer of 2 data bytes \(byte count 4\) where 2 were asked for/],
    ['one byte short', (req) => reply(req, [0x03, 2, 0]), /answer of 1 data bytes \(byte count 2\)/],
    ['an exception of the wrong length', (req) => reply(req, [0x83, 2, 0]), /answer with function 0x83 to function 0x3/],
  ]
  for (const [name, make, message] of cases) {
    const client = await device(t, (req, socket) => socket.write(make(req)))
    const result = await failure(client.read(1, 'holding_register', 0, 1, 200))
    t.match(result, { kind: 'frame', reason: message }, name)
    t.notOk(client.isOpen, `${name}: closed, so the collector reconnects`)
  }
})

t.test('a connection closed under a pending request fails it at once, not at the timeout', async (t) => {
  const client = await device(t, (_req, socket) => socket.destroy())
  const started = Date.now()
  t.match(await failure(client.read(1, 'holding_register', 0, 1, 2000)), { kind: 'connection', reason: /^connection: / })
  t.ok(Date.now() - started < 1000)
  t.notOk(client.isOpen)
  t.match(await failure(client.read(1, 'holding_register', 0, 1, 200)), { kind: 'connection' }, 'a read on a closed connection fails plainly')
})

t.test('one request in flight: a second one while the first waits is refused', async (t) => {
  const client = await device(t, (req, socket) => setTimeout(() => socket.write(reply(req, [0x03, 2, 0, 7])), 50))
  const first = client.read(1, 'holding_register', 0, 1, 500)
  await t.rejects(client.read(1, 'holding_register', 0, 1, 500), /a request is already in flight/)
  t.same(await first, [7])
})

t.test('connecting to a port where nothing listens fails with its code', async (t) => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  const error = await ModbusTcpClient.connect('127.0.0.1', port, 500).catch((e: unknown) => e)
  t.same(describeModbusError(error), { reason: 'connection: ECONNREFUSED', kind: 'connection' })
})
