// @ts-check
/**
 * The OTLP trace exporter, in a worker thread of its own (src/observability/span-thread.ts starts it): the
 * OTLP request's building and encoding (the exporter's own serializer, protobuf or JSON) and its POST run
 * here, off the thread that serves RPCs, which on a busy server is the one that limits throughput
 * (bench/metrics). The exporter is the SDK's, made as it would be on the main thread: it reads its endpoint,
 * headers, timeout and compression from the OTEL_EXPORTER_OTLP_* variables (the thread's environment is the
 * server's) and retries as it does. Plain JavaScript, so the thread loads it as it is, with or without a
 * TypeScript loader.
 *
 * Messages in: {kind: "export", batch: CompactBatch}, {kind: "shutdown"}. Out: {kind: "done", id, error?}
 * for each export (error: the failure's message), and {kind: "closed"} once the exporter is shut down.
 * CompactBatch is span-thread.ts's: plain data, which crosses threads cheaply.
 */
import { parentPort, workerData } from "node:worker_threads";
import { OTLPTraceExporter as OtlpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OtlpProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";

/** @type {{protocol: string}} */
const { protocol } = workerData;
const exporter = protocol === "http/json" ? new OtlpJsonExporter() : new OtlpProtobufExporter();
const port = /** @type {import("node:worker_threads").MessagePort} */ (parentPort);
const SUCCESS = 0;

port.on("message", (/** @type {{kind: string, batch?: any}} */ message) => {
  if (message.kind === "export") {
    const batch = message.batch;
    exporter.export(readableSpans(batch), (result) => {
      port.postMessage(result.code === SUCCESS ? { kind: "done", id: batch.id } : { kind: "done", id: batch.id, error: result.error?.message ?? "the export failed" });
    });
  } else if (message.kind === "shutdown") {
    // The exporter's shutdown waits for the requests it has in hand.
    void exporter.shutdown().finally(() => port.postMessage({ kind: "closed" }));
  }
});

/**
 * The batch's spans in the shape the OTLP serializer reads (the SDK's ReadableSpan): what it calls
 * (spanContext(), traceState.serialize()) and the objects it groups by (one resource and one scope object each).
 * @param {any} batch
 */
function readableSpans(batch) {
  const resources = batch.resources.map((/** @type {[Record<string, unknown>, string | undefined]} */ [attributes, schemaUrl]) => ({ attributes, schemaUrl }));
  const scopes = batch.scopes;
  return batch.spans.map((/** @type {any[]} */ s) => {
    const [traceId, spanId, traceFlags, traceState, parentSpanId, parentIsRemote, name, kind, start, end, attributes, status, events, links, droppedAttributes, droppedEvents, droppedLinks, scope, resource] = s;
    const spanContext = { traceId, spanId, traceFlags, traceState: state(traceState) };
    return {
      name,
      kind,
      spanContext: () => spanContext,
      parentSpanContext: parentSpanId === undefined ? undefined : { traceId, spanId: parentSpanId, traceFlags, isRemote: parentIsRemote },
      startTime: start,
      endTime: end,
      status,
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

/** @param {string | undefined} serialized */
function state(serialized) {
  return serialized === undefined ? undefined : { serialize: () => serialized };
}
