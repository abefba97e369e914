// A duplex wrapper that reads MQTT fixed headers and cuts a connection whose packet is over the size limit.
import { Duplex } from 'node:stream'

export class PacketTooLarge extends Error {
  readonly size: number
  constructor(size: number, limit: number) {
    super(`MQTT packet of ${size} bytes is over the limit of ${limit}`)
    this.size = size
  }
}

/**
 * Walks packet boundaries as bytes arrive (MQTT-2.2: one type byte, then the remaining length
 * in 1–4 variable-length bytes), so an oversized packet is refused before it is buffered.
 */
export class PacketSizeGuard {
  readonly #limit: number
  #skip = 0
  #state: 'type' | 'length' = 'type'
  #length = 0
  #multiplier = 1
  #lengthBytes = 0

  constructor(limit: number) {
    this.#limit = limit
  }

  /** Throws PacketTooLarge when a packet in the chunk announces more than the limit. */
  inspect(chunk: Uint8Array): void {
    let i = 0
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, chunk.length - i)
        this.#skip -= take
        i += take
        continue
      }
      const byte = chunk[i++]!
      if (this.#state === 'type') {
        this.#state = 'length'
        this.#length = 0
        this.#multiplier = 1
        this.#lengthBytes = 0
        continue
      }
      this.#length += (byte & 0x7f) * this.#multiplier
      this.#multiplier *= 128
      this.#lengthBytes += 1
      if (byte & 0x80 && this.#lengthBytes < 4) continue
      if (this.#length > this.#limit) throw new PacketTooLarge(this.#length, this.#limit)
      this.#skip = this.#length
      this.#state = 'type'
    }
  }
}

/**
 * Most bytes of one connection aedes gets in one turn of the event loop. aedes parses and takes
 * every PUBLISH of what it reads at once (the ingest runs in the authorization step): 64 KB of
 * small telemetry messages is about 900 of them, 10 ms or more of the loop, and an operator's
 * request that arrives meanwhile waits for all of it. In pieces a flood gives way to other work
 * between them, and the rest waits in the kernel (TCP backpressure). While an HTTP request is
 * being handled the pieces are smaller still: each step of the request (its body, its commit,
 * the answer) then waits behind about a millisecond of telemetry instead of several.
 */
export const maxBytesPerTurn = 8 * 1024
export const maxBytesPerTurnWhileRequests = 1024

/** Whether operators' requests are being handled (the HTTP server's count): telemetry then takes less of each turn. */
export type RequestsWaiting = () => boolean

/** The socket as aedes sees it, with every inbound byte passed through a PacketSizeGuard first, a piece a turn. */
export function guardStream(socket: Duplex, limit: number, onTooLarge: (error: PacketTooLarge) => void, requestsWaiting: RequestsWaiting = () => false): Duplex {
  const guard = new PacketSizeGuard(limit)
  /** Inbound bytes not yet handed to aedes; while there are any, a hand-over is scheduled. */
  const waiting: Buffer[] = []
  let corked = false
  const uncork = () => {
    corked = false
    socket.uncork()
  }
  const wrapped: Duplex = new Duplex({
    read() {
      if (waiting.length === 0) socket.resume()
    },
    write(chunk: Buffer, _encoding, callback) {
      // aedes writes a packet in pieces, and a commit answers many PUBLISHes at once: everything
      // written in one event-loop turn leaves in one system call instead of one per piece.
      if (!corked) {
        corked = true
        socket.cork()
        process.nextTick(uncork)
      }
      // Done at once unless the socket's buffer is full: waiting for each write to reach the
      // kernel would hold every further piece back by a turn of the loop.
      if (socket.write(chunk)) callback()
      else socket.once('drain', () => callback())
    },
    final(callback) {
      socket.end(callback)
    },
    destroy(error, callback) {
      socket.destroy()
      callback(error)
    },
  })
  socket.on('data', (chunk: Buffer) => {
    try {
      guard.inspect(chunk)
    } catch (error) {
      onTooLarge(error as PacketTooLarge)
      socket.destroy()
      wrapped.destroy()
      return
    }
    if (waiting.length === 0 && chunk.length <= maxBytesPerTurnWhileRequests) {
      if (!wrapped.push(chunk)) socket.pause()
      return
    }
    const idle = waiting.length === 0
    waiting.push(chunk)
    socket.pause()
    if (idle) pump()
  })
  /** Hands aedes the next piece, and schedules the one after it for the next turn. */
  const pump = () => {
    const first = waiting[0]
    if (first === undefined || wrapped.destroyed) return
    const size = requestsWaiting() ? maxBytesPerTurnWhileRequests : maxBytesPerTurn
    let piece = first
    if (first.length > size) {
      piece = first.subarray(0, size)
      waiting[0] = first.subarray(size)
    } else waiting.shift()
    const more = wrapped.push(piece)
    if (waiting.length > 0) setImmediate(pump)
    else if (ended) {
      wrapped.push(null)
      if (closed) wrapped.once('end', () => wrapped.destroy())
    } else if (more) socket.resume()
  }
  // A client that sends and closes at once: its end and close come after the pieces still waiting.
  let ended = false
  let closed = false
  socket.on('end', () => {
    if (waiting.length === 0) wrapped.push(null)
    else ended = true
  })
  socket.on('close', (hadError: boolean) => {
    if (waiting.length === 0 || hadError) wrapped.destroy()
    else closed = true
  })
  socket.on('error', (error) => wrapped.destroy(error))
  return wrapped
}
