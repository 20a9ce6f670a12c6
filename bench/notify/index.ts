/** The notify benchmark: end-to-end throughput with a webhook sink on and off, delivery latency, exactly-once delivery. */
import { defineBenchmark } from "../support/args.js";

export const notify = defineBenchmark({
  name: "notify",
  summary: "operations done/s with a webhook sink on and off, and off with the load generator POSTing each done operation itself (bare: the limit here), taking turns (goal ≥ 80% of off); delivery latency p50/p99 under that load and at a light rate; every finish delivered once",
  options: {
    seconds: { type: "number", default: 5, help: "seconds per measured run" },
    repeat: { type: "integer", default: 3, help: "measured runs per variant and concurrency" },
    warmup: { type: "number", default: 3, help: "seconds of warm-up per variant before them" },
    store: { type: "choice", choices: ["sqlite", "postgres"], default: "sqlite", help: "the servers' store (postgres: a fresh schema each on the test database, dropped after)" },
    concurrency: { type: "integers", default: [64], help: "operations in flight (each: Demo/Sleep 0 over gRPC, then WaitOperation until done)" },
    rate: { type: "number", default: 20, help: "operations started per second in the light-load phase" },
    "light-seconds": { type: "number", default: 5, help: "seconds of the light-load phase" },
    profile: { type: "string", placeholder: "DIR", help: "write a V8 CPU profile of each server's first measured run into DIR (both servers then run instrumented, ~2% slower)" },
  },
  run: async (args) => (await import("./run.js")).run(args),
});
