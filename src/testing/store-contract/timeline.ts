import assert from "node:assert/strict";
import type { Contract } from "./context.js";
import { T, SLEEP, LEASE, RETENTION, RESPONSE, newOp } from "./fixtures.js";

/**
 * The times of an operation's attempts (the dashboard's timeline): `startTime`, set by the first claim and
 * never again, and `attemptTime`, set by every claim, both written by the claim statement itself.
 */
export function timeline(c: Contract): void {
  const { describe, it } = c.test;
  const { mustGet } = c;
  const claim = (owner: string, now: number) => c.store.claim({ owner, methods: [SLEEP], limit: 1, leaseMs: LEASE, now });

  describe("start and attempt times", () => {
    it("a queued operation has neither; the first claim sets both to its now", async () => {
      await c.store.create([newOp("op-1")], T);
      const queued = await mustGet("op-1");
      assert.equal(queued.startTime, undefined);
      assert.equal(queued.attemptTime, undefined);
      const [claimed] = await claim("a", T + 5);
      assert.equal(claimed?.startTime, T + 5);
      assert.equal(claimed?.attemptTime, T + 5);
      const read = await mustGet("op-1", T + 5);
      assert.equal(read.startTime, T + 5);
      assert.equal(read.attemptTime, T + 5);
      const [listed] = await c.store.list({ parent: "", limit: 1, now: T + 5 });
      assert.equal(listed?.startTime, T + 5, "lists carry them too");
      assert.equal(listed?.attemptTime, T + 5);
    });

    it("a reclaim after the lease expired keeps startTime and moves attemptTime", async () => {
      await c.store.create([newOp("op-1")], T);
      await claim("a", T + 5);
      const [again] = await claim("b", T + 5 + LEASE);
      assert.equal(again?.attempt, 2);
      assert.equal(again?.startTime, T + 5);
      assert.equal(again?.attemptTime, T + 5 + LEASE);
    });

    it("release keeps both; the next claim moves only attemptTime; finish keeps both", async () => {
      await c.store.create([newOp("op-1")], T);
      await claim("a", T + 5);
      await c.store.release("a", [{ id: "op-1", attempt: 1 }], T + 100, T + 50);
      const released = await mustGet("op-1", T + 50);
      assert.equal(released.state, "queued");
      assert.equal(released.startTime, T + 5);
      assert.equal(released.attemptTime, T + 5);
      const [again] = await claim("b", T + 100);
      assert.equal(again?.startTime, T + 5);
      assert.equal(again?.attemptTime, T + 100);
      assert.deepEqual(await c.store.finish([{ id: "op-1", attempt: 2, response: RESPONSE }], RETENTION, T + 200), [true]);
      const done = await mustGet("op-1", T + 200);
      assert.equal(done.startTime, T + 5);
      assert.equal(done.attemptTime, T + 100);
      assert.equal(done.endTime, T + 200);
    });

    it("an operation ended while queued (cancelled before it ran) never started", async () => {
      await c.store.create([newOp("op-1")], T);
      assert.deepEqual(await c.store.finish([{ id: "op-1", attempt: 0, response: RESPONSE }], RETENTION, T + 1), [true]);
      const done = await mustGet("op-1", T + 1);
      assert.equal(done.startTime, undefined);
      assert.equal(done.attemptTime, undefined);
    });
  });
}
