/**
 * longrun's drain mode: N operations created with the batch API (`runtime.startOperations`, CHUNK per call)
 * while no worker runs, then worker processes (drain-worker.ts, no gRPC) told to start, and the clock runs
 * until the store says none is left (PostgreSQL: polled; SQLite: the workers count their own "done" events,
 * since no other process may open the file they hold).
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { SleepRequestSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { startServer } from "../../src/index.js";
import { methods as demoMethods } from "../../src/demo/index.js";
import { perJob, pgCounters, pollUntil } from "../support/measure.js";
import { longrunStore, type LongrunStore } from "../support/longrun-store.js";
import type { DrainCommand, DrainReport } from "./drain-worker.js";
import { concurrencyEnv, profileEnv } from "./longrun-env.js";
import { CHUNK, drainTimeoutMs, POLL_MS, withTimeout, stopChildren } from "./modes.js";
import { longrunConcurrency, type LongrunConfig, type SystemSpec, type ThroughputResult } from "./systems.js";

const LONGRUN_DONE_DRAIN = "no operation left with done = false in the store";
const DRAIN_WORKER = fileURLToPath(new URL("./drain-worker.ts", import.meta.url));

/** Stores `n` Demo/Sleep(0) operations, queued, with the batch API (CHUNK per call), and closes the store. */
export async function storeSleeps(storage: LongrunStore, n: number): Promise<void> {
  const creator = await startServer({ store: await storage.open(), methods: demoMethods, worker: false, grpc: false, http: false });
  const request = create(SleepRequestSchema, { duration: durationFromMs(0) });
  for (let done = 0; done < n; done += CHUNK) {
    await creator.runtime.startOperations("longrun.demo.v1.Demo.Sleep", Array.from({ length: Math.min(CHUNK, n - done) }, () => request));
  }
  await creator.close();
}

/** Drain: N operations created with the batch API, then worker processes started and timed until none is left. */
/** With `counters` false, PostgreSQL's per-job counters are skipped, and with them 22 s of waiting for them to settle. */
export async function longrunDrain(
  spec: SystemSpec,
  config: LongrunConfig,
  n: number,
  profileDir: string | undefined,
  counters = true,
): Promise<ThroughputResult> {
  const storage = await longrunStore(config);
  const children: ChildProcess[] = [];
  try {
    const storing = performance.now();
    await storeSleeps(storage, n); // closes the store: the SQLite file's lock is free for the worker
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
    const before = counters && db ? await pgCounters(db.admin) : undefined;
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
    await stopChildren(children);
    await storage.remove();
  }
}
