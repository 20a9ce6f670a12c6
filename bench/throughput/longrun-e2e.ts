/**
 * longrun's end-to-end mode: real `longrun serve` processes, each operation started by its own gRPC call
 * (Demo/Sleep, duration 0) and awaited with WaitOperation, sent by a minimal HTTP/2 client
 * (support/grpc-h2.ts) so that the load generator takes as little as it can of the CPU the servers need —
 * or by the real grpc-js client (`--client grpc-js`).
 */
import { TestGrpcClient } from "../../test/support/grpc-client.js";
import { spawnServer, type ServerProcess } from "../../test/support/process.js";
import { loadClient, type LoadClient, type LoadClientKind } from "../support/load-client.js";
import { percentile, perJob, pgCounters, type PgCounters } from "../support/measure.js";
import { longrunStore } from "../support/longrun-store.js";
import { sleepMethodArgs } from "../support/noop-methods.js";
import { cpuMeter, startAndWait } from "./e2e-load.js";
import { concurrencyEnv, profileEnv } from "./longrun-env.js";
import { longrunConcurrency, type LongrunConfig, type SystemSpec, type ThroughputResult } from "./systems.js";

const LONGRUN_DONE_E2E = "WaitOperation returned the operation done (read from the store after the finish commit)";

export interface LongrunEndToEnd {
  seconds: number;
  /** How long each start RPC took, ms. */
  startRpc: number[];
  perJob: PgCounters | undefined;
  /** CPU per job, µs: the longrun processes' (not PostgreSQL's) and the load generator's. */
  cpuPerJobUs: { server: number; client: number };
}

/**
 * End to end against real `longrun serve --demo` processes: each operation started by its own gRPC call
 * (Demo/Sleep, duration 0) and awaited with WaitOperation, `inflight` at a time (calls spread over the
 * instances), after `warmup` operations run the same way. `idle`, if given, runs on the same servers after
 * the measurement (bench/throughput/e2e.ts times operations one by one there).
 */
export async function longrunEndToEnd(
  config: LongrunConfig & { n: number; inflight: number; warmup: number; client?: LoadClientKind; profileDir?: string | undefined; profileName?: string },
  idle?: (clients: TestGrpcClient[]) => Promise<void>,
): Promise<LongrunEndToEnd> {
  const storage = await longrunStore(config);
  const servers: ServerProcess[] = [];
  const clients: TestGrpcClient[] = [];
  const loaders: LoadClient[] = [];
  try {
    const env = { ...storage.env, ...concurrencyEnv(config), ...profileEnv(config.profileDir, config.profileName ?? `longrun-${config.store}-e2e`) };
    // One first, so it migrates alone; the others join it.
    const methods = sleepMethodArgs(config.handler === "noop");
    servers.push(await spawnServer(methods, env));
    servers.push(...(await Promise.all(Array.from({ length: config.instances - 1 }, () => spawnServer(methods, env)))));
    clients.push(...servers.map((s) => new TestGrpcClient(s.grpcAddress)));
    // By default the load goes through a minimal HTTP/2 client (bench/support/grpc-h2.ts), one connection per
    // server, so that it takes as little as it can of the CPU the servers need; `grpc-js`: the real client.
    loaders.push(...servers.map((s) => loadClient(config.client ?? "lean", s.grpcAddress)));
    const startRpc: number[] = [];
    await startAndWait(loaders, config.inflight, config.warmup);
    const db = storage.db;
    const before = db ? await pgCounters(db.admin) : undefined;
    const cpu = cpuMeter(servers.map((s) => s.child.pid!));
    const began = performance.now();
    await startAndWait(loaders, config.inflight, config.n, startRpc);
    const seconds = (performance.now() - began) / 1000;
    const cpuPerJobUs = cpu(config.n);
    const after = db && before ? await pgCounters(db.admin) : undefined;
    await idle?.(clients);
    return { seconds, startRpc, perJob: before && after ? perJob(before, after, config.n, 1) : undefined, cpuPerJobUs };
  } finally {
    for (const c of clients) c.close();
    for (const l of loaders) l.close();
    for (const s of servers) s.child.kill("SIGTERM");
    await Promise.all(servers.map((s) => s.exited));
    await storage.remove();
  }
}

export async function longrunEndToEndResult(
  spec: SystemSpec,
  config: LongrunConfig,
  n: number,
  inflight: number,
  warmup: number,
  profileDir: string | undefined,
  client: LoadClientKind = "lean",
): Promise<ThroughputResult> {
  const e2e = await longrunEndToEnd({ ...config, n, inflight, warmup, client, profileDir, profileName: client === "lean" ? `${spec.id}-e2e` : `${spec.id}-e2e-${client}` });
  return {
    system: spec.id,
    label: spec.label,
    mode: "e2e",
    client,
    jobs: n,
    inflight,
    seconds: e2e.seconds,
    jobsPerSecond: n / e2e.seconds,
    concurrency: longrunConcurrency(config),
    doneMeans: LONGRUN_DONE_E2E,
    startRpcMs: { p50: percentile(e2e.startRpc, 0.5), p99: percentile(e2e.startRpc, 0.99) },
    cpuPerJobUs: e2e.cpuPerJobUs,
    ...(e2e.perJob ? { perJob: e2e.perJob } : {}),
  };
}
