// The executor: one handler's life — context, signal, coalesced progress, outcome → finish — and slots.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { Code } from "../../src/core/code.js";
import { Reason, RpcError } from "../../src/core/errors.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { SleepMetadataSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import type { ProgressUpdate } from "../../src/store/store.js";
import { settle, until } from "../support/manual-clock.js";
import { claimAll, deferred, executorOf, fixture, sleepMethod, storeWith } from "./fixture.js";

describe("Executor", () => {
  it("runs the handler with the operation's context and writes its response; frees the slot when it returns", async () => {
    const gate = deferred();
    let seen: { name: string; attempt: number } | undefined;
    const f = fixture([
      sleepMethod(async (_request, ctx) => {
        seen = { name: ctx.name, attempt: ctx.attempt };
        await gate.promise;
        return { slept: { seconds: 3n } };
      }),
    ]);
    let freed = 0;
    const { executor } = executorOf(f, { concurrency: 4, onSlotFreed: () => freed++ });
    const queued = await f.createQueued();
    executor.run(await claimAll(f));
    await settle();
    assert.deepEqual(seen, { name: queued.name, attempt: 1 });
    assert.equal(executor.freeSlots, 3);
    assert.equal(executor.running.get(queued.id)?.phase, "running");
    gate.resolve();
    await until(() => executor.running.size === 0);
    assert.equal(executor.freeSlots, 4);
    assert.equal(freed, 1);
    const done = await f.store.get(queued.id, f.clock.now());
    assert.equal(done?.state, "done");
    assert.equal(done?.response?.typeUrl, "type.googleapis.com/longrun.demo.v1.SleepResponse");
    f.close();
  });

  it("ctx.principal is who started the operation, on a retried attempt too; undefined without one", async () => {
    const seen: [string, number, string | undefined][] = [];
    const f = fixture([sleepMethod(async (_request, ctx) => (seen.push([ctx.name, ctx.attempt, ctx.principal]), {}))]);
    const { executor } = executorOf(f);
    const alice = await f.createQueued("alice", { principal: "user:alice" });
    const anonymous = await f.createQueued("anonymous");
    await claimAll(f, "worker-a", 1000); // worker-a is lost: its lease expires
    await f.clock.advance(5000);
    executor.run(await claimAll(f, "worker-b"));
    await until(() => executor.running.size === 0);
    assert.deepEqual(
      seen.sort(([a], [b]) => a.localeCompare(b)),
      [
        [alice.name, 2, "user:alice"],
        [anonymous.name, 2, undefined],
      ],
    );
    f.close();
  });

  it("an RpcError thrown by the handler becomes the operation's error, with its code", async () => {
    const f = fixture([sleepMethod(async () => Promise.reject(new RpcError(Code.FAILED_PRECONDITION, "no disk")))]);
    const { executor } = executorOf(f);
    const queued = await f.createQueued();
    executor.run(await claimAll(f));
    await until(() => executor.running.size === 0);
    const done = await f.store.get(queued.id, f.clock.now());
    assert.equal(done?.error?.code, Code.FAILED_PRECONDITION);
    assert.equal(fromBinary(StatusSchema, done!.error!.status).message, "no disk");
    f.close();
  });

  it("cancel: the signal fires, readers see cancel_requested, and the handler's stop ends CANCELLED", async () => {
    const f = fixture([
      sleepMethod(async (_request, ctx) => {
        await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true }));
        return {};
      }),
    ]);
    const { executor } = executorOf(f);
    const queued = await f.createQueued();
    executor.run(await claimAll(f));
    await settle();
    const running = executor.running.get(queued.id)!;
    executor.cancel(running);
    assert.equal(running.phase, "cancelling");
    executor.cancel(running); // a repeated cancel changes nothing
    await until(() => executor.running.size === 0);
    const done = await f.store.get(queued.id, f.clock.now());
    assert.equal(done?.error?.code, Code.CANCELLED);
    f.close();
  });

  it("coalesces progress: calls made while a write is queued share it, and the last metadata wins", async () => {
    const f = fixture([
      sleepMethod(async (_request, ctx) => {
        await Promise.all([10, 20, 30, 40].map((progressPercent) => ctx.progress({ progressPercent })));
        return {};
      }),
    ]);
    const writes: ProgressUpdate[][] = [];
    const counting = storeWith(f.store, {
      progress: (items: readonly ProgressUpdate[], now: number) => (writes.push([...items]), f.store.progress(items, now)),
    });
    const { executor } = executorOf(f, { store: counting });
    const queued = await f.createQueued();
    executor.run(await claimAll(f));
    await until(() => executor.running.size === 0);
    assert.equal(writes.length, 1, "four progress calls in one turn: one write");
    assert.equal(writes[0]!.length, 1);
    const metadata = fromBinary(SleepMetadataSchema, writes[0]![0]!.metadata.value);
    assert.equal(metadata.progressPercent, 40);
    const done = await f.store.get(queued.id, f.clock.now());
    assert.equal(fromBinary(SleepMetadataSchema, done!.metadata!.value).progressPercent, 40);
    f.close();
  });

  it("a refused progress write on a deleted operation: the handler goes on unheard, nothing is written", async () => {
    const gate = deferred();
    const progressed = deferred();
    const f = fixture([
      sleepMethod(async (_request, ctx) => {
        await gate.promise;
        await ctx.progress({ progressPercent: 50 }); // resolves: a deleted operation is not an error to its handler
        progressed.resolve();
        return {};
      }),
    ]);
    const { executor } = executorOf(f);
    const queued = await f.createQueued();
    executor.run(await claimAll(f));
    await settle();
    await f.store.delete([queued.id]);
    gate.resolve();
    await progressed.promise;
    await until(() => executor.running.size === 0);
    assert.equal(await f.store.get(queued.id, f.clock.now()), undefined);
    f.close();
  });

  it("a refused progress write on a taken-over operation: lease lost, the handler's signal aborts, its result is dropped", async () => {
    let reason: unknown;
    const f = fixture([
      sleepMethod(async (_request, ctx) => {
        await ctx.progress({ progressPercent: 10 }).catch(() => undefined);
        if (!ctx.signal.aborted) await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
        reason = ctx.signal.reason;
        return { slept: { seconds: 1n } };
      }),
    ]);
    const { executor } = executorOf(f);
    const queued = await f.createQueued();
    const [first] = await claimAll(f, "worker-a", 1000);
    await f.clock.advance(5000); // the lease expires; another worker takes it over (attempt 2)
    const [taken] = await claimAll(f, "worker-b");
    assert.equal(taken?.attempt, 2);
    executor.run([first!]);
    await until(() => executor.running.size === 0);
    assert.equal((reason as RpcError).code, Code.ABORTED);
    assert.equal((reason as RpcError).reason, Reason.LEASE_LOST);
    const record = await f.store.get(queued.id, f.clock.now());
    assert.equal(record?.state, "running", "worker-a's result is not written over worker-b's attempt");
    assert.equal(record?.leaseOwner, "worker-b");
    f.close();
  });

  it("a progress write the store fails rejects ctx.progress only: no unhandled rejection, the next write goes out", async () => {
    let failures = 1;
    const f = fixture([
      sleepMethod(async (_request, ctx) => {
        await assert.rejects(ctx.progress({ progressPercent: 10 }), /pool has ended/);
        await ctx.progress({ progressPercent: 20 });
        return {};
      }),
    ]);
    const failing = storeWith(f.store, {
      progress: (items: readonly ProgressUpdate[], now: number) =>
        failures-- > 0 ? Promise.reject(new Error("the pool has ended")) : f.store.progress(items, now),
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const { executor } = executorOf(f, { store: failing });
      const queued = await f.createQueued();
      executor.run(await claimAll(f));
      await until(() => executor.running.size === 0);
      await settle(10);
      assert.deepEqual(unhandled, []);
      const done = await f.store.get(queued.id, f.clock.now());
      assert.equal(fromBinary(SleepMetadataSchema, done!.metadata!.value).progressPercent, 20);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    f.close();
  });

  it("an operation interrupted more often than maxAttempts ends ABORTED without running its handler", async () => {
    let ran = 0;
    const f = fixture([sleepMethod(async () => (ran++, {}), { maxAttempts: 1 })]);
    const { executor } = executorOf(f);
    const queued = await f.createQueued();
    await claimAll(f, "worker-a", 1000);
    await f.clock.advance(5000);
    executor.run(await claimAll(f, "worker-b"));
    await until(() => executor.running.size === 0);
    assert.equal(ran, 0);
    const done = await f.store.get(queued.id, f.clock.now());
    assert.equal(done?.error?.code, Code.ABORTED);
    assert.match(fromBinary(StatusSchema, done!.error!.status).message, /gave up after 1 attempts/);
    f.close();
  });

  it("whenIdle resolves when the last operation ends, or at the grace period", async () => {
    const gate = deferred();
    const f = fixture([sleepMethod(async () => (await gate.promise, {}))]);
    const { executor } = executorOf(f);
    await f.createQueued();
    executor.run(await claimAll(f));
    let idle = false;
    const waiting = executor.whenIdle(10_000).then(() => (idle = true));
    await f.clock.advance(9_999);
    assert.equal(idle, false);
    await f.clock.advance(1);
    await waiting;
    assert.equal(idle, true, "the grace period passed");
    gate.resolve();
    await until(() => executor.running.size === 0);
    await executor.whenIdle(10_000); // nothing runs: at once
    f.close();
  });
});
