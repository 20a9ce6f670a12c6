import { Worker } from "node:worker_threads";
import type { Attributes, HrTime, Link, SpanKind, SpanStatus } from "@opentelemetry/api";
import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter, TimedEvent } from "@opentelemetry/sdk-trace-base";

/**
 * One span as plain data, cheap to pass to another thread (structured clone, no class instance): trace id,
 * span id, trace flags, trace state (serialized), parent span id, whether the parent is remote, name, kind,
 * start, end, attributes, status, events, links, the dropped attributes, events and links, and indexes into
 * the batch's scopes and resources. otlp-thread.js reads it in this order.
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
  start: HrTime,
  end: HrTime,
  attributes: Attributes,
  status: SpanStatus,
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

interface CompactBatch {
  id: number;
  /** Each resource once: its attributes and schema URL. */
  resources: [Attributes, string | undefined][];
  scopes: { name: string; version?: string | undefined; schemaUrl?: string | undefined }[];
  spans: CompactSpan[];
}

type ThreadMessage = { kind: "done"; id: number; error?: string } | { kind: "closed" };

const THREAD = new URL("./otlp-thread.js", import.meta.url);

/**
 * A SpanExporter whose OTLP export runs in a worker thread (otlp-thread.js): `export` hands the batch over
 * as plain data and reports what the thread's exporter — the SDK's OTLP/HTTP one, protobuf or JSON — made of
 * it. The batch span processor stays on this thread and calls it as it would the exporter itself. Started
 * on the first batch; a thread that dies fails its batches and is started again by the next. Referenced
 * only while it has batches in hand and while it shuts down: an idle one never keeps the process alive, and
 * no batch is lost to an exit.
 */
export class ThreadSpanExporter implements SpanExporter {
  #worker: Worker | undefined;
  #pending = new Map<number, (result: ExportResult) => void>();
  #idle: (() => void)[] = [];
  #nextBatch = 1;
  #shutDown = false;

  /** `protocol`: `http/json` or `http/protobuf`; `env`: the thread's environment, where its exporter reads OTEL_EXPORTER_OTLP_*. */
  constructor(private readonly settings: { protocol: string; env: NodeJS.ProcessEnv }) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.#shutDown) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error("the span exporter is shut down") });
      return;
    }
    const worker = this.#started();
    const batch = compact(this.#nextBatch++, spans);
    // Referenced while it has batches in hand, so that a flush awaited at exit is delivered; not otherwise.
    if (this.#pending.size === 0) worker.ref();
    this.#pending.set(batch.id, resultCallback);
    worker.postMessage({ kind: "export", batch });
  }

  /** Resolves once every batch handed over has been answered. */
  forceFlush(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Waits for the batches in hand, shuts the thread's exporter down (its requests answered) and ends the thread. */
  async shutdown(): Promise<void> {
    this.#shutDown = true;
    await this.forceFlush();
    const worker = this.#worker;
    if (worker === undefined) return;
    this.#worker = undefined;
    const closed = new Promise<void>((resolve) => {
      worker.on("message", (m: ThreadMessage) => m.kind === "closed" && resolve());
      worker.once("exit", () => resolve());
    });
    // Referenced until it has closed: waiting for it must keep the process up (an idle thread is not).
    worker.ref();
    worker.postMessage({ kind: "shutdown" });
    await closed;
    await worker.terminate();
  }

  #started(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(THREAD, { workerData: { protocol: this.settings.protocol }, env: this.settings.env });
    worker.on("message", (m: ThreadMessage) => {
      if (m.kind !== "done") return;
      this.#answer(m.id, m.error === undefined ? { code: ExportResultCode.SUCCESS } : { code: ExportResultCode.FAILED, error: new Error(m.error) });
      if (this.#pending.size === 0 && this.#worker === worker) worker.unref();
    });
    const lost = (why: string): void => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const id of [...this.#pending.keys()]) this.#answer(id, { code: ExportResultCode.FAILED, error: new Error(why) });
    };
    worker.on("error", (err) => lost(`the OTLP export thread failed: ${err.message}`));
    worker.on("exit", () => lost("the OTLP export thread exited"));
    // After the listeners: adding a "message" listener refs the worker's port again.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #answer(id: number, result: ExportResult): void {
    const callback = this.#pending.get(id);
    if (callback === undefined) return;
    this.#pending.delete(id);
    callback(result);
    if (this.#pending.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }
}

/** The spans as plain data, each resource and scope once (the serializer groups spans by them). */
function compact(id: number, spans: readonly ReadableSpan[]): CompactBatch {
  const resources = new Map<ReadableSpan["resource"], number>();
  const scopes = new Map<ReadableSpan["instrumentationScope"], number>();
  const batch: CompactBatch = { id, resources: [], scopes: [], spans: new Array<CompactSpan>(spans.length) };
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i]!;
    let resource = resources.get(span.resource);
    if (resource === undefined) {
      resource = batch.resources.push([span.resource.attributes, span.resource.schemaUrl]) - 1;
      resources.set(span.resource, resource);
    }
    let scope = scopes.get(span.instrumentationScope);
    if (scope === undefined) {
      const { name, version, schemaUrl } = span.instrumentationScope;
      scope = batch.scopes.push({ name, version, schemaUrl }) - 1;
      scopes.set(span.instrumentationScope, scope);
    }
    const context = span.spanContext();
    const parent = span.parentSpanContext;
    batch.spans[i] = [
      context.traceId,
      context.spanId,
      context.traceFlags,
      context.traceState?.serialize(),
      parent?.spanId,
      parent?.isRemote,
      span.name,
      span.kind,
      span.startTime,
      span.endTime,
      span.attributes,
      span.status,
      span.events.length === 0 ? undefined : span.events,
      span.links.length === 0 ? undefined : span.links.map(compactLink),
      span.droppedAttributesCount,
      span.droppedEventsCount,
      span.droppedLinksCount,
      scope,
      resource,
    ];
  }
  return batch;
}

function compactLink(link: Link): CompactLink {
  const { traceId, spanId, traceFlags, traceState, isRemote } = link.context;
  return { traceId, spanId, traceFlags, traceState: traceState?.serialize(), isRemote, attributes: link.attributes, droppedAttributesCount: link.droppedAttributesCount };
}
