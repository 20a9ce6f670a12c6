// Leases: heartbeats extend them and deliver what was requested meanwhile; a refused one means loss.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code } from "../../src/core/code.js";
import type { RpcError } from "../../src/core/errors.js";
import { Leases } from "../../src/runtime/leases.js";
import { settle, until } from "../support/manual-clock.js";
import { claimAll, deferred, executorOf, fixture, sleepMethod, storeWith } from "./fixture.js";

const LEASE_MS = 3000;

function setUp(handler: Parameters<typeof sleepMethod>[0]) {
  const f = fixture([sleepMethod(handler)]);
  const { executor } = executorOf(f);
  const leases = new Leases({ store: f.store, clock: f.clock, log: f.log, owner: "worker-a", leaseMs: LEASE_MS, executor });
  return { f, executor, leases };
}

function untilAborted(signal: AbortSignal): Promise<unknown> {
  return signal.aborted ? Promise.resolve(signal.reason) : new Promise((resolve) => signal.addEventListener("abort", () => resolve(signal.reason), { once: true }));
}

describe("Leases", () => {
  it("heartbeats every third of the lease keep the operation from being taken over", async () => {
    const { f, executor, leases } = setUp(async (_r, ctx) => (await untilAborted(ctx.signal), {}));
    const queued = await f.createQueued();
    executor.run(await claimAll(f, "worker-a", LEASE_MS));
    leases.start();
    for (let i = 0; i < 5; i++) await f.clock.advance(LEASE_MS / 3);
    const record = await f.store.get(queued.id, f.clock.now());
    assert.equal(record?.leaseOwner, "worker-a");
    assert.ok(record!.leaseExpireTime! > f.clock.now(), "the lease was extended past the first one's end");
    assert.deepEqual(await claimAll(f, "worker-b"), [], "nobody else can claim it");
    leases.stop();
    executor.cancel(executor.running.get(queued.id)!);
    await until(() => executor.running.size === 0);
    f.close();
  });

  it("a cancellation or a control command the change feed missed reaches the handler by the heartbeat", async () => {
    const { f, executor, leases } = setUp(async (_r, ctx) => {
      await ctx.control.until((command) => command === "pause");
      throw await untilAborted(ctx.signal);
    });
    const queued = await f.createQueued();
    executor.run(await claimAll(f));
    const running = executor.running.get(queued.id)!;
    await f.store.requestControl([queued], "pause", f.clock.now());
    await leases.heartbeat();
    assert.equal(running.control.current, "pause");
    await f.store.requestCancel([queued], f.clock.now());
    await leases.heartbeat();
    assert.equal(running.phase === "cancelling" || running.phase === "writing", true);
    await until(() => executor.running.size === 0);
    assert.equal((await f.store.get(queued.id, f.clock.now()))?.error?.code, Code.CANCELLED);
    f.close();
  });

  it("a refused heartbeat: the lease is lost, the handler aborts with ABORTED, and nothing is written", async () => {
    let reason: unknown;
    const { f, executor, leases } = setUp(async (_r, ctx) => ((reason = await untilAborted(ctx.signal)), { slept: { seconds: 9n } }));
    const queued = await f.createQueued();
    executor.run(await claimAll(f, "worker-a", LEASE_MS));
    await f.clock.advance(LEASE_MS + 5000); // no heartbeat: the lease expires and worker-b takes over
    await claimAll(f, "worker-b");
    await leases.heartbeat();
    await until(() => executor.running.size === 0);
    assert.equal((reason as RpcError).code, Code.ABORTED);
    const record = await f.store.get(queued.id, f.clock.now());
    assert.equal(record?.state, "running");
    assert.equal(record?.leaseOwner, "worker-b");
    f.close();
  });

  it("releaseAll at shutdown aborts what runs with UNAVAILABLE and makes it claimable at once", async () => {
    let reason: unknown;
    const { f, executor, leases } = setUp(async (_r, ctx) => ((reason = await untilAborted(ctx.signal)), {}));
    const queued = await f.createQueued();
    executor.run(await claimAll(f));
    await settle();
    await leases.releaseAll();
    assert.equal((reason as RpcError).code, Code.UNAVAILABLE);
    await until(() => executor.running.size === 0);
    const [again] = await claimAll(f, "worker-b");
    assert.equal(again?.id, queued.id, "claimable without waiting for the lease to expire");
    f.close();
  });
  it("a heartbeat of an older attempt, answered after this runtime re-claimed the operation, is not held against the newer one", async () => {
    // Seen after PostgreSQL was down longer than the lease: the runtime's own claim re-took an operation
    // whose expired lease it was still heartbeating; the heartbeat's "not held" (true of attempt 1) was
    // applied by id to attempt 2, which was aborted though it held the lease, and the operation ran again.
    const signals: AbortSignal[] = [];
    const f = fixture([sleepMethod(async (_r, ctx) => (signals.push(ctx.signal), await untilAborted(ctx.signal), {}))]);
    const { executor } = executorOf(f);
    const gate = deferred();
    const store = storeWith(f.store, { heartbeat: async (...args) => (await gate.promise, f.store.heartbeat(...args)) });
    const leases = new Leases({ store, clock: f.clock, log: f.log, owner: "worker-a", leaseMs: LEASE_MS, executor });
    const queued = await f.createQueued();
    executor.run(await claimAll(f, "worker-a", LEASE_MS));
    await until(() => signals.length === 1);
    await f.clock.advance(LEASE_MS + 1000); // no heartbeat went through: the lease expired
    const heartbeat = leases.heartbeat(); // of attempt 1, held up on its way to the store
    executor.run(await claimAll(f, "worker-a", LEASE_MS)); // the same runtime re-claims it: attempt 2
    await until(() => signals.length === 2);
    assert.equal(signals[0]!.aborted, true, "attempt 1 is told at once");
    gate.resolve();
    await heartbeat;
    await settle(20);
    assert.equal(signals[1]!.aborted, false, "attempt 2 keeps its lease");
    assert.equal(executor.running.get(queued.id)?.record.attempt, 2);
    await leases.heartbeat();
    const record = await f.store.get(queued.id, f.clock.now());
    assert.deepEqual([record?.attempt, record?.leaseOwner, record!.leaseExpireTime! > f.clock.now()], [2, "worker-a", true]);
    executor.cancel(executor.running.get(queued.id)!);
    await until(() => executor.running.size === 0);
    f.close();
  });
});
