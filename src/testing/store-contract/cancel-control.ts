import assert from "node:assert/strict";
import type { Contract } from "./context.js";
import { T, SLEEP, LEASE, RETENTION, RESPONSE, newOp, plain, ids, refs } from "./fixtures.js";

/**
 * Cancellation and control commands requested on operations that are not done.
 */
export function cancelAndControl(c: Contract): void {
  const { describe, it } = c.test;
  const { mustGet, running } = c;

  describe("requestCancel", () => {
    it("marks queued and running operations, leaves done ones alone, and returns the records after the call", async () => {
      await running("running", "worker-a", T);
      await c.store.create([newOp("queued"), newOp("done")], T);
      await c.store.finish([{ id: "done", attempt: 0, response: RESPONSE }], RETENTION, T);
      const doneBefore = await mustGet("done");

      const records = await c.store.requestCancel(refs("running", "missing", "queued", "done"), T + 5);
      assert.deepEqual(ids(records), ["running", undefined, "queued", "done"]);
      const [run, missing, queued, done] = records;
      assert.equal(missing, undefined);

      assert.equal(queued?.cancelRequested, true);
      assert.equal(queued?.state, "queued");
      assert.equal(queued?.updateTime, T + 5);

      assert.equal(run?.cancelRequested, true);
      assert.equal(run?.state, "running");
      assert.equal(run?.attempt, 1);
      assert.equal(run?.leaseOwner, "worker-a");
      assert.equal(run?.updateTime, T + 5);

      assert.deepStrictEqual(plain(done), plain(doneBefore));
      assert.equal(done?.cancelRequested, false);

      assert.deepStrictEqual(plain(await c.store.get("queued", T + 5)), plain(queued));
      assert.deepStrictEqual(plain(await c.store.get("running", T + 5)), plain(run));
    });
  });

  describe("requestControl", () => {
    it("records the last command on queued and running operations, leaves done ones alone", async () => {
      await running("running", "worker-a", T);
      await c.store.create([newOp("queued"), newOp("done")], T);
      await c.store.finish([{ id: "done", attempt: 0, response: RESPONSE }], RETENTION, T);
      const doneBefore = await mustGet("done");

      const records = await c.store.requestControl(refs("running", "missing", "queued", "done"), "pause", T + 5);
      assert.deepEqual(ids(records), ["running", undefined, "queued", "done"]);
      const [run, , queued, done] = records;
      assert.equal(run?.control, "pause");
      assert.equal(run?.state, "running");
      assert.equal(run?.attempt, 1);
      assert.equal(run?.updateTime, T + 5);
      assert.equal(queued?.control, "pause");
      assert.equal(queued?.cancelRequested, false);
      assert.deepStrictEqual(plain(done), plain(doneBefore));
      assert.equal(done?.control, undefined);

      await c.store.requestControl(refs("running"), "resume", T + 6);
      assert.equal((await mustGet("running")).control, "resume");
      assert.deepStrictEqual(plain(await c.store.get("queued", T + 6)), plain(queued));
    });

    it("survives a retry: the next claim and every heartbeat carry the command", async () => {
      await running("op-1", "worker-a", T);
      await c.store.requestControl(refs("op-1"), "pause", T + 1);
      const [beat] = await c.store.heartbeat("worker-a", [{ id: "op-1", attempt: 1 }], LEASE, T + 2);
      assert.deepEqual([beat?.held, beat?.control, beat?.cancelRequested], [true, "pause", false]);
      const [lost] = await c.store.heartbeat("worker-z", [{ id: "op-1", attempt: 1 }], LEASE, T + 2);
      assert.deepEqual([lost?.held, lost?.control], [false, "pause"]);
      const [retried] = await c.store.claim({ owner: "worker-b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T + 2 + LEASE });
      assert.deepEqual([retried?.id, retried?.attempt, retried?.control], ["op-1", 2, "pause"]);
    });
  });
}
