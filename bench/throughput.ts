/**
 * Throughput, side by side with peers, in two modes, every system measured in the same run with the same
 * N and the same number of jobs in flight:
 *
 * - drain: N jobs stored first with the system's bulk API, no worker running; then the workers start and
 *   the clock runs until the store says none is left (checked every 25 ms; longrun on SQLite counts its
 *   own "done" change events instead, since no other process may open its file).
 * - e2e (end to end): each job enqueued singly, `inflight` at a time, each awaited until done before its
 *   lane enqueues the next. longrun: a gRPC Demo/Sleep(0) call to real `longrun serve` processes,
 *   awaited with WaitOperation, sent by a minimal HTTP/2 client (bench/grpc-h2.ts). Peers: their producer
 *   call, awaited in-process (see `doneMeans` of each).
 *
 * Plus PostgreSQL's physical limit in the same run (one INSERT per transaction, 1 and 8 clients, with and
 * without a pg_notify in the transaction), and for every PostgreSQL run commits and WAL flushes per job.
 *
 *   npm run bench -- throughput [--n 20000] [--inflight 64] [--systems a,b,…] [--modes drain,e2e]
 *                               [--warmup 200] [--handler demo|noop] [--profile DIR]
 *
 * --handler noop (the default) runs longrun with a Demo/Sleep handler that only returns, as the peers' jobs
 * do; --handler demo runs the demo's Sleep(0) instead, which writes its progress once before returning.
 * --profile writes a CPU profile of each longrun process into DIR/<system>-<mode>/<pid>.cpuprofile
 * (bench/cpu-profile.ts); open it in Chrome DevTools or summarize its self time.
 * Results: a table on stdout, bench/results/throughput.{jsonl,md,svg}.
 */
