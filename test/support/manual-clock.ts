import type { Clock, Timer } from "../../src/runtime/clock.js";

interface Scheduled {
  at: number;
  callback: () => void;
  /** For `every`: the period; the timer is scheduled again after it fires. */
  everyMs: number | undefined;
  cancelled: boolean;
}

/**
 * A clock that moves only when told: `advance(ms)` fires every timer due by then, in time order, so a
 * test of a runtime part reads like its timeline instead of sleeping.
 */
export class ManualClock implements Clock {
  private time: number;
  private readonly timers: Scheduled[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start;
  }

  now = (): number => this.time;

  after(ms: number, callback: () => void): Timer {
    return this.schedule(ms, callback, undefined);
  }

  every(ms: number, callback: () => void): Timer {
    return this.schedule(ms, callback, ms);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(ms, resolve, undefined));
  }

  /** Timers not yet fired nor cancelled. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing due timers in order, with the event loop turned between them. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      const next = this.timers.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.time = Math.max(this.time, next.at);
      if (next.everyMs === undefined) next.cancelled = true;
      else next.at += Math.max(1, next.everyMs);
      next.callback();
      await settle();
    }
    this.time = until;
    await settle();
  }

  /**
   * The wall clock jumps by `ms` (forward, or backward if negative), as when an NTP step or an operator
   * resets it: `now()` moves at once and fires nothing, while pending timers keep their remaining delay
   * (setTimeout and setInterval count on a monotonic clock, not the wall clock).
   */
  jump(ms: number): void {
    this.time += ms;
    for (const timer of this.timers) timer.at += ms;
  }

  private schedule(ms: number, callback: () => void, everyMs: number | undefined): Timer {
    const scheduled: Scheduled = { at: this.time + Math.max(0, ms), callback, everyMs, cancelled: false };
    this.timers.push(scheduled);
    return { cancel: () => void (scheduled.cancelled = true) };
  }
}

/** Lets queued callbacks, promise reactions and setImmediate turns (the batchers') run. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Waits, turn by turn, until `check` holds: for effects that take several writes. It gives up after `turns`
 * turns, but never before `floorMs` have passed: a turn without work is microseconds, so on a loaded machine
 * a store round trip (PostgreSQL's above all) can outlast any count of turns.
 */
export async function until(check: () => boolean | Promise<boolean>, turns = 500, floorMs = 10_000): Promise<void> {
  const started = performance.now();
  for (let i = 0; ; i++) {
    if (await check()) return;
    if (i >= turns && performance.now() - started >= floorMs) break;
    await new Promise((resolve) => (i < turns ? setImmediate(resolve) : setTimeout(resolve, 5)));
  }
  throw new Error("the condition did not hold");
}
