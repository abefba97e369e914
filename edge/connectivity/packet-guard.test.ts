// The broker's socket wrapper over a real TCP connection: oversized packets cut the connection, a burst reaches aedes whole and in order but in pieces that let other work run between them.
import { once } from 'node:events'
import { createServer, connect, type AddressInfo, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import t from 'tap'
import { guardStream, maxBytesPerTurn, maxBytesPerTurnWhileRequests, type PacketTooLarge } from './packet-guard.ts'

/** A QoS 0 PUBLISH to `t` with `size` payload bytes (MQTT-3.3; remaining length in 1–2 bytes). */
function publish(size: number, fill: number): Buffer {
  const body = Buffer.concat([Buffer.from([0, 1, 0x74]), Buffer.alloc(size, fill)])
  const length = body.length < 128 ? [body.length] : [(body.length % 128) | 0x80, Math.floor(body.length / 128)]
  return Buffer.concat([Buffer.from([0x30, ...length]), body])
}

/** A server whose one connection is wrapped by guardStream; the client socket to write from. */
async function wrappedPair(t: { teardown(fn: () => void): void }, limit: number, requestsWaiting = () => false): Promise<{ client: Socket; wrapped: Duplex; tooLarge: PacketTooLarge[] }> {
  const tooLarge: PacketTooLarge[] = []
  let resolveWrapped: (d: Duplex) => void = () => {}
  const accepted = new Promise<Duplex>((resolve) => (resolveWrapped = resolve))
  const server = createServer((socket) => resolveWrapped(guardStream(socket, limit, (e) => tooLarge.push(e), requestsWaiting)))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1')
  t.teardown(() => {
    client.destroy()
    server.close()
  })
  return { client, wrapped: await accepted, tooLarge }
}

t.test('a burst arrives whole and in order, in pieces of at most maxBytesPerTurn, with other work between them', async (t) => {
  const { client, wrapped } = await wrappedPair(t, 256 * 1024)
  const burst = Buffer.concat(Array.from({ length: 2000 }, (_, i) => publish(60, i % 256)))
  t.ok(burst.length > 10 * maxBytesPerTurn, `the burst is ${burst.length} bytes`)
  const pieces: Buffer[] = []
  const turnsAt: number[] = []
  // Other work of the event loop: one step per turn, counting the turns it got while the burst came in.
  let turns = 0
  let counting = true
  const count = () => {
    turns += 1
    if (counting) setImmediate(count)
  }
  setImmediate(count)
  wrapped.on('data', (piece: Buffer) => {
    pieces.push(piece)
    turnsAt.push(turns)
  })
  client.end(burst)
  await once(wrapped, 'end')
  counting = false
  t.same(Buffer.concat(pieces), burst, 'every byte, in order, and the end after the last one')
  t.ok(pieces.every((p) => p.length <= maxBytesPerTurn), `no piece over ${maxBytesPerTurn} bytes (largest ${Math.max(...pieces.map((p) => p.length))})`)
  // A piece handed over in the poll phase and the next in the check phase of the same loop share a count: half a turn a piece at least.
  const otherTurns = turnsAt.at(-1)! - turnsAt[0]!
  t.ok(otherTurns >= (pieces.length - 1) / 2, `other work ran while the pieces came in (${pieces.length} pieces, ${otherTurns} turns of other work between the first and the last)`)
})

t.test('while HTTP requests are being handled the pieces are smaller; once they are done, full size again', async (t) => {
  let requests = true
  const { client, wrapped } = await wrappedPair(t, 256 * 1024, () => requests)
  const pieces: Buffer[] = []
  const sizes = { during: [] as number[], after: [] as number[] }
  wrapped.on('data', (piece: Buffer) => {
    pieces.push(piece)
    ;(requests ? sizes.during : sizes.after).push(piece.length)
    // The requests are done after twenty pieces.
    if (pieces.length === 20) requests = false
  })
  const burst = Buffer.concat(Array.from({ length: 2000 }, (_, i) => publish(60, i % 256)))
  client.end(burst)
  await once(wrapped, 'end')
  t.same(Buffer.concat(pieces), burst, 'every byte, in order')
  t.ok(sizes.during.length >= 20 && sizes.during.every((n) => n <= maxBytesPerTurnWhileRequests), `while requests run: ${sizes.during.length} pieces of at most ${maxBytesPerTurnWhileRequests} bytes`)
  t.ok(sizes.after.some((n) => n > maxBytesPerTurnWhileRequests) && sizes.after.every((n) => n <= maxBytesPerTurn), `after them: pieces up to ${maxBytesPerTurn} bytes (largest ${Math.max(...sizes.after)})`)
})

t.test('a packet over the limit cuts the connection; one within it passes', async (t) => {
  const { client, wrapped, tooLarge } = await wrappedPair(t, 1024)
  const small = publish(900, 1)
  const got: Buffer[] = []
  wrapped.on('data', (b: Buffer) => got.push(b))
  client.write(small)
  while (Buffer.concat(got).length < small.length) await new Promise((resolve) => setTimeout(resolve, 5))
  t.same(Buffer.concat(got), small, 'a 906-byte packet under a 1024-byte limit passes')
  t.same(tooLarge, [])
  const closed = once(wrapped, 'close')
  client.write(publish(2000, 2))
  await closed
  t.equal(tooLarge.length, 1, 'a 2006-byte packet is refused')
  t.match(tooLarge[0]!.message, /MQTT packet of 2003 bytes is over the limit of 1024/, 'the size is the remaining length the header announces')
  t.equal(Buffer.concat(got).length, small.length, 'none of its bytes reached aedes')
})