import { execFileSync, fork, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import pg from "pg";
import { Operations, OperationSchema, WaitOperationRequestSchema } from "../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepRequestSchema } from "../src/gen/longrun/demo/v1/demo_pb.js";
import { startServer } from "../src/server.js";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.js";
import { PostgresStore } from "../src/store/postgres/postgres-store.js";
import type { Store } from "../src/store/store.js";
import { methods as demoMethods } from "../src/demo/index.js";
import { TestGrpcClient } from "../test/support/grpc-client.js";
import { spawnServer, type ServerProcess } from "../test/support/process.js";
import { freshSchema, POSTGRES_URL, type TestSchema } from "../test/support/postgres.js";
import { barChartSvg } from "./chart.js";
import { H2GrpcClient } from "./grpc-h2.js";
import { sleepMethodArgs } from "./noop-methods.js";
import { methodPath } from "./grpc-raw.js";
import type { DrainCommand, DrainReport } from "./drain-worker.js";
import { appendJsonLines, machine, markdownTable, percentile, perJob, pgCounters, pollUntil, RESULTS_DIR, type PgCounters } from "./measure.js";
import { BullMqSystem, GRAPHILE_BATCHING_PRESET, GraphileWorkerSystem, PgBossSystem, type QueueSystem } from "./peers.js";

type Mode = "drain" | "e2e";
const SLEEP_PATH = methodPath(Demo.method.sleep);
const WAIT_PATH = methodPath(Operations.method.waitOperation);
const MODE_LABEL: Record<Mode, string> = { drain: "drain", e2e: "end to end" };

/**
 * longrun's job: `demo`, the demo's Demo/Sleep with duration 0 (which writes progress 100 durably before
 * it returns), or `noop`, a Demo/Sleep handler that only returns (bench/noop-methods.ts), as the peers' jobs.
 */
export type LongrunHandler = "demo" | "noop";

/** How longrun runs: which store, how many processes share it, what they run. */
export interface LongrunConfig {
  store: "sqlite" | "postgres";
  instances: number;
  /** @default "demo" */
  handler?: LongrunHandler;
  /** Handlers running at once per instance. @default 64, longrun's default */
  concurrency?: number;
}

/** A system of the comparison: longrun in some configuration, or a peer. */
type SystemSpec = { id: string; label: string } & (
  | { longrun: LongrunConfig }
  /** A peer, made fresh for each mode (its own schema or queue). */
  | { peer: () => QueueSystem }
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
  /** longrun end to end: how long the start RPC took under load, ms. */
  startRpcMs?: { p50: number; p99: number };
}

const LONGRUN_DONE_E2E = "WaitOperation returned the operation done (read from the store after the finish commit)";
const LONGRUN_DONE_DRAIN = "no operation left with done = false in the store";
const CHUNK = 1000;
const POLL_MS = 25;
const DRAIN_WORKER = fileURLToPath(new URL("./drain-worker.ts", import.meta.url));
const CPU_PROFILE_HOOK = fileURLToPath(new URL("./cpu-profile.ts", import.meta.url));

/** How a longrun configuration runs its handlers, for the notes. */
function longrunConcurrency(config: LongrunConfig): string {
  const handlers = config.concurrency === undefined ? "64 handlers per instance (the default)" : `${config.concurrency} handlers per instance`;
  const job = config.handler === "noop" ? "no-op handler" : "demo Sleep(0): one progress write";
  return `${handlers}, ${config.instances} process(es), ${job}`;
}

/** The environment that sets a longrun process's concurrency (`longrun serve` and the drain worker read it). */
function concurrencyEnv(config: LongrunConfig): Record<string, string> {
  return config.concurrency === undefined ? {} : { LONGRUN_CONCURRENCY: String(config.concurrency) };
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      n: { type: "string", default: "20000" },
      inflight: { type: "string", default: "64" },
      systems: { type: "string" },
      modes: { type: "string", default: "drain,e2e" },
      warmup: { type: "string", default: "200" },
      profile: { type: "string" },
      // The peers' jobs do nothing: by default longrun's do nothing either.
      handler: { type: "string", default: "noop" },
    },
  });
  if (values.handler !== "demo" && values.handler !== "noop") throw new Error(`--handler demo or noop, not ${values.handler}`);
  const handler: LongrunHandler = values.handler;
  const n = Number(values.n);
  const inflight = Number(values.inflight);
  const warmup = Number(values.warmup);
  const modes = values.modes.split(",").map((m) => m.trim()) as Mode[];
  for (const m of modes) if (m !== "drain" && m !== "e2e") throw new Error(`unknown mode ${m} (drain, e2e)`);

  const specs = systemSpecs();
  const wanted = values.systems ? values.systems.split(",").map((s) => s.trim()) : [...specs.map((s) => s.id), "postgres-limit"];
  for (const id of wanted) {
    if (id !== "postgres-limit" && !specs.some((s) => s.id === id)) {
      throw new Error(`unknown system ${id}; one of ${[...specs.map((s) => s.id), "postgres-limit"].join(", ")}`);
    }
  }
  const runId = new Date().toISOString();
  const env = { ...machine(), ...(await versions()) };
  console.log(`throughput: N ${n}, ${inflight} in flight (end to end), run ${runId}`);
  console.log(env);

  const results: ThroughputResult[] = [];
  for (const spec of specs.filter((s) => wanted.includes(s.id))) {
    for (const mode of modes) {
      console.log(`\n${spec.label}: ${MODE_LABEL[mode]}…`);
      let result: ThroughputResult;
      if ("longrun" in spec) {
        result =
          mode === "drain"
            ? await longrunDrain(spec, { ...spec.longrun, handler }, n, values.profile)
            : await longrunEndToEndResult(spec, { ...spec.longrun, handler }, n, inflight, warmup, values.profile);
      } else {
        const system = spec.peer();
        result = mode === "drain" ? await peerDrain(system, n) : await peerEndToEnd(system, n, inflight, warmup);
      }
      console.log(`  ${describe(result)}`);
      results.push(result);
    }
  }
  const limits = wanted.includes("postgres-limit") ? await postgresLimit() : [];

  const report = renderReport(results, limits, { n, inflight, runId, env, handler });
  console.log("\n" + report);
  appendJsonLines("throughput.jsonl", [
    ...results.map((r) => ({ bench: "throughput", runId, ...r, ...(r.system.startsWith("longrun") ? { longrunHandler: handler } : {}), environment: env })),
    ...limits.map((l) => ({ bench: "throughput", runId, system: "postgres-limit", ...l, environment: env })),
  ]);
  writeFileSync(join(RESULTS_DIR, "throughput.md"), report);
  writeFileSync(join(RESULTS_DIR, "throughput.svg"), throughputChart(results, n, inflight, handler));
  console.log(`written: bench/results/throughput.{jsonl,md,svg}`);
}

