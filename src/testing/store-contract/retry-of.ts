import assert from "node:assert/strict";
import type { Contract } from "./context.js";
import { T, LEASE, RETENTION, RESPONSE, SLEEP, newOp } from "./fixtures.js";

/**
 * The link of a retry to the operation it runs again (OperationRecord.retryOf, `longrun retry`): kept as
 * given at create and read back by get and claim; absent (no property at all) when the start gave none;
 * never changed, done or not; not read by lists.
 */
export function retryOfs(c: Contract): void {
  const { describe, it } = c.test;
  const { mustGet } = c;

  describe("retryOf", () => {
    it("comes back from create, get and claim as given; absent when not given; not listed", async () => {
      const created = await c.store.create([newOp("again", { retryOf: "operations/failed-1" }), newOp("plain")], T);
      assert.deepEqual(created.map((r) => r.record.retryOf), ["operations/failed-1", undefined]);
      assert.equal((await mustGet("again")).retryOf, "operations/failed-1");
      assert.ok(!("retryOf" in (await mustGet("plain"))), "absent: records of other starts are as they were");
      const claimed = await c.store.claim({ owner: "worker-a", methods: [SLEEP], limit: 10, leaseMs: LEASE, now: T });
      assert.deepEqual(new Map(claimed.map((r) => [r.id, r.retryOf])), new Map([["again", "operations/failed-1"], ["plain", undefined]]));
      assert.deepEqual(await c.store.finish([{ id: "again", attempt: 1, response: RESPONSE }], RETENTION, T + 1), [true]);
      assert.equal((await mustGet("again", T + 1)).retryOf, "operations/failed-1", "kept once done");
      const listed = await c.store.list({ parent: "", limit: 10, now: T + 1 });
      assert.equal(listed.some((r) => "retryOf" in r), false);
    });
  });
}
