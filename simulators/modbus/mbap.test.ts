// MBAP framing over duplexPair: requests split anywhere or pipelined many to a chunk, and frames that are not Modbus reported without a crash.
import { duplexPair, type Duplex } from 'node:stream'
import t from 'tap'
import { frameRequest, MbapDecoder } from './mbap.ts'
import { RegisterMap } from './register-map.ts'
import { ModbusSlave, type ModbusFrameError } from './slave.ts'

const readHolding = (tx: number, unit: number, address: number, count: number) => frameRequest(tx, unit, [0x03, address >> 8, address & 0xff, count >> 8, count & 0xff])

function served(t: { teardown(fn: () => void): void }) {
  const map = new RegisterMap(100)
  map.set('holding_register', 0, [10, 11, 12, 13])
  const errors: ModbusFrameError[] = []
  const slave = new ModbusSlave({ units: { 1: map }, onProtocolError: (e) => errors.push(e) })
  const [client, server] = duplexPair()
  slave.handle(server)
  const received: Buffer[] = []
  client.on('data', (chunk: Buffer) => received.push(chunk))
  t.teardown(() => client.destroy())
  const answers = async (n: number) => {
    for (let i = 0; i < 100; i++) {
      const all = Buffer.concat(received)
      const frames = split(all)
      if (frames.length >= n) return frames
      await new Promise((resolve) => setImmediate(resolve))
    }
    return split(Buffer.concat(received))
  }
  return { slave, client: client as Duplex, server: server as Duplex, errors, answers, received }
}

/** Responses cut by the same decoder (its framing is symmetric), as hex. */
function split(bytes: Buffer): string[] {
  const d = new MbapDecoder()
  d.push(bytes)
  const out: string[] = []
  for (let f = d.next(); f && !('problem' in f); f = d.next()) out.push(`${f.transactionId}/${f.unitId}/${f.pdu.toString('hex')}`)
  return out
}

t.test('a request split byte by byte is answered once, whole', async (t) => {
  const { client, answers } = served(t)
  const frame = readHolding(7, 1, 1, 2)
  for (const byte of frame) {
    client.write(Buffer.from([byte]))
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.same(await answers(1), ['7/1/0304000b000c'])
})

t.test('pipelined requests in one chunk are all answered, in order, each with its transaction id', async (t) => {
  const { client, answers } = served(t)
  client.write(Buffer.concat([readHolding(1, 1, 0, 1), readHolding(2, 1, 3, 1), readHolding(3, 1, 500, 1), readHolding(4, 2, 0, 1)]))
  t.same(await answers(4), ['1/1/0302000a', '2/1/0302000d', '3/1/8302', '4/2/830b'], 'values, an address past the map (exception 2), a unit with no device (exception 0x0B)')
})

t.test('a frame with another protocol id, or no function code, is skipped and reported; the stream goes on', async (t) => {
  const { client, errors, answers, slave } = served(t)
  const notModbus = readHolding(1, 1, 0, 1)
  notModbus.writeUInt16BE(0x1234, 2)
  const empty = Buffer.from([0, 2, 0, 0, 0, 1, 1])
  client.write(Buffer.concat([notModbus, empty, readHolding(3, 1, 0, 1)]))
  t.same(await answers(1), ['3/1/0302000a'], 'only the good request is answered')
  t.same(errors.map((e) => [e.message, e.fatal]), [
    ['malformed Modbus TCP frame from stream: MBAP protocol identifier 4660, not 0 (Modbus); frame skipped', false],
    ['malformed Modbus TCP frame from stream: MBAP length 1: a request carries a unit id and at least a function code; frame skipped', false],
  ])
  t.equal(slave.stats().malformed, 2)
})

t.test('a length no Modbus frame can have loses the framing: reported, the connection closed, the slave unharmed', async (t) => {
  const { client, errors, answers, received } = served(t)
  const closed = new Promise<void>((resolve) => client.once('end', resolve))
  client.write(Buffer.concat([readHolding(1, 1, 0, 1), Buffer.from([0, 2, 0, 0, 0x01, 0x00, 1, 3, 0, 0, 0, 1])]))
  await closed
  t.same(await answers(1), ['1/1/0302000a'], 'the request before it was answered')
  t.equal(received.length > 0, true)
  t.match(errors[0], { message: /MBAP length 256 is over 254, the most a Modbus frame can carry; connection closed/, fatal: true })
  const again = served(t)
  again.client.write(readHolding(9, 1, 0, 1))
  t.same(await again.answers(1), ['9/1/0302000a'], 'a new connection is served')
})

t.test('the decoder alone: pending bytes and partial headers', async (t) => {
  const d = new MbapDecoder()
  const frame = readHolding(5, 1, 0, 1)
  d.push(frame.subarray(0, 5))
  t.equal(d.next(), null, 'five bytes do not hold the length field')
  d.push(frame.subarray(5, 9))
  t.equal(d.next(), null, 'the header without the whole PDU')
  t.equal(d.pendingBytes, 9)
  d.push(frame.subarray(9))
  t.match(d.next(), { transactionId: 5, unitId: 1 })
  t.equal(d.pendingBytes, 0)
})
