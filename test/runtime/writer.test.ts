// The write path: batched fenced finishes, announced to local waiters; writes retried through outages.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code } from "../../src/core/code.js";
import { RpcError } from "../../src/core/errors.js";
import { ResultWriter, type FinishedOperation } from "../../src/runtime/writer.js";
import { encodeError, statusOf } from "../../src/runtime/status.js";
import type { EventRecord, FinishRequest } from "../../src/store/store.js";
import { until } from "../support/manual-clock.js";
import { claimAll, fixture, SLEEP, sleepMethod, storeWith } from "./fixture.js";

describe("ResultWriter", () => {
  it("writes concurrent finishes in one statement, and announces each as it now stands", async () => {
    const f = fixture([sleepMethod(async () => ({}))]);
    const statements: number[] = [];
    const finishingDuringWrite: boolean[] = [];
    const store = storeWith(f.store, {
      finish: (items, retentionMs, now) => {
        statements.push(items.length);
        finishingDuringWrite.push(...items.map((item) => writer.isFinishing(item.id)));
        return f.store.finish(items, retentionMs, now);
      },
    });
    const writer: ResultWriter = new ResultWriter({ store, clock: f.clock, log: f.log, retentionMs: 60_000, owner: "worker-a", isStopping: () => false });
    const announced: FinishedOperation[] = [];
    writer.onFinished((finished) => announced.push(...finished));
    const a = await f.createQueued(undefined, { principal: "user:alice", resource: "projects/a" });
    const b = await f.createQueued();
    const [ra, rb] = await claimAll(f);
    const codec = f.methods.require(SLEEP).codec;
    const metadata = codec.encode(codec.initial(f.clock.now()));
    const error = encodeError(statusOf(Code.INTERNAL, "boom"));
    const writes = [
      writer.finish({ id: a.id, name: a.name, method: a.method, principal: a.principal, resource: a.resource, attempt: ra!.attempt, metadata, error }),
      writer.finish({ id: b.id, name: b.name, method: b.method, principal: b.principal, resource: b.resource, attempt: rb!.attempt + 1, metadata, error }), // a stale attempt: fenced
    ];
    assert.equal(writer.isFinishing(a.id), false, "queued, not yet being written");
    assert.deepEqual(await Promise.all(writes), [true, false]);
    assert.deepEqual(finishingDuringWrite, [true, true], "both are finishing while their statement runs");
    assert.deepEqual(statements, [2]);
    assert.equal(writer.isFinishing(a.id), false);
    assert.equal(announced.find((x) => x.id === a.id)?.record?.state, "done");
    assert.equal(announced.find((x) => x.id === a.id)?.record?.expireTime, f.clock.now() + 60_000);
    assert.equal(announced.find((x) => x.id === a.id)?.record?.principal, "user:alice", "as readers would find it");
    assert.equal(announced.find((x) => x.id === a.id)?.record?.resource, "projects/a", "as readers would find it");
    assert.equal(announced.find((x) => x.id === b.id)?.record, undefined, "refused: readers must read it");
    f.close();
  });

  it("retries a write while the store is unavailable, with backoff from the clock", async () => {
    const f = fixture([sleepMethod(async () => ({}))]);
    let outages = 2;
    const store = storeWith(f.store, {
      finish: (items: readonly FinishRequest[], retentionMs: number, now: number) =>
        outages-- > 0 ? Promise.reject(new RpcError(Code.UNAVAILABLE, "down")) : f.store.finish(items, retentionMs, now),
    });
    const writer = new ResultWriter({ store, clock: f.clock, log: f.log, retentionMs: 60_000, owner: "worker-a", isStopping: () => false });
    const queued = await f.createQueued();
    const [claimed] = await claimAll(f);
    let applied: boolean | undefined;
    void writer.finish({ id: queued.id, name: queued.name, method: queued.method, principal: undefined, resource: undefined, attempt: claimed!.attempt, error: encodeError(statusOf(Code.ABORTED, "x")) }).then((x) => (applied = x));
    await until(() => f.logged.length === 1);
    await f.clock.advance(99);
    assert.equal(applied, undefined);
    await f.clock.advance(1); // 100 ms, then 200 ms
    await until(() => f.logged.length === 2);
    await f.clock.advance(200);
    await until(() => applied !== undefined);
    assert.equal(applied, true);
    assert.match(f.logged[0]!, /unavailable; retrying a write in 100 ms/);
    assert.match(f.logged[1]!, /retrying a write in 200 ms/);
    f.close();
  });

  it("while stopping, an unavailable store fails the write instead of retrying it", async () => {
    const f = fixture([sleepMethod(async () => ({}))]);
    const store = storeWith(f.store, { finish: () => Promise.reject(new RpcError(Code.UNAVAILABLE, "down")) });
    const writer = new ResultWriter({ store, clock: f.clock, log: f.log, retentionMs: 60_000, owner: "worker-a", isStopping: () => true });
    await assert.rejects(writer.finish({ id: "x", name: "operations/x", method: "m", principal: undefined, resource: undefined, attempt: 1 }), (err: RpcError) => err.code === Code.UNAVAILABLE);
    f.close();
  });
});

describe("ResultWriter: a finish's notification events handed to the dispatcher", () => {
  const route = (destination: string, eventTypes?: string[]) => ({ destination, withPayload: true, ...(eventTypes ? { eventTypes: new Set(eventTypes) } : {}) });

  it("writes them leased to this instance and hands them over after the commit; a route that announces starts is claimed instead", async () => {
    const f = fixture([sleepMethod(async () => ({}))]);
    const handed: EventRecord[][] = [];
    const writer = new ResultWriter({
      store: f.store, clock: f.clock, log: f.log, retentionMs: 60_000, owner: "worker-a", isStopping: () => false,
      notifications: [route("hook"), route("ordered", ["OPERATION_STARTED", "OPERATION_SUCCEEDED"])],
      handOff: { leaseMs: 5_000, deliver: (events) => void handed.push([...events]) },
    });
    const heard: string[] = [];
    f.store.subscribe((e) => heard.push(e.kind));
    const op = await f.createQueued();
    const [claimed] = await claimAll(f);
    const codec = f.methods.require(SLEEP).codec;
    const metadata = codec.encode(codec.initial(f.clock.now()));
    const response = { typeUrl: "type.googleapis.com/longrun.demo.v1.SleepResponse", value: new Uint8Array() };
    assert.equal(await writer.finish({ id: op.id, name: op.name, method: op.method, principal: undefined, resource: undefined, attempt: claimed!.attempt, metadata, response }), true);
    assert.equal(handed.length, 1);
    const [event] = handed[0]!;
    assert.equal(event?.destination, "hook");
    assert.equal(event?.attempt, 1);
    assert.equal(event?.leaseOwner, "worker-a");
    assert.equal(event?.operation.name, op.name);
    assert.deepEqual(event?.operation.response, response);
    const stored = await f.store.listEvents({ limit: 10 });
    assert.deepEqual(stored.map((e) => [e.destination, e.attempt, e.leaseOwner]).sort(), [["hook", 1, "worker-a"], ["ordered", 0, undefined]]);
    assert.deepEqual(heard.filter((k) => k === "events"), ["events"], "the unclaimed one is announced for a dispatcher to claim");
    const claimable = await f.store.claimEvents({ owner: "worker-b", destinations: ["hook", "ordered"], limit: 10, leaseMs: 1000, now: f.clock.now() });
    assert.deepEqual(claimable.map((e) => e.destination), ["ordered"]);
    f.close();
  });
});
