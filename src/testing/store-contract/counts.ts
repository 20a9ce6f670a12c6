import assert from "node:assert/strict";
import type { StoreCounts } from "../../store/store.js";
import type { Contract } from "./context.js";
import { T, RETENTION, RESPONSE, ERROR, newOp, refs, SLEEP } from "./fixtures.js";

/** Sorted, so stores may return groups in any order. */
function sorted(counts: StoreCounts): StoreCounts {
  return {
    operations: [...counts.operations].sort((a, b) => `${a.method}/${a.state}`.localeCompare(`${b.method}/${b.state}`)),
    events: [...counts.events].sort((a, b) => a.state.localeCompare(b.state)),
  };
}

/** counts: operations by method and state (expired ones left out; or only the unfinished ones), outbox events by state. */
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

    it("with done: false, counts only the unfinished operations (queued, running), and the outbox as always", async () => {
      const op = await running("run", "worker-a", T);
      await c.store.create([newOp("q1"), newOp("other", { method: "t.Other/Run" }), newOp("done")], T);
      await c.store.finish([{ id: "done", attempt: 0, response: RESPONSE, events: [{ id: "e1", destination: "hook", type: "OPERATION_SUCCEEDED", attributes: {}, withPayload: false }] }], RETENTION, T);
      assert.deepEqual(sorted(await c.store.counts(T + 1, { done: false })), {
        operations: [
          { method: SLEEP, state: "queued", count: 1 },
          { method: SLEEP, state: "running", count: 1 },
          { method: "t.Other/Run", state: "queued", count: 1 },
        ],
        events: [{ state: "pending", count: 1 }],
      });
      await c.store.finish([{ id: "run", attempt: op.attempt, response: RESPONSE }], RETENTION, T);
      assert.deepEqual(sorted(await c.store.counts(T + 1, { done: false })).operations, [
        { method: SLEEP, state: "queued", count: 1 },
        { method: "t.Other/Run", state: "queued", count: 1 },
      ]);
    });

    it("stateCounts: one parent's (and resource's) operations by method and dashboard state, expired ones left out", async () => {
      const CANCELLED = { code: 1, message: "cancelled", status: new Uint8Array([8, 1]) };
      await running("run", "worker-a", T);
      await running("paused", "worker-a", T);
      await c.store.requestControl(refs("paused"), "pause", T);
      await c.store.create([newOp("q1"), newOp("q2", { resource: "projects/x" }), newOp("ok"), newOp("bad"), newOp("stop"), newOp("other", { method: "t.Other/Run" })], T);
      await c.store.create([newOp("p", { parent: "projects/p", name: "projects/p/operations/p" })], T);
      await c.store.finish([{ id: "ok", attempt: 0, response: RESPONSE }, { id: "bad", attempt: 0, error: ERROR }], RETENTION, T);
      await c.store.finish([{ id: "stop", attempt: 0, error: CANCELLED }], RETENTION + 10, T);
      const byKey = (rows: { method: string; state: string; count: number }[]) =>
        [...rows].sort((a, b) => `${a.method}/${a.state}`.localeCompare(`${b.method}/${b.state}`));
      assert.deepEqual(byKey(await c.store.stateCounts({ parent: "", now: T + 1 })), [
        { method: SLEEP, state: "cancelled", count: 1 },
        { method: SLEEP, state: "done", count: 1 },
        { method: SLEEP, state: "failed", count: 1 },
        { method: SLEEP, state: "paused", count: 1 },
        { method: SLEEP, state: "queued", count: 2 },
        { method: SLEEP, state: "running", count: 1 },
        { method: "t.Other/Run", state: "queued", count: 1 },
      ]);
      assert.deepEqual(await c.store.stateCounts({ parent: "", resource: "projects/x", now: T + 1 }), [{ method: SLEEP, state: "queued", count: 1 }]);
      assert.deepEqual(await c.store.stateCounts({ parent: "projects/p", now: T + 1 }), [{ method: SLEEP, state: "queued", count: 1 }]);
      assert.deepEqual(await c.store.stateCounts({ parent: "projects/none", now: T + 1 }), []);
      // Past their retention, the done ones are no longer counted; a resumed one runs again.
      await c.store.requestControl(refs("paused"), "resume", T + 2);
      assert.deepEqual(byKey(await c.store.stateCounts({ parent: "", now: T + RETENTION })), [
        { method: SLEEP, state: "cancelled", count: 1 },
        { method: SLEEP, state: "queued", count: 2 },
        { method: SLEEP, state: "running", count: 2 },
        { method: "t.Other/Run", state: "queued", count: 1 },
      ]);
    });
  });
}
