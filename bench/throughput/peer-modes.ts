/**
 * The peers' two modes, in this process: drain (N jobs stored with the peer's bulk API, then its workers
 * started and timed until its store says none is left) and end to end (each job enqueued with its producer
 * call and awaited on the peer's own completion signal, `inflight` at a time).
 */
import type { QueueSystem } from "../peers/index.js";
import { perJob, pgCounters, pollUntil } from "../support/measure.js";
import { CHUNK, drainTimeoutMs, POLL_MS, withTimeout } from "./modes.js";
import type { ThroughputResult } from "./systems.js";

/** With `counters` false, PostgreSQL's per-job counters are skipped, and with them 22 s of waiting for them to settle. */
export async function peerDrain(system: QueueSystem, n: number, counters = true): Promise<ThroughputResult> {
  try {
    await system.setUp();
    const storing = performance.now();
    for (let done = 0; done < n; done += CHUNK) {
      await system.enqueueBulk(Array.from({ length: Math.min(CHUNK, n - done) }, (_, i) => done + i));
    }
    const storeSeconds = (performance.now() - storing) / 1000;
    let started = 0;
    const before = counters && system.db ? await pgCounters(system.db.admin) : undefined;
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

/** `mode`: the row's mode — the peers' library mode is their end-to-end mode (in-process already). */
export async function peerEndToEnd(system: QueueSystem, n: number, inflight: number, warmup: number, mode: "e2e" | "library" = "e2e"): Promise<ThroughputResult> {
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
      mode,
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
