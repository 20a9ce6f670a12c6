import { Worker } from "node:worker_threads";

/** One POST for the thread: the path on its origin, the headers, the body. */
export interface PostRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** What became of one POST: the receiver's status and Retry-After, or the error (and its causes) it failed with. */
export type PostResult = { status: number; retryAfter: string | null } | { error: { message: string; code: string | undefined }[] };

interface Pending {
  resolve: (results: PostResult[]) => void;
  size: number;
}

const THREAD = new URL("./webhook-thread.js", import.meta.url);

/**
 * A worker thread POSTing to one origin (webhook-thread.js) and the batches it has in hand. Started on the
 * first batch; a thread that dies fails its batches (to be retried) and is started again by the next.
 * Referenced only while it has batches in hand: an idle one never keeps the process alive.
 */
export class PostThread {
  #worker: Worker | undefined;
  #pending = new Map<number, Pending>();
  #nextBatch = 1;

  constructor(private readonly settings: { origin: string; connections: number; timeoutMs: number }) {}

  /** POSTs the requests, `concurrency` at a time; results in their order. Aborting fails those not yet answered. */
  post(requests: readonly PostRequest[], concurrency: number, signal: AbortSignal): Promise<PostResult[]> {
    const worker = this.#started();
    const batch = this.#nextBatch++;
    return new Promise<PostResult[]>((resolve) => {
      const onAbort = (): void => worker.postMessage({ kind: "abort", batch });
      signal.addEventListener("abort", onAbort, { once: true });
      // Referenced while it has batches in hand, so that awaiting one keeps the process up; not otherwise.
      if (this.#pending.size === 0) worker.ref();
      this.#pending.set(batch, {
        size: requests.length,
        resolve: (results) => {
          signal.removeEventListener("abort", onAbort);
          resolve(results);
        },
      });
      worker.postMessage({ kind: "post", batch, requests, concurrency });
    });
  }

  /** Closes the thread's connections and ends it; batches in hand fail (to be retried). */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (worker === undefined) return;
    this.#worker = undefined;
    const closed = new Promise<void>((resolve) => {
      worker.once("message", (m: { kind: string }) => m.kind === "closed" && resolve());
      worker.once("exit", () => resolve());
    });
    // Referenced until it has closed: waiting for it must keep the process up (an idle thread is not).
    worker.ref();
    worker.postMessage({ kind: "close" });
    await closed;
    await worker.terminate();
    this.#failAll("the webhook thread was closed");
  }

  #started(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(THREAD, { workerData: this.settings });
    worker.on("message", (m: { kind: string; batch?: number; results?: PostResult[] }) => {
      if (m.kind !== "done" || m.batch === undefined) return;
      const pending = this.#pending.get(m.batch);
      this.#pending.delete(m.batch);
      if (this.#pending.size === 0) worker.unref();
      pending?.resolve(m.results ?? []);
    });
    const lost = (why: string) => () => {
      if (this.#worker === worker) this.#worker = undefined;
      this.#failAll(why);
    };
    worker.on("error", (err) => lost(`the webhook thread failed: ${err.message}`)());
    worker.on("exit", lost("the webhook thread exited"));
    // After the listeners: adding a "message" listener refs the worker's port again.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #failAll(why: string): void {
    for (const pending of this.#pending.values()) pending.resolve(Array.from({ length: pending.size }, () => ({ error: [{ message: why, code: undefined }] })));
    this.#pending.clear();
  }
}
