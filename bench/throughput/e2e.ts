/**
 * End to end: each operation started by its own gRPC call and awaited with WaitOperation, `inflight` at
 * once, Demo/Sleep(0) as the handler, against real `longrun serve` processes: one on SQLite, or
 * `instances` sharing one PostgreSQL schema (calls spread over them). Then start → done one at a time on
 * the idle system. On PostgreSQL, also commits per operation (pg_stat_database.xact_commit).
 * The load itself is bench/throughput/'s end-to-end mode (which runs it beside the peers).
 *
 *   npm run bench -- e2e [--store sqlite|postgres] [--instances 1] [--n 3000] [--inflight 64]
 */
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { UsageError } from "../support/args.js";
import { percentile } from "../support/measure.js";
import { longrunEndToEnd } from "./longrun-e2e.js";

/** What `npm run bench -- e2e` was asked (bench/throughput/index.ts declares the flags). */
export interface EndToEndArgs {
  store: "sqlite" | "postgres";
  instances: number;
  n: number;
  inflight: number;
}

export async function run(args: EndToEndArgs): Promise<void> {
  const { store, instances, n, inflight } = args;
  if (store === "sqlite" && instances !== 1) throw new UsageError("e2e: the embedded store serves one process: --instances 1");

  const idle: number[] = [];
  const result = await longrunEndToEnd({ store, instances, n, inflight, warmup: inflight }, async (clients) => {
    for (let i = 0; i < 200; i++) {
      const client = clients[i % clients.length]!;
      const s = performance.now();
      const op = await client.call(Demo.method.sleep, {});
      await client.call(Operations.method.waitOperation, { name: op.name, timeout: durationFromMs(30_000) });
      idle.push(performance.now() - s);
    }
  });
  const ms = (values: number[], p: number) => percentile(values, p).toFixed(1);
  const label = store === "postgres" ? `PostgreSQL, ${instances} instance(s)` : "SQLite";
  console.table([
    { measure: `${label}: throughput, ${inflight} in flight`, value: `${(n / result.seconds).toFixed(0)} ops/s` },
    { measure: "start RPC under load p50 / p99", value: `${ms(result.startRpc, 0.5)} / ${ms(result.startRpc, 0.99)} ms` },
    { measure: "idle start → done p50 / p99", value: `${ms(idle, 0.5)} / ${ms(idle, 0.99)} ms` },
    ...(result.perJob ? [{ measure: "commits per operation (whole database)", value: result.perJob.commits.toFixed(2) }] : []),
  ]);
}
