// The fuzz tests' seed: fixed, so that a run is repeatable; TAKT_FUZZ_SEED replays another (fast-check prints the seed and path of a failure).
import type { Parameters } from 'fast-check'

export const fuzzSeed = Number(process.env.TAKT_FUZZ_SEED ?? 62443)

/** TAKT_FUZZ_SCALE multiplies every property's cases: 10 for a long hunt, the default keeps the suite's fuzz run under a minute. */
const scale = Number(process.env.TAKT_FUZZ_SCALE ?? 1)

/** fast-check options for one property: the shared seed, and the number of cases. */
export function runs(numRuns: number): Parameters<unknown> {
  return { seed: fuzzSeed, numRuns: Math.max(1, Math.round(numRuns * scale)) }
}

export const seedNote = `fast-check seed ${fuzzSeed} (replay with TAKT_FUZZ_SEED=${fuzzSeed})`
