/** The fairness benchmark: one tenant's backlog against another tenant's few operations, fair queues on and off. */
import { defineBenchmark } from "../support/args.js";

export const fairness = defineBenchmark({
  name: "fairness",
  summary: "tenant A enqueues N, tenant B then M, one method at 64 running: B's completion latency p99 and the drain rate — fair queuing, a method limit, a limit per key, and none — taking turns (goals: B p99 < 1 s; drain ≥ 0.8× none)",
  options: {
    a: { type: "integer", default: 50000, help: "tenant A's operations, enqueued first in batches of 1,000" },
    b: { type: "integer", default: 100, help: "tenant B's operations, enqueued once A's are" },
    concurrency: { type: "integer", default: 64, help: "handlers running at once: the instance's concurrency (off, fair), the method's concurrency.limit (limit, perkey; the instance's then twice it, so the limit is what holds)" },
    variants: { type: "list", choices: ["off", "fair", "limit", "perkey"], default: ["off", "fair", "limit", "perkey"], help: "off: no fairness, no limit; fair: fairness by tenant; limit: fair and concurrency.limit; perkey: fair, concurrency.limit and perKey half of it, keyed by the parent (projects/{tenant})" },
    repeat: { type: "integer", default: 2, help: "rounds; each runs both variants, taking turns" },
    store: { type: "choice", choices: ["sqlite", "postgres"], default: "sqlite", help: "a fresh SQLite file, or a fresh schema on postgres://postgres@127.0.0.1:5432/test (dropped after)" },
    quantum: { type: "number", default: 10, help: "fair queuing's quantum, ms" },
  },
  run: async (args) => (await import("./run.js")).run(args),
});
