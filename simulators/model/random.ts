// A seeded pseudo-random source (sfc32, seeded by splitmix32): the same seed gives the same line, run after run.

function splitmix32(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

export class Random {
  readonly #seed: number
  #a: number
  #b: number
  #c: number
  #d: number

  constructor(seed: number) {
    this.#seed = seed >>> 0
    const next = splitmix32(seed)
    this.#a = next()
    this.#b = next()
    this.#c = next()
    this.#d = next()
    for (let i = 0; i < 12; i++) this.next()
  }

  /** A number in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0
    this.#d = (this.#d + 1) >>> 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) >>> 0
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0
    this.#c = (this.#c + t) >>> 0
    return t / 4294967296
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next()
  }

  /** Normal by Box–Muller; one value per call (the pair's second is dropped to keep streams simple). */
  normal(mean: number, sd: number): number {
    const u = 1 - this.next()
    const v = this.next()
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** Exponential with the given mean (the time between independent failures). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next())
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  /** A child stream: one per machine, so that adding a machine does not change the others. */
  fork(salt: string): Random {
    let h = 0x811c9dc5
    for (let i = 0; i < salt.length; i++) h = Math.imul(h ^ salt.charCodeAt(i), 0x01000193) >>> 0
    return new Random((h ^ Math.imul(this.#seed, 0x9e3779b1)) >>> 0)
  }
}
