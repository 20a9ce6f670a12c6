/**
 * The throughput benchmarks: `throughput` (longrun beside its peers, drain and end to end, optionally
 * against a baseline revision of longrun) and `e2e` (longrun's end-to-end mode alone, then idle latency).
 */
import { defineBenchmark } from "../support/args.js";
import { SYSTEM_IDS } from "./systems.js";
import { DEFAULT_MODES, MODES } from "./modes.js";
import { LOAD_CLIENTS } from "../support/load-client.js";

export const throughput = defineBenchmark({
  name: "throughput",
  summary: "jobs/s, drain and end to end, longrun beside graphile-worker, pg-boss and BullMQ in one run",
  options: {
    n: { type: "integer", default: 20000, help: "jobs per system and mode" },
    inflight: { type: "integer", default: 64, help: "end to end: jobs in flight at once" },
    systems: { type: "list", choices: SYSTEM_IDS, help: "systems to run [default: all]" },
    modes: {
      type: "list",
      choices: MODES,
      default: DEFAULT_MODES,
      help: "drain (stored first, then run), e2e (enqueued singly, awaited; longrun over gRPC), library (the same, longrun in-process: server.operations)",
    },
    warmup: { type: "integer", default: 200, help: "end to end: jobs run before the clock starts" },
    client: {
      type: "list",
      choices: LOAD_CLIENTS,
      default: ["lean"],
      help: "end to end: the load generator's gRPC client(s), each a row — lean (minimal HTTP/2) or grpc-js (@grpc/grpc-js, one channel per server)",
    },
    // The peers' jobs do nothing: by default longrun's do nothing either.
    handler: { type: "choice", choices: ["noop", "demo"], default: "noop", help: "longrun's job: a Demo/Sleep that only returns, or the demo's Sleep(0)" },
    profile: { type: "string", placeholder: "DIR", help: "write a CPU profile of every longrun process into DIR/<system>-<mode>/" },
    baseline: { type: "string", placeholder: "REV", help: "also run longrun's rows from git revision REV (a temporary worktree), print current ÷ baseline" },
    "baseline-dir": { type: "string", placeholder: "DIR", help: "the same with an existing checkout as the baseline" },
    rounds: { type: "integer", default: 2, help: "with a baseline: times each row runs per tree, the trees taking turns" },
  },
  run: async (args) => (await import("./run.js")).run(args),
});

export const e2e = defineBenchmark({
  name: "e2e",
  summary: "longrun's end-to-end mode alone (start over gRPC, WaitOperation), then 200 operations one at a time",
  options: {
    store: { type: "choice", choices: ["sqlite", "postgres"], default: "sqlite", help: "the store" },
    instances: { type: "integer", default: 1, help: "longrun serve processes sharing the store (PostgreSQL)" },
    n: { type: "integer", default: 3000, help: "operations" },
    inflight: { type: "integer", default: 64, help: "operations in flight at once" },
  },
  run: async (args) => (await import("./e2e.js")).run(args),
});
