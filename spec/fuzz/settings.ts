/**
 * How many runs each property gets, and with which seed; every spec file in spec/fuzz/
 * takes its settings from here.
 *
 * Seeds are random. A failure prints its seed, path and shrunk counterexample; replay it
 * with `FUZZ_SEED=<seed> FUZZ_PATH=<path>`, best on its file alone (`npm run test:only --
 * build/spec/fuzz/routes.test.js`). CI sets FUZZ_SEED (see .ci/run). `FUZZ_SCALE=10` runs
 * every property ten times longer (bug hunts).
 */
import fc from 'fast-check';

/** `FUZZ_SCALE=10` runs every property ten times longer (local bug hunts). */
const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? 1) || 1);

/** Bounded runs; fast-check reports the seed and the shrunk counterexample. */
export function settings(numRuns: number, timeLimitMs: number): fc.Parameters<unknown> {
  if (process.env.FUZZ_SEED !== undefined) {
    // Replays a reported failure: FUZZ_SEED=<seed> FUZZ_PATH=<path> from fast-check's report.
    return { numRuns, seed: Number(process.env.FUZZ_SEED), path: process.env.FUZZ_PATH, verbose: 1 };
  }
  return { numRuns: numRuns * SCALE, plugins: [fc.interruptAfterTimeLimit(timeLimitMs * SCALE)] };
}
