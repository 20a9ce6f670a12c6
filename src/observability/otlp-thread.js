// @ts-check
/**
 * Span batching and the OTLP trace export, in a worker thread of their own (src/observability/span-thread.ts
 * starts it): the batches (OTEL_BSP_*), the OTLP request's building and encoding (the exporter's own
 * serializer, protobuf or JSON) and its POST run here, off the thread that serves RPCs, which on a busy
 * server is the one that limits throughput (bench/metrics). The exporter is the SDK's, made as it would be
 * on the main thread: it reads its endpoint, headers, timeout and compression from the OTEL_EXPORTER_OTLP_*
 * variables (the thread's environment is the server's) and retries as it does. Plain JavaScript, so the
 * thread loads it as it is, with or without a TypeScript loader.
 *
 * Messages in: {kind: "spans", chunk, due, flush?} (chunk: span-thread.ts's plain data; due: export all
 * held now; flush: answer {kind: "flushed", id} once all held is exported), {kind: "shutdown"}. Out:
 * {kind: "flushed", id}, {kind: "error", message} (a failed export, spans dropped), {kind: "closed"}.
 */
import { parentPort, workerData } from "node:worker_threads";
import { OTLPTraceExporter as OtlpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OtlpProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";

/** @type {{protocol: string, batch: {scheduledDelayMillis: number, exportTimeoutMillis: number, maxQueueSize: number, maxExportBatchSize: number}}} */
const { protocol, batch: settings } = workerData;
const exporter = protocol === "http/json" ? new OtlpJsonExporter() : new OtlpProtobufExporter();
const port = /** @type {import("node:worker_threads").MessagePort} */ (parentPort);
const SUCCESS = 0;
// span-chunk.ts's codes.
const CLONED = 1;
const STRING = 0;
const NUMBER = 1;
const TRUE = 2;
const NO_ANSWER = 2;
const ABSENT = -1;

/** Spans waiting for their batch, in the shape the OTLP serializer reads. @type {object[]} */
let held = [];
/** @type {NodeJS.Timeout | undefined} */
let timer;
/** The export in hand (one at a time, as the SDK's batch processor does). @type {Promise<void> | undefined} */
let exporting;
let dropped = 0;

port.on("message", (/** @type {{kind: string, chunk?: any, due?: boolean, flush?: number}} */ message) => {
  if (message.kind === "spans") {
    take(message.chunk);
    if (message.due || message.flush !== undefined) void drain().then(() => message.flush !== undefined && port.postMessage({ kind: "flushed", id: message.flush }));
    else if (held.length >= settings.maxExportBatchSize) void drain(settings.maxExportBatchSize);
    else if (held.length > 0 && timer === undefined) timer = setTimeout(() => void drain(), settings.scheduledDelayMillis);
  } else if (message.kind === "shutdown") {
    // The exporter's shutdown waits for the requests it has in hand.
    void drain()
      .then(() => exporter.shutdown())
      .finally(() => port.postMessage({ kind: "closed" }));
  }
});

/** Holds the chunk's spans, up to the queue's size; reports the first drop. @param {any} chunk */
function take(chunk) {
  const spans = readableSpans(chunk);
  const room = settings.maxQueueSize - held.length;
  if (spans.length > room) {
    if (dropped === 0) port.postMessage({ kind: "error", message: `span queue full (${settings.maxQueueSize}, OTEL_BSP_MAX_QUEUE_SIZE): spans dropped` });
    dropped += spans.length - Math.max(0, room);
  }
  for (let i = 0; i < spans.length && held.length < settings.maxQueueSize; i++) held.push(spans[i]);
}

/**
 * Exports what is held, a batch at a time, until less than `atLeast` spans are left (1: everything); the
 * rest waits for the delay. Resolves when those exports are answered.
 * @param {number} [atLeast]
 */
async function drain(atLeast = 1) {
  clearTimeout(timer);
  timer = undefined;
  while (exporting !== undefined) await exporting;
  while (held.length >= atLeast && held.length > 0) {
    const batch = held.splice(0, settings.maxExportBatchSize);
    exporting = exportBatch(batch);
    await exporting;
    exporting = undefined;
  }
  if (held.length > 0 && timer === undefined) timer = setTimeout(() => void drain(), settings.scheduledDelayMillis);
}

/** One export, answered or timed out (OTEL_BSP_EXPORT_TIMEOUT); a failure is reported. @param {object[]} batch */
function exportBatch(batch) {
  return new Promise((resolve) => {
    const timeout = setTimeout(() => done(`span export timed out after ${settings.exportTimeoutMillis} ms`), settings.exportTimeoutMillis);
    let answered = false;
    /** @param {string | undefined} error */
    const done = (error) => {
      if (answered) return;
      answered = true;
      clearTimeout(timeout);
      if (error !== undefined) port.postMessage({ kind: "error", message: `OTLP span export: ${error}` });
      resolve(undefined);
    };
    exporter.export(/** @type {any} */ (batch), (result) => done(result.code === SUCCESS ? undefined : (result.error?.message ?? "failed")));
  });
}

/**
 * A chunk's spans in the shape the OTLP serializer reads (the SDK's ReadableSpan): what it calls
 * (spanContext(), traceState.serialize()) and the objects it groups by (one resource and one scope object each).
 * @param {any} chunk
 */
function readableSpans(chunk) {
  const resources = chunk.resources.map((/** @type {[Record<string, unknown>, string | undefined]} */ [attributes, schemaUrl]) => resourceOf(attributes, schemaUrl));
  const scopes = chunk.scopes;
  return unpack(chunk).map((/** @type {any[]} */ s) => {
    const [traceId, spanId, traceFlags, traceState, parentSpanId, parentIsRemote, name, kind, startSeconds, startNanos, endSeconds, endNanos, attributes, statusCode, statusMessage, events, links, droppedAttributes, droppedEvents, droppedLinks, scope, resource] = s;
    const spanContext = { traceId, spanId, traceFlags, traceState: state(traceState) };
    return {
      name,
      kind,
      spanContext: () => spanContext,
      parentSpanContext: parentSpanId === undefined ? undefined : { traceId, spanId: parentSpanId, traceFlags, isRemote: parentIsRemote },
      startTime: [startSeconds, startNanos],
      endTime: [endSeconds, endNanos],
      status: statusMessage === undefined ? { code: statusCode } : { code: statusCode, message: statusMessage },
      attributes,
      links: (links ?? []).map((/** @type {any} */ l) => ({
        context: { traceId: l.traceId, spanId: l.spanId, traceFlags: l.traceFlags, isRemote: l.isRemote, traceState: state(l.traceState) },
        attributes: l.attributes,
        droppedAttributesCount: l.droppedAttributesCount,
      })),
      events: events ?? [],
      duration: [0, 0],
      ended: true,
      resource: resources[resource],
      instrumentationScope: scopes[scope],
      droppedAttributesCount: droppedAttributes,
      droppedEventsCount: droppedEvents,
      droppedLinksCount: droppedLinks,
    };
  });
}

/** One object per distinct resource: the serializer groups a batch's spans by the resource object. @type {Map<string, {attributes: Record<string, unknown>, schemaUrl: string | undefined}>} */
const resources = new Map();
/** @param {Record<string, unknown>} attributes @param {string | undefined} schemaUrl */
function resourceOf(attributes, schemaUrl) {
  const key = JSON.stringify([attributes, schemaUrl ?? null]);
  let resource = resources.get(key);
  if (resource === undefined) resources.set(key, (resource = { attributes, schemaUrl }));
  return resource;
}

/** @param {string | undefined} serialized */
function state(serialized) {
  return serialized === undefined ? undefined : { serialize: () => serialized };
}

/**
 * The chunk's spans as span-chunk.ts's CompactSpan, in the order they ended: the packed ones read from the
 * columns (span-chunk.ts says how), the others as given in `cloned`.
 * @param {{numbers: Float64Array, length: number, strings: string[], cloned: any[][]}} chunk
 */
function unpack({ numbers, length, strings, cloned }) {
  /** @type {any[][]} */
  const spans = [];
  let n = 0;
  let next = 0;
  const string = () => {
    const i = numbers[n++];
    return i === ABSENT ? undefined : strings[i];
  };
  while (n < length) {
    if (numbers[n++] === CLONED) {
      spans.push(cloned[next++]);
      continue;
    }
    const traceFlags = numbers[n++];
    const remote = numbers[n++];
    const kind = numbers[n++];
    const startSeconds = numbers[n++];
    const startNanos = numbers[n++];
    const endSeconds = numbers[n++];
    const endNanos = numbers[n++];
    const statusCode = numbers[n++];
    const droppedAttributes = numbers[n++];
    const droppedEvents = numbers[n++];
    const droppedLinks = numbers[n++];
    const scope = numbers[n++];
    const resource = numbers[n++];
    const traceId = string();
    const spanId = string();
    const traceState = string();
    const parentSpanId = string();
    const name = string();
    const statusMessage = string();
    const count = numbers[n++];
    /** @type {Record<string, string | number | boolean>} */
    const attributes = {};
    for (let i = 0; i < count; i++) {
      const key = /** @type {string} */ (string());
      const type = numbers[n++];
      attributes[key] = type === STRING ? /** @type {string} */ (string()) : type === NUMBER ? numbers[n++] : type === TRUE;
    }
    const parentIsRemote = remote === NO_ANSWER ? undefined : remote === 1;
    spans.push([traceId, spanId, traceFlags, traceState, parentSpanId, parentIsRemote, name, kind, startSeconds, startNanos, endSeconds, endNanos, attributes, statusCode, statusMessage, undefined, undefined, droppedAttributes, droppedEvents, droppedLinks, scope, resource]);
  }
  return spans;
}
