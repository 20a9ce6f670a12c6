/**
 * The Store contract: every store runs this same suite, through the Store interface only. A store's own
 * test file calls `storeContract` with a factory giving a fresh, empty store per test.
 */
import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildFilterSchema, compileFilter, type FilterExpr } from "../../src/filter/index.js";
import { SleepMetadataSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import type {
  ChangeEvent,
  NewOperation,
  OperationRecord,
  OperationView,
  Store,
  StoredAny,
  StoredError,
} from "../../src/store/store.js";

export interface StoreUnderTest {
  store: Store;
  cleanup(): Promise<void>;
}

/** A fixed, realistic clock origin: tests move time explicitly from here. */
const T = 1_700_000_000_000;
export const SLEEP = "longrun.test.v1.Test.Sleep";
const FAIL = "longrun.test.v1.Test.Fail";
const LEASE = 30_000;
const RETENTION = 60_000;

const bytes = (...values: number[]) => new Uint8Array(values);
const anyOf = (typeUrl: string, ...values: number[]): StoredAny => ({ typeUrl, value: bytes(...values) });
const RESPONSE = anyOf("type.googleapis.com/longrun.test.v1.SleepResponse", 8, 1);
const ERROR: StoredError = { code: 9, message: "bad", status: bytes(8, 9, 18, 3, 98, 97, 100) };
/** Metadata of the demo's type, as the runtime stores it: bytes, and JSON for filtering. */
const META_URL = "type.googleapis.com/longrun.demo.v1.SleepMetadata";
const meta = (json: object): StoredAny => ({ typeUrl: META_URL, value: bytes(8, 1), json: JSON.stringify(json) });
const SCHEMA = buildFilterSchema([SleepMetadataSchema]);

/** A typed filter over the fixed fields and the demo's metadata. */
function filter(text: string): FilterExpr {
  const compiled = compileFilter(text, SCHEMA);
  assert.ok(compiled, `${JSON.stringify(text)} should not be empty`);
  return compiled;
}

/** A new operation of the contract's test method, claimable at T unless overridden. */
export function newOp(id: string, overrides: Partial<NewOperation> = {}): NewOperation {
  return {
    id,
    name: `operations/${id}`,
    parent: "",
    method: SLEEP,
    requestId: undefined,
    request: bytes(10, 2, 49, 115),
    metadata: undefined,
    runAfter: T,
    ...overrides,
  };
}

/** Stores may hand back Buffers or other Uint8Array subclasses: compare bytes, not classes. */
function plain(record: OperationRecord | undefined): OperationRecord | undefined {
  if (record === undefined) return undefined;
  const copy = (b: Uint8Array) => new Uint8Array(b);
  const copyAny = (a: StoredAny | undefined) => (a === undefined ? undefined : { typeUrl: a.typeUrl, value: copy(a.value) });
  return {
    ...record,
    request: copy(record.request),
    metadata: copyAny(record.metadata),
    error: record.error === undefined ? undefined : { code: record.error.code, message: record.error.message, status: copy(record.error.status) },
    response: copyAny(record.response),
  };
}

function ids(records: readonly ({ id: string } | undefined)[]): (string | undefined)[] {
  return records.map((r) => r?.id);
}

export function storeContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      await cleanup();
    });

    async function mustGet(id: string, now = T): Promise<OperationRecord> {
      const record = await store.get(id, now);
      assert.ok(record, `operation ${id} should exist`);
      return record;
    }

    /**
     * Creates one operation and claims it; returns the claimed record. Call it before creating other due
     * operations of the same method, or the claim may pick one of those.
     */
    async function running(id: string, owner = "worker-a", now = T, overrides: Partial<NewOperation> = {}) {
      await store.create([newOp(id, { runAfter: now, ...overrides })], now);
      const claimed = await store.claim({ owner, methods: [overrides.method ?? SLEEP], limit: 1, leaseMs: LEASE, now });
      assert.deepEqual(ids(claimed), [id]);
      return claimed[0]!;
    }

    /** Records every change event from now on. */
    function recordEvents(): ChangeEvent[] {
      const events: ChangeEvent[] = [];
      store.subscribe((event) => events.push({ kind: event.kind, ids: [...event.ids] }));
      return events;
    }

    describe("create and get", () => {
      it("stores every field and returns it from create and get alike", async () => {
        const op = newOp("op-1", {
          name: "projects/p/operations/op-1",
          parent: "projects/p",
          requestId: "req-1",
          request: bytes(0, 1, 2, 255),
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
          updateTime: T,
          endTime: undefined,
          expireTime: undefined,
        };
        const [result] = await store.create([op], T);
        assert.equal(result?.created, true);
        assert.deepStrictEqual(plain(result?.record), expected);
        assert.deepStrictEqual(plain(await store.get("op-1", T + 1)), expected);
      });

      it("round-trips absent optional fields and an empty request as such", async () => {
        await store.create([newOp("op-1", { request: bytes() })], T);
        const record = await mustGet("op-1");
        assert.equal(record.requestId, undefined);
        assert.equal(record.metadata, undefined);
        assert.deepStrictEqual(new Uint8Array(record.request), bytes());
      });

      it("returns results in input order", async () => {
        const results = await store.create([newOp("c"), newOp("a"), newOp("b")], T);
        assert.deepEqual(
          results.map((r) => [r.record.id, r.created]),
          [["c", true], ["a", true], ["b", true]],
        );
      });

      it("returns undefined for a missing operation", async () => {
        assert.equal(await store.get("nope", T), undefined);
      });

      it("returns the existing operation for a repeated (method, requestId)", async () => {
        const [first] = await store.create([newOp("op-1", { requestId: "req-1", request: bytes(1) })], T);
        const [again] = await store.create([newOp("op-2", { requestId: "req-1", request: bytes(2) })], T + 10);
        assert.equal(again?.created, false);
        assert.deepStrictEqual(plain(again?.record), plain(first?.record));
        assert.equal(await store.get("op-2", T + 10), undefined);
        assert.deepEqual(ids(await store.list({ parent: "", limit: 10, now: T + 10 })), ["op-1"]);
      });

      it("returns the existing operation even after it changed", async () => {
        await running("op-1", "worker-a", T, { requestId: "req-1" });
        const [again] = await store.create([newOp("op-2", { requestId: "req-1" })], T + 10);
        assert.equal(again?.created, false);
        assert.equal(again?.record.id, "op-1");
        assert.equal(again?.record.state, "running");
        assert.equal(again?.record.attempt, 1);
      });

      it("scopes requestId to the method", async () => {
        const results = await store.create(
          [newOp("op-1", { requestId: "req-1" }), newOp("op-2", { requestId: "req-1", method: FAIL })],
          T,
        );
        assert.deepEqual(
          results.map((r) => [r.record.id, r.created]),
          [["op-1", true], ["op-2", true]],
        );
      });

      it("deduplicates within one batch", async () => {
        const results = await store.create(
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
        const results = await store.create([newOp("op-1"), newOp("op-2")], T);
        assert.deepEqual(
          results.map((r) => r.created),
          [true, true],
        );
      });

      it("applies a batch atomically: a failing create inserts none of it", async () => {
        await store.create([newOp("dup")], T);
        await assert.rejects(store.create([newOp("fresh"), newOp("dup")], T));
        assert.equal(await store.get("fresh", T), undefined);
      });
    });

    describe("list", () => {
      it("orders newest first, ties on createTime broken by id descending", async () => {
        await store.create([newOp("m")], T);
        await store.create([newOp("b"), newOp("z"), newOp("a")], T + 1);
        await store.create([newOp("c")], T + 2);
        const listed = await store.list({ parent: "", limit: 10, now: T + 3 });
        assert.deepEqual(ids(listed), ["c", "z", "b", "a", "m"]);
      });

      it("pages with the cursor through every operation exactly once, unaffected by newer ones", async () => {
        for (let i = 0; i < 4; i++) {
          // Three per createTime so page boundaries fall inside ties.
          await store.create([newOp(`op-${i}-a`), newOp(`op-${i}-b`), newOp(`op-${i}-c`)], T + i);
        }
        const expected = ids(await store.list({ parent: "", limit: 100, now: T + 10 }));
        assert.equal(expected.length, 12);

        const seen: string[] = [];
        let after: { createTime: number; id: string } | undefined;
        for (let page = 0; page < 20; page++) {
          const records = await store.list({ parent: "", limit: 5, after, now: T + 10 });
          seen.push(...records.map((r) => r.id));
          if (records.length < 5) break;
          const last = records[records.length - 1]!;
          after = { createTime: last.createTime, id: last.id };
          // An operation created between pages is newer than the cursor: it must not shift the pages.
          await store.create([newOp(`late-${page}`)], T + 5);
        }
        assert.deepEqual(seen, expected);
      });

      it("returns nothing after the oldest operation", async () => {
        await store.create([newOp("a"), newOp("b")], T);
        const listed = await store.list({ parent: "", limit: 10, after: { createTime: T, id: "a" }, now: T });
        assert.deepEqual(listed, []);
      });

      it("filters by parent", async () => {
        await store.create(
          [
            newOp("root"),
            newOp("p1-a", { parent: "projects/p1", name: "projects/p1/operations/p1-a" }),
            newOp("p1-b", { parent: "projects/p1", name: "projects/p1/operations/p1-b" }),
            newOp("p2-a", { parent: "projects/p2", name: "projects/p2/operations/p2-a" }),
          ],
          T,
        );
        assert.deepEqual(ids(await store.list({ parent: "projects/p1", limit: 10, now: T })), ["p1-b", "p1-a"]);
        assert.deepEqual(ids(await store.list({ parent: "projects/p2", limit: 10, now: T })), ["p2-a"]);
        assert.deepEqual(ids(await store.list({ parent: "", limit: 10, now: T })), ["root"]);
        assert.deepEqual(ids(await store.list({ parent: "projects/p3", limit: 10, now: T })), []);
      });

      it("filters by done-ness", async () => {
        await running("running");
        await store.create([newOp("queued"), newOp("finished")], T);
        assert.deepEqual(await store.finish([{ id: "finished", attempt: 0, response: RESPONSE }], RETENTION, T), [true]);
        assert.deepEqual(ids(await store.list({ parent: "", filter: filter("done = true"), limit: 10, now: T })), ["finished"]);
        assert.deepEqual(ids(await store.list({ parent: "", filter: filter("done = false"), limit: 10, now: T })), ["running", "queued"]);
        assert.deepEqual(ids(await store.list({ parent: "", limit: 10, now: T })), ["running", "queued", "finished"]);
        const page = await store.list({ parent: "", filter: filter("done = false"), limit: 10, after: { createTime: T, id: "running" }, now: T });
        assert.deepEqual(ids(page), ["queued"]);
      });

      it("returns at most limit records", async () => {
        await store.create(["a", "b", "c", "d"].map((id) => newOp(id)), T);
        assert.deepEqual(ids(await store.list({ parent: "", limit: 3, now: T })), ["d", "c", "b"]);
        assert.deepEqual(ids(await store.list({ parent: "", limit: 1, now: T })), ["d"]);
      });
    });

    describe("filtered list", () => {
      /** The ids `text` lists, newest first. */
      async function listed(text: string, now = T + 10): Promise<(string | undefined)[]> {
        return ids(await store.list({ parent: "", filter: filter(text), limit: 100, now }));
      }

      it("filters on metadata written by create, progress and finish, and on error fields", async () => {
        const progressed = await running("progressed", "worker-a", T, { metadata: meta({ progress_percent: 0 }) });
        await store.create([newOp("created", { metadata: meta({ progress_percent: 10, cancel_requested: false }) })], T + 1);
        assert.deepEqual(await store.progress([{ id: "progressed", attempt: progressed.attempt, metadata: meta({ progress_percent: 60 }) }], T + 2), [true]);
        await store.create([newOp("failed", { metadata: meta({ progress_percent: 5 }) })], T + 3);
        assert.deepEqual(
          await store.finish(
            [{ id: "failed", attempt: 0, error: ERROR, metadata: meta({ progress_percent: 90, cancel_requested: true, end_time: "2023-11-14T22:13:20.003Z" }) }],
            RETENTION,
            T + 4,
          ),
          [true],
        );
        await store.create([newOp("bare")], T + 5);

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
        await store.create([newOp("a", { name: "operations/a" }), newOp("b", { name: "operations/b" })], T);
        for (let n = 1; n <= 49; n++) {
          const names = Array.from({ length: n }, (_, i) => `name = "operations/${i === n - 1 ? "a" : `x${i}`}"`).join(" OR ");
          assert.deepEqual(await listed(names), ["a"], names);
          assert.deepEqual(await listed(`done = false AND (${names.replace('"operations/a"', '"operations/b"')})`), ["b"], names);
        }
      });

      it("treats quotes, SQL and wildcard metacharacters in values as plain text", async () => {
        const names = ["it's", 'say "hi"', "a%b", "a_b", "a*b", "a?b", "a[b]", "50%", "back\\slash", "'; DROP TABLE operations; --", "Straße", "ABC"];
        await store.create(
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
        assert.equal((await store.list({ parent: "", limit: 100, now: T })).length, names.length, "the table is still there");
      });
    });

    describe("expiry", () => {
      it("hides a done operation from get and list once expireTime <= now", async () => {
        await store.create([newOp("gone"), newOp("kept")], T);
        await store.finish([{ id: "gone", attempt: 0, response: RESPONSE }], 1_000, T);
        assert.ok(await store.get("gone", T + 999));
        assert.deepEqual(ids(await store.list({ parent: "", limit: 10, now: T + 999 })), ["kept", "gone"]);
        assert.equal(await store.get("gone", T + 1_000), undefined);
        assert.deepEqual(ids(await store.list({ parent: "", limit: 10, now: T + 1_000 })), ["kept"]);
        assert.deepEqual(ids(await store.list({ parent: "", filter: filter("done = true"), limit: 10, now: T + 1_000 })), []);
      });

      it("getViews reads many in input order, undefined for missing and expired ones, repeats included", async () => {
        await store.create([newOp("gone"), newOp("kept"), newOp("other")], T);
        await store.finish([{ id: "gone", attempt: 0, response: RESPONSE }], 1_000, T);
        const views = await store.getViews(["kept", "missing", "gone", "kept", "other"], T + 1_000);
        assert.deepEqual(ids(views), ["kept", undefined, undefined, "kept", "other"]);
        assert.deepEqual(ids(await store.getViews(["gone"], T + 999)), ["gone"]);
        assert.deepEqual(ids(await store.getViews(["gone"], T + 1_000)), [undefined]);
        assert.deepEqual(await store.getViews([], T), []);
      });

      it("getViews serves what get reads, only the served fields, for one id and for many", async () => {
        await store.create([newOp("done", { metadata: anyOf("t/Meta", 3) }), newOp("failed"), newOp("queued")], T);
        await store.finish(
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
          return { id: r.id, name: r.name, state: r.state, metadata: copyAny(r.metadata), error, response: copyAny(r.response) };
        };
        const views = (await store.getViews(wanted, T)).map(served);
        const records = await Promise.all(wanted.map((id) => store.get(id, T)));
        assert.deepStrictEqual(views, records.map(served));
        assert.deepStrictEqual(views[0]?.metadata, anyOf("t/Meta", 4));
        assert.deepStrictEqual(views[1]?.error, ERROR);
        assert.equal(views[2]?.state, "queued");
        assert.deepStrictEqual((await store.getViews(["failed"], T)).map(served), [views[1]]);
      });

      it("purgeExpired deletes only done operations past their expireTime, and counts them", async () => {
        await running("running");
        await store.create([newOp("a"), newOp("b"), newOp("c"), newOp("queued")], T);
        await store.finish(
          [
            { id: "a", attempt: 0, response: RESPONSE },
            { id: "b", attempt: 0, error: ERROR },
          ],
          1_000,
          T,
        );
        await store.finish([{ id: "c", attempt: 0, response: RESPONSE }], 5_000, T);
        assert.equal(await store.purgeExpired(T + 999), 0);
        assert.equal(await store.purgeExpired(T + 1_000), 2);
        assert.equal(await store.purgeExpired(T + 1_000), 0);
        // Gone for good: a reader with an earlier clock no longer finds them either.
        assert.equal(await store.get("a", T), undefined);
        assert.equal(await store.get("b", T), undefined);
        assert.ok(await store.get("c", T));
        assert.ok(await store.get("queued", T + 1_000_000));
        assert.ok(await store.get("running", T + 1_000_000));
        assert.deepEqual(await store.delete(["a", "b", "c"]), ["c"]);
      });
    });

    describe("requestCancel", () => {
      it("marks queued and running operations, leaves done ones alone, and returns the records after the call", async () => {
        await running("running", "worker-a", T);
        await store.create([newOp("queued"), newOp("done")], T);
        await store.finish([{ id: "done", attempt: 0, response: RESPONSE }], RETENTION, T);
        const doneBefore = await mustGet("done");

        const records = await store.requestCancel(["running", "missing", "queued", "done"], T + 5);
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

        assert.deepStrictEqual(plain(await store.get("queued", T + 5)), plain(queued));
        assert.deepStrictEqual(plain(await store.get("running", T + 5)), plain(run));
      });
    });

    describe("requestControl", () => {
      it("records the last command on queued and running operations, leaves done ones alone", async () => {
        await running("running", "worker-a", T);
        await store.create([newOp("queued"), newOp("done")], T);
        await store.finish([{ id: "done", attempt: 0, response: RESPONSE }], RETENTION, T);
        const doneBefore = await mustGet("done");

        const records = await store.requestControl(["running", "missing", "queued", "done"], "pause", T + 5);
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

        await store.requestControl(["running"], "resume", T + 6);
        assert.equal((await mustGet("running")).control, "resume");
        assert.deepStrictEqual(plain(await store.get("queued", T + 6)), plain(queued));
      });

      it("survives a retry: the next claim and every heartbeat carry the command", async () => {
        await running("op-1", "worker-a", T);
        await store.requestControl(["op-1"], "pause", T + 1);
        const [beat] = await store.heartbeat("worker-a", [{ id: "op-1", attempt: 1 }], LEASE, T + 2);
        assert.deepEqual([beat?.held, beat?.control, beat?.cancelRequested], [true, "pause", false]);
        const [lost] = await store.heartbeat("worker-z", [{ id: "op-1", attempt: 1 }], LEASE, T + 2);
        assert.deepEqual([lost?.held, lost?.control], [false, "pause"]);
        const [retried] = await store.claim({ owner: "worker-b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T + 2 + LEASE });
        assert.deepEqual([retried?.id, retried?.attempt, retried?.control], ["op-1", 2, "pause"]);
      });
    });

    describe("claim", () => {
      it("sets runAfter to the retry backoff of the attempt, so a lost attempt is retried only after it", async () => {
        const backoff = { initialMs: 1_000, maxMs: 5_000 };
        const claim = (owner: string, now: number) => store.claim({ owner, methods: [SLEEP], limit: 1, leaseMs: 100, now, retryBackoff: backoff });
        await store.create([newOp("op-1")], T);
        const first = await claim("a", T);
        assert.equal(first[0]?.attempt, 1);
        assert.equal(first[0]?.runAfter, T + 1_000, "initial * 2^0");
        assert.equal(await store.nextDueTime([SLEEP], T), T + 1_000, "due when both lease and backoff ran out");
        assert.deepEqual(await claim("b", T + 101), [], "the lease expired, the backoff has not");
        const second = await claim("b", T + 1_000);
        assert.equal(second[0]?.attempt, 2);
        assert.equal(second[0]?.runAfter, T + 1_000 + 2_000, "initial * 2^1");
        const third = await claim("c", T + 3_000);
        assert.equal(third[0]?.runAfter, T + 3_000 + 4_000, "initial * 2^2");
        const fourth = await claim("d", T + 7_000);
        assert.equal(fourth[0]?.runAfter, T + 7_000 + 5_000, "capped at maxMs");
      });

      it("retries a long run lost midway as soon as its lease expires", async () => {
        await store.create([newOp("op-1")], T);
        const backoff = { initialMs: 1_000, maxMs: 5_000 };
        await store.claim({ owner: "a", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T, retryBackoff: backoff });
        await store.heartbeat("a", [{ id: "op-1", attempt: 1 }], LEASE, T + 20_000);
        assert.deepEqual(await store.claim({ owner: "b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T + 20_000 + LEASE - 1, retryBackoff: backoff }), []);
        const [again] = await store.claim({ owner: "b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T + 20_000 + LEASE, retryBackoff: backoff });
        assert.equal(again?.attempt, 2);
      });

      it("takes due operations: state running, attempt + 1, a lease for the owner", async () => {
        await store.create([newOp("op-1")], T);
        const claimed = await store.claim({ owner: "worker-a", methods: [SLEEP], limit: 10, leaseMs: LEASE, now: T + 7 });
        assert.equal(claimed.length, 1);
        const [record] = claimed;
        assert.equal(record?.state, "running");
        assert.equal(record?.attempt, 1);
        assert.equal(record?.leaseOwner, "worker-a");
        assert.equal(record?.leaseExpireTime, T + 7 + LEASE);
        assert.equal(record?.updateTime, T + 7);
        assert.equal(record?.createTime, T);
        assert.deepStrictEqual(plain(await store.get("op-1", T + 7)), plain(record));
      });

      it("takes only operations whose runAfter has come", async () => {
        await store.create([newOp("now", { runAfter: T }), newOp("later", { runAfter: T + 1_000 })], T);
        const first = await store.claim({ owner: "w", methods: [SLEEP], limit: 10, leaseMs: LEASE, now: T + 999 });
        assert.deepEqual(ids(first), ["now"]);
        const second = await store.claim({ owner: "w", methods: [SLEEP], limit: 10, leaseMs: LEASE, now: T + 1_000 });
        assert.deepEqual(ids(second), ["later"]);
      });

      it("takes only operations of the listed methods", async () => {
        await store.create([newOp("sleep"), newOp("fail", { method: FAIL }), newOp("other", { method: "x.Y.Z" })], T);
        assert.deepEqual(await store.claim({ owner: "w", methods: [], limit: 10, leaseMs: LEASE, now: T }), []);
        assert.deepEqual(ids(await store.claim({ owner: "w", methods: [FAIL], limit: 10, leaseMs: LEASE, now: T })), ["fail"]);
        const rest = await store.claim({ owner: "w", methods: [SLEEP, FAIL], limit: 10, leaseMs: LEASE, now: T });
        assert.deepEqual(ids(rest), ["sleep"]);
        assert.equal((await mustGet("other")).state, "queued");
      });

      it("respects limit, oldest due first", async () => {
        await store.create([newOp("b", { runAfter: T + 2 }), newOp("c", { runAfter: T + 1 })], T);
        await store.create([newOp("a", { runAfter: T + 1 })], T + 1);
        await store.create([newOp("d", { runAfter: T })], T + 1);
        const now = T + 10;
        const first = await store.claim({ owner: "w", methods: [SLEEP], limit: 2, leaseMs: LEASE, now });
        assert.deepEqual(ids(first).sort(), ["c", "d"]);
        const second = await store.claim({ owner: "w", methods: [SLEEP], limit: 2, leaseMs: LEASE, now });
        assert.deepEqual(ids(second).sort(), ["a", "b"]);
        assert.deepEqual(await store.claim({ owner: "w", methods: [SLEEP], limit: 2, leaseMs: LEASE, now }), []);
      });

      it("does not take an operation under an unexpired lease, and takes it again once the lease expired", async () => {
        await running("op-1", "worker-a", T);
        const early = await store.claim({ owner: "worker-b", methods: [SLEEP], limit: 10, leaseMs: LEASE, now: T + LEASE - 1 });
        assert.deepEqual(early, []);
        const late = await store.claim({ owner: "worker-b", methods: [SLEEP], limit: 10, leaseMs: LEASE, now: T + LEASE });
        assert.deepEqual(ids(late), ["op-1"]);
        assert.equal(late[0]?.attempt, 2);
        assert.equal(late[0]?.leaseOwner, "worker-b");
        assert.equal(late[0]?.leaseExpireTime, T + 2 * LEASE);
      });

      it("never takes a done operation", async () => {
        await store.create([newOp("op-1")], T);
        await store.finish([{ id: "op-1", attempt: 0, error: ERROR }], RETENTION, T);
        assert.deepEqual(await store.claim({ owner: "w", methods: [SLEEP], limit: 10, leaseMs: LEASE, now: T + 1 }), []);
      });

      it("never gives the same operation to two concurrent claimers", async () => {
        const names = Array.from({ length: 20 }, (_, i) => `op-${String(i).padStart(2, "0")}`);
        await store.create(names.map((id) => newOp(id)), T);
        const claims = await Promise.all(
          ["w1", "w2", "w3"].map((owner) => store.claim({ owner, methods: [SLEEP], limit: 8, leaseMs: LEASE, now: T })),
        );
        const all = claims.flat().map((r) => r.id);
        assert.equal(new Set(all).size, all.length, "an operation was claimed twice");
        assert.deepEqual([...all].sort(), names);
        for (const [i, owner] of ["w1", "w2", "w3"].entries()) {
          for (const record of claims[i]!) assert.equal((await mustGet(record.id)).leaseOwner, owner);
        }
      });
    });

    describe("heartbeat", () => {
      it("reports, per lease in input order, whether it is still held, and cancellation", async () => {
        await running("mine", "worker-a", T);
        await running("cancelled", "worker-a", T);
        await running("theirs", "worker-b", T);
        await running("finished", "worker-a", T);
        await store.finish([{ id: "finished", attempt: 1, response: RESPONSE }], RETENTION, T);
        await store.requestCancel(["cancelled"], T);

        const results = await store.heartbeat(
          "worker-a",
          [
            { id: "mine", attempt: 1 },
            { id: "cancelled", attempt: 1 },
            { id: "theirs", attempt: 1 },
            { id: "mine", attempt: 2 },
            { id: "finished", attempt: 1 },
            { id: "missing", attempt: 1 },
          ],
          LEASE,
          T + 1,
        );
        assert.deepEqual(
          results.map((r) => [r.id, r.held]),
          [
            ["mine", true],
            ["cancelled", true],
            ["theirs", false],
            ["mine", false],
            ["finished", false],
            ["missing", false],
          ],
        );
        assert.equal(results[0]?.cancelRequested, false);
        assert.equal(results[1]?.cancelRequested, true);
        // A lease it does not hold is left alone.
        assert.equal((await mustGet("theirs")).leaseExpireTime, T + LEASE);
      });

      it("extends the lease to now + leaseMs, so no claimer steals it before then", async () => {
        await running("op-1", "worker-a", T);
        const [result] = await store.heartbeat("worker-a", [{ id: "op-1", attempt: 1 }], LEASE, T + 10_000);
        assert.equal(result?.held, true);
        assert.equal((await mustGet("op-1")).leaseExpireTime, T + 10_000 + LEASE);
        const steal = (now: number) => store.claim({ owner: "worker-b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now });
        assert.deepEqual(await steal(T + LEASE), []);
        assert.deepEqual(await steal(T + 10_000 + LEASE - 1), []);
        assert.deepEqual(ids(await steal(T + 10_000 + LEASE)), ["op-1"]);
      });

      it("is refused once another claimer took the operation at a later attempt", async () => {
        await running("op-1", "worker-a", T);
        await store.claim({ owner: "worker-b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T + LEASE });
        const [result] = await store.heartbeat("worker-a", [{ id: "op-1", attempt: 1 }], LEASE, T + LEASE + 1);
        assert.equal(result?.held, false);
        const record = await mustGet("op-1");
        assert.equal(record.leaseOwner, "worker-b");
        assert.equal(record.leaseExpireTime, T + 2 * LEASE);
      });
    });

    describe("progress", () => {
      it("replaces the metadata of a running operation at its current attempt", async () => {
        await running("op-1", "worker-a", T, { metadata: anyOf("t/Meta", 1) });
        const applied = await store.progress([{ id: "op-1", attempt: 1, metadata: anyOf("t/Meta", 2, 3) }], T + 5);
        assert.deepEqual(applied, [true]);
        const record = await mustGet("op-1");
        assert.deepStrictEqual(plain(record)?.metadata, anyOf("t/Meta", 2, 3));
        assert.equal(record.updateTime, T + 5);
        assert.equal(record.state, "running");
      });

      it("is fenced: refused for a stale attempt, a done, a queued or a missing operation", async () => {
        await running("stale", "worker-a", T, { metadata: anyOf("t/Meta", 1) });
        await store.claim({ owner: "worker-b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T + LEASE });
        await running("done", "worker-a", T + LEASE);
        await store.finish([{ id: "done", attempt: 1, response: RESPONSE }], RETENTION, T + LEASE);
        await store.create([newOp("queued")], T);

        const applied = await store.progress(
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
        const applied = await store.finish(
          [{ id: "op-1", attempt: 1, response: RESPONSE, metadata: anyOf("t/Meta", 2) }],
          RETENTION,
          T + 100,
        );
        assert.deepEqual(applied, [true]);
        const record = plain(await mustGet("op-1", T + 100));
        assert.deepStrictEqual(record, {
          ...newOp("op-1"),
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
          updateTime: T + 100,
          endTime: T + 100,
          expireTime: T + 100 + RETENTION,
        });
      });

      it("ends an operation with an error, keeping the metadata when none is given", async () => {
        await running("op-1", "worker-a", T, { metadata: anyOf("t/Meta", 1) });
        assert.deepEqual(await store.finish([{ id: "op-1", attempt: 1, error: ERROR }], RETENTION, T + 1), [true]);
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
        await store.create(ops, T);
        const claimed = await store.claim({ owner: "w", methods: [SLEEP], limit: 4, leaseMs: LEASE, now: T });
        assert.equal(claimed.length, 4);
        assert.deepEqual(await store.progress([{ id: "a", attempt: 1, metadata: anyOf("t/Meta", 7, 7) }, { id: "d", attempt: 1, metadata: anyOf("t/Meta") }], T), [true, true]);
        const emptyResponse = anyOf("t/Empty");
        const applied = await store.finish(
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
        const records = (await Promise.all(["a", "b", "c", "d"].map((id) => store.get(id, T + 1)))).map(plain);
        assert.deepStrictEqual(records.map((r) => r?.request), [bytes(97, 0, 255), bytes(), bytes(99, 0, 255), bytes(100, 0, 255)]);
        assert.deepStrictEqual(records.map((r) => r?.metadata), [anyOf("t/Meta", 7, 7), anyOf("t/Meta", 1, 2, 3), anyOf("t/Meta", 4), anyOf("t/Meta")]);
        assert.deepStrictEqual(records.map((r) => r?.response), [RESPONSE, undefined, emptyResponse, undefined]);
        assert.deepStrictEqual(records.map((r) => r?.error), [undefined, ERROR, undefined, { ...ERROR, status: bytes(8, 5) }]);
      });

      it("applies exactly once: a second finish is refused and changes nothing", async () => {
        await running("op-1");
        assert.deepEqual(await store.finish([{ id: "op-1", attempt: 1, response: RESPONSE }], RETENTION, T + 1), [true]);
        const before = plain(await mustGet("op-1", T + 1));
        const again = await store.finish(
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
        await store.claim({ owner: "worker-b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T + LEASE });
        const applied = await store.finish(
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
        await store.create([newOp("queued")], T);
        const applied = await store.finish(
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
        await store.create([newOp("raced")], T);
        await store.claim({ owner: "worker-a", methods: [SLEEP], limit: 1, leaseMs: LEASE, now: T + 2 });
        assert.deepEqual(await store.finish([{ id: "raced", attempt: 0, error: ERROR }], RETENTION, T + 2), [false]);
      });

      it("rejects a result with neither or both of error and response", async () => {
        await running("op-1");
        await assert.rejects(store.finish([{ id: "op-1", attempt: 1 }], RETENTION, T + 1));
        await assert.rejects(
          store.finish([{ id: "op-1", attempt: 1, error: ERROR, response: RESPONSE }], RETENTION, T + 1),
        );
        assert.equal((await mustGet("op-1", T + 1)).state, "running");
      });
    });

    describe("release", () => {
      it("requeues the owner's leases at runAfter, keeping the attempt", async () => {
        await running("op-1", "worker-a", T);
        await store.release("worker-a", [{ id: "op-1", attempt: 1 }], T + 500, T + 100);
        const record = await mustGet("op-1");
        assert.equal(record.state, "queued");
        assert.equal(record.updateTime, T + 100);
        assert.equal(record.attempt, 1);
        assert.equal(record.leaseOwner, undefined);
        assert.equal(record.leaseExpireTime, undefined);
        assert.equal(record.runAfter, T + 500);
        const claim = (now: number) => store.claim({ owner: "worker-b", methods: [SLEEP], limit: 1, leaseMs: LEASE, now });
        assert.deepEqual(await claim(T + 499), []);
        const [again] = await claim(T + 500);
        assert.equal(again?.attempt, 2);
        assert.equal(again?.leaseOwner, "worker-b");
      });

      it("a released operation can be finished at the attempt it was released with (cancel while queued)", async () => {
        await running("op-1", "worker-a", T);
        await store.release("worker-a", [{ id: "op-1", attempt: 1 }], T, T);
        assert.deepEqual(await store.finish([{ id: "op-1", attempt: 0, error: ERROR }], RETENTION, T + 1), [false]);
        assert.deepEqual(await store.finish([{ id: "op-1", attempt: 1, error: ERROR }], RETENTION, T + 1), [true]);
        assert.equal((await mustGet("op-1", T + 1)).state, "done");
      });

      it("leaves leases of another owner or attempt alone", async () => {
        await running("theirs", "worker-b", T);
        await running("mine", "worker-a", T);
        await store.release(
          "worker-a",
          [
            { id: "theirs", attempt: 1 },
            { id: "mine", attempt: 2 },
            { id: "missing", attempt: 1 },
          ],
          T,
          T,
        );
        for (const [id, owner] of [["theirs", "worker-b"], ["mine", "worker-a"]] as const) {
          const record = await mustGet(id);
          assert.equal(record.state, "running");
          assert.equal(record.leaseOwner, owner);
          assert.equal(record.leaseExpireTime, T + LEASE);
        }
      });
    });

    describe("nextDueTime", () => {
      it("is the earliest future time an operation of the methods becomes claimable", async () => {
        assert.equal(await store.nextDueTime([SLEEP], T), undefined);
        await store.create([newOp("due-now", { runAfter: T }), newOp("other", { method: FAIL, runAfter: T + 100 })], T);
        // Already due is not in the future: a caller claims it instead.
        assert.equal(await store.nextDueTime([SLEEP], T), undefined);
        assert.equal(await store.nextDueTime([FAIL], T), T + 100);
        assert.equal(await store.nextDueTime([], T), undefined);

        await store.create([newOp("backoff", { runAfter: T + 5_000 })], T);
        assert.equal(await store.nextDueTime([SLEEP], T), T + 5_000);
        assert.equal(await store.nextDueTime([SLEEP, FAIL], T), T + 100);

        // A running operation is due when its lease expires.
        await store.claim({ owner: "w", methods: [SLEEP], limit: 1, leaseMs: 1_000, now: T });
        assert.equal(await store.nextDueTime([SLEEP], T), T + 1_000);
        // Done operations never become due.
        await store.finish([{ id: "due-now", attempt: 1, response: RESPONSE }], RETENTION, T);
        assert.equal(await store.nextDueTime([SLEEP], T), T + 5_000);
        assert.equal(await store.nextDueTime([SLEEP], T + 5_000), undefined);
      });
    });

    describe("delete", () => {
      it("deletes operations in any state and returns the ids that existed", async () => {
        await running("running");
        await store.create([newOp("queued"), newOp("done"), newOp("kept")], T);
        await store.finish([{ id: "done", attempt: 0, response: RESPONSE }], RETENTION, T);
        const deleted = await store.delete(["running", "missing", "done", "queued"]);
        assert.deepEqual(deleted, ["running", "done", "queued"]);
        for (const id of deleted) assert.equal(await store.get(id, T), undefined);
        assert.deepEqual(ids(await store.list({ parent: "", limit: 10, now: T })), ["kept"]);
        assert.deepEqual(await store.delete(["running"]), []);
      });
    });

    describe("change events", () => {
      it("announces each kind of write once per call, with the ids it changed", async () => {
        const events = recordEvents();
        await store.create([newOp("a", { requestId: "r" }), newOp("b"), newOp("c"), newOp("d")], T);
        await store.create([newOp("dup", { requestId: "r" })], T); // nothing created: no event
        await store.claim({ owner: "w", methods: [SLEEP], limit: 3, leaseMs: LEASE, now: T }); // a, b, c: no event kind
        await store.progress(
          [
            { id: "a", attempt: 1, metadata: anyOf("t/M", 1) },
            { id: "b", attempt: 9, metadata: anyOf("t/M", 1) },
            { id: "c", attempt: 1, metadata: anyOf("t/M", 1) },
          ],
          T,
        );
        await store.requestCancel(["b", "missing"], T);
        await store.finish(
          [
            { id: "a", attempt: 1, response: RESPONSE },
            { id: "b", attempt: 9, error: ERROR },
            { id: "d", attempt: 0, error: ERROR },
          ],
          RETENTION,
          T,
        );
        await store.requestCancel(["a"], T); // done: nothing to cancel, no event
        await store.requestControl(["c", "a", "c"], "pause", T); // a is done
        await store.requestControl(["a"], "pause", T); // done: no event
        await store.release("w", [{ id: "b", attempt: 1 }, { id: "c", attempt: 7 }], T, T);
        await store.release("w", [{ id: "c", attempt: 7 }], T, T); // nothing released: no event
        await store.heartbeat("w", [{ id: "c", attempt: 1 }], LEASE, T);
        await store.delete(["a", "zzz", "c"]);
        await store.delete(["zzz"]);

        assert.deepEqual(events, [
          { kind: "created", ids: ["a", "b", "c", "d"] },
          { kind: "progress", ids: ["a", "c"] },
          { kind: "cancel-requested", ids: ["b"] },
          { kind: "done", ids: ["a", "d"] },
          { kind: "control-requested", ids: ["c"] },
          { kind: "released", ids: ["b"] },
          { kind: "deleted", ids: ["a", "c"] },
        ]);
      });

      it("names each operation once per event, and answers per input, when a batch repeats an id", async () => {
        const events = recordEvents();
        await store.create([newOp("a"), newOp("b")], T);
        await store.claim({ owner: "w", methods: [SLEEP], limit: 2, leaseMs: LEASE, now: T });
        const m = (n: number) => anyOf("t/M", n);
        // Two updates of one attempt both apply, the last one's metadata standing; a stale attempt does not.
        assert.deepEqual(
          await store.progress(
            [
              { id: "a", attempt: 1, metadata: m(1) },
              { id: "b", attempt: 1, metadata: m(2) },
              { id: "a", attempt: 1, metadata: m(3) },
              { id: "a", attempt: 2, metadata: m(4) },
            ],
            T + 1,
          ),
          [true, true, true, false],
        );
        assert.deepEqual((await mustGet("a", T + 1)).metadata, m(3));
        assert.deepEqual(await store.heartbeat("w", [{ id: "a", attempt: 1 }, { id: "a", attempt: 1 }], LEASE, T + 1).then((r) => r.map((h) => h.held)), [true, true]);
        assert.deepEqual(ids(await store.getViews(["a", "missing", "a"], T + 1)), ["a", undefined, "a"]);
        assert.deepEqual(ids(await store.requestCancel(["b", "missing", "b", "a"], T + 2)), ["b", undefined, "b", "a"]);
        assert.deepEqual(ids(await store.requestControl(["a", "a"], "pause", T + 2)), ["a", "a"]);
        // Of several results for one operation only the first that matches its attempt applies.
        assert.deepEqual(
          await store.finish(
            [
              { id: "a", attempt: 2, response: RESPONSE },
              { id: "a", attempt: 1, error: ERROR },
              { id: "a", attempt: 1, response: RESPONSE },
            ],
            RETENTION,
            T + 3,
          ),
          [false, true, false],
        );
        assert.equal((await mustGet("a", T + 3)).error?.code, ERROR.code);
        await store.release("w", [{ id: "b", attempt: 1 }, { id: "b", attempt: 1 }], T, T + 4);
        assert.deepEqual(await store.delete(["b", "a", "missing", "b", "a"]), ["b", "a"]);
        assert.deepEqual(events, [
          { kind: "created", ids: ["a", "b"] },
          { kind: "progress", ids: ["a", "b"] },
          { kind: "cancel-requested", ids: ["b", "a"] },
          { kind: "control-requested", ids: ["a"] },
          { kind: "done", ids: ["a"] },
          { kind: "released", ids: ["b"] },
          { kind: "deleted", ids: ["b", "a"] },
        ]);
      });

      it("delivers an event when the change is already visible to readers", async () => {
        const seen: Promise<OperationRecord | undefined>[] = [];
        store.subscribe((event) => {
          if (event.kind === "done") seen.push(store.get(event.ids[0]!, T + 1));
        });
        await store.create([newOp("op-1")], T);
        await store.finish([{ id: "op-1", attempt: 0, response: RESPONSE }], RETENTION, T + 1);
        assert.equal(seen.length, 1);
        assert.equal((await seen[0])?.state, "done");
      });

      it("stops delivering to a listener once unsubscribed", async () => {
        const kept: string[] = [];
        const dropped: string[] = [];
        store.subscribe((event) => kept.push(event.kind));
        const unsubscribe = store.subscribe((event) => dropped.push(event.kind));
        await store.create([newOp("a")], T);
        unsubscribe();
        unsubscribe(); // idempotent
        await store.delete(["a"]);
        assert.deepEqual(kept, ["created", "deleted"]);
        assert.deepEqual(dropped, ["created"]);
      });

      it("keeps working when a listener throws: the write stands and other listeners still hear of it", async () => {
        const heard: string[] = [];
        store.subscribe(() => {
          throw new Error("listener failure (expected by the test)");
        });
        store.subscribe((event) => heard.push(...event.ids));
        const [result] = await store.create([newOp("a")], T);
        assert.equal(result?.created, true);
        assert.ok(await store.get("a", T));
        assert.deepEqual(await store.delete(["a"]), ["a"]);
        assert.deepEqual(heard, ["a", "a"]);
      });
    });

    describe("close", () => {
      it("is idempotent", async () => {
        await store.close();
        await store.close();
      });
    });
  });
}
