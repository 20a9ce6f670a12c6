/**
 * What a handler sees of the control commands requested of its operation: custom methods on operations
 * that a service declares (Storage Transfer's pause and resume, say). They travel like cancellation:
 * recorded in the store, announced by its change feed (so they reach the handler on whichever instance
 * runs it), re-read by every heartbeat as the fallback path, and kept across retries.
 */
export interface OperationControl {
  /** The last command requested (e.g. "pause"), or undefined if none was. */
  readonly current: string | undefined;
  /**
   * Resolves with the current command once `accept(current)` holds — at once if it already does.
   * Rejects with the signal's reason if the operation is cancelled (or its lease lost) first.
   */
  until(accept: (command: string | undefined) => boolean): Promise<string | undefined>;
}

/** The runtime's side of one running operation's OperationControl. */
export class ControlChannel implements OperationControl {
  #current: string | undefined;
  /** Made by the first `until` that has to wait: most operations never have one. */
  #changed: Set<() => void> | undefined;

  constructor(
    initial: string | undefined,
    /** The operation's signal, made on first use (see the runtime's `signalOf`). */
    private readonly signalOf: () => AbortSignal,
  ) {
    this.#current = initial;
  }

  get current(): string | undefined {
    return this.#current;
  }

  /** Records the command the store now holds; wakes the waiters if it changed. */
  set(command: string | undefined): void {
    if (command === this.#current) return;
    this.#current = command;
    if (this.#changed) for (const notify of [...this.#changed]) notify();
  }

  until(accept: (command: string | undefined) => boolean): Promise<string | undefined> {
    if (accept(this.#current)) return Promise.resolve(this.#current);
    const signal = this.signalOf();
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const settle = () => {
        this.#changed?.delete(onChange);
        signal.removeEventListener("abort", onAbort);
      };
      const onChange = () => {
        if (!accept(this.#current)) return;
        settle();
        resolve(this.#current);
      };
      const onAbort = () => {
        settle();
        reject(signal.reason);
      };
      (this.#changed ??= new Set()).add(onChange);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
