/**
 * A longrun worker process for the drain benchmark (bench/throughput/ forks it): opens the store and
 * loads everything first, then starts the runtime serving Demo/Sleep only when told "go", so the measured
 * time is the draining, not Node's start-up. No gRPC or REST: nothing calls it.
 *
 * Environment: LONGRUN_STORE, LONGRUN_SCHEMA, LONGRUN_CONCURRENCY (as `longrun serve`); BENCH_HANDLER
 * (`demo`, the default: the demo's Sleep, whose Sleep(0) writes progress 100 once; `noop`: a handler that
 * does nothing); DRAIN_EXPECTED (with the embedded store: report "drained" once that many operations are
 * done, counted from the store's change feed, since no other process may open the SQLite file it holds).
 */
import { openStore, startServer, type LongrunServer } from "../../src/index.js";
import { methods as demoMethods } from "../../src/demo/index.js";
import { methods as noopMethods } from "../support/noop-methods.js";

export type DrainCommand = { type: "go" } | { type: "stop" };
export type DrainReport = { type: "ready" } | { type: "drained" } | { type: "failed"; message: string };

function report(message: DrainReport): void {
  process.send?.(message);
}

const storeUrl = process.env.LONGRUN_STORE;
if (!storeUrl || !process.send) throw new Error("drain-worker runs as a child of bench/throughput/ (LONGRUN_STORE, IPC)");
const methods = process.env.BENCH_HANDLER === "noop" ? noopMethods : demoMethods;
const store = await openStore(storeUrl, { schema: process.env.LONGRUN_SCHEMA });
const expected = Number(process.env.DRAIN_EXPECTED ?? 0);
if (expected > 0) {
  let done = 0;
  const unsubscribe = store.subscribe((event) => {
    if (event.kind !== "done") return;
    done += event.ids.length;
    if (done >= expected) {
      unsubscribe();
      report({ type: "drained" });
    }
  });
}

let server: LongrunServer | undefined;
process.on("message", (message: DrainCommand) => {
  if (message.type === "go") {
    const concurrency = process.env.LONGRUN_CONCURRENCY ? Number(process.env.LONGRUN_CONCURRENCY) : undefined;
    startServer({ store, methods, grpc: false, http: false, concurrency }).then(
      (started) => (server = started),
      (err: unknown) => report({ type: "failed", message: String(err) }),
    );
  } else if (message.type === "stop") {
    // Exit at once when closed: the store's pool timers would keep an idle process alive for a while, and
    // a CPU profile (bench/support/cpu-profile.ts) is written on exit either way.
    void (server ? server.close() : store.close()).finally(() => process.exit(0));
  }
});
report({ type: "ready" });
