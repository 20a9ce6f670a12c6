import assert from "node:assert/strict";
import type { ClaimLimit, NewOperation } from "../../store/store.js";
import type { Contract } from "./context.js";
import { T, SLEEP, FAIL, LEASE, RETENTION, RESPONSE, ERROR, newOp } from "./fixtures.js";

const UNAVAILABLE = { code: 14, message: "down", status: new Uint8Array([8, 14]) };

/**
 * Concurrency limits per method and per key (ClaimRequest.limits, docs/scheduling.md): a claim takes no
 * more than the free slots of each limited method and key; slots free when an operation ends, is put back
 * or its lease runs out; unlimited methods are unaffected.
 */
export function concurrency(c: Contract): void {
  const { describe, it } = c.test;
  const claim = (limits: readonly ClaimLimit[] | undefined, limit = 50, now = T, methods = [SLEEP]) =>
    c.store.claim({ owner: "worker-a", methods, limit, leaseMs: LEASE, now, limits });
  const ids = (records: readonly { id: string }[]) => records.map((r) => r.id).sort();
  const keyed = (id: string, key: string, overrides: Partial<NewOperation> = {}) => newOp(id, { groupKey: key, ...overrides });
  const create = (...ops: NewOperation[]) => c.store.create(ops, T);

  describe("concurrency limits", () => {
    it("takes no more of a method than its limit less its running operations", async () => {
      await create(...Array.from({ length: 6 }, (_, i) => newOp(`op-${i}`)));
      const limits = [{ method: SLEEP, limit: 4 }];
      assert.equal((await claim(limits, 3)).length, 3, "the batch's own limit is smaller");
      assert.deepEqual(ids(await claim(limits)), ["op-3"], "one slot left of four");
      assert.deepEqual(await claim(limits), [], "at its limit");
      assert.equal(await c.store.nextDueTime([SLEEP], T), T + LEASE, "the held-back ones are due already: the next due time is the running ones' lease expiry, not now");
    });

    it("takes no more of a key than perKey, and keys are independent", async () => {
      await create(...Array.from({ length: 5 }, (_, i) => keyed(`a-${i}`, "projects/a")), keyed("b-0", "projects/b"), keyed("b-1", "projects/b"), keyed("b-2", "projects/b"));
      const limits = [{ method: SLEEP, perKey: 2 }];
      const first = await claim(limits);
      assert.deepEqual(ids(first), ["a-0", "a-1", "b-0", "b-1"], "two of each key, in claim order, from one batch larger than the free slots");
      assert.deepEqual(await claim(limits), [], "both keys at their limit");
      await create(keyed("c-0", "projects/c"));
      assert.deepEqual(ids(await claim(limits)), ["c-0"], "a third key is not held back by the others");
    });

    it("applies both limits: a key's free slots, then the method's", async () => {
      await create(keyed("a-0", "a"), keyed("a-1", "a"), keyed("a-2", "a"), keyed("b-0", "b"), keyed("b-1", "b"));
      const limits = [{ method: SLEEP, limit: 3, perKey: 2 }];
      assert.deepEqual(ids(await claim(limits)), ["a-0", "a-1", "b-0"]);
      assert.deepEqual(await claim(limits), []);
    });

    it("frees slots when an operation finishes, is released, or is put back to be retried", async () => {
      await create(...Array.from({ length: 5 }, (_, i) => keyed(`a-${i}`, "a")));
      const limits = [{ method: SLEEP, perKey: 2 }];
      const [first, second] = await claim(limits);
      assert.ok(first && second);
      assert.deepEqual(await c.store.finish([{ id: first.id, attempt: 1, response: RESPONSE }], RETENTION, T + 1), [true]);
      const [third] = await claim(limits, 50, T + 1);
      assert.equal(third?.id, "a-2", "finished: a slot");
      assert.deepEqual(await claim(limits, 50, T + 1), []);
      await c.store.release("worker-a", [{ id: second.id, attempt: 1 }], T + 2, T + 2);
      assert.equal((await claim(limits, 50, T + 2)).length, 1, "released: a slot");
      assert.deepEqual(await claim(limits, 50, T + 2), []);
      assert.deepEqual(await c.store.retryLater("worker-a", [{ id: third.id, attempt: 1, runAfter: T + 10_000, error: UNAVAILABLE }], T + 3), [true]);
      assert.equal((await claim(limits, 50, T + 3)).length, 1, "put back to be retried: a slot");
    });

    it("does not count an operation whose lease ran out: it is the claim's to take again", async () => {
      await create(keyed("a-0", "a"), keyed("a-1", "a"));
      const limits = [{ method: SLEEP, perKey: 1 }];
      assert.deepEqual(ids(await claim(limits)), ["a-0"]);
      assert.deepEqual(await claim(limits, 50, T + LEASE - 1), [], "its lease is live: at the limit");
      const again = await claim(limits, 50, T + LEASE);
      assert.deepEqual(ids(again), ["a-0"], "the expired one is taken again, first in order, and alone: it counts once");
      assert.equal(again[0]?.attempt, 2);
    });

    it("limits operations without a key by their method only", async () => {
      await create(newOp("x-0"), newOp("x-1"), newOp("x-2"), keyed("a-0", "a"), keyed("a-1", "a"));
      assert.deepEqual(ids(await claim([{ method: SLEEP, perKey: 1 }])), ["a-0", "x-0", "x-1", "x-2"]);
    });

    it("leaves unlimited methods alone, in the same claim", async () => {
      await create(...Array.from({ length: 3 }, (_, i) => newOp(`s-${i}`)), ...Array.from({ length: 3 }, (_, i) => newOp(`f-${i}`, { method: FAIL })));
      const claimed = await claim([{ method: SLEEP, limit: 1 }], 50, T, [SLEEP, FAIL]);
      assert.deepEqual(ids(claimed), ["f-0", "f-1", "f-2", "s-0"]);
      assert.deepEqual(ids(await claim([{ method: FAIL, limit: 1 }], 50, T, [SLEEP, FAIL])), ["s-1", "s-2"], "the other's limit: SLEEP unlimited now");
      assert.deepEqual(await claim([{ method: SLEEP, limit: 1 }]), [], "SLEEP alone, at its limit");
    });

    it("counts only running operations: done ones free their slots for good", async () => {
      await create(keyed("a-0", "a"), keyed("a-1", "a"));
      const [first] = await claim([{ method: SLEEP, perKey: 1 }]);
      assert.ok(first);
      await c.store.finish([{ id: first.id, attempt: 1, error: ERROR }], RETENTION, T + 1);
      assert.deepEqual(ids(await claim([{ method: SLEEP, perKey: 1 }], 50, T + 1)), ["a-1"]);
    });

    it("refuses limits that are not positive integers", async () => {
      for (const bad of [{ limit: 0 }, { perKey: -1 }, { limit: 1.5 }, {}]) {
        await assert.rejects(claim([{ method: SLEEP, ...bad }]), TypeError, JSON.stringify(bad));
      }
    });
  });
}
