/**
 * The parts of tracing that keep its cost down (src/observability): LazyContextManager (AsyncLocalStorage
 * only once something reads the active context), and the OTEL_BSP_* settings of the batching in the export
 * thread (its batches: test/integration/otlp-thread.test.ts), and the trace context kept with an operation,
 * written and read without the propagator.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Message } from "@bufbuild/protobuf";
import { createContextKey, ROOT_CONTEXT, trace, type Context, type Span } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { LazyContextManager } from "../../src/observability/context-manager.js";
import { spanBatchSettings } from "../../src/observability/span-batch-settings.js";
import { Tracing } from "../../src/observability/tracing.js";
import type { CallContext, Endpoint } from "../../src/service/endpoint.js";
import type { OperationRecord } from "../../src/store/store.js";

const KEY = createContextKey("test");
const ctx = (name: string): Context => ROOT_CONTEXT.setValue(KEY, name);
const nameOf = (c: Context): unknown => c.getValue(KEY);

describe("LazyContextManager", () => {
  it("without a read, runs `with` without storing anything; its synchronous part sees the context", () => {
    const manager = new LazyContextManager().enable();
    assert.equal(manager.with(ctx("a"), () => manager.with(ctx("b"), (x: number) => x + 1, undefined, 1)), 2);
    assert.equal(manager.storing, false, "nothing read the active context: AsyncLocalStorage untouched");
    const seen = manager.with(ctx("a"), () => [nameOf(manager.active()), manager.with(ctx("b"), () => nameOf(manager.active()))]);
    assert.deepEqual(seen, ["a", "b"]);
    assert.equal(manager.storing, true);
    manager.disable();
  });

  it("a read inside nested `with`s switches storing on: each level goes on in its own context, continuations included", async () => {
    const manager = new LazyContextManager().enable();
    const seen: unknown[] = [];
    await manager.with(ctx("outer"), async () => {
      await manager.with(ctx("inner"), async () => {
        seen.push(nameOf(manager.active())); // the first read, synchronous
        await new Promise((r) => setTimeout(r, 1));
        seen.push(nameOf(manager.active())); // a continuation
      });
      seen.push(nameOf(manager.active()));
      await new Promise((r) => setTimeout(r, 1));
      seen.push(nameOf(manager.active()));
    });
    assert.deepEqual(seen, ["inner", "inner", "outer", "outer"]);
    assert.equal(nameOf(manager.active()), undefined, "outside: the root context");
    manager.disable();
  });

  it("once storing, carries contexts across awaits from the start", async () => {
    const manager = new LazyContextManager().enable();
    manager.active();
    const seen = await manager.with(ctx("run"), async () => {
      await new Promise((r) => setTimeout(r, 1));
      return nameOf(manager.active());
    });
    assert.equal(seen, "run");
    manager.disable();
  });
});

describe("spanBatchSettings", () => {
  it("reads OTEL_BSP_*, with the specification's defaults", () => {
    assert.deepEqual(spanBatchSettings({}), { scheduledDelayMillis: 5000, exportTimeoutMillis: 30_000, maxQueueSize: 2048, maxExportBatchSize: 512 });
    assert.deepEqual(
      spanBatchSettings({ OTEL_BSP_SCHEDULE_DELAY: "100", OTEL_BSP_EXPORT_TIMEOUT: "2000", OTEL_BSP_MAX_QUEUE_SIZE: "50", OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "80" }),
      { scheduledDelayMillis: 100, exportTimeoutMillis: 2000, maxQueueSize: 50, maxExportBatchSize: 50 },
    );
    assert.equal(spanBatchSettings({ OTEL_BSP_SCHEDULE_DELAY: "soon" }).scheduledDelayMillis, 5000);
  });
});

/**
 * The trace context a start keeps with its operation is written, and the commonest form read back, without
 * the W3C propagator (src/observability/tracing.ts, carrierOf and plainParent): both must say what the
 * propagator says.
 */
