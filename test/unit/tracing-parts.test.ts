/**
 * The parts of tracing that keep its cost down (src/observability): LazyContextManager (AsyncLocalStorage
 * only once something reads the active context), and the OTEL_BSP_* settings of the batching in the export
 * thread (its batches: test/integration/otlp-thread.test.ts).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createContextKey, ROOT_CONTEXT, type Context } from "@opentelemetry/api";
import { LazyContextManager } from "../../src/observability/context-manager.js";
import { spanBatchSettings } from "../../src/observability/span-batch-settings.js";

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
