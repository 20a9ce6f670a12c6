/**
 * Time as the runtime's parts see it: injected, so each part can be tested by moving time by hand
 * (`ManualClock` in the tests) instead of sleeping.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` once after `ms`. The timer never keeps the process alive. */
  after(ms: number, callback: () => void): Timer;
  /** Calls `callback` every `ms`. The timer never keeps the process alive. */
  every(ms: number, callback: () => void): Timer;
  /** Resolves after `ms`; unlike `after`, it keeps the process alive (a write waiting to be retried). */
  sleep(ms: number): Promise<void>;
}

/** setTimeout's largest delay: a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: Date.now,
  after(ms, callback) {
    const timer = setTimeout(callback, clampDelay(ms));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
  every(ms, callback) {
    const timer = setInterval(callback, clampDelay(ms));
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, clampDelay(ms))),
};

/** The clock of the options: a `Clock`, or (as before parts took a Clock) a bare `now` function. */
export function clockOf(given: Clock | (() => number) | undefined): Clock {
  if (given === undefined) return systemClock;
  if (typeof given === "function") return { ...systemClock, now: given };
  return given;
}

export function clampDelay(ms: number): number {
  return Math.max(0, Math.min(ms, MAX_TIMER_MS));
}
