import assert from "node:assert/strict";
import type { OperationView, StoredAny } from "../../store/store.js";
import type { Contract } from "./context.js";
import { T, anyOf, RESPONSE, ERROR, filter, newOp, ids } from "./fixtures.js";

/**
 * Retention: done operations expire, vanish from every read at once, and are purged later.
 */
export function retention(c: Contract): void {
  const { describe, it } = c.test;
  const { running } = c;

  describe("expiry", () => {
    it("hides a done operation from get and list once expireTime <= now", async () => {
      await c.store.create([newOp("gone"), newOp("kept")], T);
      await c.store.finish([{ id: "gone", attempt: 0, response: RESPONSE }], 1_000, T);
      assert.ok(await c.store.get("gone", T + 999));
      assert.deepEqual(ids(await c.store.list({ parent: "", limit: 10, now: T + 999 })), ["kept", "gone"]);
      assert.equal(await c.store.get("gone", T + 1_000), undefined);
      assert.deepEqual(ids(await c.store.list({ parent: "", limit: 10, now: T + 1_000 })), ["kept"]);
      assert.deepEqual(ids(await c.store.list({ parent: "", filter: filter("done = true"), limit: 10, now: T + 1_000 })), []);
    });

    it("getViews reads many in input order, undefined for missing and expired ones, repeats included", async () => {
      await c.store.create([newOp("gone"), newOp("kept"), newOp("other")], T);
      await c.store.finish([{ id: "gone", attempt: 0, response: RESPONSE }], 1_000, T);
      const views = await c.store.getViews(["kept", "missing", "gone", "kept", "other"], T + 1_000);
      assert.deepEqual(ids(views), ["kept", undefined, undefined, "kept", "other"]);
      assert.deepEqual(ids(await c.store.getViews(["gone"], T + 999)), ["gone"]);
      assert.deepEqual(ids(await c.store.getViews(["gone"], T + 1_000)), [undefined]);
      assert.deepEqual(await c.store.getViews([], T), []);
    });

    it("getViews serves what get reads, only the served fields, for one id and for many", async () => {
      await c.store.create([newOp("done", { metadata: anyOf("t/Meta", 3), principal: "user:alice", resource: "projects/a" }), newOp("failed"), newOp("queued")], T);
      await c.store.finish(
        [
          { id: "done", attempt: 0, response: RESPONSE, metadata: anyOf("t/Meta", 4) },
          { id: "failed", attempt: 0, error: ERROR },
        ],
        1_000,
        T,
      );
      const wanted = ["done", "failed", "queued", "done"];
      const served = (r: OperationView | undefined): OperationView | undefined => {
        if (r === undefined) return undefined;
        const copyAny = (a: StoredAny | undefined) => (a === undefined ? undefined : { typeUrl: a.typeUrl, value: new Uint8Array(a.value) });
        const error = r.error && { code: r.error.code, message: r.error.message, status: new Uint8Array(r.error.status) };
        return { id: r.id, name: r.name, state: r.state, metadata: copyAny(r.metadata), error, response: copyAny(r.response), principal: r.principal, resource: r.resource, endTime: r.endTime };
      };
      const views = (await c.store.getViews(wanted, T)).map(served);
      const records = await Promise.all(wanted.map((id) => c.store.get(id, T)));
      assert.deepStrictEqual(views, records.map(served));
      assert.deepStrictEqual(views[0]?.metadata, anyOf("t/Meta", 4));
      assert.deepStrictEqual(views[1]?.error, ERROR);
      assert.equal(views[2]?.state, "queued");
      assert.deepStrictEqual((await c.store.getViews(["failed"], T)).map(served), [views[1]]);
    });

    it("purgeExpired deletes only done operations past their expireTime, and counts them", async () => {
      await running("running");
      await c.store.create([newOp("a"), newOp("b"), newOp("c"), newOp("queued")], T);
      await c.store.finish(
        [
          { id: "a", attempt: 0, response: RESPONSE },
          { id: "b", attempt: 0, error: ERROR },
        ],
        1_000,
        T,
      );
      await c.store.finish([{ id: "c", attempt: 0, response: RESPONSE }], 5_000, T);
      assert.equal(await c.store.purgeExpired(T + 999), 0);
      assert.equal(await c.store.purgeExpired(T + 1_000), 2);
      assert.equal(await c.store.purgeExpired(T + 1_000), 0);
      // Gone for good: a reader with an earlier clock no longer finds them either.
      assert.equal(await c.store.get("a", T), undefined);
      assert.equal(await c.store.get("b", T), undefined);
      assert.ok(await c.store.get("c", T));
      assert.ok(await c.store.get("queued", T + 1_000_000));
      assert.ok(await c.store.get("running", T + 1_000_000));
      assert.deepEqual(await c.store.delete(["a", "b", "c"]), ["c"]);
    });
  });
}
