import assert from "node:assert/strict";
import type { Contract } from "./context.js";
import { T, LEASE, RETENTION, RESPONSE, SLEEP, newOp } from "./fixtures.js";

const CONTEXT = JSON.stringify({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tracestate: "congo=t61rcWkgMzE" });

/**
 * The trace context of an operation's start (OperationRecord.traceContext): kept as given and read back by
 * create, get and claim; absent (no property at all) when the start gave none; never changed.
 */
export function traceContexts(c: Contract): void {
  const { describe, it } = c.test;
  const { mustGet } = c;

  describe("trace context", () => {
    it("comes back from create, get and claim as given; absent when not given", async () => {
      const created = await c.store.create([newOp("traced", { traceContext: CONTEXT }), newOp("plain")], T);
      assert.deepEqual(created.map((r) => r.record.traceContext), [CONTEXT, undefined]);
      assert.equal((await mustGet("traced")).traceContext, CONTEXT);
      assert.ok(!("traceContext" in (await mustGet("plain"))), "absent: records of untraced starts are as they were");
      const claimed = await c.store.claim({ owner: "worker-a", methods: [SLEEP], limit: 10, leaseMs: LEASE, now: T });
      assert.deepEqual(new Map(claimed.map((r) => [r.id, r.traceContext])), new Map([["traced", CONTEXT], ["plain", undefined]]));
      assert.deepEqual(await c.store.finish([{ id: "traced", attempt: 1, response: RESPONSE }], RETENTION, T + 1), [true]);
      assert.equal((await mustGet("traced", T + 1)).traceContext, CONTEXT, "kept once done");
    });

    it("a repeated (method, requestId) returns the first start's", async () => {
      await c.store.create([newOp("first", { requestId: "req-1", traceContext: CONTEXT })], T);
      const [again] = await c.store.create([newOp("second", { requestId: "req-1" })], T + 1);
      assert.deepEqual([again?.created, again?.record.id, again?.record.traceContext], [false, "first", CONTEXT]);
    });
  });
}
