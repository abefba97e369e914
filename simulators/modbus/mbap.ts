// MBAP framing for Modbus TCP: requests cut out of a byte stream however it arrives (split or several to a chunk), responses given their header.

// MBAP header, Modbus Messaging on TCP/IP Implementation Guide V1.0b §3.1.3: transaction id (2),
// protocol id (2, 0 for Modbus), length (2, the bytes that follow: unit id and PDU), unit id (1).
export const MBAP_HEADER_BYTES = 7
const LENGTH_FIELD_END = 6
/** A PDU is at most 253 bytes (Modbus Application Protocol V1.1b3 §4.1), so length is at most 254. */
export const MAX_LENGTH_FIELD = 254

export interface MbapRequest {
  transactionId: number
  unitId: number
  pdu: Buffer
}

/** A frame that is not Modbus. `fatal` when the stream has lost its framing and the connection must go. */
export interface MbapProblem {
  problem: string
  fatal: boolean
}

const empty = Buffer.alloc(0)

/** Cuts requests out of a stream; pull-based, so the caller can stop between two requests (a delayed answer). */
export class MbapDecoder {
  #buffer: Buffer = empty
  #at = 0

  /** Bytes received but not yet returned as a request. */
  get pendingBytes(): number {
    return this.#buffer.length - this.#at
  }

  push(chunk: Buffer): void {
    if (this.#at >= this.#buffer.length) this.#buffer = chunk
    else this.#buffer = Buffer.concat([this.#buffer.subarray(this.#at), chunk])
    this.#at = 0
  }

  /** The next whole request, a problem, or null until more bytes arrive. */
  next(): MbapRequest | MbapProblem | null {
    const buffer = this.#buffer
    const at = this.#at
    if (buffer.length - at < LENGTH_FIELD_END) return null
    const length = buffer.readUInt16BE(at + 4)
    if (length > MAX_LENGTH_FIELD) {
      // Nothing tells where the next frame would start: the rest of the stream cannot be trusted.
      this.#buffer = empty
      this.#at = 0
      return { problem: `MBAP length ${length} is over ${MAX_LENGTH_FIELD}, the most a Modbus frame can carry`, fatal: true }
    }
    if (buffer.length - at < LENGTH_FIELD_END + length) return null
    this.#at = at + LENGTH_FIELD_END + length
    const protocolId = buffer.readUInt16BE(at + 2)
    // The length is still good, so the frame is skipped and the stream goes on.
    if (protocolId !== 0) return { problem: `MBAP protocol identifier ${protocolId}, not 0 (Modbus)`, fatal: false }
    if (length < 2) return { problem: `MBAP length ${length}: a request carries a unit id and at least a function code`, fatal: false }
    return { transactionId: buffer.readUInt16BE(at), unitId: buffer[at + 6]!, pdu: buffer.subarray(at + MBAP_HEADER_BYTES, at + LENGTH_FIELD_END + length) }
  }
}

export const isProblem = (item: MbapRequest | MbapProblem): item is MbapProblem => 'problem' in item

/** Fills the MBAP header into the first 7 bytes of `frame`, whose PDU follows them. */
export function frameResponse(frame: Buffer, transactionId: number, unitId: number): Buffer {
  frame.writeUInt16BE(transactionId, 0)
  frame.writeUInt16BE(0, 2)
  frame.writeUInt16BE(frame.length - LENGTH_FIELD_END, 4)
  frame[6] = unitId
  return frame
}

/** A whole request frame, for clients and tests. */
export function frameRequest(transactionId: number, unitId: number, pdu: Buffer | number[]): Buffer {
  const body = Buffer.isBuffer(pdu) ? pdu : Buffer.from(pdu)
  const frame = Buffer.allocUnsafe(MBAP_HEADER_BYTES + body.length)
  body.copy(frame, MBAP_HEADER_BYTES)
  return frameResponse(frame, transactionId, unitId)
}
