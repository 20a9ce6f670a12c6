/** The metrics benchmark: end-to-end operations and GetOperation with Prometheus metrics on and off. */
import { defineBenchmark } from "../support/args.js";

export const metrics = defineBenchmark({
  name: "metrics",
  summary: "operations done/s (start + wait) and GetOperation req/s with metrics (scraped every second) and tracing (100%, OTLP) on and off, taking turns; the goal is ≥ 90% of off",
  options: {
    seconds: { type: "number", default: 5, help: "seconds per measured run" },
    repeat: { type: "integer", default: 3, help: "measured runs per variant, load and concurrency" },
    warmup: { type: "number", default: 2, help: "seconds of warm-up per variant before them" },
    concurrency: { type: "integers", default: [64], help: "operations (e2e) or calls (get) in flight, over gRPC" },
    loads: { type: "list", choices: ["e2e", "get"], default: ["e2e", "get"], help: "e2e: Demo/Sleep 0 then WaitOperation; get: GetOperation of a done operation" },
    profile: { type: "string", placeholder: "DIR", help: "write a V8 CPU profile of each server's first measured run of each load into DIR (both servers then run instrumented, ~2% slower)" },
    "no-tracing": { type: "boolean", help: "metrics alone: by default the on server also traces every RPC and run (sampling 100%), exporting OTLP/HTTP to a receiver process" },
  },
  run: async (args) => (await import("./run.js")).run(args),
});