function systemSpecs(): SystemSpec[] {
  const bullmq = (id: string, label: string, concurrency: number, fsyncAlways: boolean): SystemSpec => ({
    id,
    label,
    peer: () => new BullMqSystem(id, label, concurrency, fsyncAlways),
  });
  return [
    { id: "longrun-sqlite", label: "longrun, SQLite", longrun: { store: "sqlite", instances: 1 } },
    { id: "longrun-postgres", label: "longrun, PostgreSQL, 1 instance", longrun: { store: "postgres", instances: 1 } },
    { id: "longrun-postgres-x2", label: "longrun, PostgreSQL, 2 instances", longrun: { store: "postgres", instances: 2 } },
    // Like graphile-worker's batching preset: bigger batches for a backlog (claims, progress, finishes).
    { id: "longrun-sqlite-c500", label: "longrun, SQLite, concurrency 500", longrun: { store: "sqlite", instances: 1, concurrency: 500 } },
    { id: "longrun-postgres-c500", label: "longrun, PostgreSQL, concurrency 500", longrun: { store: "postgres", instances: 1, concurrency: 500 } },
    {
      id: "graphile-worker",
      label: "graphile-worker, concurrency 10",
      peer: () => new GraphileWorkerSystem("graphile-worker", "graphile-worker, concurrency 10", 10, undefined),
    },
    {
      id: "graphile-worker-batched",
      label: "graphile-worker, batching preset",
      peer: () => new GraphileWorkerSystem("graphile-worker-batched", "graphile-worker, batching preset", 10, GRAPHILE_BATCHING_PRESET),
    },
    { id: "pg-boss", label: "pg-boss, polling", peer: () => new PgBossSystem("pg-boss", "pg-boss, polling", false) },
    { id: "pg-boss-notify", label: "pg-boss, LISTEN/NOTIFY", peer: () => new PgBossSystem("pg-boss-notify", "pg-boss, LISTEN/NOTIFY", true) },
    bullmq("bullmq-c10", "BullMQ, concurrency 10", 10, false),
    bullmq("bullmq-c50", "BullMQ, concurrency 50", 50, false),
    bullmq("bullmq-aof-c10", "BullMQ, AOF fsync always, c10", 10, true),
    bullmq("bullmq-aof-c50", "BullMQ, AOF fsync always, c50", 50, true),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// longrun

/** A fresh store for one run: a temporary SQLite file or a fresh PostgreSQL schema. */
export interface LongrunStore {
  /** The environment `longrun serve` (and the drain worker) read the store from. */
  env: Record<string, string>;
  db: TestSchema | undefined;
  open(): Promise<Store>;
  remove(): Promise<void>;
}

export async function longrunStore(config: LongrunConfig): Promise<LongrunStore> {
  if (config.store === "sqlite") {
    if (config.instances !== 1) throw new Error("the embedded store serves one process");
    const dir = mkdtempSync(join(tmpdir(), "longrun-bench-"));
    const path = join(dir, "longrun.db");
    return {
      env: { LONGRUN_STORE: `sqlite:${path}` },
      db: undefined,
      open: async () => SqliteStore.open(path),
      remove: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const db = await freshSchema("lr_bench");
  return {
    env: { LONGRUN_STORE: db.url, LONGRUN_SCHEMA: db.schema },
    db,
    open: () => PostgresStore.open({ connectionString: db.url, schema: db.schema }),
    remove: () => db.drop(),
  };
}

/** The environment that makes a longrun process write a CPU profile into `dir`/`name`/ when it exits. */
function profileEnv(dir: string | undefined, name: string): Record<string, string> {
  return dir ? { NODE_OPTIONS: `--import tsx --import ${CPU_PROFILE_HOOK}`, LONGRUN_CPU_PROFILE_DIR: join(dir, name) } : {};
}

/** Drain: N operations created with the batch API, then worker processes started and timed until none is left. */
async function longrunDrain(spec: SystemSpec, config: LongrunConfig, n: number, profileDir: string | undefined): Promise<ThroughputResult> {
  const storage = await longrunStore(config);
  const children: ChildProcess[] = [];
  try {
    const storing = performance.now();
    const creator = await startServer({ store: await storage.open(), methods: demoMethods, worker: false, grpc: false, http: false });
    const request = create(SleepRequestSchema, { duration: durationFromMs(0) });
    for (let done = 0; done < n; done += CHUNK) {
      await creator.runtime.startOperations("longrun.demo.v1.Demo.Sleep", Array.from({ length: Math.min(CHUNK, n - done) }, () => request));
    }
    await creator.close(); // closes the store: the SQLite file's lock is free for the worker
    const storeSeconds = (performance.now() - storing) / 1000;

    // A worker that fails ends the run rather than leaving it waiting for the time-out.
    let fail: (err: Error) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => (fail = reject));
    failed.catch(() => undefined); // rejected only while someone races it; never unhandled
    let reportDrained: () => void = () => undefined;
    const drained = new Promise<void>((resolve) => (reportDrained = resolve));
    for (let i = 0; i < config.instances; i++) {
      const child = fork(DRAIN_WORKER, [], {
        execArgv: ["--import", "tsx"],
        env: {
          ...process.env,
          ...storage.env,
          ...concurrencyEnv(config),
          ...profileEnv(profileDir, `${spec.id}-drain`),
          BENCH_HANDLER: config.handler ?? "demo",
          DRAIN_EXPECTED: config.store === "sqlite" ? String(n) : "",
        },
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      child.on("message", (message: DrainReport) => {
        if (message.type === "drained") reportDrained();
        if (message.type === "failed") fail(new Error(`drain worker failed: ${message.message}`));
      });
      child.on("exit", (code) => code !== 0 && fail(new Error(`drain worker exited with ${code}`)));
      children.push(child);
    }
    await Promise.race([Promise.all(children.map((child) => new Promise<void>((resolve) => child.once("message", () => resolve())))), failed]);

    const db = storage.db;
    const before = db ? await pgCounters(db.admin) : undefined;
    const began = performance.now();
    for (const child of children) child.send({ type: "go" } satisfies DrainCommand);
    let checks = 0;
    if (db) {
      const anyLeft = async () => {
        const { rows } = await db.admin.query<{ left: boolean }>(`SELECT EXISTS (SELECT 1 FROM "${db.schema}".operations WHERE state <> 'done') AS left`);
        return rows[0]?.left ?? true;
      };
      checks = await Promise.race([pollUntil(async () => !(await anyLeft()), POLL_MS, drainTimeoutMs(n)), failed]);
    } else {
      await withTimeout(Promise.race([drained, failed]), drainTimeoutMs(n), "not drained in time");
    }
    const seconds = (performance.now() - began) / 1000;
    const after = db && before ? await pgCounters(db.admin) : undefined;
    return {
      system: spec.id,
      label: spec.label,
      mode: "drain",
      jobs: n,
      inflight: undefined,
      seconds,
      jobsPerSecond: n / seconds,
      storeSeconds,
      concurrency: longrunConcurrency(config),
      doneMeans: LONGRUN_DONE_DRAIN,
      ...(before && after ? { perJob: perJob(before, after, n, checks + 1) } : {}),
    };
  } finally {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.send({ type: "stop" } satisfies DrainCommand);
          }),
      ),
    );
    await storage.remove();
  }
}

function drainTimeoutMs(n: number): number {
  return Math.max(300_000, n * 20);
}

export interface LongrunEndToEnd {
  seconds: number;
  /** How long each start RPC took, ms. */
  startRpc: number[];
  perJob: PgCounters | undefined;
}

/**
 * End to end against real `longrun serve --demo` processes: each operation started by its own gRPC call
 * (Demo/Sleep, duration 0) and awaited with WaitOperation, `inflight` at a time (calls spread over the
 * instances), after `warmup` operations run the same way. `idle`, if given, runs on the same servers after
 * the measurement (bench/e2e.ts times operations one by one there).
 */
export async function longrunEndToEnd(
  config: LongrunConfig & { n: number; inflight: number; warmup: number; profileDir?: string | undefined; profileName?: string },
  idle?: (clients: TestGrpcClient[]) => Promise<void>,
): Promise<LongrunEndToEnd> {
  const storage = await longrunStore(config);
  const servers: ServerProcess[] = [];
  const clients: TestGrpcClient[] = [];
  const loaders: H2GrpcClient[] = [];
  try {
    const env = { ...storage.env, ...concurrencyEnv(config), ...profileEnv(config.profileDir, config.profileName ?? `longrun-${config.store}-e2e`) };
    // One first, so it migrates alone; the others join it.
    const methods = sleepMethodArgs(config.handler === "noop");
    servers.push(await spawnServer(methods, env));
    servers.push(...(await Promise.all(Array.from({ length: config.instances - 1 }, () => spawnServer(methods, env)))));
    clients.push(...servers.map((s) => new TestGrpcClient(s.grpcAddress)));
    // The load goes through a minimal HTTP/2 client (bench/grpc-h2.ts), one connection per server, so
    // that it takes as little as it can of the CPU the servers need.
    loaders.push(...servers.map((s) => new H2GrpcClient(s.grpcAddress)));
    const sleepRequest = toBinary(SleepRequestSchema, create(SleepRequestSchema, { duration: durationFromMs(0) }));
    const waitTimeout = durationFromMs(30_000);
    const startRpc: number[] = [];
    const load = async (count: number, record: boolean): Promise<void> => {
      let next = 0;
      await Promise.all(
        Array.from({ length: config.inflight }, async (_, lane) => {
          const loader = loaders[lane % loaders.length]!;
          while (next++ < count) {
            const s = performance.now();
            const op = fromBinary(OperationSchema, await loader.call(SLEEP_PATH, sleepRequest));
            if (record) startRpc.push(performance.now() - s);
            const waitRequest = toBinary(WaitOperationRequestSchema, create(WaitOperationRequestSchema, { name: op.name, timeout: waitTimeout }));
            const done = fromBinary(OperationSchema, await loader.call(WAIT_PATH, waitRequest));
            if (!done.done) throw new Error(`${op.name} not done after 30 s`);
          }
        }),
      );
    };
    await load(config.warmup, false);
    const db = storage.db;
    const before = db ? await pgCounters(db.admin) : undefined;
    const began = performance.now();
    await load(config.n, true);
    const seconds = (performance.now() - began) / 1000;
    const after = db && before ? await pgCounters(db.admin) : undefined;
    await idle?.(clients);
    return { seconds, startRpc, perJob: before && after ? perJob(before, after, config.n, 1) : undefined };
  } finally {
    for (const c of clients) c.close();
    for (const l of loaders) l.close();
    for (const s of servers) s.child.kill("SIGTERM");
    await Promise.all(servers.map((s) => s.exited));
    await storage.remove();
  }
}

async function longrunEndToEndResult(
  spec: SystemSpec,
  config: LongrunConfig,
  n: number,
  inflight: number,
  warmup: number,
  profileDir: string | undefined,
): Promise<ThroughputResult> {
  const e2e = await longrunEndToEnd({ ...config, n, inflight, warmup, profileDir, profileName: `${spec.id}-e2e` });
  return {
    system: spec.id,
    label: spec.label,
    mode: "e2e",
    jobs: n,
    inflight,
    seconds: e2e.seconds,
    jobsPerSecond: n / e2e.seconds,
    concurrency: longrunConcurrency(config),
    doneMeans: LONGRUN_DONE_E2E,
    startRpcMs: { p50: percentile(e2e.startRpc, 0.5), p99: percentile(e2e.startRpc, 0.99) },
    ...(e2e.perJob ? { perJob: e2e.perJob } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// peers

async function peerDrain(system: QueueSystem, n: number): Promise<ThroughputResult> {
  try {
    await system.setUp();
    const storing = performance.now();
    for (let done = 0; done < n; done += CHUNK) {
      await system.enqueueBulk(Array.from({ length: Math.min(CHUNK, n - done) }, (_, i) => done + i));
    }
    const storeSeconds = (performance.now() - storing) / 1000;
    let started = 0;
    const before = system.db ? await pgCounters(system.db.admin) : undefined;
    const began = performance.now();
    await system.startWorkers({ started: () => void started++, finished: () => undefined });
    const checks = await pollUntil(async () => !(await system.anyLeft()), POLL_MS, drainTimeoutMs(n));
    const seconds = (performance.now() - began) / 1000;
    const after = system.db && before ? await pgCounters(system.db.admin) : undefined;
    if (started < n) throw new Error(`${system.id}: ${started} of ${n} jobs ran, yet none is left`);
    return {
      system: system.id,
      label: system.label,
      mode: "drain",
      jobs: n,
      inflight: undefined,
      seconds,
      jobsPerSecond: n / seconds,
      storeSeconds,
      concurrency: system.concurrency,
      doneMeans: "no job left unfinished in its store",
      ...(before && after ? { perJob: perJob(before, after, n, checks + 1) } : {}),
    };
  } finally {
    await system.tearDown();
  }
}

async function peerEndToEnd(system: QueueSystem, n: number, inflight: number, warmup: number): Promise<ThroughputResult> {
  try {
    await system.setUp();
    const waiting = new Map<number, () => void>();
    await system.startWorkers({
      started: () => undefined,
      finished: (key) => {
        const resolve = waiting.get(key);
        waiting.delete(key);
        resolve?.();
      },
    });
    const load = async (firstKey: number, count: number): Promise<void> => {
      let next = 0;
      const lanes = Promise.all(
        Array.from({ length: inflight }, async () => {
          while (next < count) {
            const key = firstKey + next++;
            // Registered before the enqueue, so a job that finishes before the producer call returns is not missed.
            const done = new Promise<void>((resolve) => waiting.set(key, resolve));
            await system.enqueue(key);
            await done;
          }
        }),
      );
      await withTimeout(lanes, drainTimeoutMs(count), `${system.id}: jobs not done in time`);
    };
    await load(10_000_000, warmup);
    const before = system.db ? await pgCounters(system.db.admin) : undefined;
    const began = performance.now();
    await load(0, n);
    const seconds = (performance.now() - began) / 1000;
    const after = system.db && before ? await pgCounters(system.db.admin) : undefined;
    return {
      system: system.id,
      label: system.label,
      mode: "e2e",
      jobs: n,
      inflight,
      seconds,
      jobsPerSecond: n / seconds,
      concurrency: system.concurrency,
      doneMeans: system.doneMeans,
      ...(before && after ? { perJob: perJob(before, after, n, 1) } : {}),
    };
  } finally {
    await system.tearDown();
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------------
// PostgreSQL's physical limit

export interface LimitResult {
  clients: number;
  notify: boolean;
  commitsPerSecond: number;
  /** WAL flushes per commit: below 1 when commits share a flush (group commit). */
  walSyncsPerCommit: number;
  tool: "pgbench" | "node";
}

const LIMIT_SECONDS = 5;

/**
 * Commits per second of the smallest durable write, one INSERT per transaction, with 1 and 8 clients, and
 * with a pg_notify in each transaction (as longrun's writes carry; a connection LISTENs, as longrun's
 * instances do). PostgreSQL serializes the commits of notifying transactions (a database-wide lock taken
 * before commit and held until the commit record is flushed), which group commit cannot hide.
 */
async function postgresLimit(): Promise<LimitResult[]> {
  const db = await freshSchema("limit_bench");
  const dir = mkdtempSync(join(tmpdir(), "longrun-limit-"));
  const channel = `${db.schema}_limit`;
  try {
    await db.admin.query(`CREATE SCHEMA "${db.schema}"; CREATE TABLE "${db.schema}".t (id bigserial PRIMARY KEY, v integer NOT NULL)`);
    await db.admin.query(`LISTEN "${channel}"`);
    const pgbench = spawnSync("pgbench", ["--version"]).status === 0;
    const results: LimitResult[] = [];
    for (const clients of [1, 8]) {
      for (const notify of [false, true]) {
        console.log(`\nPostgreSQL limit: ${clients} client(s), ${notify ? "with" : "without"} pg_notify…`);
        const insert = `INSERT INTO "${db.schema}".t (v) VALUES (1)`;
        const statements = notify ? ["BEGIN", insert, `SELECT pg_notify('${channel}', 'x')`, "COMMIT"] : [insert];
        const before = await pgCounters(db.admin);
        const commits = pgbench ? runPgbench(dir, statements, clients) : await runNodeLoop(statements, clients);
        const after = await pgCounters(db.admin);
        const result: LimitResult = {
          clients,
          notify,
          commitsPerSecond: commits / LIMIT_SECONDS,
          walSyncsPerCommit: (after.walSyncs - before.walSyncs) / commits,
          tool: pgbench ? "pgbench" : "node",
        };
        console.log(`  ${result.commitsPerSecond.toFixed(0)} commits/s, ${result.walSyncsPerCommit.toFixed(2)} WAL flushes per commit (${result.tool})`);
        results.push(result);
      }
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  }
}

/** Runs the statements as one pgbench script for LIMIT_SECONDS; returns the transactions committed. */
function runPgbench(dir: string, statements: readonly string[], clients: number): number {
  const script = join(dir, "script.sql");
  writeFileSync(script, statements.map((s) => `${s};`).join("\n") + "\n");
  const url = new URL(POSTGRES_URL);
  const output = execFileSync(
    "pgbench",
    ["-n", "-h", url.hostname, "-p", url.port || "5432", "-U", decodeURIComponent(url.username || "postgres"), "-c", String(clients), "-j", String(Math.min(clients, 2)), "-T", String(LIMIT_SECONDS), "-f", script, url.pathname.slice(1)],
    { encoding: "utf8", env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password) } },
  );
  const processed = /number of transactions actually processed: (\d+)/.exec(output);
  if (!processed) throw new Error(`pgbench printed no transaction count:\n${output}`);
  return Number(processed[1]);
}

/** The same as runPgbench with node-postgres clients, where pgbench is not installed. */
async function runNodeLoop(statements: readonly string[], clients: number): Promise<number> {
  const connections = await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      return client;
    }),
  );
  let committed = 0;
  const end = performance.now() + LIMIT_SECONDS * 1000;
  await Promise.all(
    connections.map(async (client) => {
      while (performance.now() < end) {
        for (const statement of statements) await client.query(statement);
        committed++;
      }
    }),
  );
  await Promise.all(connections.map((c) => c.end()));
  return committed;
}

// ---------------------------------------------------------------------------------------------------------
// reporting

async function versions(): Promise<Record<string, string>> {
  const packageVersion = (name: string): string => {
    try {
      return (JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), "utf8")) as { version: string }).version;
    } catch {
      return "not installed";
    }
  };
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  const postgres = (await admin.query<{ server_version: string }>("SHOW server_version")).rows[0]?.server_version ?? "?";
  await admin.end();
  return {
    postgres,
    graphileWorker: packageVersion("graphile-worker"),
    pgBoss: packageVersion("pg-boss"),
    bullmq: packageVersion("bullmq"),
    ioredis: packageVersion("ioredis"),
  };
}

