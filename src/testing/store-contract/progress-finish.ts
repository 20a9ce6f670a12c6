import assert from "node:assert/strict";
import type { Contract } from "./context.js";
import { T, SLEEP, LEASE, RETENTION, bytes, anyOf, RESPONSE, ERROR, newOp, plain } from "./fixtures.js";

/**
 * Progress and finish, fenced by attempt: exactly one of error and response, and a done operation never
 * changes again.
 */
export function progressAndFinish(c: Contract): void {
  const { describe, it } = c.test;
  const { mustGet, running } = c;

  describe("progress", () => {
    it("replaces the metadata of a running operation at its current attempt", async () => {
      await running("op-1", "worker-a", T, { metadata: anyOf("t/Meta", 1) });
      const applied = await c.store.progress([{ id: "op-1", attempt: 1, metadata: anyOf("t/Meta", 2, 3) }], T + 5);
      assert.deepEqual(applied, [true]);
      const record = await mustGet("op-1");
      assert.deepStrictEqual(plain(record)?.metadata, anyOf("t/Meta", 2, 3));
      assert.equal(record.updateTime, T + 5);
      assert.equal(record.state, "running");
    });

    it("is fenced: refused for a stale attempt, a done, a queued or a missing operation", async () => {
      await running("stale", "worker-a", T, { metadata: anyOf("t/Meta", 1) });
      await c.store.claim({ owner: "worker-b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T + LEASE });
      await running("done", "worker-a", T + LEASE);
      await c.store.finish([{ id: "done", attempt: 1, response: RESPONSE }], RETENTION, T + LEASE);
      await c.store.create([newOp("queued")], T);

      const applied = await c.store.progress(
        [
          { id: "stale", attempt: 1, metadata: anyOf("t/Meta", 9) },
          { id: "done", attempt: 1, metadata: anyOf("t/Meta", 9) },
          { id: "queued", attempt: 0, metadata: anyOf("t/Meta", 9) },
          { id: "missing", attempt: 1, metadata: anyOf("t/Meta", 9) },
          { id: "stale", attempt: 2, metadata: anyOf("t/Meta", 2) },
        ],
        T + LEASE + 1,
      );
      assert.deepEqual(applied, [false, false, false, false, true]);
      assert.deepStrictEqual(plain(await mustGet("stale"))?.metadata, anyOf("t/Meta", 2));
      assert.equal((await mustGet("done")).metadata, undefined);
      assert.equal((await mustGet("queued")).metadata, undefined);
    });
  });

  describe("finish", () => {
    it("ends an operation with a response: done, endTime, expireTime, lease cleared, attempt kept", async () => {
      await running("op-1", "worker-a", T, { metadata: anyOf("t/Meta", 1) });
      const applied = await c.store.finish(
        [{ id: "op-1", attempt: 1, response: RESPONSE, metadata: anyOf("t/Meta", 2) }],
        RETENTION,
        T + 100,
      );
      assert.deepEqual(applied, [true]);
      const record = plain(await mustGet("op-1", T + 100));
      assert.deepStrictEqual(record, {
        ...newOp("op-1"),
        principal: undefined,
        resource: undefined,
        metadata: anyOf("t/Meta", 2),
        state: "done",
        error: undefined,
        response: RESPONSE,
        cancelRequested: false,
        control: undefined,
        attempt: 1,
        leaseOwner: undefined,
        leaseExpireTime: undefined,
        createTime: T,
        startTime: T,
        attemptTime: T,
        updateTime: T + 100,
        endTime: T + 100,
        expireTime: T + 100 + RETENTION,
      });
    });

    it("ends an operation with an error, keeping the metadata when none is given", async () => {
      await running("op-1", "worker-a", T, { metadata: anyOf("t/Meta", 1) });
      assert.deepEqual(await c.store.finish([{ id: "op-1", attempt: 1, error: ERROR }], RETENTION, T + 1), [true]);
      const record = plain(await mustGet("op-1", T + 1));
      assert.equal(record?.state, "done");
      assert.deepStrictEqual(record?.error, ERROR);
      assert.equal(record?.response, undefined);
      assert.deepStrictEqual(record?.metadata, anyOf("t/Meta", 1));
    });

    it("keeps each operation's own bytes in a batch mixing responses, errors, empty and absent values", async () => {
      const ops = ["a", "b", "c", "d"].map((id) =>
        newOp(id, { request: id === "b" ? bytes() : bytes(id.charCodeAt(0), 0, 255), metadata: id === "c" ? undefined : anyOf("t/Meta", id.charCodeAt(0)) }),
      );
      await c.store.create(ops, T);
      const claimed = await c.store.claim({ owner: "w", methods: [SLEEP], limit: 4, leaseMs: LEASE, now: T });
      assert.equal(claimed.length, 4);
      assert.deepEqual(await c.store.progress([{ id: "a", attempt: 1, metadata: anyOf("t/Meta", 7, 7) }, { id: "d", attempt: 1, metadata: anyOf("t/Meta") }], T), [true, true]);
      const emptyResponse = anyOf("t/Empty");
      const applied = await c.store.finish(
        [
          { id: "a", attempt: 1, response: RESPONSE },
          { id: "b", attempt: 1, error: ERROR, metadata: anyOf("t/Meta", 1, 2, 3) },
          { id: "c", attempt: 1, response: emptyResponse, metadata: anyOf("t/Meta", 4) },
          { id: "d", attempt: 1, error: { ...ERROR, status: bytes(8, 5) } },
        ],
        RETENTION,
        T + 1,
      );
      assert.deepEqual(applied, [true, true, true, true]);
      const records = (await Promise.all(["a", "b", "c", "d"].map((id) => c.store.get(id, T + 1)))).map(plain);
      assert.deepStrictEqual(records.map((r) => r?.request), [bytes(97, 0, 255), bytes(), bytes(99, 0, 255), bytes(100, 0, 255)]);
      assert.deepStrictEqual(records.map((r) => r?.metadata), [anyOf("t/Meta", 7, 7), anyOf("t/Meta", 1, 2, 3), anyOf("t/Meta", 4), anyOf("t/Meta")]);
      assert.deepStrictEqual(records.map((r) => r?.response), [RESPONSE, undefined, emptyResponse, undefined]);
      assert.deepStrictEqual(records.map((r) => r?.error), [undefined, ERROR, undefined, { ...ERROR, status: bytes(8, 5) }]);
    });

    it("applies exactly once: a second finish is refused and changes nothing", async () => {
      await running("op-1");
      assert.deepEqual(await c.store.finish([{ id: "op-1", attempt: 1, response: RESPONSE }], RETENTION, T + 1), [true]);
      const before = plain(await mustGet("op-1", T + 1));
      const again = await c.store.finish(
        [
          { id: "op-1", attempt: 1, error: ERROR, metadata: anyOf("t/Meta", 9) },
          { id: "op-1", attempt: 0, error: ERROR },
        ],
        RETENTION,
        T + 2,
      );
      assert.deepEqual(again, [false, false]);
      assert.deepStrictEqual(plain(await mustGet("op-1", T + 2)), before);
    });

    it("is fenced: refused for a stale attempt, in a batch with applied ones", async () => {
      await running("stale", "worker-a", T);
      await c.store.claim({ owner: "worker-b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T + LEASE });
      const applied = await c.store.finish(
        [
          { id: "stale", attempt: 1, error: ERROR },
          { id: "missing", attempt: 1, error: ERROR },
          { id: "stale", attempt: 2, response: RESPONSE },
        ],
        RETENTION,
        T + LEASE + 1,
      );
      assert.deepEqual(applied, [false, false, true]);
      const record = plain(await mustGet("stale", T + LEASE + 1));
      assert.deepStrictEqual(record?.response, RESPONSE);
      assert.equal(record?.error, undefined);
    });

    it("with the attempt read while queued, applies only if no claim came in between", async () => {
      await running("running", "worker-a", T);
      await c.store.create([newOp("queued")], T);
      const applied = await c.store.finish(
        [
          { id: "running", attempt: 0, error: ERROR },
          { id: "queued", attempt: 0, error: ERROR },
          { id: "missing", attempt: 0, error: ERROR },
        ],
        RETENTION,
        T + 1,
      );
      assert.deepEqual(applied, [false, true, false]);
      const stillRunning = await mustGet("running", T + 1);
      assert.equal(stillRunning.state, "running");
      assert.equal(stillRunning.error, undefined);
      const queued = plain(await mustGet("queued", T + 1));
      assert.equal(queued?.state, "done");
      assert.equal(queued?.attempt, 0);
      assert.deepStrictEqual(queued?.error, ERROR);
      assert.equal(queued?.endTime, T + 1);
      // Claimed since: a finish at the attempt read before must not overtake the worker.
      await c.store.create([newOp("raced")], T);
      await c.store.claim({ owner: "worker-a", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T + 2 });
      assert.deepEqual(await c.store.finish([{ id: "raced", attempt: 0, error: ERROR }], RETENTION, T + 2), [false]);
    });

    it("rejects a result with neither or both of error and response", async () => {
      await running("op-1");
      await assert.rejects(c.store.finish([{ id: "op-1", attempt: 1 }], RETENTION, T + 1));
      await assert.rejects(
        c.store.finish([{ id: "op-1", attempt: 1, error: ERROR, response: RESPONSE }], RETENTION, T + 1),
      );
      assert.equal((await mustGet("op-1", T + 1)).state, "running");
    });
  });
}
