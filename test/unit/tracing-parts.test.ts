/**
 * The parts of tracing that keep its cost down (src/observability): LazyContextManager (AsyncLocalStorage
 * only once something reads the active context) and SpanBatcher (the batch span processor's job, OTEL_BSP_*,
 * without reading the context).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createContextKey, ROOT_CONTEXT, type Context } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { LazyContextManager } from "../../src/observability/context-manager.js";
import { SpanBatcher, spanBatchSettings } from "../../src/observability/span-batcher.js";

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

describe("SpanBatcher", () => {
  const spans = (n: number): ReadableSpan[] => {
    const provider = new BasicTracerProvider();
    return Array.from({ length: n }, (_, i) => {
      const span = provider.getTracer("t").startSpan(`s${i}`);
      span.end();
      return span as unknown as ReadableSpan;
    });
  };

  it("reads OTEL_BSP_*, with the specification's defaults", () => {
    assert.deepEqual(spanBatchSettings({}), { scheduledDelayMillis: 5000, exportTimeoutMillis: 30_000, maxQueueSize: 2048, maxExportBatchSize: 512 });
    assert.deepEqual(
      spanBatchSettings({ OTEL_BSP_SCHEDULE_DELAY: "100", OTEL_BSP_EXPORT_TIMEOUT: "2000", OTEL_BSP_MAX_QUEUE_SIZE: "50", OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "80" }),
      { scheduledDelayMillis: 100, exportTimeoutMillis: 2000, maxQueueSize: 50, maxExportBatchSize: 50 },
    );
    assert.equal(spanBatchSettings({ OTEL_BSP_SCHEDULE_DELAY: "soon" }).scheduledDelayMillis, 5000);
  });

  it("exports full batches at once, the rest on flush; a shutdown delivers everything", async () => {
    const exporter = new InMemorySpanExporter();
    const batches: number[] = [];
    const counting = { export: (s: ReadableSpan[], cb: Parameters<InMemorySpanExporter["export"]>[1]) => (batches.push(s.length), exporter.export(s, cb)), shutdown: async () => {} };
    const batcher = new SpanBatcher(counting, { scheduledDelayMillis: 60_000, exportTimeoutMillis: 30_000, maxQueueSize: 1000, maxExportBatchSize: 10 });
    for (const span of spans(25)) batcher.onEnd(span);
    assert.deepEqual(batches, [10], "a full batch leaves at once; the next waits for its answer");
    await batcher.shutdown();
    assert.deepEqual(batches, [10, 10, 5]);
    assert.deepEqual(exporter.getFinishedSpans().map((s) => s.name), Array.from({ length: 25 }, (_, i) => `s${i}`));
    batcher.onEnd(spans(1)[0]!);
    assert.equal(exporter.getFinishedSpans().length, 25, "nothing taken after shutdown");
  });

  it("drops spans past the queue's size and leaves unsampled ones out; an export never answered times out", async () => {
    const batches: string[][] = [];
    // An exporter that never answers: each batch waits out exportTimeoutMillis.
    const silent = { export: (s: ReadableSpan[]) => void batches.push(s.map((x) => x.name)), shutdown: async () => {} };
    const batcher = new SpanBatcher(silent, { scheduledDelayMillis: 60_000, exportTimeoutMillis: 20, maxQueueSize: 5, maxExportBatchSize: 5 });
    const [unsampled, ...sampled] = spans(13);
    const context = unsampled!.spanContext();
    batcher.onEnd({ ...unsampled!, spanContext: () => ({ ...context, traceFlags: 0 }) } as ReadableSpan);
    // s1–s5 leave at once; s6–s10 wait for that export's answer (the queue is full then); s11, s12 are dropped.
    for (const span of sampled) batcher.onEnd(span);
    // The batcher's timers do not keep a process up (the export thread does, while it has work): this does.
    const keepUp = setInterval(() => {}, 1000);
    await batcher.forceFlush();
    clearInterval(keepUp);
    assert.deepEqual(batches, [["s1", "s2", "s3", "s4", "s5"], ["s6", "s7", "s8", "s9", "s10"]]);
  });
});
