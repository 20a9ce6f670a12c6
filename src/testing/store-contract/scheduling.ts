import assert from "node:assert/strict";
import type { StoredError } from "../../store/store.js";
import type { Contract } from "./context.js";
import { T, SLEEP, LEASE, RETENTION, RESPONSE, newOp, refs } from "./fixtures.js";

const UNAVAILABLE: StoredError = { code: 14, message: "the backend is down", status: new Uint8Array([8, 14, 18, 3, 100, 111, 119]) };
const LATER: StoredError = { code: 4, message: "too slow", status: new Uint8Array([8, 4]) };

/**
 * Scheduling state (docs/scheduling.md): failed attempts put back to be retried (retryLater) with their
 * attempt and error kept, and the deadline a start gives.
 */
export function scheduling(c: Contract): void {
  const { describe, it } = c.test;
  const { mustGet, running, recordEvents } = c;
  const claim = (owner: string, now: number) => c.store.claim({ owner, methods: [SLEEP], limit: 10, leaseMs: LEASE, now });

  describe("retryLater", () => {
    it("requeues the attempt at its runAfter with its attempt and error as lastFailure, keeping the attempt; announced as released", async () => {
      await running("op-1", "worker-a", T);
      const events = recordEvents();
      assert.deepEqual(await c.store.retryLater("worker-a", [{ id: "op-1", attempt: 1, runAfter: T + 5_000, error: UNAVAILABLE }], T + 10), [true]);
      assert.deepEqual(events, [{ kind: "released", ids: ["op-1"] }]);
      const record = await mustGet("op-1", T + 10);
      assert.equal(record.state, "queued");
      assert.equal(record.attempt, 1);
      assert.equal(record.runAfter, T + 5_000);
      assert.equal(record.leaseOwner, undefined);
      assert.equal(record.leaseExpireTime, undefined);
      assert.equal(record.updateTime, T + 10);
      assert.deepEqual(record.lastFailure, { attempt: 1, error: UNAVAILABLE });
      assert.equal(record.error, undefined, "not done: no error yet");
      assert.equal(await c.store.nextDueTime([SLEEP], T + 10), T + 5_000);
      assert.deepEqual(await claim("worker-b", T + 4_999), []);
      const [again] = await claim("worker-b", T + 5_000);
      assert.equal(again?.attempt, 2);
      assert.deepEqual(again?.lastFailure, { attempt: 1, error: UNAVAILABLE }, "the next attempt sees why the last one failed");
    });

    it("keeps the latest failure, and the last one after the operation ends", async () => {
      await running("op-1", "worker-a", T);
      await c.store.retryLater("worker-a", [{ id: "op-1", attempt: 1, runAfter: T, error: UNAVAILABLE }], T);
      await claim("worker-a", T);
      await c.store.retryLater("worker-a", [{ id: "op-1", attempt: 2, runAfter: T, error: LATER }], T + 1);
      assert.deepEqual((await mustGet("op-1", T + 1)).lastFailure, { attempt: 2, error: LATER });
      await claim("worker-a", T + 2);
      assert.deepEqual(await c.store.finish([{ id: "op-1", attempt: 3, response: RESPONSE }], RETENTION, T + 3), [true]);
      const done = await mustGet("op-1", T + 3);
      assert.equal(done.state, "done");
      assert.deepEqual(done.lastFailure, { attempt: 2, error: LATER });
    });

    it("is fenced: another owner, another attempt, a done or queued operation are left alone", async () => {
      await running("theirs", "worker-b", T);
      await running("mine", "worker-a", T);
      await c.store.create([newOp("queued")], T);
      await running("done", "worker-a", T);
      await c.store.finish([{ id: "done", attempt: 1, response: RESPONSE }], RETENTION, T);
      const events = recordEvents();
      const applied = await c.store.retryLater(
        "worker-a",
        [
          { id: "theirs", attempt: 1, runAfter: T, error: UNAVAILABLE },
          { id: "mine", attempt: 2, runAfter: T, error: UNAVAILABLE },
          { id: "queued", attempt: 0, runAfter: T, error: UNAVAILABLE },
          { id: "done", attempt: 1, runAfter: T, error: UNAVAILABLE },
          { id: "missing", attempt: 1, runAfter: T, error: UNAVAILABLE },
        ],
        T + 1,
      );
      assert.deepEqual(applied, [false, false, false, false, false]);
      assert.deepEqual(events, [], "nothing changed: no event");
      assert.equal((await mustGet("theirs")).state, "running");
      assert.equal((await mustGet("mine")).state, "running");
      assert.equal((await mustGet("mine")).lastFailure, undefined);
    });

    it("applies the first of two for one attempt", async () => {
      await running("op-1", "worker-a", T);
      const applied = await c.store.retryLater(
        "worker-a",
        [
          { id: "op-1", attempt: 1, runAfter: T + 7, error: UNAVAILABLE },
          { id: "op-1", attempt: 1, runAfter: T + 9, error: LATER },
        ],
        T,
      );
      assert.deepEqual(applied, [true, false]);
      const record = await mustGet("op-1");
      assert.equal(record.runAfter, T + 7);
      assert.deepEqual(record.lastFailure, { attempt: 1, error: UNAVAILABLE });
    });

    it("makes an operation whose cancellation was requested due at once, for the next claim to end it", async () => {
      await running("op-1", "worker-a", T);
      await c.store.requestCancel(refs("op-1"), T + 1);
      assert.deepEqual(await c.store.retryLater("worker-a", [{ id: "op-1", attempt: 1, runAfter: T + 60_000, error: UNAVAILABLE }], T + 2), [true]);
      const record = await mustGet("op-1", T + 2);
      assert.equal(record.runAfter, T + 2);
      assert.equal(record.cancelRequested, true);
      assert.equal((await claim("worker-a", T + 2)).length, 1);
    });

    it("a list reads neither lastFailure nor the deadline", async () => {
      await running("op-1", "worker-a", T, { deadline: T + 1_000 });
      await c.store.retryLater("worker-a", [{ id: "op-1", attempt: 1, runAfter: T, error: UNAVAILABLE }], T);
      const [listed] = await c.store.list({ parent: "", limit: 10, now: T });
      assert.equal(listed?.id, "op-1");
      assert.equal("lastFailure" in (listed ?? {}), false);
      assert.equal("deadline" in (listed ?? {}), false);
    });
  });

  describe("priority", () => {
    const claimOne = async (now: number) => (await c.store.claim({ owner: "w", methods: [SLEEP], limit: 1, leaseMs: LEASE, now }))[0]?.id;

    it("is kept as given and read back; absent when 0", async () => {
      const [high, plain] = await c.store.create([newOp("high", { priority: 5 }), newOp("plain", { priority: 0 })], T);
      assert.equal(high?.record.priority, 5);
      assert.equal("priority" in (plain?.record ?? {}), false);
      assert.equal((await mustGet("high")).priority, 5);
    });

    it("claims higher priorities first among operations due alike; a batch starts them in that order", async () => {
      await c.store.create([newOp("low", { priority: -1 }), newOp("mid"), newOp("top", { priority: 3 })], T);
      const batch = await c.store.claim({ owner: "w", methods: [SLEEP], limit: 3, leaseMs: LEASE, now: T });
      assert.deepEqual(batch.map((r) => r.id), ["top", "mid", "low"]);
    });

    it("ages: an operation due longer ago than the difference in priority (a second a point) goes first", async () => {
      await c.store.create([newOp("old", { runAfter: T - 11_000 })], T - 11_000);
      await c.store.create([newOp("urgent", { priority: 10 })], T);
      assert.equal(await claimOne(T), "old", "due 11 s ago beats 10 points");
      await c.store.create([newOp("older", { runAfter: T - 9_000 })], T - 9_000);
      assert.equal(await claimOne(T), "urgent", "due 9 s ago does not");
      assert.equal(await claimOne(T), "older");
    });

    it("a priority does not make an operation due before its time", async () => {
      await c.store.create([newOp("later", { runAfter: T + 5_000, priority: 1000 })], T);
      assert.equal(await claimOne(T + 4_999), undefined);
      assert.equal(await claimOne(T + 5_000), "later");
    });

    it("a priority out of range or not an integer is refused, nothing of the batch created", async () => {
      for (const priority of [1.5, 1_000_001, Number.NaN]) {
        await assert.rejects(c.store.create([newOp("fine"), newOp("bad", { priority })], T), TypeError, String(priority));
      }
      assert.equal(await c.store.get("fine", T), undefined);
    });
  });

  describe("fair queues", () => {
    const fair = (key: string, quantumMs = 100, limitsRate = false) => ({ fair: { key, quantumMs, limitsRate } });
    const claimAllIds = async (now: number) => (await c.store.claim({ owner: "w", methods: [SLEEP], limit: 100, leaseMs: LEASE, now })).map((r) => r.id);
    const claimOrder = async (now: number) => {
      const ids: string[] = [];
      for (;;) {
        const [next] = await c.store.claim({ owner: "w", methods: [SLEEP], limit: 1, leaseMs: LEASE, now });
        if (next === undefined) return ids;
        ids.push(next.id);
      }
    };

    it("places a key's operations a quantum apart, after its last; another key's arrival goes at its own due time, ahead of the backlog", async () => {
      const created = await c.store.create([newOp("a1", fair("a")), newOp("a2", fair("a")), newOp("a3", fair("a"))], T);
      assert.deepEqual(created.map((r) => r.record.fairTime), [T, T + 100, T + 200]);
      const [b1] = await c.store.create([newOp("b1", { runAfter: T + 1, ...fair("b") })], T + 1);
      assert.equal(b1?.record.fairTime, T + 1);
      const [a4] = await c.store.create([newOp("a4", { runAfter: T + 50, ...fair("a") })], T + 50);
      assert.equal(a4?.record.fairTime, T + 300, "after the key's last place, kept between batches");
      assert.deepEqual(await claimOrder(T + 50), ["a1", "b1", "a2", "a3", "a4"], "all due now: eligibility is the due time; the places only order them");
    });

    it("a key idle for longer than its backlog starts again at its due time; keys are per method", async () => {
      await c.store.create([newOp("a1", fair("a")), newOp("a2", fair("a"))], T);
      const [late] = await c.store.create([newOp("late", { runAfter: T + 10_000, ...fair("a") })], T + 10_000);
      assert.equal(late?.record.fairTime, T + 10_000);
      const [other] = await c.store.create([newOp("other", { method: "longrun.demo.v1.Demo.Other", ...fair("a") })], T);
      assert.equal(other?.record.fairTime, T, "another method's queue of the same key");
    });

    it("with limitsRate the place is also the due time: a key starts one operation per quantum", async () => {
      await c.store.create([newOp("r1", fair("r", 1000, true)), newOp("r2", fair("r", 1000, true)), newOp("free")], T);
      assert.deepEqual((await claimAllIds(T)).sort(), ["free", "r1"]);
      assert.equal(await c.store.nextDueTime([SLEEP], T), T + 1000);
      assert.deepEqual(await claimAllIds(T + 1000), ["r2"]);
    });

    it("operations not fair-queued keep the due-time order among themselves and have no place", async () => {
      const [plain] = await c.store.create([newOp("plain")], T);
      assert.equal("fairTime" in (plain?.record ?? {}), false);
    });
  });

  describe("interruptions", () => {
    it("counts the claims that took an operation up after an interrupted attempt — a lease run out, a release — not after a retryLater", async () => {
      await running("op-1", "worker-a", T);
      assert.equal((await mustGet("op-1")).interruptions, undefined, "the first attempt is no interruption");
      const [expired] = await c.store.claim({ owner: "worker-b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T + LEASE });
      assert.equal(expired?.interruptions, 1, "its lease ran out");
      await c.store.release("worker-b", [{ id: "op-1", attempt: 2 }], T + LEASE, T + LEASE);
      const [released] = await claim("worker-b", T + LEASE);
      assert.equal(released?.interruptions, 2, "given back at shutdown");
      await c.store.retryLater("worker-b", [{ id: "op-1", attempt: 3, runAfter: T + LEASE, error: UNAVAILABLE }], T + LEASE);
      const [retried] = await claim("worker-b", T + LEASE);
      assert.equal(retried?.attempt, 4);
      assert.equal(retried?.interruptions, 2, "a failure retried is no interruption");
    });
  });

  describe("deadline", () => {
    it("is kept as given at create and read back by get and claim; absent when none was given", async () => {
      const [timed, untimed] = await c.store.create([newOp("timed", { deadline: T + 60_000 }), newOp("untimed")], T);
      assert.equal(timed?.record.deadline, T + 60_000);
      assert.equal(untimed?.record.deadline, undefined);
      assert.equal("deadline" in (untimed?.record ?? {}), false, "absent, not undefined, so records of operations without one are as they were");
      assert.equal((await mustGet("timed")).deadline, T + 60_000);
      const claimed = await claim("w", T);
      assert.equal(claimed.find((r) => r.id === "timed")?.deadline, T + 60_000);
    });
  });
}
