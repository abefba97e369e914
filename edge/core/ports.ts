// The ports the MES core needs from the outside world: time and identity. Adapters live elsewhere.

/** Wall-clock time, injected so that decisions are reproducible in tests. */
export interface Clock {
  now(): Date
}

/** Unique, time-ordered identifiers (UUIDv7 in production). */
export interface Ids {
  next(): string
}
