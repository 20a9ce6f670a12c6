/** The watch benchmark: what the dashboard's live stream costs the server, how soon it tells, whether it tells all. */
import { defineBenchmark } from "../support/args.js";

export const watch = defineBenchmark({
  name: "watch",
  summary: "server CPU per operation with N SSE streams of /v1/operations:watch open and with none, taking turns, under an open-loop load; update latency p50/p99 (goal p99 < 250 ms) and misses per (stream, operation)",
  options: {
    seconds: { type: "number", default: 5, help: "seconds per measured run" },
    repeat: { type: "integer", default: 3, help: "measured runs per variant" },
    warmup: { type: "number", default: 3, help: "seconds of warm-up per variant before them" },
    streams: { type: "integer", default: 100, help: "SSE streams open in the variant with streams (in a child process)" },
    rate: { type: "number", default: 1000, help: "operations started per second (Demo/Sleep 0 over gRPC, open loop)" },
    store: { type: "choice", choices: ["sqlite", "postgres"], default: "sqlite", help: "the server's store (postgres: a fresh schema on the test database, dropped after)" },
    profile: { type: "string", placeholder: "DIR", help: "write a V8 CPU profile of the server's first measured run of each variant into DIR (the server then runs instrumented, ~2% slower)" },
  },
  run: async (args) => (await import("./run.js")).run(args),
});
