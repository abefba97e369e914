// A page of samples in shared memory: the event loop fills it, the historian's writer thread reads it — no copy, no serialization per sample.
//
// Handing a batch to a worker by structured clone or by transferring typed arrays costs 20–70 µs
// a post; posting a reference to a SharedArrayBuffer costs a few. A page is reused once the
// writer has settled the batch it carried.

/** Column views over one page's shared memory; the layout is the same on both threads. */
export interface PageColumns {
  ts: Float64Array
  /** NaN where the sample has no numeric value. */
  value: Float64Array
  signal: Int32Array
  quality: Uint8Array
}

const bytesPerRow = 8 + 8 + 4 + 1

export function pageColumns(memory: SharedArrayBuffer): PageColumns {
  const capacity = Math.floor(memory.byteLength / bytesPerRow)
  return {
    ts: new Float64Array(memory, 0, capacity),
    value: new Float64Array(memory, capacity * 8, capacity),
    signal: new Int32Array(memory, capacity * 16, capacity),
    quality: new Uint8Array(memory, capacity * 20, capacity),
  }
}

export class SamplePage {
  readonly memory: SharedArrayBuffer
  readonly capacity: number
  readonly #columns: PageColumns
  /** Text values by row, or null while the page has none (most telemetry is numeric). */
  text: Array<string | null> | null = null
  length = 0

  constructor(capacity: number) {
    this.capacity = capacity
    this.memory = new SharedArrayBuffer(capacity * bytesPerRow)
    this.#columns = pageColumns(this.memory)
  }

  get full(): boolean {
    return this.length >= this.capacity
  }

  push(ts: number, signal: number, value: number | string | boolean | null, quality: number): void {
    const c = this.#columns
    const i = this.length++
    c.ts[i] = ts
    c.signal[i] = signal
    c.quality[i] = quality
    if (typeof value === 'number') c.value[i] = value
    else if (typeof value === 'boolean') c.value[i] = value ? 1 : 0
    else {
      c.value[i] = Number.NaN
      if (typeof value === 'string') (this.text ??= [])[i] = value
    }
  }

  reset(): void {
    this.length = 0
    this.text = null
  }
}
