import assert from "node:assert/strict";
import type { EventRecord, NewEvent } from "../../store/store.js";
import type { Contract } from "./context.js";
import { T, RETENTION, RESPONSE, ERROR, meta, newOp, ids } from "./fixtures.js";

const HOOK = "hook";
const BUS = "bus";

function event(id: string, overrides: Partial<NewEvent> = {}): NewEvent {
  return { id, destination: HOOK, type: "OPERATION_SUCCEEDED", attributes: { eventId: id, operationName: "x" }, withPayload: true, ...overrides };
}

const claimOf = (owner: string, now: number, destinations: readonly string[] = [HOOK, BUS], limit = 10) => ({ owner, destinations, limit, leaseMs: 1000, now });

/**
 * The outbox of completion notifications: events written with the finish that causes them (and only
 * then), a snapshot of the operation, claims fenced and ordered per operation and destination, outcomes.
 */
export function outbox(c: Contract): void {
  const { describe, it } = c.test;
  const { running } = c;

  describe("outbox", () => {
    it("a finish writes its events in its own transaction, with a snapshot of the operation; a refused finish writes none", async () => {
      const op = await running("op-1", "worker-a", T, { metadata: meta({ progress_percent: 1 }) });
      const finish = { id: "op-1", attempt: op.attempt, response: RESPONSE, metadata: meta({ progress_percent: 100 }) };
      assert.deepEqual(await c.store.finish([{ ...finish, events: [event("e1"), event("e2", { destination: BUS, withPayload: false, attributes: { a: "1", "b c": "é" } })] }], RETENTION, T + 1), [true]);
      // The same finish again (or a stale attempt's) is refused: no more events.
      assert.deepEqual(await c.store.finish([{ ...finish, events: [event("e3")] }], RETENTION, T + 2), [false]);
      await c.store.create([newOp("queued")], T);
      assert.deepEqual(await c.store.finish([{ id: "queued", attempt: 5, error: ERROR, events: [event("e4")] }], RETENTION, T + 2), [false]);

      const listed = await c.store.listEvents({ limit: 10 });
      assert.deepEqual(ids(listed), ["e1", "e2"]);
      const [e1, e2] = listed as [EventRecord, EventRecord];
      assert.equal(e1.operationId, "op-1");
      assert.equal(e1.method, op.method);
      assert.equal(e1.destination, HOOK);
      assert.equal(e1.type, "OPERATION_SUCCEEDED");
      assert.deepEqual(e1.attributes, { eventId: "e1", operationName: "x" });
      assert.equal(e1.withPayload, true);
      assert.equal(e1.state, "pending");
      assert.equal(e1.attempt, 0);
      assert.equal(e1.createTime, T + 1);
      assert.equal(e1.windowStart, T + 1);
      assert.equal(e1.runAfter, T + 1);
      assert.equal(e1.operation.name, "operations/op-1");
      assert.equal(e1.operation.state, "done");
      assert.deepEqual(e1.operation.response?.typeUrl, RESPONSE.typeUrl);
      assert.deepEqual(new Uint8Array(e1.operation.response!.value), RESPONSE.value);
      assert.equal(e1.operation.metadata?.typeUrl, meta({}).typeUrl);
      assert.equal(e1.operation.error, undefined);
      assert.ok(e2.seq > e1.seq);
      assert.deepEqual(e2.attributes, { a: "1", "b c": "é" });
      assert.equal(e2.withPayload, false);
      // The snapshot outlives the operation.
      await c.store.delete(["op-1"]);
      const [after] = await c.store.listEvents({ limit: 1 });
      assert.equal(after?.operation.name, "operations/op-1");
    });

    it("an error finish snapshots the error; a queued operation finished (cancelled) carries its events too", async () => {
      await c.store.create([newOp("q")], T);
      assert.deepEqual(await c.store.finish([{ id: "q", attempt: 0, error: ERROR, events: [event("e", { type: "OPERATION_CANCELLED" })] }], RETENTION, T + 1), [true]);
      const [e] = await c.store.listEvents({ limit: 10 });
      assert.equal(e?.operation.error?.code, ERROR.code);
      assert.equal(e?.operation.error?.message, ERROR.message);
      assert.equal(e?.operation.response, undefined);
      assert.equal(e?.type, "OPERATION_CANCELLED");
    });

    it("claims due events for the given destinations once, oldest first, with a lease; an expired lease lets another claimer take it at the next attempt", async () => {
      for (const [i, id] of ["a", "b", "c"].entries()) {
        await c.store.create([newOp(id)], T);
        await c.store.finish([{ id, attempt: 0, response: RESPONSE, events: [event(`${id}-hook`), event(`${id}-bus`, { destination: BUS })] }], RETENTION, T + i);
      }
      assert.deepEqual(ids(await c.store.claimEvents(claimOf("w1", T + 10, [HOOK]))), ["a-hook", "b-hook", "c-hook"]);
      assert.deepEqual(await c.store.claimEvents(claimOf("w2", T + 10, [HOOK])), [], "leased");
      const bus = await c.store.claimEvents(claimOf("w2", T + 10, [BUS], 2));
      assert.deepEqual(ids(bus), ["a-bus", "b-bus"]);
      assert.equal(bus[0]?.attempt, 1);
      assert.equal(bus[0]?.leaseOwner, "w2");
      assert.equal(bus[0]?.leaseExpireTime, T + 1010);
      assert.deepEqual(await c.store.claimEvents(claimOf("w3", T + 10, [], 10)), []);
      assert.deepEqual(await c.store.claimEvents(claimOf("w3", T + 10, [HOOK, BUS], 0)), []);
      // w1 dies: its leases run out, w3 takes them at attempt 2; w1's late outcome is refused.
      const retaken = await c.store.claimEvents(claimOf("w3", T + 1010, [HOOK]));
      assert.deepEqual(ids(retaken), ["a-hook", "b-hook", "c-hook"]);
      assert.deepEqual(retaken.map((e) => e.attempt), [2, 2, 2]);
      assert.deepEqual(await c.store.settleEvents([{ id: "a-hook", attempt: 1, outcome: "delivered" }], T + 1011), [false]);
      assert.deepEqual(await c.store.settleEvents([{ id: "a-hook", attempt: 2, outcome: "delivered" }], T + 1011), [true]);
      assert.deepEqual(await c.store.settleEvents([{ id: "a-hook", attempt: 2, outcome: "delivered" }], T + 1011), [false], "once");
    });

    it("an event written leased (handed to its dispatcher by the finish) is attempt 1 of its owner: not claimable until the lease expires, settled at attempt 1", async () => {
      const op = await running("op-1", "worker-a", T);
      const lease = { owner: "worker-a", expireTime: T + 1 + 1000 };
      assert.deepEqual(await c.store.finish([{ id: "op-1", attempt: op.attempt, response: RESPONSE, events: [event("handed", { lease }), event("plain", { destination: BUS })] }], RETENTION, T + 1), [true]);
      const [handed] = (await c.store.listEvents({ limit: 10 })).filter((e) => e.id === "handed");
      assert.equal(handed?.attempt, 1);
      assert.equal(handed?.leaseOwner, "worker-a");
      assert.equal(handed?.leaseExpireTime, T + 1001);
      assert.deepEqual(ids(await c.store.claimEvents(claimOf("worker-b", T + 2))), ["plain"], "the leased one is not claimable");
      assert.equal(await c.store.nextEventDueTime([HOOK], T + 2), T + 1001, "due when its lease runs out");
      assert.deepEqual(await c.store.settleEvents([{ id: "handed", attempt: 1, outcome: "delivered" }], T + 3), [true]);
      assert.deepEqual(ids(await c.store.listEvents({ limit: 10 })), ["plain"]);
    });

    it("a leased event whose owner died is claimed by another once the lease expires, at attempt 2; the first owner's late outcome is refused", async () => {
      const op = await running("op-1", "worker-a", T);
      await c.store.finish([{ id: "op-1", attempt: op.attempt, response: RESPONSE, events: [event("handed", { lease: { owner: "worker-a", expireTime: T + 1000 } })] }], RETENTION, T);
      assert.deepEqual(await c.store.claimEvents(claimOf("worker-b", T + 999)), []);
      const [taken] = await c.store.claimEvents(claimOf("worker-b", T + 1000));
      assert.equal(taken?.id, "handed");
      assert.equal(taken?.attempt, 2);
      assert.deepEqual(await c.store.settleEvents([{ id: "handed", attempt: 1, outcome: "delivered" }], T + 1001), [false]);
      assert.deepEqual(await c.store.settleEvents([{ id: "handed", attempt: 2, outcome: "delivered" }], T + 1001), [true]);
    });

    it("settles: delivered events leave, a retry waits for its runAfter, a failure is kept; outcomes are fenced by attempt", async () => {
      await c.store.create([newOp("o1"), newOp("o2"), newOp("o3")], T);
      await c.store.finish(["o1", "o2", "o3"].map((id) => ({ id, attempt: 0, response: RESPONSE, events: [event(id)] })), RETENTION, T);
      const claimed = await c.store.claimEvents(claimOf("w", T));
      assert.equal(claimed.length, 3);
      assert.deepEqual(
        await c.store.settleEvents(
          [
            { id: "o1", attempt: 1, outcome: "delivered" },
            { id: "o2", attempt: 1, outcome: "retry", runAfter: T + 500, error: "HTTP 503" },
            { id: "o3", attempt: 1, outcome: "failed", error: "HTTP 400 Bad Request" },
            { id: "nope", attempt: 1, outcome: "delivered" },
          ],
          T + 1,
        ),
        [true, true, true, false],
      );
      const listed = await c.store.listEvents({ limit: 10 });
      assert.deepEqual(ids(listed), ["o2", "o3"]);
      const [o2, o3] = listed as [EventRecord, EventRecord];
      assert.equal(o2.state, "pending");
      assert.equal(o2.runAfter, T + 500);
      assert.equal(o2.lastError, "HTTP 503");
      assert.equal(o2.leaseOwner, undefined);
      assert.equal(o3.state, "failed");
      assert.equal(o3.lastError, "HTTP 400 Bad Request");
      assert.deepEqual(ids(await c.store.listEvents({ limit: 10, state: "failed" })), ["o3"]);
      assert.deepEqual(ids(await c.store.listEvents({ limit: 10, state: "pending" })), ["o2"]);
      assert.deepEqual(ids(await c.store.listEvents({ limit: 10, afterSeq: o2.seq })), ["o3"]);
      assert.deepEqual(ids(await c.store.listEvents({ limit: 1 })), ["o2"]);

      assert.equal(await c.store.nextEventDueTime([HOOK], T + 1), T + 500);
      assert.equal(await c.store.nextEventDueTime([BUS], T + 1), undefined);
      assert.deepEqual(await c.store.claimEvents(claimOf("w", T + 499)), [], "backing off; failed events are never claimed");
      const again = await c.store.claimEvents(claimOf("w", T + 500));
      assert.deepEqual(ids(again), ["o2"]);
      assert.equal(again[0]?.attempt, 2);
      assert.equal(await c.store.nextEventDueTime([HOOK], T + 500), T + 1500, "in flight: due when its lease runs out");
    });

    it("per operation and destination, an event waits until the earlier ones are no longer pending", async () => {
      await c.store.create([newOp("x")], T);
      await c.store.finish([{ id: "x", attempt: 0, response: RESPONSE, events: [event("first"), event("second"), event("other", { destination: BUS })] }], RETENTION, T);
      assert.deepEqual(ids(await c.store.claimEvents(claimOf("w", T))), ["first", "other"]);
      assert.deepEqual(await c.store.claimEvents(claimOf("w", T)), []);
      await c.store.settleEvents([{ id: "first", attempt: 1, outcome: "retry", runAfter: T + 100, error: "down" }], T);
      assert.deepEqual(await c.store.claimEvents(claimOf("w", T + 50)), [], "the first still pending: the second waits");
      assert.deepEqual(ids(await c.store.claimEvents(claimOf("w", T + 100))), ["first"]);
      await c.store.settleEvents([{ id: "first", attempt: 2, outcome: "failed", error: "HTTP 410" }], T + 100);
      assert.deepEqual(ids(await c.store.claimEvents(claimOf("w", T + 100))), ["second"], "a failed one does not hold the rest back");
    });

    it("retryEvents makes failed (and backing-off) events due now in a new window and announces it; deleteEvents removes them", async () => {
      await c.store.create([newOp("f"), newOp("p")], T);
      await c.store.finish(["f", "p"].map((id) => ({ id, attempt: 0, response: RESPONSE, events: [event(id)] })), RETENTION, T);
      await c.store.claimEvents(claimOf("w", T));
      await c.store.settleEvents([{ id: "f", attempt: 1, outcome: "failed", error: "HTTP 400" }, { id: "p", attempt: 1, outcome: "retry", runAfter: T + 10_000, error: "HTTP 503" }], T);
      const events = c.recordEvents();
      assert.deepEqual(await c.store.retryEvents(["f", "p", "missing", "f"], T + 5), ["f", "p"]);
      assert.ok(events.some((e) => e.kind === "events" && e.ids.includes("f")), JSON.stringify(events));
      const listed = await c.store.listEvents({ limit: 10 });
      assert.deepEqual(listed.map((e) => [e.id, e.state, e.runAfter, e.windowStart, e.attempt]), [
        ["f", "pending", T + 5, T + 5, 1],
        ["p", "pending", T + 5, T + 5, 1],
      ]);
      assert.deepEqual(ids(await c.store.claimEvents(claimOf("w", T + 5))), ["f", "p"]);
      assert.deepEqual(await c.store.deleteEvents(["f", "nope"]), ["f"]);
      assert.deepEqual(ids(await c.store.listEvents({ limit: 10 })), ["p"]);
      assert.deepEqual(await c.store.retryEvents([], T), []);
      assert.deepEqual(await c.store.deleteEvents([]), []);
      assert.deepEqual(await c.store.settleEvents([], T), []);
    });

    it("appendEvents writes events about existing operations with their current snapshot, skips ids already there and operations that are gone, and announces them", async () => {
      const op = await running("r", "w", T, { metadata: meta({ progress_percent: 3 }) });
      const feed = c.recordEvents();
      const started = { ...event("s1", { type: "OPERATION_STARTED" }), operationId: "r" };
      assert.deepEqual(await c.store.appendEvents([started, { ...event("s2", { destination: BUS }), operationId: "r" }, { ...event("s3"), operationId: "missing" }], T + 1), ["s1", "s2"]);
      assert.deepEqual(await c.store.appendEvents([started], T + 2), [], "the same id again: skipped");
      assert.deepEqual(await c.store.appendEvents([], T), []);
      assert.ok(feed.some((e) => e.kind === "events" && e.ids.includes("s1")), JSON.stringify(feed));
      const [s1] = await c.store.listEvents({ limit: 10 });
      assert.equal(s1?.id, "s1");
      assert.equal(s1?.operation.state, "running");
      assert.equal(s1?.operation.metadata?.typeUrl, meta({}).typeUrl);
      assert.equal(s1?.method, op.method);
      assert.equal(s1?.createTime, T + 1);
      // Ordered with the finish's events: the start first.
      await c.store.finish([{ id: "r", attempt: op.attempt, response: RESPONSE, events: [event("f1")] }], RETENTION, T + 3);
      assert.deepEqual(ids(await c.store.claimEvents(claimOf("w", T + 3, [HOOK]))), ["s1"]);
    });

    it("finishes without events write none; an operation finished with events for an unknown destination keeps them pending for whoever has it", async () => {
      await c.store.create([newOp("plain"), newOp("elsewhere")], T);
      await c.store.finish([{ id: "plain", attempt: 0, response: RESPONSE }], RETENTION, T);
      await c.store.finish([{ id: "elsewhere", attempt: 0, response: RESPONSE, events: [event("z", { destination: "other-instance-sink" })] }], RETENTION, T);
      assert.deepEqual(ids(await c.store.listEvents({ limit: 10 })), ["z"]);
      assert.deepEqual(await c.store.claimEvents(claimOf("w", T)), []);
      assert.deepEqual(ids(await c.store.claimEvents(claimOf("w", T, ["other-instance-sink"]))), ["z"]);
    });
  });
}
