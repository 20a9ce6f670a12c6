/**
 * The systems of the throughput comparison (longrun in five configurations, the peers in theirs) and what
 * one row of it measured.
 */
import type { QueueSystem } from "../peers/index.js";
import type { PgCounters } from "../support/measure.js";
import type { LongrunConfig } from "../support/longrun-store.js";
import type { LoadClientKind } from "../support/load-client.js";
import type { Mode } from "./modes.js";

export type { LongrunConfig, LongrunHandler } from "../support/longrun-store.js";

/** A system of the comparison: longrun in some configuration, or a peer. */
export type SystemSpec = { id: string; label: string } & (
  | { longrun: LongrunConfig }
  /** A peer, made fresh for each mode (its own schema or queue); its library loaded only when it runs. */
  | { peer: () => Promise<QueueSystem> }
  /** The end-to-end mode's physical limit: a bare grpc-js server answering with constants (bare-lro-server.ts). */
  | { bare: "grpc-js" }
);

export interface ThroughputResult {
  system: string;
  label: string;
  mode: Mode;
  jobs: number;
  inflight: number | undefined;
  seconds: number;
  jobsPerSecond: number;
  /** drain: how long storing the N jobs with the bulk API took (not part of `seconds`). */
  storeSeconds?: number;
  concurrency: string;
  doneMeans: string;
  /** PostgreSQL only: per job, commits in the database (reads included), WAL flushes and bytes (cluster). */
  perJob?: PgCounters;
  /** End to end over gRPC: the load generator's client (bench/support/load-client.ts). */
  client?: LoadClientKind;
  /** End to end: CPU per job, µs, of the servers' processes and of the load generator's (e2e-load.ts, cpuMeter). */
  cpuPerJobUs?: { server: number; client: number };
  /** longrun end to end: how long the start RPC took under load, ms. */
  startRpcMs?: { p50: number; p99: number };
}

/** The bare grpc-js server of the end-to-end mode: what longrun's e2e rows are divided by. */
export const BARE_GRPC_JS = "bare-grpc-js";

/** Not a system but a row of the report: PostgreSQL's own commit rate (postgres-limit.ts). */
export const POSTGRES_LIMIT = "postgres-limit";

export function systemSpecs(): SystemSpec[] {
  const peers = () => import("../peers/index.js");
  const bullmq = (id: string, label: string, concurrency: number, fsyncAlways: boolean): SystemSpec => ({
    id,
    label,
    peer: async () => new (await peers()).BullMqSystem(id, label, concurrency, fsyncAlways),
  });
  return [
    { id: "longrun-sqlite", label: "longrun, SQLite", longrun: { store: "sqlite", instances: 1 } },
    { id: "longrun-postgres", label: "longrun, PostgreSQL, 1 instance", longrun: { store: "postgres", instances: 1 } },
    { id: "longrun-postgres-x2", label: "longrun, PostgreSQL, 2 instances", longrun: { store: "postgres", instances: 2 } },
    // Like graphile-worker's batching preset: bigger batches for a backlog (claims, progress, finishes).
    { id: "longrun-sqlite-c500", label: "longrun, SQLite, concurrency 500", longrun: { store: "sqlite", instances: 1, concurrency: 500 } },
    { id: "longrun-postgres-c500", label: "longrun, PostgreSQL, concurrency 500", longrun: { store: "postgres", instances: 1, concurrency: 500 } },
    { id: BARE_GRPC_JS, label: "bare grpc-js server (constants, end to end only)", bare: "grpc-js" },
    {
      id: "graphile-worker",
      label: "graphile-worker, concurrency 10",
      peer: async () => new (await peers()).GraphileWorkerSystem("graphile-worker", "graphile-worker, concurrency 10", 10, undefined),
    },
    {
      id: "graphile-worker-batched",
      label: "graphile-worker, batching preset",
      peer: async () => {
        const { GraphileWorkerSystem, GRAPHILE_BATCHING_PRESET } = await peers();
        return new GraphileWorkerSystem("graphile-worker-batched", "graphile-worker, batching preset", 10, GRAPHILE_BATCHING_PRESET);
      },
    },
    { id: "pg-boss", label: "pg-boss, polling", peer: async () => new (await peers()).PgBossSystem("pg-boss", "pg-boss, polling", false) },
    { id: "pg-boss-notify", label: "pg-boss, LISTEN/NOTIFY", peer: async () => new (await peers()).PgBossSystem("pg-boss-notify", "pg-boss, LISTEN/NOTIFY", true) },
    bullmq("bullmq-c10", "BullMQ, concurrency 10", 10, false),
    bullmq("bullmq-c50", "BullMQ, concurrency 50", 50, false),
    bullmq("bullmq-aof-c10", "BullMQ, AOF fsync always, c10", 10, true),
    bullmq("bullmq-aof-c50", "BullMQ, AOF fsync always, c50", 50, true),
  ];
}

/** Every id --systems accepts. */
export const SYSTEM_IDS: readonly string[] = [...systemSpecs().map((s) => s.id), POSTGRES_LIMIT];

/** How a longrun configuration runs its handlers, for the notes. */
export function longrunConcurrency(config: LongrunConfig): string {
  const handlers = config.concurrency === undefined ? "64 handlers per instance (the default)" : `${config.concurrency} handlers per instance`;
  const job = config.handler === "noop" ? "no-op handler" : "demo Sleep(0): one progress write";
  return `${handlers}, ${config.instances} process(es), ${job}`;
}
