import assert from "node:assert/strict";
import type { Contract } from "./context.js";
import { storedBytes, type ListQuery } from "../../store/store.js";
import { T, RETENTION, RESPONSE, ERROR, META_URL, SLEEP, meta, filter, newOp, ids } from "./fixtures.js";

/**
 * Listing: newest first, keyset pages within a parent, and AIP-160 filters compiled to each store's SQL.
 */
export function listing(c: Contract): void {
  const { describe, it } = c.test;
  const { running } = c;

  describe("list", () => {
    it("orders newest first, ties on createTime broken by id descending", async () => {
      await c.store.create([newOp("m")], T);
      await c.store.create([newOp("b"), newOp("z"), newOp("a")], T + 1);
      await c.store.create([newOp("c")], T + 2);
      const listed = await c.store.list({ parent: "", limit: 10, now: T + 3 });
      assert.deepEqual(ids(listed), ["c", "z", "b", "a", "m"]);
    });

    it("pages with the cursor through every operation exactly once, unaffected by newer ones", async () => {
      for (let i = 0; i < 4; i++) {
        // Three per createTime so page boundaries fall inside ties.
        await c.store.create([newOp(`op-${i}-a`), newOp(`op-${i}-b`), newOp(`op-${i}-c`)], T + i);
      }
      const expected = ids(await c.store.list({ parent: "", limit: 100, now: T + 10 }));
      assert.equal(expected.length, 12);

      const seen: string[] = [];
      let after: { createTime: number; id: string } | undefined;
      for (let page = 0; page < 20; page++) {
        const records = await c.store.list({ parent: "", limit: 5, after, now: T + 10 });
        seen.push(...records.map((r) => r.id));
        if (records.length < 5) break;
        const last = records[records.length - 1]!;
        after = { createTime: last.createTime, id: last.id };
        // An operation created between pages is newer than the cursor: it must not shift the pages.
        await c.store.create([newOp(`late-${page}`)], T + 5);
      }
      assert.deepEqual(seen, expected);
    });

    it("returns nothing after the oldest operation", async () => {
      await c.store.create([newOp("a"), newOp("b")], T);
      const listed = await c.store.list({ parent: "", limit: 10, after: { createTime: T, id: "a" }, now: T });
      assert.deepEqual(listed, []);
    });

    it("filters by parent", async () => {
      await c.store.create(
        [
          newOp("root"),
          newOp("p1-a", { parent: "projects/p1", name: "projects/p1/operations/p1-a" }),
          newOp("p1-b", { parent: "projects/p1", name: "projects/p1/operations/p1-b" }),
          newOp("p2-a", { parent: "projects/p2", name: "projects/p2/operations/p2-a" }),
        ],
        T,
      );
      assert.deepEqual(ids(await c.store.list({ parent: "projects/p1", limit: 10, now: T })), ["p1-b", "p1-a"]);
      assert.deepEqual(ids(await c.store.list({ parent: "projects/p2", limit: 10, now: T })), ["p2-a"]);
      assert.deepEqual(ids(await c.store.list({ parent: "", limit: 10, now: T })), ["root"]);
      assert.deepEqual(ids(await c.store.list({ parent: "projects/p3", limit: 10, now: T })), []);
    });

    it("filters by done-ness", async () => {
      await running("running");
      await c.store.create([newOp("queued"), newOp("finished")], T);
      assert.deepEqual(await c.store.finish([{ id: "finished", attempt: 0, response: RESPONSE }], RETENTION, T), [true]);
      assert.deepEqual(ids(await c.store.list({ parent: "", filter: filter("done = true"), limit: 10, now: T })), ["finished"]);
      assert.deepEqual(ids(await c.store.list({ parent: "", filter: filter("done = false"), limit: 10, now: T })), ["running", "queued"]);
      assert.deepEqual(ids(await c.store.list({ parent: "", limit: 10, now: T })), ["running", "queued", "finished"]);
      const page = await c.store.list({ parent: "", filter: filter("done = false"), limit: 10, after: { createTime: T, id: "running" }, now: T });
      assert.deepEqual(ids(page), ["queued"]);
    });

    it("returns at most limit records", async () => {
      await c.store.create(["a", "b", "c", "d"].map((id) => newOp(id)), T);
      assert.deepEqual(ids(await c.store.list({ parent: "", limit: 3, now: T })), ["d", "c", "b"]);
      assert.deepEqual(ids(await c.store.list({ parent: "", limit: 1, now: T })), ["d"]);
    });

    it("stops at the byte budget: through the first record past maxBytes, two at least; a filter, a cursor and limit apply as well", async () => {
      // Five done operations of 1000-byte responses (names of 15 bytes): 1015 stored bytes each.
      const big = (id: string) => ({ id, attempt: 0, response: { typeUrl: RESPONSE.typeUrl, value: new Uint8Array(1000).fill(7) } });
      const names = ["op-1", "op-2", "op-3", "op-4", "op-5"];
      for (const [i, id] of names.entries()) await c.store.create([newOp(id)], T + i);
      assert.deepEqual(await c.store.finish(names.map(big), RETENTION, T + 5), names.map(() => true));
      const list = async (query: Partial<ListQuery>) => ids(await c.store.list({ parent: "", limit: 10, now: T + 5, ...query }));
      assert.equal(storedBytes((await c.store.list({ parent: "", limit: 1, now: T + 5 }))[0]!), 1015);

      assert.deepEqual(await list({}), ["op-5", "op-4", "op-3", "op-2", "op-1"], "no budget");
      assert.deepEqual(await list({ maxBytes: 2030 }), ["op-5", "op-4", "op-3"], "two make 2030, not past it: the third passes it, and ends the walk");
      assert.deepEqual(await list({ maxBytes: 2500 }), ["op-5", "op-4", "op-3"]);
      assert.deepEqual(await list({ maxBytes: 2029 }), ["op-5", "op-4"], "the second passes 2029");
      assert.deepEqual(await list({ maxBytes: 10 }), ["op-5", "op-4"], "the first passes alone: two all the same");
      assert.deepEqual(await list({ maxBytes: 10, limit: 1 }), ["op-5"], "limit wins");
      assert.deepEqual(await list({ maxBytes: 1_000_000 }), ["op-5", "op-4", "op-3", "op-2", "op-1"]);
      assert.deepEqual(await list({ maxBytes: 2500, after: { createTime: T + 3, id: "op-4" } }), ["op-3", "op-2", "op-1"]);
      assert.deepEqual(await list({ maxBytes: 10, after: { createTime: T, id: "op-1" } }), []);
      assert.deepEqual(await list({ maxBytes: 10, after: { createTime: T + 1, id: "op-2" } }), ["op-1"], "one left: one");
      assert.deepEqual(await list({ maxBytes: 1500, filter: filter('name != "operations/op-4"') }), ["op-5", "op-3"]);
      // Metadata and errors count as well.
      await c.store.create([newOp("meta", { metadata: { typeUrl: META_URL, value: new Uint8Array(3000) } })], T + 6);
      assert.deepEqual(await list({ maxBytes: 2000, now: T + 6 }), ["meta", "op-5"]);
    });

    it("lists records without their request", async () => {
      await c.store.create([newOp("a")], T);
      const [listed] = await c.store.list({ parent: "", limit: 1, now: T });
      assert.equal(listed?.id, "a");
      assert.equal((listed as { request?: unknown } | undefined)?.request, undefined);
      assert.equal(listed?.method, SLEEP);
      assert.equal(listed?.createTime, T);
    });
  });

  describe("filtered list", () => {
    /** The ids `text` lists, newest first. */
    async function listed(text: string, now = T + 10): Promise<(string | undefined)[]> {
      return ids(await c.store.list({ parent: "", filter: filter(text), limit: 100, now }));
    }

    it("filters on metadata written by create, progress and finish, and on error fields", async () => {
      const progressed = await running("progressed", "worker-a", T, { metadata: meta({ progress_percent: 0 }) });
      await c.store.create([newOp("created", { metadata: meta({ progress_percent: 10, cancel_requested: false }) })], T + 1);
      assert.deepEqual(await c.store.progress([{ id: "progressed", attempt: progressed.attempt, metadata: meta({ progress_percent: 60 }) }], T + 2), [true]);
      await c.store.create([newOp("failed", { metadata: meta({ progress_percent: 5 }) })], T + 3);
      assert.deepEqual(
        await c.store.finish(
          [{ id: "failed", attempt: 0, error: ERROR, metadata: meta({ progress_percent: 90, cancel_requested: true, end_time: "2023-11-14T22:13:20.003Z" }) }],
          RETENTION,
          T + 4,
        ),
        [true],
      );
      await c.store.create([newOp("bare")], T + 5);

      assert.deepEqual(await listed("metadata.progress_percent > 50"), ["failed", "progressed"]);
      assert.deepEqual(await listed("metadata.progress_percent >= 10 AND metadata.progress_percent < 90"), ["created", "progressed"]);
      assert.deepEqual(await listed("metadata.cancel_requested = true"), ["failed"]);
      assert.deepEqual(await listed("metadata.end_time:*"), ["failed"]);
      assert.deepEqual(await listed('metadata.end_time > "2023-11-14T22:13:20.002999999Z"'), ["failed"]);
      assert.deepEqual(await listed('metadata.end_time > "2023-11-14T22:13:20.003Z"'), []);
      assert.deepEqual(await listed("metadata:*"), ["failed", "created", "progressed"]);
      assert.deepEqual(await listed("NOT metadata:*"), ["bare"]);
      assert.deepEqual(await listed("metadata.@type = longrun.demo.v1.SleepMetadata"), ["failed", "created", "progressed"]);
      // Unset metadata: unknown, so neither the restriction nor its negation matches.
      assert.deepEqual(await listed("metadata.progress_percent != 10"), ["failed", "progressed"]);
      assert.deepEqual(await listed("NOT metadata.progress_percent = 10"), ["failed", "progressed"]);
      assert.deepEqual(await listed('error.message = "bad" AND error.code = FAILED_PRECONDITION'), ["failed"]);
      assert.deepEqual(await listed("error.code != 9"), []);
      assert.deepEqual(await listed("done = true OR metadata.progress_percent = 10"), ["failed", "created"]);
      assert.deepEqual(await listed(`create_time >= "${new Date(T + 3).toISOString()}"`), ["bare", "failed"]);
    });

    it("serves many filter shapes, each with its own statement text", async () => {
      await c.store.create([newOp("a", { name: "operations/a" }), newOp("b", { name: "operations/b" })], T);
      for (let n = 1; n <= 49; n++) {
        const names = Array.from({ length: n }, (_, i) => `name = "operations/${i === n - 1 ? "a" : `x${i}`}"`).join(" OR ");
        assert.deepEqual(await listed(names), ["a"], names);
        assert.deepEqual(await listed(`done = false AND (${names.replace('"operations/a"', '"operations/b"')})`), ["b"], names);
      }
    });

    it("treats quotes, SQL and wildcard metacharacters in values as plain text", async () => {
      const names = ["it's", 'say "hi"', "a%b", "a_b", "a*b", "a?b", "a[b]", "50%", "back\\slash", "'; DROP TABLE operations; --", "Straße", "ABC"];
      await c.store.create(
        names.map((name, i) => newOp(`op-${i}`, { name: `operations/${name}` })),
        T,
      );
      const named = async (text: string) => (await listed(text)).map((id) => names[Number(id!.slice(3))]).sort();
      assert.deepEqual(await named(`name = "operations/it's"`), ["it's"]);
      assert.deepEqual(await named(`name = 'operations/say "hi"'`), ['say "hi"']);
      assert.deepEqual(await named(`name = "operations/'; DROP TABLE operations; --"`), ["'; DROP TABLE operations; --"]);
      assert.deepEqual(await named(`name = "*%*"`), ["50%", "a%b"]);
      assert.deepEqual(await named(`name = "*_*"`), ["a_b"]);
      assert.deepEqual(await named(`name = "*\\**"`), ["a*b"]);
      assert.deepEqual(await named(`name = "*?*"`), ["a?b"]);
      assert.deepEqual(await named(`name = "*[b]"`), ["a[b]"]);
      assert.deepEqual(await named(`name = "*\\\\*"`), ["back\\slash"]);
      assert.deepEqual(await named(`name = "operations/a*"`), ["a%b", "a*b", "a?b", "a[b]", "a_b"]);
      assert.deepEqual(await named(`name = "*abc"`), [], "case-sensitive");
      assert.deepEqual(await named(`name = "*ABC"`), ["ABC"]);
      assert.deepEqual(await named(`name = "*ß*"`), ["Straße"]);
      assert.deepEqual(await named(`name != "operations/a*"`), ["'; DROP TABLE operations; --", "50%", "ABC", "Straße", "back\\slash", "it's", 'say "hi"']);
      // Byte order: "'" < "5" < "A" < "S" < "a" < "b" < "i" < "s".
      assert.deepEqual(await named(`name < "operations/B"`), ["'; DROP TABLE operations; --", "50%", "ABC"]);
      assert.equal((await c.store.list({ parent: "", limit: 100, now: T })).length, names.length, "the table is still there");
    });
  });
}
