/**
 * The WaitOperation benchmarks: `wait` (N clients blocked in WaitOperation, or polling like google-gax, on
 * one server) and `wake` (a Wait answered by another instance, through PostgreSQL's NOTIFY).
 */
import { defineBenchmark } from "../support/args.js";

export const wait = defineBenchmark({
  name: "wait",
  summary: "N WaitOperation calls (or google-gax's polling) pending on one server: done → client knows, RSS, reads",
  options: {
    n: { type: "integer", default: 10000, help: "operations, each followed by its own client" },
    store: { type: "list", choices: ["sqlite", "postgres"], default: ["sqlite", "postgres"], help: "stores to run on" },
    modes: { type: "list", choices: ["wait", "poll"], default: ["wait", "poll"], help: "follow by WaitOperation, or by gax's default polling" },
    complete: { type: "choice", choices: ["sleep", "cancel"], default: "sleep", help: "operations end by themselves, or are cancelled (no handlers run)" },
    // 10,000 followers polling slow the starts down to about 70 s on the 2-core machine; they must all be
    // pending before the completion.
    at: { type: "number", default: 90, help: "seconds from the first start to the first completion" },
    spread: { type: "number", default: 10, help: "--complete sleep: seconds the completions are spread over (0: a burst)" },
    channels: { type: "integer", default: 10, help: "gRPC connections the followers share" },
    "cancel-inflight": { type: "integer", default: 64, help: "--complete cancel: CancelOperation calls in flight" },
    handler: { type: "choice", choices: ["quiet", "demo"], default: "quiet", help: "Demo/Sleep in one timer without progress, or the demo's" },
    profile: { type: "boolean", help: "CPU profile of the completion window, heap profile of the pending waits" },
  },
  run: async (args) => (await import("./run.js")).run(args),
});

export const wake = defineBenchmark({
  name: "wake",
  summary: "PostgreSQL: a WaitOperation on instance B answered after instance A finishes (NOTIFY → re-read → answer)",
  options: {
    n: { type: "integer", default: 200, help: "operations, one at a time" },
  },
  run: async (args) => (await import("./wake.js")).run(args),
});
