import assert from "node:assert/strict";
import type { Contract } from "./context.js";
import type { OperationRef } from "../../store/store.js";
import { T, SLEEP, LEASE, RETENTION, RESPONSE, newOp, plain, ids, refs } from "./fixtures.js";

/**
 * Cancellation and control commands requested on operations that are not done, named by id and name.
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

  describe("an id under another name", () => {
    // projects/b's operations, asked for by their ids under projects/a's names (and other wrong ones).
    const theirs = (id: string) => newOp(id, { parent: "projects/b", name: `projects/b/operations/${id}` });
    const right = (id: string): OperationRef => ({ id, name: `projects/b/operations/${id}` });
    const wrongs = (id: string): OperationRef[] => [
      { id, name: `projects/a/operations/${id}` },
      { id, name: `operations/${id}` },
      { id, name: `projects/b/operations/${id}x` },
    ];

    async function setUp(): Promise<void> {
      await running("running", "worker-a", T, { parent: "projects/b", name: "projects/b/operations/running" });
      await c.store.create([theirs("queued"), theirs("done")], T);
      await c.store.finish([{ id: "done", attempt: 0, response: RESPONSE }], RETENTION, T);
    }

    it("is not cancelled: answered like a missing operation, nothing changed, no event; the right name still cancels", async () => {
      await setUp();
      const before = await Promise.all(["running", "queued", "done"].map((id) => mustGet(id)));
      const events = c.recordEvents();

      const asked = ["running", "queued", "done"].flatMap(wrongs);
      assert.deepEqual(await c.store.requestCancel(asked, T + 5), asked.map(() => undefined));
      const after = await Promise.all(["running", "queued", "done"].map((id) => mustGet(id, T + 5)));
      assert.deepStrictEqual(after.map(plain), before.map(plain));
      assert.deepEqual(after.map((r) => r.cancelRequested), [false, false, false]);
      const [beat] = await c.store.heartbeat("worker-a", [{ id: "running", attempt: 1 }], LEASE, T + 5);
      assert.deepEqual([beat?.held, beat?.cancelRequested], [true, false]);
      assert.deepEqual(events, []);

      const records = await c.store.requestCancel([right("running"), ...wrongs("queued"), right("queued")], T + 6);
      assert.deepEqual(ids(records), ["running", undefined, undefined, undefined, "queued"]);
      assert.deepEqual([records[0]?.cancelRequested, records[4]?.cancelRequested], [true, true]);
      assert.deepEqual(events, [{ kind: "cancel-requested", ids: ["running", "queued"] }]);
    });

    it("is not sent the control command: answered like a missing operation, nothing changed, no event; the right name still is", async () => {
      await setUp();
      await c.store.requestControl([right("running"), right("queued")], "pause", T + 1);
      const before = await Promise.all(["running", "queued", "done"].map((id) => mustGet(id, T + 1)));
      const events = c.recordEvents();

      const asked = ["running", "queued", "done"].flatMap(wrongs);
      assert.deepEqual(await c.store.requestControl(asked, "resume", T + 5), asked.map(() => undefined));
      const after = await Promise.all(["running", "queued", "done"].map((id) => mustGet(id, T + 5)));
      assert.deepStrictEqual(after.map(plain), before.map(plain));
      assert.deepEqual(after.map((r) => r.control), ["pause", "pause", undefined]);
      assert.deepEqual(events, []);

      const records = await c.store.requestControl([...wrongs("running"), right("running")], "resume", T + 6);
      assert.deepEqual(ids(records), [undefined, undefined, undefined, "running"]);
      assert.equal(records[3]?.control, "resume");
      assert.equal((await mustGet("queued", T + 6)).control, "pause");
      assert.deepEqual(events, [{ kind: "control-requested", ids: ["running"] }]);
    });

    it("matches each ref's own pair: ids and names swapped between two refs of one batch match nothing", async () => {
      await c.store.create([theirs("x"), theirs("y")], T);
      const events = c.recordEvents();
      const swapped: OperationRef[] = [
        { id: "x", name: "projects/b/operations/y" },
        { id: "y", name: "projects/b/operations/x" },
      ];
      assert.deepEqual(await c.store.requestCancel(swapped, T + 1), [undefined, undefined]);
      assert.deepEqual(await c.store.requestControl(swapped, "pause", T + 1), [undefined, undefined]);
      for (const id of ["x", "y"]) {
        const record = await mustGet(id, T + 1);
        assert.deepEqual([record.cancelRequested, record.control, record.updateTime], [false, undefined, T]);
      }
      assert.deepEqual(events, []);
    });
  });
}
