/** The fairness benchmark: one tenant's backlog against another tenant's few operations, fair queues on and off. */
import { defineBenchmark } from "../support/args.js";

export const fairness = defineBenchmark({
  name: "fairness",
  summary: "tenant A enqueues N, tenant B then M, one method at concurrency 64: B's completion latency p99 and the drain rate, fair queuing on and off, taking turns (goals: B p99 < 1 s fair; drain fair ≥ 0.8× off)",
  options: {
    a: { type: "integer", default: 50000, help: "tenant A's operations, enqueued first in batches of 1,000" },
    b: { type: "integer", default: 100, help: "tenant B's operations, enqueued once A's are" },
    concurrency: { type: "integer", default: 64, help: "handlers running at once (the method's limit)" },
    repeat: { type: "integer", default: 2, help: "rounds; each runs both variants, taking turns" },
    store: { type: "choice", choices: ["sqlite", "postgres"], default: "sqlite", help: "a fresh SQLite file, or a fresh schema on postgres://postgres@127.0.0.1:5432/test (dropped after)" },
    quantum: { type: "number", default: 10, help: "fair queuing's quantum, ms" },
  },
  run: async (args) => (await import("./run.js")).run(args),
});
