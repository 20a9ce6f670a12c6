import assert from "node:assert/strict";
import type { ListedOperation, ListQuery } from "../../store/store.js";
import type { Contract } from "./context.js";
import { T, LEASE, RETENTION, RESPONSE, SLEEP, meta, filter, newOp, ids, refs } from "./fixtures.js";

const A = "projects/a";
const B = "projects/b";

/**
 * The resource an operation belongs to for authorization (the one its start was authorized on): kept as
 * given, read back by every read and claim, never changed; and `ListQuery.resource`, which lists only the
 * operations recorded with it — in the same newest-first keyset pages, with the same filters.
 */
export function resources(c: Contract): void {
  const { describe, it } = c.test;
  const { mustGet, running } = c;

  const resourcesOf = (records: readonly ({ resource: string | undefined } | undefined)[]) => records.map((r) => r?.resource);
  const list = async (query: Partial<ListQuery>) => ids(await c.store.list({ parent: "", limit: 100, now: T + 10, ...query }));

  describe("resource", () => {
    it("comes back from create, get, getViews, list and claim as given; absent stays undefined", async () => {
      const created = await c.store.create([newOp("a", { resource: A }), newOp("none"), newOp("b", { resource: B, principal: "user:bob" })], T);
      assert.deepEqual(resourcesOf(created.map((r) => r.record)), [A, undefined, B]);
      assert.equal((await mustGet("a")).resource, A);
      assert.ok("resource" in (await mustGet("none")), "an absent resource is a property holding undefined");
      assert.equal((await mustGet("b")).principal, "user:bob", "beside the principal, each its own");
      assert.deepEqual(resourcesOf(await c.store.getViews(["none", "b", "missing", "a"], T)), [undefined, B, undefined, A]);
      const listed = await c.store.list({ parent: "", limit: 10, now: T });
      assert.deepEqual(new Map(listed.map((r) => [r.id, r.resource])), new Map([["a", A], ["none", undefined], ["b", B]]));
      const claimed = await c.store.claim({ owner: "worker-a", methods: [SLEEP], limit: 10, leaseMs: LEASE, now: T });
      assert.deepEqual(new Map(claimed.map((r) => [r.id, r.resource])), new Map([["a", A], ["none", undefined], ["b", B]]));
    });

    it("is never changed by what follows; a repeated (method, requestId) returns the first start's", async () => {
      await running("op-1", "worker-a", T, { resource: A });
      await c.store.progress([{ id: "op-1", attempt: 1, metadata: RESPONSE }], T + 1);
      const [cancelled] = await c.store.requestCancel(refs("op-1"), T + 2);
      const [controlled] = await c.store.requestControl(refs("op-1"), "pause", T + 3);
      assert.deepEqual(resourcesOf([cancelled, controlled]), [A, A]);
      assert.deepEqual(await c.store.finish([{ id: "op-1", attempt: 1, response: RESPONSE }], RETENTION, T + 4), [true]);
      assert.deepEqual(resourcesOf(await c.store.getViews(["op-1"], T + 4)), [A]);

      await c.store.create([newOp("first", { requestId: "req-1", resource: A })], T);
      const [again] = await c.store.create([newOp("second", { requestId: "req-1", resource: B })], T + 1);
      assert.deepEqual([again?.created, again?.record.id, again?.record.resource], [false, "first", A]);
    });

    it("lists only the operations recorded with the resource, within the parent, newest first", async () => {
      await c.store.create([newOp("a1", { resource: A }), newOp("b1", { resource: B }), newOp("none")], T);
      await c.store.create([newOp("a2", { resource: A }), newOp("ab", { resource: `${A}b` }), newOp("sub", { resource: `${A}/locations/x` })], T + 1);
      await c.store.create([newOp("p-a", { parent: "projects/p", name: "projects/p/operations/p-a", resource: A })], T + 2);
      assert.deepEqual(await list({ resource: A }), ["a2", "a1"], "equal only: not a prefix, not a longer name, not another parent");
      assert.deepEqual(await list({ resource: B }), ["b1"]);
      assert.deepEqual(await list({ resource: "projects/c" }), []);
      assert.deepEqual(await list({ resource: "" }), [], "the empty resource is a resource like another, recorded by none");
      assert.deepEqual(await list({ resource: undefined }), ["sub", "ab", "a2", "none", "b1", "a1"], "undefined: every operation");
      assert.deepEqual(await list({ parent: "projects/p", resource: A }), ["p-a"]);
      assert.deepEqual(await list({ parent: "projects/p", resource: B }), []);
    });

    it("pages with the cursor through one resource's operations exactly once, skipping expired ones", async () => {
      for (let i = 0; i < 4; i++) {
        await c.store.create([newOp(`a-${i}-x`, { resource: A }), newOp(`b-${i}`, { resource: B }), newOp(`a-${i}-y`, { resource: A })], T + i);
      }
      await c.store.create([newOp("a-done", { resource: A })], T + 5);
      assert.deepEqual(await c.store.finish([{ id: "a-done", attempt: 0, response: RESPONSE }], 1, T + 5), [true]);
      const expected = await list({ resource: A });
      assert.deepEqual(expected, ["a-3-y", "a-3-x", "a-2-y", "a-2-x", "a-1-y", "a-1-x", "a-0-y", "a-0-x"], "a-done has expired");
      const seen: string[] = [];
      let after: { createTime: number; id: string } | undefined;
      for (let page = 0; page < 10; page++) {
        const records: ListedOperation[] = await c.store.list({ parent: "", resource: A, limit: 3, after, now: T + 10 });
        seen.push(...records.map((r) => r.id));
        if (records.length < 3) break;
        const last = records[records.length - 1]!;
        after = { createTime: last.createTime, id: last.id };
      }
      assert.deepEqual(seen, expected);
    });

    it("combines with a filter: both must hold", async () => {
      await c.store.create(
        [
          newOp("a-10", { resource: A, metadata: meta({ progress_percent: 10 }) }),
          newOp("a-90", { resource: A, metadata: meta({ progress_percent: 90 }) }),
          newOp("b-90", { resource: B, metadata: meta({ progress_percent: 90 }) }),
        ],
        T,
      );
      assert.deepEqual(await list({ resource: A, filter: filter("metadata.progress_percent > 50") }), ["a-90"]);
      assert.deepEqual(await list({ resource: B, filter: filter('name = "operations/a-90"') }), [], "a filter cannot reach outside the resource");
      assert.deepEqual(await list({ resource: A, filter: filter("metadata.progress_percent > 5"), after: { createTime: T, id: "a-90" } }), ["a-10"]);
    });

    it("keeps any storable string exactly, up to 1024 characters", async () => {
      const kept = ["", "projects/zoë-例え", "projects/🦀", `projects/${"x".repeat(1015)}`, "'; DROP TABLE operations; --", "a\\b\"c%_*"];
      assert.equal(kept[3]?.length, 1024);
      await c.store.create(kept.map((resource, i) => newOp(`op-${i}`, { resource })), T);
      assert.deepEqual(resourcesOf(await c.store.getViews(kept.map((_, i) => `op-${i}`), T)), kept);
      for (const [i, resource] of kept.entries()) assert.deepEqual(await list({ resource }), [`op-${i}`], JSON.stringify(resource));
    });

    it("refuses a resource longer than 1024 characters, not a string, or holding NUL or a lone surrogate: none of the batch is created", async () => {
      const refused: [string, unknown][] = [
        ["1025 characters", `projects/${"x".repeat(1016)}`],
        ["a number", 42],
        ["null", null],
        ["a NUL", "projects/a\u0000b"],
        ["a lone high surrogate", "projects/\ud83e"],
        ["a lone low surrogate", "projects/\udd80x"],
      ];
      for (const [what, resource] of refused) {
        const batch = [newOp("fine", { resource: A }), { ...newOp("bad"), resource: resource as string }];
        await assert.rejects(c.store.create(batch, T), TypeError, `a resource of ${what} is refused`);
        assert.deepEqual(await list({}), []);
      }
    });
  });
}
