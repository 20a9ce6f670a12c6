/**
 * A longrun process for the throughput benchmark's library mode (bench/throughput/longrun-library.ts forks
 * it): a server with no gRPC and no REST whose load is its own library API, as the peers' is theirs — each
 * job started singly with `server.operations.start` and awaited with `result()`, LIBRARY_INFLIGHT at a time.
 * It runs LIBRARY_WARMUP jobs, reports "ready", runs LIBRARY_N jobs when told "go", reports "done".
 *
 * Environment: LONGRUN_STORE, LONGRUN_SCHEMA, LONGRUN_CONCURRENCY (as `longrun serve`); BENCH_HANDLER
 * (`noop`, a Demo/Sleep that only returns, or `demo`, the demo's Sleep); LIBRARY_N, LIBRARY_INFLIGHT,
 * LIBRARY_WARMUP.
 */
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { SleepRequestSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { openStore, startServer } from "../../src/index.js";
import { methods as demoMethods } from "../../src/demo/index.js";
import { methods as noopMethods } from "../support/noop-methods.js";

export type LibraryCommand = { type: "go" } | { type: "stop" };
export type LibraryReport = { type: "ready" } | { type: "done"; seconds: number } | { type: "failed"; message: string };

function report(message: LibraryReport): void {
  process.send?.(message);
}

const storeUrl = process.env.LONGRUN_STORE;
if (!storeUrl || !process.send) throw new Error("library-worker runs as a child of bench/throughput/ (LONGRUN_STORE, IPC)");
const methods = process.env.BENCH_HANDLER === "noop" ? noopMethods : demoMethods;
const [method] = methods;
const n = Number(process.env.LIBRARY_N);
const inflight = Number(process.env.LIBRARY_INFLIGHT);
const warmup = Number(process.env.LIBRARY_WARMUP ?? 0);
const concurrency = process.env.LONGRUN_CONCURRENCY ? Number(process.env.LONGRUN_CONCURRENCY) : undefined;

const store = await openStore(storeUrl, { schema: process.env.LONGRUN_SCHEMA });
const server = await startServer({ store, methods, grpc: false, http: false, concurrency });
const request = create(SleepRequestSchema, { duration: durationFromMs(0) });

/** `count` jobs, each started and awaited before its lane starts the next, `inflight` lanes at once. */
async function load(count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(inflight, count) }, async () => {
      while (next++ < count) {
        const op = await server.operations.start(method!, request);
        await op.result();
      }
    }),
  );
}

process.on("message", (message: LibraryCommand) => {
  if (message.type === "go") {
    const began = performance.now();
    load(n).then(
      () => report({ type: "done", seconds: (performance.now() - began) / 1000 }),
      (err: unknown) => report({ type: "failed", message: String(err) }),
    );
  } else if (message.type === "stop") {
    // Exit at once when closed (the store's pool timers would keep the process alive a while); a CPU profile
    // (bench/support/cpu-profile.ts) is written on exit.
    void server.close().finally(() => process.exit(0));
  }
});
try {
  await load(warmup);
  report({ type: "ready" });
} catch (err) {
  report({ type: "failed", message: String(err) });
}
