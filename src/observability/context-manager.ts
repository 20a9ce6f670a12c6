import { ROOT_CONTEXT, type Context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";

/**
 * The API's context manager, carrying contexts with AsyncLocalStorage only once something reads the active
 * context. AsyncLocalStorage, once it holds a value, makes Node.js run a hook for every promise the process
 * creates (Node 20: async_hooks), RPCs that trace nothing included; longrun itself never reads the active
 * context (it passes contexts explicitly), so a server whose handlers do not either never pays for it.
 * Until the first read, `with(ctx, fn)` makes `ctx` the active context for `fn`'s synchronous part only;
 * from it on, as AsyncLocalStorageContextManager does, continuations included. The read that switches it on
 * sees the context of the `with` running at that moment, if any, and that context carries on for the rest
 * of the `with` (docs/observability.md, "In handlers").
 */
export class LazyContextManager extends AsyncLocalStorageContextManager {
  /** Whether AsyncLocalStorage carries the contexts: from the first read of the active context on. */
  #storing = false;
  /** Until then: the context of the `with` running now (synchronously). */
  #current: Context | undefined;

  override active(): Context {
    if (!this.#storing) {
      this.#storing = true;
      // Read inside a `with`: its context goes on for the rest of it, continuations included.
      if (this.#current !== undefined) super.attach(this.#current);
    }
    return super.active();
  }

  override with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    if (this.#storing) return super.with(context, fn, thisArg, ...args);
    const previous = this.#current;
    this.#current = context;
    try {
      return thisArg == null ? fn(...args) : fn.call(thisArg, ...args);
    } finally {
      this.#current = previous;
      // Switched on inside `fn`: the caller goes on in the context it had.
      if (this.#storing) super.attach(previous ?? ROOT_CONTEXT);
    }
  }

  /** Whether AsyncLocalStorage carries the contexts now (something has read the active context). */
  get storing(): boolean {
    return this.#storing;
  }

  override disable(): this {
    this.#storing = false;
    this.#current = undefined;
    return super.disable();
  }
}
