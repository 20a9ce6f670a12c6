import type { Logger } from "../core/logger.js";
import type { Store } from "../store/store.js";

/** How long the readiness query may take before the store counts as unreachable. */
export const READINESS_TIMEOUT_MS = 2000;
/** How often the gRPC health status is brought up to date from the store's answer. */
export const READINESS_INTERVAL_MS = 5000;
/** How long one answer of the store is reused by probes arriving together. */
const READINESS_CACHE_MS = 1000;
/** The id the readiness query looks up: a primary-key read that finds nothing. */
const PROBE_ID = "longrun-readiness-probe";

export type ReadinessState = { ready: true } | { ready: false; reason: string };

export interface ReadinessOptions {
  store: Store;
  log: Logger;
  now?: () => number;
}

/**
 * Whether this instance should be sent traffic: the store answers a cheap query (one primary-key lookup)
 * within READINESS_TIMEOUT_MS, and the server is not shutting down. Migrations need no check of their
 * own: a store is open only once its schema is at the version this build needs (PostgreSQL's `migrate:
 * false` checks it). The one source of /readyz and of the gRPC health service's status.
 */
export class Readiness {
  private stopping = false;
  private last: { at: number; state: Promise<ReadinessState> } | undefined;
  private readonly now: () => number;
  private readonly listeners = new Set<(ready: boolean) => void>();
  private timer: NodeJS.Timeout | undefined;
  private reported: boolean | undefined;

  constructor(private readonly options: ReadinessOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The server is closing: not ready from now on, whatever the store says. */
  shutDown(): void {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.report(false);
  }

  check(): Promise<ReadinessState> {
    if (this.stopping) return Promise.resolve({ ready: false, reason: "The server is shutting down." });
    const now = this.now();
    if (this.last === undefined || now - this.last.at >= READINESS_CACHE_MS) this.last = { at: now, state: this.query(now) };
    return this.last.state;
  }

  /**
   * Calls `listener` with the current readiness now and whenever it changes, checking every
   * `intervalMs` (and at shutdown); returns the unsubscribe function.
   */
  watch(listener: (ready: boolean) => void, intervalMs = READINESS_INTERVAL_MS): () => void {
    this.listeners.add(listener);
    if (this.reported !== undefined) listener(this.reported);
    if (this.timer === undefined && !this.stopping) {
      const tick = (): void => void this.check().then((state) => this.report(state.ready));
      this.timer = setInterval(tick, intervalMs);
      this.timer.unref();
      tick();
    }
    return () => this.listeners.delete(listener);
  }

  private report(ready: boolean): void {
    if (this.reported === ready) return;
    this.reported = ready;
    for (const listener of this.listeners) listener(ready);
  }

  private async query(now: number): Promise<ReadinessState> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.options.store.get(PROBE_ID, now), timeout]);
      return this.stopping ? { ready: false, reason: "The server is shutting down." } : { ready: true };
    } catch (err) {
      this.options.log("readiness: the store did not answer", err);
      return { ready: false, reason: "The store is unreachable." };
    } finally {
      clearTimeout(timer);
    }
  }
}
