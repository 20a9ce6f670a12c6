import assert from "node:assert/strict";
import type { Contract } from "./context.js";
import { T, RETENTION, RESPONSE, newOp } from "./fixtures.js";

/** Activity: operations created and finished per bucket of a window, per parent (and resource). */
export function activity(c: Contract): void {
  const { describe, it } = c.test;

  describe("activity", () => {
    it("counts creations and finishes per bucket of the window, for one parent (and resource), leaving empty buckets out", async () => {
      // Created at T, T+10, T+1000, T+1500; finished at T+1200 (two) and T+2500; another parent and a resource.
      await c.store.create([newOp("a"), newOp("b", { resource: "projects/x" } as never)], T);
      await c.store.create([newOp("c")], T + 10);
      await c.store.create([newOp("d")], T + 1000);
      await c.store.create([newOp("e")], T + 1500);
      await c.store.create([newOp("p", { parent: "projects/p", name: "projects/p/operations/p" })], T + 10);
      assert.deepEqual(await c.store.finish(["a", "b"].map((id) => ({ id, attempt: 0, response: RESPONSE })), RETENTION, T + 1200), [true, true]);
      assert.deepEqual(await c.store.finish([{ id: "d", attempt: 0, response: RESPONSE }], RETENTION, T + 2500), [true]);

      const window = { parent: "", since: T, until: T + 3000, bucketMs: 1000 };
      assert.deepEqual(await c.store.activity(window), [
        { start: T, started: 3, finished: 0 },
        { start: T + 1000, started: 2, finished: 2 },
        { start: T + 2000, started: 0, finished: 1 },
      ]);
      assert.deepEqual(await c.store.activity({ ...window, resource: "projects/x" }), [
        { start: T, started: 1, finished: 0 },
        { start: T + 1000, started: 0, finished: 1 },
      ]);
      assert.deepEqual(await c.store.activity({ ...window, parent: "projects/p" }), [{ start: T, started: 1, finished: 0 }]);
      // The window's ends: since included, until excluded.
      assert.deepEqual(await c.store.activity({ parent: "", since: T + 10, until: T + 1200, bucketMs: 60_000 }), [{ start: T + 10, started: 2, finished: 0 }], "c and d; e after until; the finishes at until excluded");
      assert.deepEqual(await c.store.activity({ parent: "", since: T, until: T, bucketMs: 1000 }), []);
      assert.deepEqual(await c.store.activity({ parent: "", since: T, until: T + 10, bucketMs: 0 }), []);
    });
  });
}
