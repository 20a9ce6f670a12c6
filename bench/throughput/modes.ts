import type { ChildProcess } from "node:child_process";

/**
 * What the two throughput modes share, for longrun and the peers alike: the modes, the size of a bulk
 * store call, how often a drain checks the store, and how long a run may take before it counts as stuck.
 */

/**
 * drain: N jobs stored first, then run; e2e: each job enqueued singly and awaited, `inflight` at a time
 * (longrun over gRPC); library: the same, longrun through its in-process API (`server.operations`), the
 * peers as in e2e (they are in-process there already).
 */
export type Mode = "drain" | "e2e" | "library";
export const MODES: readonly Mode[] = ["drain", "e2e", "library"];
/** What runs unless --modes says otherwise. */
export const DEFAULT_MODES: readonly Mode[] = ["drain", "e2e"];
export const MODE_LABEL: Record<Mode, string> = { drain: "drain", e2e: "end to end", library: "library (in-process start and await)" };

/** Jobs per bulk store call (longrun: `runtime.startOperations`; peers: their bulk API). */
export const CHUNK = 1000;
/** How often a drain asks the store whether any job is left. */
export const POLL_MS = 25;

/** A run slower than this (20 ms a job, at least 5 minutes) is stuck, not slow. */
export function drainTimeoutMs(n: number): number {
  return Math.max(300_000, n * 20);
}

/** Tells each worker child to stop ({ type: "stop" }, what drain and library workers obey) and waits for it to exit. */
export async function stopChildren(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.send({ type: "stop" });
        }),
    ),
  );
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
