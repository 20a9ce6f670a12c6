import { shuttingDown } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { Store } from "../store/store.js";
import type { Clock, Timer } from "./clock.js";
import type { Executor } from "./executor.js";
import type { RunningOperation } from "./running-operation.js";

/**
 * Leases extended per heartbeat statement, one statement after another with the event loop free between:
 * one statement for 10,000 running operations held their rows locked (PostgreSQL) or the event loop
 * (SQLite) long enough to show in the tail of every other write and answer (bench wait: p99).
 */
const HEARTBEAT_CHUNK = 500;
/** Heartbeats come this often in a lease, so one or two may be late or fail before it expires. */
const HEARTBEATS_PER_LEASE = 3;
const MIN_HEARTBEAT_INTERVAL_MS = 100;

export interface LeasesOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  owner: string;
  leaseMs: number;
  executor: Executor;
}

/**
 * The leases of what runs here: heartbeats extend them and bring back what the store says was requested
 * meanwhile (cancellation, control commands — the fallback for missed change events); a refused
 * heartbeat means the lease is lost (or the operation deleted); at shutdown they are given back.
 */
export class Leases {
  private timer: Timer | undefined;

  constructor(private readonly options: LeasesOptions) {}

  start(): void {
    const { clock, leaseMs } = this.options;
    this.timer ??= clock.every(Math.max(MIN_HEARTBEAT_INTERVAL_MS, Math.floor(leaseMs / HEARTBEATS_PER_LEASE)), () => void this.heartbeat());
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Extends the leases of what runs here (or of `only`), and applies what was requested meanwhile. */
  async heartbeat(only?: readonly RunningOperation[]): Promise<void> {
    const of = only ?? [...this.options.executor.running.values()];
    if (of.length === 0) return;
    try {
      for (let start = 0; start < of.length; start += HEARTBEAT_CHUNK) {
        if (start > 0) await new Promise((resolve) => setImmediate(resolve));
        await this.heartbeatChunk(of.slice(start, start + HEARTBEAT_CHUNK));
      }
    } catch (err) {
      this.options.log("heartbeat failed", err);
    }
  }

  private async heartbeatChunk(of: readonly RunningOperation[]): Promise<void> {
    const { store, clock, owner, leaseMs, executor } = this.options;
    const leases = of.map((operation) => ({ id: operation.id, attempt: operation.record.attempt }));
    const results = await store.heartbeat(owner, leases, leaseMs, clock.now());
    for (const [i, result] of results.entries()) {
      // The attempt this heartbeat was for, not whatever runs under its id now: this runtime may have
      // re-claimed the operation meanwhile (its lease expired during a store outage), and "not held" is
      // true of the old attempt only. An attempt no longer held here is skipped (refused checks it too).
      const operation = of[i];
      if (operation?.id !== result.id || executor.running.get(result.id) !== operation) continue;
      if (!result.held) {
        await executor.refused(operation);
        continue;
      }
      operation.control.set(result.control);
      if (result.cancelRequested) executor.cancel(operation);
    }
  }

  /**
   * Shutdown: aborts what still runs and gives its leases back, so another instance (or the next start)
   * resumes it at once rather than after the lease expires.
   */
  async releaseAll(): Promise<void> {
    const { store, clock, owner, executor, log } = this.options;
    const unfinished = [...executor.running.values()];
    // Its result, if any, must not be written after the lease is given back.
    for (const operation of unfinished) executor.loseLease(operation, shuttingDown());
    if (unfinished.length === 0) return;
    try {
      const now = clock.now();
      await store.release(owner, unfinished.map((operation) => ({ id: operation.id, attempt: operation.record.attempt })), now, now);
    } catch (err) {
      log("could not release leases at shutdown (they will expire)", err);
    }
  }
}
