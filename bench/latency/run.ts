/**
 * Start latency on an idle system, one job at a time: from the start call returning to the handler
 * running, both instants taken in this process (one clock).
 *
 * - longrun (SQLite, PostgreSQL): an in-process server whose Demo/Sleep handler records when it starts;
 *   the start goes over real gRPC on loopback (TestGrpcClient), then WaitOperation waits for it to end.
 * - peers (graphile-worker by default): their producer call (addJob, send, add) → their task starting.
 *
 * Between samples the system is left idle for IDLE_GAP_MS. Goals printed beside: p50 < 5 ms on SQLite,
 * < 10 ms on PostgreSQL.
 *
 *   npm run bench -- latency [--n 300] [--systems longrun-sqlite,longrun-postgres,graphile-worker,…]
 *
 * Results: a table on stdout, bench/results/latency.{jsonl,md}.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepMetadataSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { defineMethod, startServer } from "../../src/index.js";
import { TestGrpcClient } from "../../test/support/grpc-client.js";
import { appendJsonLines, machine, markdownTable, percentile, RESULTS_DIR, sleep } from "../support/measure.js";
import { BullMqSystem, GraphileWorkerSystem, GRAPHILE_BATCHING_PRESET, PgBossSystem, type QueueSystem } from "../peers/index.js";
import { longrunStore, type LongrunConfig } from "../support/longrun-store.js";

/** Pause between samples, so each start meets an idle system (no batch in flight, nothing queued). */
const IDLE_GAP_MS = 5;
const WARMUP = 20;

interface Sample {
  /** How long the start call (RPC, addJob, …) took. */
  callMs: number;
  /** From the start call returning to the handler running; negative if the handler ran first. */
  returnedToRunningMs: number;
}

export interface LatencyResult {
  system: string;
  label: string;
  samples: number;
  call: { p50: number; p99: number };
  /** Start call returned → handler running, negatives counted as 0 (the handler was already running). */
  returnedToRunning: { p50: number; p99: number; max: number };
  /** Start call sent → handler running: the whole wait a caller's work sees, whichever comes first. */
  sentToRunning: { p50: number; p99: number };
  /** How many handlers were already running when their start call returned. */
  alreadyRunning: number;
  goalP50Ms: number | undefined;
}

interface LatencySpec {
  id: string;
  label: string;
  goalP50Ms?: number;
  measure(n: number): Promise<Sample[]>;
}

/** What `npm run bench -- latency` was asked (bench/latency/index.ts declares the flags). */
export interface LatencyArgs {
  n: number;
  systems: string[];
}

export async function run(args: LatencyArgs): Promise<void> {
  const { n } = args;
  const specs: LatencySpec[] = [
    { id: "longrun-sqlite", label: "longrun, SQLite", goalP50Ms: 5, measure: (count) => longrunLatency({ store: "sqlite", instances: 1 }, count) },
    { id: "longrun-postgres", label: "longrun, PostgreSQL", goalP50Ms: 10, measure: (count) => longrunLatency({ store: "postgres", instances: 1 }, count) },
    peerSpec("graphile-worker", "graphile-worker, concurrency 10 (addJob → task)", () => new GraphileWorkerSystem("graphile-worker", "graphile-worker", 10, undefined)),
    peerSpec("graphile-worker-batched", "graphile-worker, batching preset (addJob → task)", () => new GraphileWorkerSystem("graphile-worker-batched", "graphile-worker, batching preset", 10, GRAPHILE_BATCHING_PRESET)),
    peerSpec("pg-boss-notify", "pg-boss, LISTEN/NOTIFY (send → handler)", () => new PgBossSystem("pg-boss-notify", "pg-boss, LISTEN/NOTIFY", true)),
    peerSpec("bullmq", "BullMQ, concurrency 10 (add → processor)", () => new BullMqSystem("bullmq", "BullMQ", 10, false)),
  ];
  const wanted = args.systems;

  const runId = new Date().toISOString();
  const env = machine();
  console.log(`latency: ${n} starts one at a time, idle system, run ${runId}`);
  const results: LatencyResult[] = [];
  for (const spec of specs.filter((s) => wanted.includes(s.id))) {
    console.log(`${spec.label}…`);
    const samples = await spec.measure(n);
    const calls = samples.map((s) => s.callMs);
    const toRunning = samples.map((s) => Math.max(0, s.returnedToRunningMs));
    const sentToRunning = samples.map((s) => s.callMs + s.returnedToRunningMs);
    results.push({
      system: spec.id,
      label: spec.label,
      samples: samples.length,
      call: { p50: percentile(calls, 0.5), p99: percentile(calls, 0.99) },
      returnedToRunning: { p50: percentile(toRunning, 0.5), p99: percentile(toRunning, 0.99), max: Math.max(...toRunning) },
      sentToRunning: { p50: percentile(sentToRunning, 0.5), p99: percentile(sentToRunning, 0.99) },
      alreadyRunning: samples.filter((s) => s.returnedToRunningMs < 0).length,
      goalP50Ms: spec.goalP50Ms,
    });
  }

  const ms = (v: number) => v.toFixed(2);
  const table = markdownTable(
    [
      "system",
      "samples",
      "call returned → handler running p50 / p99 / max ms",
      "goal (p50)",
      "already running at return",
      "start call p50 / p99 ms",
      "call sent → handler running p50 / p99 ms",
    ],
    results.map((r) => [
      r.label,
      String(r.samples),
      `${ms(r.returnedToRunning.p50)} / ${ms(r.returnedToRunning.p99)} / ${ms(r.returnedToRunning.max)}`,
      r.goalP50Ms === undefined ? "—" : `< ${r.goalP50Ms} ms: ${r.returnedToRunning.p50 < r.goalP50Ms ? "met" : "MISSED"}`,
      `${r.alreadyRunning} of ${r.samples}`,
      `${ms(r.call.p50)} / ${ms(r.call.p99)}`,
      `${ms(r.sentToRunning.p50)} / ${ms(r.sentToRunning.p99)}`,
    ]),
  );
  const report =
    `## Latency — run ${runId}\n\n` +
    `One start at a time on an idle system (${IDLE_GAP_MS} ms pause between), ${n} samples after ${WARMUP} warm-up starts; ` +
    `${env.cpus} CPUs (${env.cpuModel}), Node ${env.node}, sources at ${env.commit}. longrun: in-process server, start over gRPC loopback; ` +
    `peers: their producer call in the process that runs their worker.\n\n` +
    table;
  console.log("\n" + report);
  appendJsonLines("latency.jsonl", results.map((r) => ({ bench: "latency", runId, ...r, environment: env })));
  writeFileSync(join(RESULTS_DIR, "latency.md"), report);
  console.log(`written: ${RESULTS_DIR}latency.{jsonl,md}`);
}

