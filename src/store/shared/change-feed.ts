import type { ChangeEvent, ChangeKind, ChangeListener } from "../store.js";

/** Called with what a listener threw; the store's write has already committed and is not affected. */
export type ListenerErrorHandler = (error: unknown, event: ChangeEvent) => void;

/**
 * The listeners of one store instance, shared by every store. Fed by the instance's own writes (at once,
 * after commit) and, in a store that many instances share, by the other instances' notifications and a
 * "resync" after the feed was interrupted.
 */
export class ChangeFeed {
  readonly #listeners = new Set<ChangeListener>();
  readonly #onListenerError: ListenerErrorHandler;

  constructor(onListenerError: ListenerErrorHandler) {
    this.#onListenerError = onListenerError;
  }

  subscribe(listener: ChangeListener): () => void {
    // Wrapped so the same function subscribed twice gets two independent subscriptions.
    const entry: ChangeListener = (event) => listener(event);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Call only after the write has committed. Nothing is sent for no ids, except "resync", which has none. */
  emit(kind: ChangeKind, ids: readonly string[]): void {
    if (ids.length === 0 && kind !== "resync") return;
    const event: ChangeEvent = { kind, ids };
    // A snapshot, so listeners subscribing while being called wait for the next event; one unsubscribed
    // by an earlier listener is skipped.
    for (const listener of [...this.#listeners]) {
      if (!this.#listeners.has(listener)) continue;
      try {
        listener(event);
      } catch (error) {
        // One broken listener must neither fail the write that already committed nor starve the others.
        try {
          this.#onListenerError(error, event);
        } catch {
          // The error handler itself failed: nothing sensible is left to tell.
        }
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
