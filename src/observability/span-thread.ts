import { Worker } from "node:worker_threads";
import { TraceFlags } from "@opentelemetry/api";
import { globalErrorHandler } from "@opentelemetry/core";
import type { ReadableSpan, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { SpanBatchSettings } from "./span-batch-settings.js";
import { SpanChunk } from "./span-chunk.js";

type ThreadMessage = { kind: "flushed"; id: number } | { kind: "error"; message: string } | { kind: "closed" };

const THREAD = new URL("./otlp-thread.js", import.meta.url);
/**
 * Spans handed over together, at most (an export batch, OTEL_BSP_MAX_EXPORT_BATCH_SIZE, if smaller). Few and
 * large: on a busy machine each postMessage held the RPCs' thread 0.3–1.2 ms (median; 60 µs at best) beyond
 * its copy, whatever its size (bench/metrics, 2 CPUs). A chunk's columns hold none of the SDK's objects, so
 * the spans waiting in it die young all the same.
 */
const HAND_OVER = 512;

/**
 * The span processor of the tracer provider longrun builds: the batch span processor's job (OTEL_BSP_*:
 * sampled spans exported in batches, when a batch is full or after the delay, dropped past the queue's size)
 * with the batching and the OTLP export in a worker thread (otlp-thread.js), where the SDK's OTLP/HTTP
 * exporter — protobuf or JSON — serializes and POSTs. This thread only writes each ended span into the
 * columns of a chunk (span-chunk.ts) and hands a chunk over when it holds a batch (or when the delay is up),
 * so the RPCs' thread pays neither the encoding nor the HTTP client. It never reads the API's active context (the SDK's processor
 * does at each export, which would switch AsyncLocalStorage on: LazyContextManager).
 *
 * The thread starts with the first span; one that dies loses the spans it held (reported) and is started
 * again by the next. Like the SDK's processor, it delivers what it holds on `forceFlush` and `shutdown` (the
 * server's close), during which it keeps the process up; an idle or exporting thread does not.
 */
export class ThreadSpanProcessor implements SpanProcessor {
  #worker: Worker | undefined;
  #chunk = new SpanChunk(HAND_OVER);
  #timer: NodeJS.Timeout | undefined;
  #flushes = new Map<number, () => void>();
  #nextFlush = 1;
  #shutDown = false;

  constructor(
    private readonly settings: {
      /** `http/json` or `http/protobuf`. */
      protocol: string;
      /** The thread's environment, where its exporter reads OTEL_EXPORTER_OTLP_*. */
      env: NodeJS.ProcessEnv;
      batch: SpanBatchSettings;
    },
  ) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.#shutDown || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    const chunk = this.#chunk;
    chunk.add(span);
    if (chunk.count >= Math.min(HAND_OVER, this.settings.batch.maxExportBatchSize)) this.#handOver(false);
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#handOver(true), this.settings.batch.scheduledDelayMillis);
      this.#timer.unref();
    }
  }

  /** Resolves once every span ended so far has been exported (or its export failed, reported). */
  forceFlush(): Promise<void> {
    if (this.#worker === undefined && this.#chunk.count === 0) return Promise.resolve();
    const id = this.#nextFlush++;
    const flushed = new Promise<void>((resolve) => this.#flushes.set(id, resolve));
    const worker = this.#handOver(true, id);
    // Referenced while a flush is awaited: it must keep the process up until delivered.
    worker.ref();
    return flushed;
  }

  /** Delivers every span held, shuts the thread's exporter down (its requests answered) and ends the thread. */
  async shutdown(): Promise<void> {
    if (this.#shutDown) return;
    await this.forceFlush();
    this.#shutDown = true;
    const worker = this.#worker;
    if (worker === undefined) return;
    this.#worker = undefined;
    const closed = new Promise<void>((resolve) => {
      worker.on("message", (m: ThreadMessage) => m.kind === "closed" && resolve());
      worker.once("exit", () => resolve());
    });
    worker.ref();
    worker.postMessage({ kind: "shutdown" });
    await closed;
    await worker.terminate();
  }

  /** Sends the chunk (and a flush request) to the thread: `due`, it exports everything it holds now. */
  #handOver(due: boolean, flush?: number): Worker {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const worker = this.#started();
    const chunk = this.#chunk;
    if (chunk.count > 0 || flush !== undefined) {
      const { message, transfer } = chunk.message();
      worker.postMessage({ kind: "spans", chunk: message, due, flush }, transfer);
      this.#chunk = new SpanChunk(HAND_OVER);
    }
    return worker;
  }

  #started(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const { protocol, env, batch } = this.settings;
    const worker = new Worker(THREAD, { workerData: { protocol, batch }, env });
    worker.on("message", (m: ThreadMessage) => {
      if (m.kind === "error") globalErrorHandler(new Error(m.message));
      else if (m.kind === "flushed") this.#flushed(worker, m.id);
    });
    const lost = (why: string): void => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      globalErrorHandler(new Error(`${why}: the spans it held are lost`));
      for (const id of [...this.#flushes.keys()]) this.#flushed(worker, id);
    };
    worker.on("error", (err) => lost(`the OTLP export thread failed (${err.message})`));
    worker.on("exit", () => lost("the OTLP export thread exited"));
    // After the listeners: adding a "message" listener refs the worker's port again.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #flushed(worker: Worker, id: number): void {
    const resolve = this.#flushes.get(id);
    this.#flushes.delete(id);
    if (this.#flushes.size === 0 && !this.#shutDown) worker.unref();
    resolve?.();
  }
}
