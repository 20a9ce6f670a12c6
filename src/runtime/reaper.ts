import type { Logger } from "../core/logger.js";
import type { Store } from "../store/store.js";
import type { Clock, Timer } from "./clock.js";

/** How often a worker on a shared store looks for dead instances: one cheap statement (expire-dead-leases.ts). */
export const REAP_INTERVAL_MS = 1000;

export interface ReaperOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  /** @default REAP_INTERVAL_MS */
  intervalMs?: number;
}

/**
 * Ends the leases of dead instances (Store.expireDeadLeases) every second, so what a killed instance ran
 * is claimed again within about a second plus the claim's backoff rather than after its lease (30 s by
 * default). The store announces the leases it ended as "released", which wakes the claimers. Only on a
 * shared store: a SQLite file has no other instance to outlive.
 */
export class Reaper {
  private timer: Timer | undefined;
  /** One statement at a time: during an outage each waits up to the connect timeout. */
  private inFlight: Promise<number> | undefined;

  constructor(private readonly options: ReaperOptions) {}

  start(): void {
    if (this.timer || !this.options.store.shared) return;
    this.timer = this.options.clock.every(this.options.intervalMs ?? REAP_INTERVAL_MS, () => void this.reap());
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  reap(): Promise<number> {
    if (this.inFlight) return this.inFlight;
    const reaping = this.options.store.expireDeadLeases(this.options.clock.now()).catch((err: unknown) => {
      this.options.log("ending the leases of dead instances failed (they will expire)", err);
      return 0;
    });
    this.inFlight = reaping;
    void reaping.finally(() => {
      if (this.inFlight === reaping) this.inFlight = undefined;
    });
    return reaping;
  }
}
