// Faults: the wall clock jumps (an NTP step, an operator, a VM resumed) while operations run, wait or are
// kept. The store compares leases, run_after and expire_time with the runtime's `now`; timers count on a
// monotonic clock. ManualClock.jump models that: `now()` moves, pending timers keep their remaining delay.
// Two runtimes sharing one SQLite file live in one process, so they see the same jump.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary } from "@bufbuild/protobuf";
import { Code } from "../../src/core/code.js";
import { RpcError } from "../../src/core/errors.js";
import { buildRegistry } from "../../src/core/registry.js";
import { Runtime } from "../../src/runtime/runtime.js";
import type { Store, StoredAny } from "../../src/store/store.js";
import { Demo, SleepRequestSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { settle, until } from "../support/manual-clock.js";
import { deferred, fixture, SLEEP, sleepMethod, storeWith, type Fixture } from "./fixture.js";

const LEASE_MS = 30_000;
const HEARTBEAT_MS = LEASE_MS / 3;
const MINUTE = 60_000;

/** One run of the handler: its attempt, its signal, and the deferred the test finishes it with. */
interface Run {
  attempt: number;
  signal: AbortSignal;
  release: ReturnType<typeof deferred<void>>;
}

/** A handler that waits for the test, then answers `slept: <its attempt> s` (whatever its signal says). */
function heldHandler(runs: Run[]) {
  return sleepMethod(async (_request, ctx) => {
    const run: Run = { attempt: ctx.attempt, signal: ctx.signal, release: deferred() };
    runs.push(run);
    await run.release.promise;
    return { slept: { seconds: BigInt(ctx.attempt) } };
  });
}

function runtimeOf(f: Fixture, declarations: Parameters<typeof fixture>[0], instanceId: string, options: { store?: Store; retentionMs?: number; purgeIntervalMs?: number } = {}) {
  return new Runtime({
    store: options.store ?? f.store,
    registry: buildRegistry([Demo.file]),
    methods: declarations,
    clock: f.clock,
    log: f.log,
    instanceId,
    leaseMs: LEASE_MS,
    ...(options.retentionMs === undefined ? {} : { retentionMs: options.retentionMs }),
    ...(options.purgeIntervalMs === undefined ? {} : { purgeIntervalMs: options.purgeIntervalMs }),
  });
}

async function viewOf(f: Fixture, id: string) {
  const [view] = await f.store.getViews([id], f.clock.now());
  return view;
}

/** The attempt a stored response came from (the handler answers `slept: <attempt> s`). */
function sleptSeconds(response: StoredAny | undefined): bigint | undefined {
  return response ? fromBinary(SleepResponseSchema, response.value).slept?.seconds : undefined;
}

describe("clock jumps", () => {
  it("forward past the lease: another runtime takes over at attempt 2; the stale attempt learns LEASE_LOST and its result is dropped; done once", async () => {
    const runs: Run[] = [];
    const declarations = [heldHandler(runs)];
    const f = fixture(declarations);
    const a = runtimeOf(f, declarations, "a");
    a.start();
    const record = await a.startOperation(SLEEP, create(SleepRequestSchema));
    await until(() => runs.length === 1);

    f.clock.jump(10 * MINUTE); // one step: no heartbeat of a's in between
    const b = runtimeOf(f, declarations, "b");
    b.start();
    await until(() => runs.length === 2);
    assert.deepEqual(
      runs.map((r) => r.attempt),
      [1, 2],
    );
    const taken = await f.store.get(record.id, f.clock.now());
    assert.deepEqual([taken?.state, taken?.attempt, taken?.leaseOwner], ["running", 2, "b"]);

    await f.clock.advance(HEARTBEAT_MS); // a's heartbeat is refused: its lease is lost
    await until(() => runs[0]!.signal.aborted);
    const reason = runs[0]!.signal.reason as RpcError;
    assert.ok(reason instanceof RpcError);
    assert.equal(reason.code, Code.ABORTED);
    assert.equal(reason.reason, "LEASE_LOST");
    assert.equal(runs[1]!.signal.aborted, false, "b's heartbeat keeps its lease");

    runs[0]!.release.resolve(); // the stale handler answers anyway: dropped, never written
    await settle(20);
    assert.equal((await f.store.get(record.id, f.clock.now()))?.state, "running");

    runs[1]!.release.resolve();
    await until(async () => (await viewOf(f, record.id))?.state === "done");
    const done = await f.store.get(record.id, f.clock.now());
    assert.deepEqual([done?.state, done?.attempt, done?.error], ["done", 2, undefined]);
    assert.equal(sleptSeconds(done?.response), 2n, "attempt 2's result");
    assert.equal(runs.length, 2, "no third attempt");
    await a.stop(0);
    await b.stop(0);
    f.close();
  });

  it("forward past the lease: the stale attempt's finish, written before its heartbeat, is refused by the store (fenced by attempt)", async () => {
    const runs: Run[] = [];
    const declarations = [heldHandler(runs)];
    const f = fixture(declarations);
    const finishes: { attempt: number; applied: boolean }[] = [];
    const watched = storeWith(f.store, {
      finish: async (results, retentionMs, now) => {
        const applied = await f.store.finish(results, retentionMs, now);
        results.forEach((r, i) => finishes.push({ attempt: r.attempt, applied: applied[i]! }));
        return applied;
      },
    });
    const a = runtimeOf(f, declarations, "a", { store: watched });
    a.start();
    const record = await a.startOperation(SLEEP, create(SleepRequestSchema));
    await until(() => runs.length === 1);
    f.clock.jump(10 * MINUTE);
    const b = runtimeOf(f, declarations, "b", { store: watched });
    b.start();
    await until(() => runs.length === 2);

    runs[0]!.release.resolve(); // a does not know yet: it writes attempt 1's result
    await until(() => finishes.length === 1);
    assert.deepEqual(finishes, [{ attempt: 1, applied: false }]);
    const still = await f.store.get(record.id, f.clock.now());
    assert.deepEqual([still?.state, still?.attempt, still?.leaseOwner], ["running", 2, "b"]);

    runs[1]!.release.resolve();
    await until(async () => (await viewOf(f, record.id))?.state === "done");
    assert.deepEqual(finishes, [
      { attempt: 1, applied: false },
      { attempt: 2, applied: true },
    ]);
    const done = await f.store.get(record.id, f.clock.now());
    assert.equal(sleptSeconds(done?.response), 2n);
    await a.stop(0);
    await b.stop(0);
    f.close();
  });

  it("forward past the lease with no other worker: the next heartbeat keeps the lease (nobody re-claimed it); attempt 1 finishes", async () => {
    const runs: Run[] = [];
    const declarations = [heldHandler(runs)];
    const f = fixture(declarations);
    const a = runtimeOf(f, declarations, "a");
    a.start();
    const record = await a.startOperation(SLEEP, create(SleepRequestSchema));
    await until(() => runs.length === 1);
    f.clock.jump(10 * MINUTE);
    await f.clock.advance(HEARTBEAT_MS);
    const held = await f.store.get(record.id, f.clock.now());
    assert.deepEqual([held?.attempt, held?.leaseOwner, held?.leaseExpireTime], [1, "a", f.clock.now() + LEASE_MS], "extended from the new now");
    for (let i = 0; i < 6; i++) await f.clock.advance(HEARTBEAT_MS); // past the claimer's next-due timer too
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.signal.aborted, false);
    runs[0]!.release.resolve();
    await until(async () => (await viewOf(f, record.id))?.state === "done");
    const done = await f.store.get(record.id, f.clock.now());
    assert.deepEqual([done?.attempt, sleptSeconds(done?.response)], [1, 1n]);
    await a.stop(0);
    f.close();
  });

  it(
    "forward past the lease, then a start wakes the same runtime's claimer before its heartbeat: it re-claims its own running operation; the stale attempt must be told and the new one kept",
    async () => {
      const runs: Run[] = [];
      const declarations = [heldHandler(runs)];
      const f = fixture(declarations);
      const a = runtimeOf(f, declarations, "a");
      a.start();
      const first = await a.startOperation(SLEEP, create(SleepRequestSchema));
      await until(() => runs.length === 1);
      f.clock.jump(10 * MINUTE);
      const second = await a.startOperation(SLEEP, create(SleepRequestSchema)); // the change feed wakes the claimer
      await until(() => runs.length === 3); // first at attempt 2 (its expired lease), second at attempt 1
      assert.deepEqual((await f.store.get(first.id, f.clock.now()))?.attempt, 2);
      try {
        await f.clock.advance(HEARTBEAT_MS);
        await settle(20);
        assert.equal(runs[0]!.signal.aborted, true, "attempt 1 learns its lease is lost");
        assert.equal((runs[0]!.signal.reason as RpcError).reason, "LEASE_LOST");
        runs[0]!.release.resolve(); // its result is dropped; attempt 2 must stay leased
        await settle(20);
        for (let i = 0; i < 12; i++) await f.clock.advance(HEARTBEAT_MS); // four leases
        assert.deepEqual(
          runs.map((r) => r.attempt),
          [1, 2, 1],
          "no third attempt of the first operation",
        );
        assert.equal(runs[1]!.signal.aborted, false);
        runs[1]!.release.resolve();
        runs[2]!.release.resolve();
        await until(async () => (await viewOf(f, first.id))?.state === "done" && (await viewOf(f, second.id))?.state === "done");
        const done = await f.store.get(first.id, f.clock.now());
        assert.deepEqual([done?.attempt, sleptSeconds(done?.response)], [2, 2n]);
      } finally {
        for (const run of runs) run.release.resolve();
        await a.stop(0);
        f.close();
      }
    },
  );

  it("backward: leases are not expired early and stay with their runtime; the claimers do not spin; an operation queued before the jump runs once the clock is back at its run_after", async () => {
    const runs: Run[] = [];
    const declarations = [heldHandler(runs)];
    const f = fixture(declarations);
    let claims = 0;
    const counting = storeWith(f.store, { claim: (request) => (claims++, f.store.claim(request)) });
    const before = await f.createQueued(); // run_after = now, before any runtime runs
    f.clock.jump(-10 * MINUTE);
    const a = runtimeOf(f, declarations, "a", { store: counting });
    const b = runtimeOf(f, declarations, "b", { store: counting });
    a.start();
    b.start();
    await settle(20);
    assert.equal((await f.store.get(before.id, f.clock.now()))?.state, "queued", "its run_after is 10 min ahead now");
    const during = await a.startOperation(SLEEP, create(SleepRequestSchema));
    await until(() => runs.length === 1);
    const owner = (await f.store.get(during.id, f.clock.now()))?.leaseOwner;
    assert.ok(owner === "a" || owner === "b");
    claims = 0;
    for (let i = 0; i < 9; i++) {
      await f.clock.advance(MINUTE);
      const record = await f.store.get(during.id, f.clock.now());
      assert.deepEqual([record?.state, record?.attempt, record?.leaseOwner], ["running", 1, owner], `minute ${i + 1}`);
      assert.ok(record!.leaseExpireTime! > f.clock.now());
    }
    // Each claimer wakes at the next-due time (here the running lease's expiry, pushed on by heartbeats):
    // at most about once a heartbeat interval each, never in a loop (36 seen: one per claimer per 30 s).
    assert.ok(claims <= 2 * ((9 * MINUTE) / HEARTBEAT_MS), `${claims} claims in 9 minutes: no busy loop`);
    assert.equal(runs.length, 1, "nothing re-claimed, and the earlier operation waits for its run_after");
    assert.equal((await f.store.get(before.id, f.clock.now()))?.state, "queued");
    await f.clock.advance(MINUTE + 1000); // past the original run_after: the next-due timer wakes a claimer
    await until(() => runs.length === 2);
    assert.equal(runs[1]!.attempt, 1);
    for (const run of runs) run.release.resolve();
    await until(async () => (await viewOf(f, before.id))?.state === "done" && (await viewOf(f, during.id))?.state === "done");
    const [x, y] = await f.store.getViews([before.id, during.id], f.clock.now());
    assert.deepEqual([x?.error, y?.error], [undefined, undefined]);
    assert.ok(claims <= 2 * ((11 * MINUTE) / HEARTBEAT_MS) + 4, `${claims} claims in all`);
    await a.stop(0);
    await b.stop(0);
    f.close();
  });

  it("retention: a forward jump past expire_time purges at the next purge tick, not before; a backward jump brings back nothing purged and loses nothing kept", async () => {
    const declarations = [sleepMethod(async () => ({ slept: { seconds: 1n } }))];
    const f = fixture(declarations);
    const purged: number[] = [];
    const counting = storeWith(f.store, { purgeExpired: async (now) => { const n = await f.store.purgeExpired(now); purged.push(n); return n; } });
    const a = runtimeOf(f, declarations, "a", { store: counting, retentionMs: 60 * MINUTE, purgeIntervalMs: MINUTE });
    a.start();
    const old = await a.startOperation(SLEEP, create(SleepRequestSchema));
    await until(async () => (await viewOf(f, old.id))?.state === "done");
    const expireTime = (await f.store.get(old.id, f.clock.now()))!.expireTime!;
    f.clock.jump(30 * MINUTE); // half the retention
    await f.clock.advance(MINUTE);
    assert.equal((await viewOf(f, old.id))?.state, "done", "kept before its expire time");
    assert.equal(purged.reduce((x, y) => x + y, 0), 0);

    f.clock.jump(31 * MINUTE); // past expire_time
    assert.ok(f.clock.now() > expireTime);
    assert.equal(await viewOf(f, old.id), undefined, "invisible from its expiry on");
    await f.clock.advance(MINUTE);
    assert.equal(purged.reduce((x, y) => x + y, 0), 1, "purged at the next tick");

    const kept = await a.startOperation(SLEEP, create(SleepRequestSchema));
    await until(async () => (await viewOf(f, kept.id))?.state === "done");
    f.clock.jump(-2 * 60 * MINUTE);
    await f.clock.advance(3 * MINUTE);
    assert.equal(await viewOf(f, old.id), undefined, "a purged operation stays gone");
    assert.equal((await viewOf(f, kept.id))?.state, "done", "one kept is not purged by the jump");
    const listed = await f.store.list({ parent: "", limit: 10, now: f.clock.now() });
    assert.deepEqual(listed.map((r) => r.id), [kept.id]);
    assert.equal(purged.reduce((x, y) => x + y, 0), 1);
    await a.stop(0);
    f.close();
  });
});
