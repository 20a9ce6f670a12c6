// The runtime's metrics hooks, through the real Metrics and store wrapper: handler time, results by code,
// lost leases and fenced writes.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code } from "../../src/core/code.js";
import { RpcError } from "../../src/core/errors.js";
import { Metrics } from "../../src/observability/metrics.js";
import { instrumentStore } from "../../src/observability/store.js";
import { until } from "../support/manual-clock.js";
import { claimAll, executorOf, fixture, sleepMethod, SLEEP, type Fixture } from "./fixture.js";

function metricsOf(f: Fixture) {
  const metrics = new Metrics({ store: f.store, methods: () => [SLEEP], log: f.log, processMetrics: false });
  return { metrics, store: instrumentStore(f.store, metrics) };
}

async function value(metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown>; metricName?: string }[] }> }, labels: Record<string, string> = {}, suffix = ""): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((v) => (suffix === "" || v.metricName?.endsWith(suffix)) && Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l))
    .reduce((sum, v) => sum + v.value, 0);
}

describe("runtime metrics", () => {
  it("handler durations in seconds and results by code name, from the clock the runtime is given", async () => {
    let n = 0;
    const f = fixture([
      sleepMethod(async () => {
        await f.clock.advance(1500);
        if (++n === 2) throw new RpcError(Code.NOT_FOUND, "gone");
        return {};
      }),
    ]);
    const { metrics, store } = metricsOf(f);
    const { executor } = executorOf(f, { store, metrics });
    for (let i = 0; i < 2; i++) {
      await f.createQueued();
      executor.run(await claimAll(f));
      await until(() => executor.running.size === 0);
    }
    assert.equal(await value(metrics.handlerDuration, { method: SLEEP }, "_count"), 2);
    assert.equal(await value(metrics.handlerDuration, { method: SLEEP }, "_sum"), 3);
    assert.equal(await value(metrics.handlerDuration, { method: SLEEP, le: "1" }, "_bucket"), 0);
    assert.equal(await value(metrics.handlerDuration, { method: SLEEP, le: "2.5" }, "_bucket"), 2);
    assert.equal(await value(metrics.operationsFinished, { method: SLEEP, code: "OK" }), 1);
    assert.equal(await value(metrics.operationsFinished, { method: SLEEP, code: "NOT_FOUND" }), 1);
    assert.ok((await value(metrics.writeBatchSize, { kind: "finish" }, "_count")) >= 1);
    assert.equal(await value(metrics.leasesLost), 0);
    f.close();
  });

  it("a taken-over operation: one lost lease, its progress write fenced, no result counted", async () => {
    const f = fixture([
      sleepMethod(async (_request, ctx) => {
        await ctx.progress({ progressPercent: 10 }).catch(() => undefined);
        if (!ctx.signal.aborted) await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
        return {};
      }),
    ]);
    const { metrics, store } = metricsOf(f);
    const { executor } = executorOf(f, { store, metrics });
    await f.createQueued();
    const [first] = await claimAll(f, "worker-a", 1000);
    await f.clock.advance(5000);
    await claimAll(f, "worker-b");
    executor.run([first!]);
    await until(() => executor.running.size === 0);
    assert.equal(await value(metrics.leasesLost), 1);
    assert.equal(await value(metrics.fencedWrites, { kind: "progress" }), 1);
    assert.equal(await value(metrics.fencedWrites, { kind: "finish" }), 0);
    assert.equal(await value(metrics.operationsFinished), 0);
    f.close();
  });

  it("store failures are counted by Store method, and the error goes on to the caller", async () => {
    const f = fixture([sleepMethod(async () => ({}))]);
    const { metrics, store } = metricsOf(f);
    await f.store.close();
    await assert.rejects(store.get("x", 0));
    await assert.rejects(store.claim({ owner: "a", methods: [SLEEP], limit: 1, leaseMs: 1, now: 0 }));
    assert.equal(await value(metrics.storeErrors, { op: "get" }), 1);
    assert.equal(await value(metrics.storeErrors, { op: "claim" }), 1);
    f.close();
  });
});
