import assert from "node:assert/strict";
import type { Contract } from "./context.js";
import { T, SLEEP, FAIL, LEASE, RETENTION, RESPONSE, ERROR, newOp, plain, ids, refs } from "./fixtures.js";

/**
 * Claiming due operations (oldest first, never one attempt twice), leases and their heartbeats, fencing
 * by attempt, giving leases back, and when the next operation falls due.
 */
export function claimAndLeases(c: Contract): void {
  const { describe, it } = c.test;
  const { mustGet, running } = c;

  describe("claim", () => {
    it("sets runAfter to the retry backoff of the attempt, so a lost attempt is retried only after it", async () => {
      const backoff = { initialMs: 1_000, maxMs: 5_000 };
      const claim = (owner: string, now: number) => c.store.claim({ owner, methods: [SLEEP], limit: 1, leaseMs: 100, now, retryBackoff: backoff });
      await c.store.create([newOp("op-1")], T);
      const first = await claim("a", T);
      assert.equal(first[0]?.attempt, 1);
      assert.equal(first[0]?.runAfter, T + 1_000, "initial * 2^0");
      assert.equal(await c.store.nextDueTime([SLEEP], T), T + 1_000, "due when both lease and backoff ran out");
      assert.deepEqual(await claim("b", T + 101), [], "the lease expired, the backoff has not");
      const second = await claim("b", T + 1_000);
      assert.equal(second[0]?.attempt, 2);
      assert.equal(second[0]?.runAfter, T + 1_000 + 2_000, "initial * 2^1");
      const third = await claim("c", T + 3_000);
      assert.equal(third[0]?.runAfter, T + 3_000 + 4_000, "initial * 2^2");
      const fourth = await claim("d", T + 7_000);
      assert.equal(fourth[0]?.runAfter, T + 7_000 + 5_000, "capped at maxMs");
    });

    it("retries a long run lost midway as soon as its lease expires", async () => {
      await c.store.create([newOp("op-1")], T);
      const backoff = { initialMs: 1_000, maxMs: 5_000 };
      await c.store.claim({ owner: "a", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T, retryBackoff: backoff });
      await c.store.heartbeat("a", [{ id: "op-1", attempt: 1 }], LEASE, T + 20_000);
      assert.deepEqual(await c.store.claim({ owner: "b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T + 20_000 + LEASE - 1, retryBackoff: backoff }), []);
      const [again] = await c.store.claim({ owner: "b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T + 20_000 + LEASE, retryBackoff: backoff });
      assert.equal(again?.attempt, 2);
    });

    it("takes due operations: state running, attempt + 1, a lease for the owner", async () => {
      await c.store.create([newOp("op-1")], T);
      const claimed = await c.store.claim({ owner: "worker-a", methods: [SLEEP], limit: 10, leaseMs: LEASE, now: T + 7 });
      assert.equal(claimed.length, 1);
      const [record] = claimed;
      assert.equal(record?.state, "running");
      assert.equal(record?.attempt, 1);
      assert.equal(record?.leaseOwner, "worker-a");
      assert.equal(record?.leaseExpireTime, T + 7 + LEASE);
      assert.equal(record?.updateTime, T + 7);
      assert.equal(record?.createTime, T);
      assert.deepStrictEqual(plain(await c.store.get("op-1", T + 7)), plain(record));
    });

    it("takes only operations whose runAfter has come", async () => {
      await c.store.create([newOp("now", { runAfter: T }), newOp("later", { runAfter: T + 1_000 })], T);
      const first = await c.store.claim({ owner: "w", methods: [SLEEP], limit: 10, leaseMs: LEASE, now: T + 999 });
      assert.deepEqual(ids(first), ["now"]);
      const second = await c.store.claim({ owner: "w", methods: [SLEEP], limit: 10, leaseMs: LEASE, now: T + 1_000 });
      assert.deepEqual(ids(second), ["later"]);
    });

    it("takes only operations of the listed methods", async () => {
      await c.store.create([newOp("sleep"), newOp("fail", { method: FAIL }), newOp("other", { method: "x.Y.Z" })], T);
      assert.deepEqual(await c.store.claim({ owner: "w", methods: [], limit: 10, leaseMs: LEASE, now: T }), []);
      assert.deepEqual(ids(await c.store.claim({ owner: "w", methods: [FAIL], limit: 10, leaseMs: LEASE, now: T })), ["fail"]);
      const rest = await c.store.claim({ owner: "w", methods: [SLEEP, FAIL], limit: 10, leaseMs: LEASE, now: T });
      assert.deepEqual(ids(rest), ["sleep"]);
      assert.equal((await mustGet("other")).state, "queued");
    });

    it("respects limit, oldest due first", async () => {
      await c.store.create([newOp("b", { runAfter: T + 2 }), newOp("c", { runAfter: T + 1 })], T);
      await c.store.create([newOp("a", { runAfter: T + 1 })], T + 1);
      await c.store.create([newOp("d", { runAfter: T })], T + 1);
      const now = T + 10;
      const first = await c.store.claim({ owner: "w", methods: [SLEEP], limit: 2, leaseMs: LEASE, now });
      assert.deepEqual(ids(first).sort(), ["c", "d"]);
      const second = await c.store.claim({ owner: "w", methods: [SLEEP], limit: 2, leaseMs: LEASE, now });
      assert.deepEqual(ids(second).sort(), ["a", "b"]);
      assert.deepEqual(await c.store.claim({ owner: "w", methods: [SLEEP], limit: 2, leaseMs: LEASE, now }), []);
    });

    it("does not take an operation under an unexpired lease, and takes it again once the lease expired", async () => {
      await running("op-1", "worker-a", T);
      const early = await c.store.claim({ owner: "worker-b", methods: [SLEEP], limit: 10, leaseMs: LEASE, now: T + LEASE - 1 });
      assert.deepEqual(early, []);
      const late = await c.store.claim({ owner: "worker-b", methods: [SLEEP], limit: 10, leaseMs: LEASE, now: T + LEASE });
      assert.deepEqual(ids(late), ["op-1"]);
      assert.equal(late[0]?.attempt, 2);
      assert.equal(late[0]?.leaseOwner, "worker-b");
      assert.equal(late[0]?.leaseExpireTime, T + 2 * LEASE);
    });

    it("never takes a done operation", async () => {
      await c.store.create([newOp("op-1")], T);
      await c.store.finish([{ id: "op-1", attempt: 0, error: ERROR }], RETENTION, T);
      assert.deepEqual(await c.store.claim({ owner: "w", methods: [SLEEP], limit: 10, leaseMs: LEASE, now: T + 1 }), []);
    });

    it("never gives the same operation to two concurrent claimers", async () => {
      const names = Array.from({ length: 20 }, (_, i) => `op-${String(i).padStart(2, "0")}`);
      await c.store.create(names.map((id) => newOp(id)), T);
      const claims = await Promise.all(
        ["w1", "w2", "w3"].map((owner) => c.store.claim({ owner, methods: [SLEEP], limit: 8, leaseMs: LEASE, now: T })),
      );
      const all = claims.flat().map((r) => r.id);
      assert.equal(new Set(all).size, all.length, "an operation was claimed twice");
      assert.deepEqual([...all].sort(), names);
      for (const [i, owner] of ["w1", "w2", "w3"].entries()) {
        for (const record of claims[i]!) assert.equal((await mustGet(record.id)).leaseOwner, owner);
      }
    });
  });

  describe("heartbeat", () => {
    it("reports, per lease in input order, whether it is still held, and cancellation", async () => {
      await running("mine", "worker-a", T);
      await running("cancelled", "worker-a", T);
      await running("theirs", "worker-b", T);
      await running("finished", "worker-a", T);
      await c.store.finish([{ id: "finished", attempt: 1, response: RESPONSE }], RETENTION, T);
      await c.store.requestCancel(refs("cancelled"), T);

      const results = await c.store.heartbeat(
        "worker-a",
        [
          { id: "mine", attempt: 1 },
          { id: "cancelled", attempt: 1 },
          { id: "theirs", attempt: 1 },
          { id: "mine", attempt: 2 },
          { id: "finished", attempt: 1 },
          { id: "missing", attempt: 1 },
        ],
        LEASE,
        T + 1,
      );
      assert.deepEqual(
        results.map((r) => [r.id, r.held]),
        [
          ["mine", true],
          ["cancelled", true],
          ["theirs", false],
          ["mine", false],
          ["finished", false],
          ["missing", false],
        ],
      );
      assert.equal(results[0]?.cancelRequested, false);
      assert.equal(results[1]?.cancelRequested, true);
      // A lease it does not hold is left alone.
      assert.equal((await mustGet("theirs")).leaseExpireTime, T + LEASE);
    });

    it("extends the lease to now + leaseMs, so no claimer steals it before then", async () => {
      await running("op-1", "worker-a", T);
      const [result] = await c.store.heartbeat("worker-a", [{ id: "op-1", attempt: 1 }], LEASE, T + 10_000);
      assert.equal(result?.held, true);
      assert.equal((await mustGet("op-1")).leaseExpireTime, T + 10_000 + LEASE);
      const steal = (now: number) => c.store.claim({ owner: "worker-b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now });
      assert.deepEqual(await steal(T + LEASE), []);
      assert.deepEqual(await steal(T + 10_000 + LEASE - 1), []);
      assert.deepEqual(ids(await steal(T + 10_000 + LEASE)), ["op-1"]);
    });

    it("is refused once another claimer took the operation at a later attempt", async () => {
      await running("op-1", "worker-a", T);
      await c.store.claim({ owner: "worker-b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T + LEASE });
      const [result] = await c.store.heartbeat("worker-a", [{ id: "op-1", attempt: 1 }], LEASE, T + LEASE + 1);
      assert.equal(result?.held, false);
      const record = await mustGet("op-1");
      assert.equal(record.leaseOwner, "worker-b");
      assert.equal(record.leaseExpireTime, T + 2 * LEASE);
    });
  });

  describe("release", () => {
    it("requeues the owner's leases at runAfter, keeping the attempt", async () => {
      await running("op-1", "worker-a", T);
      await c.store.release("worker-a", [{ id: "op-1", attempt: 1 }], T + 500, T + 100);
      const record = await mustGet("op-1");
      assert.equal(record.state, "queued");
      assert.equal(record.updateTime, T + 100);
      assert.equal(record.attempt, 1);
      assert.equal(record.leaseOwner, undefined);
      assert.equal(record.leaseExpireTime, undefined);
      assert.equal(record.runAfter, T + 500);
      const claim = (now: number) => c.store.claim({ owner: "worker-b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now });
      assert.deepEqual(await claim(T + 499), []);
      const [again] = await claim(T + 500);
      assert.equal(again?.attempt, 2);
      assert.equal(again?.leaseOwner, "worker-b");
    });

    it("a released operation can be finished at the attempt it was released with (cancel while queued)", async () => {
      await running("op-1", "worker-a", T);
      await c.store.release("worker-a", [{ id: "op-1", attempt: 1 }], T, T);
      assert.deepEqual(await c.store.finish([{ id: "op-1", attempt: 0, error: ERROR }], RETENTION, T + 1), [false]);
      assert.deepEqual(await c.store.finish([{ id: "op-1", attempt: 1, error: ERROR }], RETENTION, T + 1), [true]);
      assert.equal((await mustGet("op-1", T + 1)).state, "done");
    });

    it("leaves leases of another owner or attempt alone", async () => {
      await running("theirs", "worker-b", T);
      await running("mine", "worker-a", T);
      await c.store.release(
        "worker-a",
        [
          { id: "theirs", attempt: 1 },
          { id: "mine", attempt: 2 },
          { id: "missing", attempt: 1 },
        ],
        T,
        T,
      );
      for (const [id, owner] of [["theirs", "worker-b"], ["mine", "worker-a"]] as const) {
        const record = await mustGet(id);
        assert.equal(record.state, "running");
        assert.equal(record.leaseOwner, owner);
        assert.equal(record.leaseExpireTime, T + LEASE);
      }
    });
  });

  describe("nextDueTime", () => {
    it("is the earliest future time an operation of the methods becomes claimable", async () => {
      assert.equal(await c.store.nextDueTime([SLEEP], T), undefined);
      await c.store.create([newOp("due-now", { runAfter: T }), newOp("other", { method: FAIL, runAfter: T + 100 })], T);
      // Already due is not in the future: a caller claims it instead.
      assert.equal(await c.store.nextDueTime([SLEEP], T), undefined);
      assert.equal(await c.store.nextDueTime([FAIL], T), T + 100);
      assert.equal(await c.store.nextDueTime([], T), undefined);

      await c.store.create([newOp("backoff", { runAfter: T + 5_000 })], T);
      assert.equal(await c.store.nextDueTime([SLEEP], T), T + 5_000);
      assert.equal(await c.store.nextDueTime([SLEEP, FAIL], T), T + 100);

      // A running operation is due when its lease expires.
      await c.store.claim({ owner: "w", methods: [SLEEP], limit: 1, leaseMs: 1_000, now: T });
      assert.equal(await c.store.nextDueTime([SLEEP], T), T + 1_000);
      // Done operations never become due.
      await c.store.finish([{ id: "due-now", attempt: 1, response: RESPONSE }], RETENTION, T);
      assert.equal(await c.store.nextDueTime([SLEEP], T), T + 5_000);
      assert.equal(await c.store.nextDueTime([SLEEP], T + 5_000), undefined);
    });
  });

  describe("expireDeadLeases", () => {
    it("ends no lease of an owner that claimed through a store that is still open", async () => {
      await c.store.create([newOp("op-a"), newOp("op-b")], T);
      await c.store.claim({ owner: "owner-a", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T });
      await c.store.claim({ owner: "owner-b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T });
      assert.equal(await c.store.expireDeadLeases(T + 1), 0);
      for (const id of ["op-a", "op-b"]) {
        const record = await mustGet(id, T + 1);
        assert.equal(record.state, "running");
        assert.equal(record.leaseExpireTime, T + LEASE);
      }
    });
  });
}
