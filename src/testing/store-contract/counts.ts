import assert from "node:assert/strict";
import type { StoreCounts } from "../../store/store.js";
import type { Contract } from "./context.js";
import { T, RETENTION, RESPONSE, newOp, SLEEP } from "./fixtures.js";

/** Sorted, so stores may return groups in any order. */
function sorted(counts: StoreCounts): StoreCounts {
  return {
    operations: [...counts.operations].sort((a, b) => `${a.method}/${a.state}`.localeCompare(`${b.method}/${b.state}`)),
    events: [...counts.events].sort((a, b) => a.state.localeCompare(b.state)),
  };
}

/** counts: operations by method and state (expired ones left out), outbox events by state. */
export function counting(c: Contract): void {
  const { describe, it } = c.test;
  const { running } = c;

  describe("counts", () => {
    it("is empty for an empty store", async () => {
      assert.deepEqual(await c.store.counts(T), { operations: [], events: [] });
    });

    it("counts operations by method and state, leaves expired ones out, and counts outbox events by state", async () => {
      const op = await running("run", "worker-a", T);
      await c.store.create([newOp("q1"), newOp("q2"), newOp("other", { method: "t.Other/Run" }), newOp("done")], T);
      await c.store.finish([{ id: "done", attempt: 0, response: RESPONSE }], RETENTION, T);
      await c.store.finish(
        [{ id: "run", attempt: op.attempt, response: RESPONSE, events: [{ id: "e1", destination: "hook", type: "OPERATION_SUCCEEDED", attributes: {}, withPayload: false }] }],
        RETENTION,
        T,
      );
      await c.store.create([newOp("run2")], T);
      assert.deepEqual(sorted(await c.store.counts(T + 1)), {
        operations: [
          { method: SLEEP, state: "done", count: 2 },
          { method: SLEEP, state: "queued", count: 3 },
          { method: "t.Other/Run", state: "queued", count: 1 },
        ],
        events: [{ state: "pending", count: 1 }],
      });
      // Past their retention, the done ones are no longer counted (as no reader sees them).
      const later = sorted(await c.store.counts(T + RETENTION));
      assert.deepEqual(later.operations, [
        { method: SLEEP, state: "queued", count: 3 },
        { method: "t.Other/Run", state: "queued", count: 1 },
      ]);
    });
  });
}
