/**
 * longrun_wait_wake_latency_seconds on real servers over loopback: sampled once per WaitOperation answered
 * because its operation ended while it waited — never for a timeout or an operation done at the call —
 * whether the finish was written here (the runtime's local wake) or by another instance (the change feed).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { sampleValue, scrape } from "../support/metrics.js";
import { freshSchema } from "../support/postgres.js";
import { startTestServer, type TestServer } from "../support/server.js";

const ops = Operations.method;
const WAKE = "longrun_wait_wake_latency_seconds";
/** Generous: a loaded 2-core machine may be slow, but a wake is never seconds. */
const MEAN_BOUND_SECONDS = 5;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function wakes(t: TestServer): Promise<{ count: number; sum: number }> {
  const { samples } = await scrape(`${t.url}/metrics`);
  return { count: sampleValue(samples, `${WAKE}_count`), sum: sampleValue(samples, `${WAKE}_sum`) };
}

const waiting = async (t: TestServer): Promise<number> => sampleValue((await scrape(`${t.url}/metrics`)).samples, "longrun_wait_waiters");

/**
 * `n` operations started on `starter`, each waited on at `waiter` until it ends, the waits seen waiting
 * before any operation ends (so each is woken by the finish, not answered by its first read).
 */
async function waitForFinishes(starter: TestServer, waiter: TestServer, n: number, sleepMs: number): Promise<void> {
  const started = await Promise.all(Array.from({ length: n }, () => starter.grpc.call(Demo.method.sleep, { duration: durationFromMs(sleepMs) })));
  const answers = started.map((op) => waiter.grpc.call(ops.waitOperation, { name: op.name, timeout: durationFromMs(30_000) }));
  await until(`${n} waiters`, async () => (await waiting(waiter)) === n);
  for (const answer of await Promise.all(answers)) assert.equal(answer.done, true);
}

/** Waits that must not be sampled: one on an operation done at the call, one that times out. */
async function unsampledWaits(t: TestServer): Promise<void> {
  const quick = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0) });
  await until("the quick one done", async () => (await t.grpc.call(ops.getOperation, { name: quick.name })).done);
  assert.equal((await t.grpc.call(ops.waitOperation, { name: quick.name, timeout: durationFromMs(5_000) })).done, true);
  const long = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(60_000) });
  assert.equal((await t.grpc.call(ops.waitOperation, { name: long.name, timeout: durationFromMs(200) })).done, false);
}

describe("WaitOperation wake latency", () => {
  it("one server on SQLite: one sample per Wait woken by a finish written here, none for the others", { timeout: 60_000 }, async () => {
    const t = await startTestServer({ shutdownGraceMs: 100, metrics: { processMetrics: false } });
    try {
      const before = await wakes(t);
      assert.equal(before.count, 0);
      await unsampledWaits(t);
      assert.equal((await wakes(t)).count, 0, "a Wait on a done operation and a timed-out one are not wakes");

      await waitForFinishes(t, t, 5, 300);
      const after = await wakes(t);
      assert.equal(after.count, 5);
      // Within one process a wake may take under the clock's millisecond: 0 is a fair reading here.
      assert.ok(after.sum >= 0 && after.sum / after.count < MEAN_BOUND_SECONDS, `mean ${after.sum / after.count} s`);
    } finally {
      await t.close();
    }
  });

  it("two servers on one PostgreSQL: a Wait on one woken by a finish on the other, through the change feed", { timeout: 60_000 }, async () => {
    const db = await freshSchema("lr_wake");
    const open = () => PostgresStore.open({ connectionString: db.url, schema: db.schema });
    let worker: TestServer | undefined;
    let waiter: TestServer | undefined;
    try {
      worker = await startTestServer({ store: await open(), shutdownGraceMs: 100, metrics: { processMetrics: false } });
      waiter = await startTestServer({ store: await open(), worker: false, metrics: { processMetrics: false } });
      await waitForFinishes(worker, waiter, 4, 300);
      const woken = await wakes(waiter);
      assert.equal(woken.count, 4);
      // The finish crossed the database (a NOTIFY, then the waiter's read): never nothing, never seconds.
      assert.ok(woken.sum > 0, `sum ${woken.sum}`);
      assert.ok(woken.sum / woken.count < MEAN_BOUND_SECONDS, `mean ${woken.sum / woken.count} s`);
      assert.equal((await wakes(worker)).count, 0, "nobody waited on the worker");

      await unsampledWaits(waiter);
      assert.equal((await wakes(waiter)).count, 4, "a Wait on a done operation and a timed-out one are not wakes");
    } finally {
      await Promise.all([worker?.close(), waiter?.close()]);
      await db.drop();
    }
  });
});