function describe(r: ThroughputResult): string {
  const parts = [`${r.jobsPerSecond.toFixed(0)} jobs/s (${r.jobs} in ${r.seconds.toFixed(2)} s)`];
  if (r.storeSeconds !== undefined) parts.push(`stored in ${r.storeSeconds.toFixed(2)} s`);
  if (r.perJob) parts.push(`${r.perJob.commits.toFixed(2)} commits/job, ${r.perJob.walSyncs.toFixed(3)} WAL flushes/job, ${Math.round(r.perJob.walBytes)} WAL bytes/job`);
  if (r.startRpcMs) parts.push(`start RPC p50 ${r.startRpcMs.p50.toFixed(1)} / p99 ${r.startRpcMs.p99.toFixed(1)} ms`);
  return parts.join("; ");
}

function rate(value: number | undefined): string {
  return value === undefined ? "—" : Math.round(value).toLocaleString("en");
}

function ratio(longrun: number | undefined, peer: number | undefined): string {
  return longrun === undefined || peer === undefined ? "—" : (longrun / peer).toFixed(2);
}

function renderReport(
  results: readonly ThroughputResult[],
  limits: readonly LimitResult[],
  run: { n: number; inflight: number; runId: string; env: Record<string, string | number>; handler: LongrunHandler },
): string {
  const systems = [...new Map(results.map((r) => [r.system, r.label])).entries()];
  const find = (system: string, mode: Mode) => results.find((r) => r.system === system && r.mode === mode);
  const reference = (system: string) => ({ drain: find(system, "drain")?.jobsPerSecond, e2e: find(system, "e2e")?.jobsPerSecond });
  const sqlite = reference("longrun-sqlite");
  const postgres = reference("longrun-postgres");
  const rows = systems.map(([system, label]) => {
    const drain = find(system, "drain");
    const e2e = find(system, "e2e");
    const pair = (f: (r: ThroughputResult) => string | undefined) => `${(drain && f(drain)) ?? "—"} / ${(e2e && f(e2e)) ?? "—"}`;
    const peer = !system.startsWith("longrun");
    return [
      label,
      rate(drain?.jobsPerSecond),
      rate(e2e?.jobsPerSecond),
      pair((r) => r.perJob?.commits.toFixed(2)),
      pair((r) => r.perJob?.walSyncs.toFixed(3)),
      peer ? `${ratio(postgres.drain, drain?.jobsPerSecond)} / ${ratio(postgres.e2e, e2e?.jobsPerSecond)}` : "",
      peer ? `${ratio(sqlite.drain, drain?.jobsPerSecond)} / ${ratio(sqlite.e2e, e2e?.jobsPerSecond)}` : "",
    ];
  });
  const lines: string[] = [];
  lines.push(`## Throughput — run ${run.runId}`, "");
  lines.push(
    `N = ${run.n} jobs per system and mode; end to end: ${run.inflight} in flight. Machine: ${run.env.cpus} CPUs (${run.env.cpuModel}), ` +
      `${run.env.memoryGiB} GiB, Node ${run.env.node}; sources at ${run.env.commit}; PostgreSQL ${run.env.postgres}; graphile-worker ${run.env.graphileWorker}, ` +
      `pg-boss ${run.env.pgBoss}, BullMQ ${run.env.bullmq} (ioredis ${run.env.ioredis}). longrun's job: ` +
      (run.handler === "noop" ? "a Demo/Sleep handler that only returns (--handler noop)." : "the demo's Demo/Sleep, duration 0 (it writes progress 100 durably, then returns)."),
    "",
  );
  lines.push(
    markdownTable(
      [
        "system",
        "drain jobs/s",
        "end to end jobs/s",
        "commits/job drain / e2e",
        "WAL flushes/job drain / e2e",
        "longrun PG×1 ÷ this, drain / e2e",
        "longrun SQLite ÷ this, drain / e2e",
      ],
      rows,
    ),
  );
  if (limits.length > 0) {
    lines.push("PostgreSQL's physical limit, same run: one INSERT per transaction (" + (limits[0]?.tool ?? "") + `, ${LIMIT_SECONDS} s each)`, "");
    lines.push(
      markdownTable(
        ["clients", "pg_notify in the transaction", "commits/s", "WAL flushes/commit"],
        limits.map((l) => [String(l.clients), l.notify ? "yes" : "no", rate(l.commitsPerSecond), l.walSyncsPerCommit.toFixed(2)]),
      ),
    );
  }
  lines.push("How each system ran and what \"done\" means:", "");
  lines.push(
    markdownTable(
      ["system", "concurrency", "end to end: awaited until"],
      systems.map(([system, label]) => {
        const any = find(system, "e2e") ?? find(system, "drain");
        return [label, any?.concurrency ?? "", find(system, "e2e")?.doneMeans ?? "—"];
      }),
    ),
  );
  const starts = results.filter((r) => r.startRpcMs);
  if (starts.length > 0) {
    lines.push("longrun start RPC under load (end to end), p50 / p99: " + starts.map((r) => `${r.label} ${r.startRpcMs!.p50.toFixed(1)} / ${r.startRpcMs!.p99.toFixed(1)} ms`).join("; ") + ".", "");
  }
  return lines.join("\n");
}

/** The SVG bar chart of a run: jobs/s per system, drain and end to end side by side. */
export function throughputChart(results: readonly ThroughputResult[], n: number, inflight: number, handler: LongrunHandler): string {
  const systems = [...new Map(results.map((r) => [r.system, r.label])).entries()];
  const values = (mode: Mode) => systems.map(([system]) => results.find((r) => r.system === system && r.mode === mode)?.jobsPerSecond);
  return barChartSvg(
    `Throughput (N = ${n.toLocaleString("en")}; end to end: ${inflight} in flight; longrun's job: ${handler === "noop" ? "no-op" : "demo Sleep(0)"})`,
    systems.map(([, label]) => label),
    [
      { name: "drain (stored first, then run)", values: values("drain") },
      { name: `end to end (enqueued singly, awaited)`, values: values("e2e") },
    ],
    { unit: "jobs/s" },
  );
}
