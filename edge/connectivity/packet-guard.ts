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

/** The socket as aedes sees it, with every inbound byte passed through a PacketSizeGuard first. */
export function guardStream(socket: Duplex, limit: number, onTooLarge: (error: PacketTooLarge) => void): Duplex {
  const guard = new PacketSizeGuard(limit)
  let corked = false
  const uncork = () => {
    corked = false
    socket.uncork()
  }
  const wrapped: Duplex = new Duplex({
    read() {
      socket.resume()
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
    if (!wrapped.push(chunk)) socket.pause()
  })
  socket.on('end', () => wrapped.push(null))
  socket.on('close', () => wrapped.destroy())
  socket.on('error', (error) => wrapped.destroy(error))
  return wrapped
}
