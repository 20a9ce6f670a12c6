import type { FinishedOperation, LocalFinishes } from "../runtime/runtime.js";
import type { ChangeEvent, Store } from "../store/store.js";

/**
 * What the waiters tell a metrics collector (src/observability/ implements it for Prometheus). Passed
 * explicitly (OperationsServiceOptions.metrics); without one nothing is measured.
 */
export interface WaitMetrics {
  /**
   * A WaitOperation answered because its operation ended while it waited, `seconds` after the store's
   * finish time: what the change feed and the wake-up took.
   */
  waitWoken(seconds: number): void;
}

/** What woke a waiter: the operation as it was just finished here, or nothing (read it again). */
export type Woken = FinishedOperation["record"];

/**
 * Wakes WaitOperation calls when their operation is done or deleted, from the store's change feed: one
 * subscription for all waiters, a map lookup per changed id, no polling.
 *
 * An operation finished by this process's own runtime wakes its waiters with the result just written, so
 * they answer without reading it back (one statement less per batch of completions, and one round trip
 * less for each waiter). The store announces "done" while the finish is still being written; such an
 * event is held until the runtime reports how its write went (at once after it), so the waiters are
 * woken once, with the result if the write applied, or to read it if another won.
 */
export class Waiters {
  private readonly byId = new Map<string, Set<(woken: Woken) => void>>();
  /** Ids whose "done" event came while this runtime was writing their finish: woken when it reports. */
  private readonly held = new Set<string>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly local?: LocalFinishes,
  ) {}

  /**
   * Registers interest in `id` before the caller re-reads it, so a change between the read and the wait
   * is not missed. Resolves on the change (with the operation, if it was finished here), or undefined on
   * `cancel()` (which unregisters) or when `signal`, if given, aborts. WaitOperation and the library's
   * `result()` give none: many wait at once, and a signal each (or a shared one) costs memory.
   */
  watch(id: string, signal?: AbortSignal): { changed: Promise<Woken>; cancel(): void } {
    this.ensureSubscribed();
    let wake!: (woken: Woken) => void;
    const changed = new Promise<Woken>((resolve) => (wake = resolve));
    let set = this.byId.get(id);
    if (!set) this.byId.set(id, (set = new Set()));
    const waiters = set;
    const onAbort = (): void => finish(undefined);
    signal?.addEventListener("abort", onAbort, { once: true });
    const finish = (woken: Woken): void => {
      signal?.removeEventListener("abort", onAbort);
      waiters.delete(finish);
      if (waiters.size === 0 && this.byId.get(id) === waiters) this.byId.delete(id);
      wake(woken);
    };
    waiters.add(finish);
    if (signal?.aborted) finish(undefined);
    return { changed, cancel: () => finish(undefined) };
  }

  /** WaitOperation calls and library awaits waiting now (a sum over the operations waited on: for metrics, read on scrape). */
  get size(): number {
    let size = 0;
    for (const set of this.byId.values()) size += set.size;
    return size;
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private ensureSubscribed(): void {
    if (this.unsubscribe) return;
    const fromStore = this.store.subscribe((event) => this.onChange(event));
    const fromRuntime = this.local?.onFinished((finished) => this.onFinished(finished));
    this.unsubscribe = () => {
      fromStore();
      fromRuntime?.();
    };
  }

  private wakeAll(id: string, woken: Woken): void {
    const set = this.byId.get(id);
    if (set) for (const finish of [...set]) finish(woken);
  }

  private onChange(event: ChangeEvent): void {
    if (event.kind === "resync") {
      // Changes may have been missed: every waiter re-reads its operation (and waits on if not done).
      for (const id of [...this.byId.keys()]) this.wakeAll(id, undefined);
      return;
    }
    if (event.kind !== "done" && event.kind !== "deleted") return;
    for (const id of event.ids) {
      if (event.kind === "done" && this.local?.isFinishing(id)) {
        if (this.byId.has(id)) this.held.add(id);
        continue;
      }
      this.wakeAll(id, undefined);
    }
  }

  private onFinished(finished: readonly FinishedOperation[]): void {
    for (const { id, record } of finished) {
      const wasHeld = this.held.delete(id);
      if (record || wasHeld) this.wakeAll(id, record);
    }
  }
}