describe("the trace context kept with an operation", () => {
  const propagator = new W3CTraceContextPropagator();
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracing = Tracing.open({ tracerProvider: provider })!;
  /** The span ended last (SimpleSpanProcessor hands spans to the exporter asynchronously). */
  const lastEnded = async (): Promise<ReadableSpan> => {
    await provider.forceFlush();
    return exporter.getFinishedSpans().at(-1)!;
  };
  const fake = { method: { name: "Sleep", parent: { typeName: "test.Demo" } }, invoke: async () => ({}) } as unknown as Endpoint;
  const [endpoint] = tracing.endpoints([fake]);
  const TRACE = "0af7651916cd43dd8448eb211c80319c";

  /** What a start through the tracing wrapper keeps, its caller sending `headers`. */
  async function kept(headers: { traceparent?: string; tracestate?: string }): Promise<{ stored: string | undefined; span: Span }> {
    const ctx = { transport: "grpc", header: (name: string) => headers[name as keyof typeof headers] } as unknown as CallContext;
    await endpoint!.invoke({} as Message, ctx);
    const span = await lastEnded();
    return { stored: ctx.traceContext!(), span: trace.wrapSpanContext(span.spanContext()) };
  }

  /** What the propagator writes for the same span: `traceparent`, and `tracestate` up to 512 characters. */
  function byPropagator(span: Span): string {
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, { set: (c, k, v) => (c[k] = v) });
    if ((carrier["tracestate"]?.length ?? 0) > 512) delete carrier["tracestate"];
    return JSON.stringify(carrier);
  }

  it("is written as the propagator writes it: without a tracestate, with one, and with one too long to keep", async () => {
    const cases: { traceparent?: string; tracestate?: string }[] = [
      {},
      { traceparent: `00-${TRACE}-b7ad6b7169203331-01` },
      { traceparent: `00-${TRACE}-b7ad6b7169203331-01`, tracestate: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7" },
      { traceparent: `00-${TRACE}-b7ad6b7169203331-01`, tracestate: `long=${"x".repeat(250)},longer=${"y".repeat(250)}` },
    ];
    for (const headers of cases) {
      const { stored, span } = await kept(headers);
      assert.equal(stored, byPropagator(span), JSON.stringify(headers));
      assert.equal(JSON.parse(stored!).traceparent.slice(3, 35), headers.traceparent?.slice(3, 35) ?? span.spanContext().traceId);
    }
    // Not sampled: the RPC's span records nothing, and its context (a span id of its own) is kept all the same.
    const ctx = { transport: "grpc", header: (name: string) => ({ traceparent: `00-${TRACE}-b7ad6b7169203331-00`, tracestate: "congo=t61rcWkgMzE" })[name] } as unknown as CallContext;
    await endpoint!.invoke({} as Message, ctx);
    assert.match(ctx.traceContext!()!, new RegExp(`^\\{"traceparent":"00-${TRACE}-(?!b7ad6b7169203331)[0-9a-f]{16}-00","tracestate":"congo=t61rcWkgMzE"\\}$`));
  });

  it("is read back as the propagator reads it, the forms read by position and all others alike", async () => {
    const stored = [
      `{"traceparent":"00-${TRACE}-b7ad6b7169203331-01"}`,
      `{"traceparent":"00-${TRACE}-b7ad6b7169203331-00"}`,
      `{"traceparent":"00-${TRACE}-b7ad6b7169203331-03"}`,
      `{"traceparent":"00-${TRACE.toUpperCase()}-b7ad6b7169203331-01"}`,
      `{"traceparent":"00-${"0".repeat(32)}-b7ad6b7169203331-01"}`,
      `{"traceparent":"00-${TRACE}-0000000000000000-01"}`,
      `{"traceparent":"00-${TRACE}-b7ad6b7169203331-zz"}`,
      `{"traceparent":"00-${TRACE}_b7ad6b7169203331-01"}`,
      `{"traceparent":"ff-${TRACE}-b7ad6b7169203331-01"}`,
      `{"traceparent":"00-${TRACE}-b7ad6b7169203331-01","tracestate":"congo=t61rcWkgMzE"}`,
      `{"traceparent":"00-${TRACE}-b7ad6b716920333-01"}`,
      "not json",
      "null",
    ];
    for (const text of stored) {
      const parent = propagator.extract(ROOT_CONTEXT, JSON.parse(text.startsWith("{") ? text : "{}"), {
        get: (c: Record<string, unknown>, k) => (typeof c[k] === "string" ? (c[k] as string) : undefined),
        keys: (c) => Object.keys(c),
      });
      const expected = trace.getSpanContext(parent);
      const run = tracing.execution({ name: "operations/x", method: "test.Demo.Sleep", attempt: 1, traceContext: text } as OperationRecord);
      const span = trace.getSpan(run.context)!;
      const recording = span.isRecording();
      run.end(0);
      const read = recording ? (span as unknown as ReadableSpan).parentSpanContext : undefined;
      if (expected === undefined) {
        assert.notEqual(span.spanContext().traceId, TRACE, `${text}: a trace of its own`);
        assert.equal(read, undefined, text);
        continue;
      }
      assert.equal(span.spanContext().traceId, expected.traceId, text);
      assert.equal(span.spanContext().traceFlags, expected.traceFlags & 1, `${text}: sampled as its parent`);
      assert.equal(span.spanContext().traceState?.serialize(), expected.traceState?.serialize(), text);
      assert.equal(recording, (expected.traceFlags & 1) === 1, text);
      if (read !== undefined) assert.deepEqual([read.spanId, read.isRemote, read.traceFlags], [expected.spanId, expected.isRemote, expected.traceFlags], text);
    }
  });
});
