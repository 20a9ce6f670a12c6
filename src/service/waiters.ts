import type { ChangeEvent, Store } from "../store/store.js";

/**
 * Wakes WaitOperation calls when their operation is done or deleted, from the store's change feed: one
 * subscription for all waiters, a map lookup per changed id, no polling.
 */
export class Waiters {
  private readonly byId = new Map<string, Set<() => void>>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly store: Store) {}

  /**
   * Registers interest in `id` before the caller re-reads it, so a change between the read and the wait
   * is not missed. Resolves on the change, at `timeoutMs`, or when `signal` aborts; `cancel()` unregisters.
   */
  watch(id: string, timeoutMs: number, signal: AbortSignal): { changed: Promise<void>; cancel(): void } {
    this.ensureSubscribed();
    let wake!: () => void;
    const changed = new Promise<void>((resolve) => (wake = resolve));
    let set = this.byId.get(id);
    if (!set) this.byId.set(id, (set = new Set()));
    const waiters = set;
    const timer = setTimeout(() => finish(), timeoutMs);
    const onAbort = (): void => finish();
    signal.addEventListener("abort", onAbort, { once: true });
    const finish = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      waiters.delete(finish);
      if (waiters.size === 0 && this.byId.get(id) === waiters) this.byId.delete(id);
      wake();
    };
    waiters.add(finish);
    if (signal.aborted) finish();
    return { changed, cancel: finish };
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private ensureSubscribed(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.store.subscribe((event) => this.onChange(event));
  }

  private onChange(event: ChangeEvent): void {
    if (event.kind === "resync") {
      // Changes may have been missed: every waiter re-reads its operation (and waits on if not done).
      for (const set of [...this.byId.values()]) for (const finish of [...set]) finish();
      return;
    }
    if (event.kind !== "done" && event.kind !== "deleted") return;
    for (const id of event.ids) {
      const set = this.byId.get(id);
      if (set) for (const finish of [...set]) finish();
    }
  }
}