/** longrun: an in-process server on a fresh store whose Demo/Sleep handler notes when it starts. */
async function longrunLatency(config: LongrunConfig, n: number): Promise<Sample[]> {
  const storage = await longrunStore(config);
  const handlerStarted = new Map<string, number>();
  const recordingSleep = defineMethod({
    method: Demo.method.sleep,
    response: SleepResponseSchema,
    metadata: SleepMetadataSchema,
    async handler(_request, ctx) {
      handlerStarted.set(ctx.name, performance.now());
      return {};
    },
  });
  const server = await startServer({ store: await storage.open(), methods: [recordingSleep], grpc: { host: "127.0.0.1", port: 0 }, http: false });
  const client = new TestGrpcClient(server.grpcAddress!);
  try {
    const samples: Sample[] = [];
    for (let i = 0; i < WARMUP + n; i++) {
      const sent = performance.now();
      const op = await client.call(Demo.method.sleep, {});
      const returned = performance.now();
      const done = await client.call(Operations.method.waitOperation, { name: op.name, timeout: durationFromMs(10_000) });
      if (!done.done) throw new Error(`${op.name} not done after 10 s`);
      const began = handlerStarted.get(op.name);
      if (began === undefined) throw new Error(`${op.name} is done but its handler never ran`);
      if (i >= WARMUP) samples.push({ callMs: returned - sent, returnedToRunningMs: began - returned });
      await sleep(IDLE_GAP_MS);
    }
    return samples;
  } finally {
    client.close();
    await server.close();
    await storage.remove();
  }
}

/** A peer: its producer call → its handler starting, awaited until the job is done before the next. */
function peerSpec(id: string, label: string, make: () => QueueSystem): LatencySpec {
  return {
    id,
    label,
    async measure(n) {
      const system = make();
      const handlerStarted = new Map<number, number>();
      const waiting = new Map<number, () => void>();
      try {
        await system.setUp();
        await system.startWorkers({
          started: (key) => handlerStarted.set(key, performance.now()),
          finished: (key) => {
            waiting.get(key)?.();
            waiting.delete(key);
          },
        });
        const samples: Sample[] = [];
        for (let key = 0; key < WARMUP + n; key++) {
          const done = new Promise<void>((resolve) => waiting.set(key, resolve));
          const sent = performance.now();
          await system.enqueue(key);
          const returned = performance.now();
          await done;
          const began = handlerStarted.get(key);
          if (began === undefined) throw new Error(`${id}: job ${key} finished but its handler never started`);
          if (key >= WARMUP) samples.push({ callMs: returned - sent, returnedToRunningMs: began - returned });
          await sleep(IDLE_GAP_MS);
        }
        return samples;
      } finally {
        await system.tearDown();
      }
    },
  };
}
