import assert from "node:assert/strict";
import type { OperationRecord } from "../../store/store.js";
import type { Contract } from "./context.js";
import { T, SLEEP, FAIL, RETENTION, bytes, anyOf, RESPONSE, newOp, plain, ids } from "./fixtures.js";

/**
 * Creating operations (one at a time and in batches, idempotent by request id), reading them back whole
 * or as served views, and deleting them.
 */
export function createGetDelete(c: Contract): void {
  const { describe, it } = c.test;
  const { mustGet, running } = c;

  describe("create and get", () => {
    it("stores every field and returns it from create and get alike", async () => {
      const op = newOp("op-1", {
        name: "projects/p/operations/op-1",
        parent: "projects/p",
        requestId: "req-1",
        request: bytes(0, 1, 2, 255),
        principal: "user:alice",
        resource: "projects/p",
        metadata: anyOf("type.googleapis.com/longrun.test.v1.SleepMetadata", 8, 150, 1),
        runAfter: T + 500,
      });
      const expected: OperationRecord = {
        id: "op-1",
        name: "projects/p/operations/op-1",
        parent: "projects/p",
        method: SLEEP,
        requestId: "req-1",
        request: bytes(0, 1, 2, 255),
        principal: "user:alice",
        resource: "projects/p",
        metadata: anyOf("type.googleapis.com/longrun.test.v1.SleepMetadata", 8, 150, 1),
        state: "queued",
        error: undefined,
        response: undefined,
        cancelRequested: false,
        control: undefined,
        attempt: 0,
        leaseOwner: undefined,
        leaseExpireTime: undefined,
        runAfter: T + 500,
        createTime: T,
        startTime: undefined,
        attemptTime: undefined,
        updateTime: T,
        endTime: undefined,
        expireTime: undefined,
      };
      const [result] = await c.store.create([op], T);
      assert.equal(result?.created, true);
      assert.deepStrictEqual(plain(result?.record), expected);
      assert.deepStrictEqual(plain(await c.store.get("op-1", T + 1)), expected);
    });

    it("returns the optional fields from create as get reads them (trace context, deadline, retry of, priority, fair place)", async () => {
      const op = newOp("op-2", {
        traceContext: '{"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}',
        deadline: T + 60_000,
        retryOf: "operations/op-0",
        priority: 7,
        fair: { key: "tenant-a", quantumMs: 10, limitsRate: true },
        metadata: anyOf("type.googleapis.com/longrun.test.v1.SleepMetadata", 8, 1),
        runAfter: T + 5,
      });
      const [created] = await c.store.create([op], T);
      assert.equal(created?.created, true);
      const read = await mustGet("op-2");
      assert.deepStrictEqual(plain(created?.record), plain(read));
      assert.equal(read.fairTime, T + 5);
      assert.equal(read.priority, 7);
    });

    it("round-trips absent optional fields and an empty request as such", async () => {
      await c.store.create([newOp("op-1", { request: bytes() })], T);
      const record = await mustGet("op-1");
      assert.equal(record.requestId, undefined);
      assert.equal(record.principal, undefined);
      assert.equal(record.resource, undefined);
      assert.equal(record.metadata, undefined);
      assert.deepStrictEqual(new Uint8Array(record.request), bytes());
    });

    it("returns results in input order", async () => {
      const results = await c.store.create([newOp("c"), newOp("a"), newOp("b")], T);
      assert.deepEqual(
        results.map((r) => [r.record.id, r.created]),
        [["c", true], ["a", true], ["b", true]],
      );
    });

    it("returns undefined for a missing operation", async () => {
      assert.equal(await c.store.get("nope", T), undefined);
    });

    it("returns the existing operation for a repeated (method, requestId)", async () => {
      const [first] = await c.store.create([newOp("op-1", { requestId: "req-1", request: bytes(1) })], T);
      const [again] = await c.store.create([newOp("op-2", { requestId: "req-1", request: bytes(2) })], T + 10);
      assert.equal(again?.created, false);
      assert.deepStrictEqual(plain(again?.record), plain(first?.record));
      assert.equal(await c.store.get("op-2", T + 10), undefined);
      assert.deepEqual(ids(await c.store.list({ parent: "", limit: 10, now: T + 10 })), ["op-1"]);
    });

    it("returns the existing operation even after it changed", async () => {
      await running("op-1", "worker-a", T, { requestId: "req-1" });
      const [again] = await c.store.create([newOp("op-2", { requestId: "req-1" })], T + 10);
      assert.equal(again?.created, false);
      assert.equal(again?.record.id, "op-1");
      assert.equal(again?.record.state, "running");
      assert.equal(again?.record.attempt, 1);
    });

    it("scopes requestId to the method", async () => {
      const results = await c.store.create(
        [newOp("op-1", { requestId: "req-1" }), newOp("op-2", { requestId: "req-1", method: FAIL })],
        T,
      );
      assert.deepEqual(
        results.map((r) => [r.record.id, r.created]),
        [["op-1", true], ["op-2", true]],
      );
    });

    it("deduplicates within one batch", async () => {
      const results = await c.store.create(
        [newOp("op-1", { requestId: "req-1" }), newOp("op-x"), newOp("op-2", { requestId: "req-1" })],
        T,
      );
      assert.deepEqual(
        results.map((r) => [r.record.id, r.created]),
        [["op-1", true], ["op-x", true], ["op-1", false]],
      );
      assert.deepStrictEqual(plain(results[2]?.record), plain(results[0]?.record));
    });

    it("never deduplicates operations without a requestId", async () => {
      const results = await c.store.create([newOp("op-1"), newOp("op-2")], T);
      assert.deepEqual(
        results.map((r) => r.created),
        [true, true],
      );
    });

    it("applies a batch atomically: a failing create inserts none of it", async () => {
      await c.store.create([newOp("dup")], T);
      await assert.rejects(c.store.create([newOp("fresh"), newOp("dup")], T));
      assert.equal(await c.store.get("fresh", T), undefined);
    });
  });

  describe("delete", () => {
    it("deletes operations in any state and returns the ids that existed", async () => {
      await running("running");
      await c.store.create([newOp("queued"), newOp("done"), newOp("kept")], T);
      await c.store.finish([{ id: "done", attempt: 0, response: RESPONSE }], RETENTION, T);
      const deleted = await c.store.delete(["running", "missing", "done", "queued"]);
      assert.deepEqual(deleted, ["running", "done", "queued"]);
      for (const id of deleted) assert.equal(await c.store.get(id, T), undefined);
      assert.deepEqual(ids(await c.store.list({ parent: "", limit: 10, now: T })), ["kept"]);
      assert.deepEqual(await c.store.delete(["running"]), []);
    });
  });
}
