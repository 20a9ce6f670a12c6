import type { Logger } from "../core/logger.js";
import type { Store } from "../store/store.js";
import type { Clock, Timer } from "./clock.js";

export interface PurgerOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  intervalMs: number;
}

/**
 * Deletes done operations past their retention, once at start and then every `intervalMs`. They are
 * invisible to readers from their expiry on (the stores check expire_time): this only frees the space.
 */
export class Purger {
  private timer: Timer | undefined;

  constructor(private readonly options: PurgerOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = this.options.clock.every(this.options.intervalMs, () => void this.purge());
    void this.purge();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  async purge(): Promise<void> {
    try {
      await this.options.store.purgeExpired(this.options.clock.now());
    } catch (err) {
      this.options.log("deleting expired operations failed", err);
    }
  }
}
