import { Worker } from "node:worker_threads";
import { TraceFlags, type Attributes, type Link, type SpanKind, type SpanStatusCode } from "@opentelemetry/api";
import { globalErrorHandler } from "@opentelemetry/core";
import type { ReadableSpan, SpanProcessor, TimedEvent } from "@opentelemetry/sdk-trace-base";
import type { SpanBatchSettings } from "./span-batch-settings.js";

/**
 * One span as plain data, cheap to pass to another thread (structured clone, no class instance): trace id,
 * span id, trace flags, trace state (serialized), parent span id, whether the parent is remote, name, kind,
 * start and end (seconds and nanoseconds), attributes, status code and message, events, links, the dropped
 * attributes, events and links, and indexes into the chunk's scopes and resources: numbers and strings
 * rather than small objects where it can (each object costs the copy more). otlp-thread.js reads it in
 * this order.
 */
type CompactSpan = [
  traceId: string,
  spanId: string,
  traceFlags: number,
  traceState: string | undefined,
  parentSpanId: string | undefined,
  parentIsRemote: boolean | undefined,
  name: string,
  kind: SpanKind,
  startSeconds: number,
  startNanos: number,
  endSeconds: number,
  endNanos: number,
  attributes: Attributes,
  statusCode: SpanStatusCode,
  statusMessage: string | undefined,
  events: TimedEvent[] | undefined,
  links: CompactLink[] | undefined,
  droppedAttributes: number,
  droppedEvents: number,
  droppedLinks: number,
  scope: number,
  resource: number,
];

interface CompactLink {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState: string | undefined;
  isRemote: boolean | undefined;
  attributes: Attributes | undefined;
  droppedAttributesCount: number | undefined;
}

/** Spans handed to the thread together: each resource and scope once, the spans pointing at them. */
interface Chunk {
  resources: [Attributes, string | undefined][];
  scopes: { name: string; version?: string | undefined; schemaUrl?: string | undefined }[];
  spans: CompactSpan[];
}

type ThreadMessage = { kind: "flushed"; id: number } | { kind: "error"; message: string } | { kind: "closed" };

const THREAD = new URL("./otlp-thread.js", import.meta.url);
/**
 * Spans handed over together. Small, so that spans die young (a span held until a batch of 512 is full
 * outlives several scavenges and is copied into the old generation); the thread makes the export batches.
 */
const HAND_OVER = 64;

/**
 * The span processor of the tracer provider longrun builds: the batch span processor's job (OTEL_BSP_*:
 * sampled spans exported in batches, when a batch is full or after the delay, dropped past the queue's size)
 * with the batching and the OTLP export in a worker thread (otlp-thread.js), where the SDK's OTLP/HTTP
 * exporter — protobuf or JSON — serializes and POSTs. This thread only turns each ended span into plain data
 * and hands them over 64 at a time (fewer if the batches are smaller; or when the delay is up), so the RPCs' thread pays neither the encoding
 * nor the HTTP client, and holds spans briefly. It never reads the API's active context (the SDK's processor
 * does at each export, which would switch AsyncLocalStorage on: LazyContextManager).
 *
 * The thread starts with the first span; one that dies loses the spans it held (reported) and is started
 * again by the next. Like the SDK's processor, it delivers what it holds on `forceFlush` and `shutdown` (the
 * server's close), during which it keeps the process up; an idle or exporting thread does not.
 */
export class ThreadSpanProcessor implements SpanProcessor {
  #worker: Worker | undefined;
  #chunk = emptyChunk();
  #resources = new Map<ReadableSpan["resource"], number>();
  #scopes = new Map<ReadableSpan["instrumentationScope"], number>();
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
    chunk.spans.push(this.#compact(span));
    if (chunk.spans.length >= Math.min(HAND_OVER, this.settings.batch.maxExportBatchSize)) this.#handOver(false);
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#handOver(true), this.settings.batch.scheduledDelayMillis);
      this.#timer.unref();
    }
  }

  /** Resolves once every span ended so far has been exported (or its export failed, reported). */
  forceFlush(): Promise<void> {
    if (this.#worker === undefined && this.#chunk.spans.length === 0) return Promise.resolve();
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
    if (chunk.spans.length > 0 || flush !== undefined) worker.postMessage({ kind: "spans", chunk, due, flush });
    this.#chunk = emptyChunk();
    this.#resources.clear();
    this.#scopes.clear();
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

  /** The span as plain data; its resource and scope once a chunk (the serializer groups spans by them). */
  #compact(span: ReadableSpan): CompactSpan {
    const chunk = this.#chunk;
    let resource = this.#resources.get(span.resource);
    if (resource === undefined) {
      resource = chunk.resources.push([span.resource.attributes, span.resource.schemaUrl]) - 1;
      this.#resources.set(span.resource, resource);
    }
    let scope = this.#scopes.get(span.instrumentationScope);
    if (scope === undefined) {
      const { name, version, schemaUrl } = span.instrumentationScope;
      scope = chunk.scopes.push({ name, version, schemaUrl }) - 1;
      this.#scopes.set(span.instrumentationScope, scope);
    }
    const context = span.spanContext();
    const parent = span.parentSpanContext;
    return [
      context.traceId,
      context.spanId,
      context.traceFlags,
      context.traceState?.serialize(),
      parent?.spanId,
      parent?.isRemote,
      span.name,
      span.kind,
      span.startTime[0],
      span.startTime[1],
      span.endTime[0],
      span.endTime[1],
      span.attributes,
      span.status.code,
      span.status.message,
      span.events.length === 0 ? undefined : span.events,
      span.links.length === 0 ? undefined : span.links.map(compactLink),
      span.droppedAttributesCount,
      span.droppedEventsCount,
      span.droppedLinksCount,
      scope,
      resource,
    ];
  }
}

function emptyChunk(): Chunk {
  return { resources: [], scopes: [], spans: [] };
}

function compactLink(link: Link): CompactLink {
  const { traceId, spanId, traceFlags, traceState, isRemote } = link.context;
  return { traceId, spanId, traceFlags, traceState: traceState?.serialize(), isRemote, attributes: link.attributes, droppedAttributesCount: link.droppedAttributesCount };
}
