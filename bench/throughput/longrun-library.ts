/**
 * longrun's library mode: worker processes (library-worker.ts) whose load is longrun's in-process API —
 * each job started singly with `server.operations.start` and awaited with `result()`, `inflight` at a time
 * (shared out over the instances) — as the peers' end-to-end mode enqueues and awaits in-process. The clock
 * runs from "go" until every process has awaited its share.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { perJob, pgCounters } from "../support/measure.js";
import { longrunStore } from "../support/longrun-store.js";
import type { LibraryCommand, LibraryReport } from "./library-worker.js";
import { concurrencyEnv, profileEnv } from "./longrun-env.js";
import { drainTimeoutMs, withTimeout, stopChildren } from "./modes.js";
import { longrunConcurrency, type LongrunConfig, type SystemSpec, type ThroughputResult } from "./systems.js";

const LIBRARY_WORKER = fileURLToPath(new URL("./library-worker.ts", import.meta.url));
const LONGRUN_DONE_LIBRARY = "result() resolved: woken by the runtime's own finish (after its commit), with the response decoded";

export async function longrunLibrary(
  spec: SystemSpec,
  config: LongrunConfig,
  n: number,
  inflight: number,
  warmup: number,
  profileDir: string | undefined,
): Promise<ThroughputResult> {
  const storage = await longrunStore(config);
  const children: ChildProcess[] = [];
  try {
    let fail: (err: Error) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => (fail = reject));
    failed.catch(() => undefined); // rejected only while someone races it; never unhandled
    const reports: Promise<LibraryReport>[] = [];
    const share = (total: number, i: number) => Math.floor(total / config.instances) + (i < total % config.instances ? 1 : 0);
    for (let i = 0; i < config.instances; i++) {
      const child = fork(LIBRARY_WORKER, [], {
        execArgv: ["--import", "tsx"],
        env: {
          ...process.env,
          ...storage.env,
          ...concurrencyEnv(config),
          ...profileEnv(profileDir, `${spec.id}-library`),
          BENCH_HANDLER: config.handler ?? "demo",
          LIBRARY_N: String(share(n, i)),
          LIBRARY_INFLIGHT: String(Math.max(1, share(inflight, i))),
          LIBRARY_WARMUP: String(share(warmup, i)),
        },
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      child.on("message", (message: LibraryReport) => message.type === "failed" && fail(new Error(`library worker failed: ${message.message}`)));
      child.on("exit", (code) => code !== 0 && fail(new Error(`library worker exited with ${code}`)));
      children.push(child);
      // One first, so it migrates alone; the others join it.
      if (i === 0) await Promise.race([next(child, "ready"), failed]);
      else reports.push(next(child, "ready"));
    }
    await Promise.race([Promise.all(reports), failed]);

    const db = storage.db;
    const before = db ? await pgCounters(db.admin) : undefined;
    const done = children.map((child) => next(child, "done"));
    const began = performance.now();
    for (const child of children) child.send({ type: "go" } satisfies LibraryCommand);
    await withTimeout(Promise.race([Promise.all(done), failed]), drainTimeoutMs(n), "library: jobs not done in time");
    const seconds = (performance.now() - began) / 1000;
    const after = db && before ? await pgCounters(db.admin) : undefined;
    return {
      system: spec.id,
      label: spec.label,
      mode: "library",
      jobs: n,
      inflight,
      seconds,
      jobsPerSecond: n / seconds,
      concurrency: longrunConcurrency(config),
      doneMeans: LONGRUN_DONE_LIBRARY,
      ...(before && after ? { perJob: perJob(before, after, n, 1) } : {}),
    };
  } finally {
    await stopChildren(children);
    await storage.remove();
  }
}

function next(child: ChildProcess, type: LibraryReport["type"]): Promise<LibraryReport> {
  return new Promise((resolve) => {
    const onMessage = (message: LibraryReport): void => {
      if (message.type !== type) return;
      child.off("message", onMessage);
      resolve(message);
    };
    child.on("message", onMessage);
  });
}
