import fc from "fast-check";

/**
 * Run count and seed of a fuzz property. CI runs each property with a fixed seed and its own small
 * `defaultRuns`; `npm run fuzz` (or `LONGRUN_FUZZ_RUNS=<n> LONGRUN_FUZZ_SEED=<seed>`) runs it longer.
 * `LONGRUN_FUZZ_RUNS` multiplies nothing: it is the run count of every property (scaled down by `share`
 * for the costly ones, e.g. the properties that go over HTTP).
 */
export const DEFAULT_SEED = 16;

export interface FuzzParams {
  seed: number;
  numRuns: number;
}

export function fuzzParams(defaultRuns: number, share = 1): FuzzParams {
  const runsEnv = process.env["LONGRUN_FUZZ_RUNS"];
  const seedEnv = process.env["LONGRUN_FUZZ_SEED"];
  let numRuns = defaultRuns;
  if (runsEnv !== undefined && runsEnv !== "") {
    const n = Number(runsEnv);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`LONGRUN_FUZZ_RUNS must be a positive integer, got ${runsEnv}`);
    numRuns = Math.max(1, Math.round(n * share));
  }
  let seed = DEFAULT_SEED;
  if (seedEnv !== undefined && seedEnv !== "") {
    const n = Number(seedEnv);
    if (!Number.isInteger(n) || n < -0x80000000 || n > 0xffffffff) throw new Error(`LONGRUN_FUZZ_SEED must be a 32-bit integer, got ${seedEnv}`);
    seed = n | 0;
  }
  return { seed, numRuns };
}

/** fc.assert with the run's seed and count; a failure names the seed and how to replay it. */
export function check<Ts extends [unknown, ...unknown[]]>(property: fc.IProperty<Ts>, defaultRuns: number, share = 1): void {
  const { seed, numRuns } = fuzzParams(defaultRuns, share);
  try {
    fc.assert(property, { seed, numRuns });
  } catch (e) {
    throw new Error(`fuzz property failed (seed ${seed}, ${numRuns} runs; replay: LONGRUN_FUZZ_SEED=${seed} LONGRUN_FUZZ_RUNS=${numRuns})\n${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** The async twin of `check`. */
export async function checkAsync<Ts extends [unknown, ...unknown[]]>(property: fc.IAsyncProperty<Ts>, defaultRuns: number, share = 1): Promise<void> {
  const { seed, numRuns } = fuzzParams(defaultRuns, share);
  try {
    await fc.assert(property, { seed, numRuns });
  } catch (e) {
    throw new Error(`fuzz property failed (seed ${seed}, ${numRuns} runs; replay: LONGRUN_FUZZ_SEED=${seed} LONGRUN_FUZZ_RUNS=${numRuns})\n${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
