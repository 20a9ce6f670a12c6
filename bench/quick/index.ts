/**
 * `npm run bench -- quick`: the headline numbers of the other benchmarks, one short run each, in under two
 * minutes — a regression guard to run before a performance-sensitive change, not a substitute for them.
 */
import { defineBenchmark } from "../support/args.js";

export const PARTS = ["drain", "e2e", "rpc", "wake", "recovery"] as const;

export const quick = defineBenchmark({
  name: "quick",
  summary: "regression guard (< 2 min): drain vs graphile-worker, e2e ops/s, GetOperation vs bare, wake p99, crash recovery",
  options: {
    parts: { type: "list", choices: PARTS, default: PARTS, help: "what to measure" },
    n: { type: "integer", default: 5000, help: "drain: jobs per system" },
    "e2e-n": { type: "integer", default: 2000, help: "end to end: operations (64 in flight)" },
    seconds: { type: "number", default: 3, help: "rpc: seconds per measured run (one per target and transport)" },
    "wake-n": { type: "integer", default: 50, help: "wake: operations, one at a time" },
  },
  run: async (args) => (await import("./run.js")).run(args),
});
