/**
 * PostgresStore on a real PostgreSQL (LONGRUN_TEST_POSTGRES, default the local test database): the store
 * contract, then what only a shared store has — migrations under a lock, the cross-instance change feed
 * and its reconnects, SKIP LOCKED claims, and UNAVAILABLE on lost connections.
 *
 * Every schema this file makes is named `longrun_test_<random>…` and every connection it opens carries an
 * application_name starting with `longrun-test-<random>`, so test files running in parallel never touch
 * each other's data or connections.
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { Code } from "../../src/core/code.js";
import { Reason, RpcError } from "../../src/core/errors.js";
import { isUnavailable } from "../../src/store/postgres/errors.js";
import { migrate, PostgresStore, type PostgresStoreOptions } from "../../src/store/postgres/index.js";
import { applyMigrations } from "../../src/store/postgres/migrate.js";
import { MIGRATIONS } from "../../src/store/postgres/migrations.js";

const ALL_VERSIONS = MIGRATIONS.map((_, i) => i + 1);
import { buildFilterSchema, compileFilter } from "../../src/filter/index.js";
import type { ChangeEvent, NewOperation } from "../../src/store/store.js";
import { newOp as newContractOp, runStoreContract, SLEEP } from "longrun/testing";
import { SleepMetadataSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";

const POSTGRES_URL = process.env.LONGRUN_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/test";
const RUN = randomBytes(4).toString("hex");
/** Prefix of every application_name this file uses (its admin connection's is exactly it). */
const APP = `longrun-test-${RUN}`;

let admin: pg.Client;
const schemas: string[] = [];

/** A schema name of this file's own, dropped at the end. */
function newSchema(label: string): string {
  const schema = `longrun_test_${RUN}_${label}`;
  schemas.push(schema);
  return schema;
}

/** The test database's URL with an application_name of this file's own, to find the connections by. */
function urlFor(name: string): string {
  return `${POSTGRES_URL}${POSTGRES_URL.includes("?") ? "&" : "?"}application_name=${APP}-${name}`;
}

before(async () => {
  admin = new pg.Client({ connectionString: POSTGRES_URL, application_name: APP });
  await admin.connect();
});

/** Set when a test of the file fails: its schemas are then kept, to look into. */
let failed = false;
afterEach((t) => {
  // TestContext.passed (Node >= 20.12) is not in this version's typings.
  if ((t as { passed?: boolean }).passed === false) failed = true;
});

after(async () => {
  if (failed) {
    console.error(`a test failed: keeping schemas ${schemas.join(", ")} of ${POSTGRES_URL} (drop them when done)`);
  } else {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
  await admin.end();
});

/** Polls until `check` holds, failing after `timeoutMs`. */
async function waitFor(check: () => boolean | Promise<boolean>, message: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${message}`);
    await sleep(10);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Terminates the server backends whose application_name matches `pattern` (LIKE); returns how many. */
async function terminate(pattern: string): Promise<number> {
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1 AND pid <> pg_backend_pid()`,
    [pattern],
  );
  return rows.length;
}

async function connectionsOf(pattern: string): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE $1 AND pid <> pg_backend_pid()",
    [pattern],
  );
  return rows[0]?.n ?? 0;
}

// --- The contract: one schema for the file, emptied before each test. ---

const contractSchema = newSchema("contract");
runStoreContract("PostgresStore", {
  async open() {
    // The contract makes a listener throw on purpose; keep the test output quiet about it.
    const store = await PostgresStore.open({
      connectionString: urlFor("contract"),
      schema: contractSchema,
      onListenerError: () => {},
      log: () => {},
    });
    await admin.query(`TRUNCATE "${contractSchema}".operations, "${contractSchema}".outbox`);
    return store;
  },
});

// --- PostgreSQL specifics. ---

const T = 1_700_000_000_000;

function newOp(id: string, overrides: Partial<NewOperation> = {}): NewOperation {
  return newContractOp(id, overrides);
}

describe("PostgresStore", () => {
  const opened: PostgresStore[] = [];

  /** Opens a store closed after the test, whatever happens. Logs are collected, not printed. */
  async function open(options: Partial<PostgresStoreOptions> & { schema: string }, name = "store"): Promise<PostgresStore> {
    const store = await PostgresStore.open({ connectionString: urlFor(name), log: () => {}, ...options });
    opened.push(store);
    return store;
  }

  function record(store: PostgresStore): ChangeEvent[] {
    const events: ChangeEvent[] = [];
    store.subscribe((event) => events.push({ kind: event.kind, ids: [...event.ids] }));
    return events;
  }

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });

  describe("migrations", () => {
    async function versions(schema: string): Promise<{ version: number; applied_at: Date }[]> {
      const { rows } = await admin.query(`SELECT version, applied_at FROM "${schema}".migrations ORDER BY version`);
      return rows as { version: number; applied_at: Date }[];
    }

    it("creates the schema, records each migration once, and reopening applies none again", async () => {
      const schema = newSchema("m1");
      await (await open({ schema })).close();
      const applied = await versions(schema);
      assert.deepEqual(
        applied.map((m) => m.version),
        ALL_VERSIONS,
      );
      await (await open({ schema })).close();
      assert.deepEqual(await versions(schema), applied);
      assert.deepEqual(await migrate({ connectionString: urlFor("migrate"), schema }), { applied: [] });
    });

    it("migrate() applies what is pending, then reports nothing to do", async () => {
      const schema = newSchema("m2");
      assert.deepEqual(await migrate({ connectionString: urlFor("migrate"), schema }), { applied: ALL_VERSIONS });
      assert.deepEqual(await migrate({ connectionString: urlFor("migrate"), schema }), { applied: [] });
      const store = await open({ schema, migrate: false });
      await store.create([newOp("a")], T);
      assert.ok(await store.get("a", T));
    });

    it("lets instances starting together on a fresh schema all open (an advisory lock orders them)", async () => {
      const schema = newSchema("m3");
      const stores = await Promise.all([open({ schema }), open({ schema }), open({ schema }), open({ schema })]);
      assert.deepEqual(
        (await versions(schema)).map((m) => m.version),
        ALL_VERSIONS,
      );
      await stores[0]!.create([newOp("a")], T);
      assert.equal((await stores[3]!.get("a", T))?.id, "a");
    });

    it("brings a version-1 schema forward: old rows read back (error.message empty) and match no metadata filter", async () => {
      const schema = newSchema("m6");
      await applyMigrations(admin, schema, MIGRATIONS.slice(0, 1));
      await admin.query(
        `INSERT INTO "${schema}".operations (id, name, parent, method, request, metadata_type, metadata, state, error_code, error, run_after, create_time, update_time, end_time, expire_time)
         VALUES ('old', 'operations/old', '', 'm', '', 'type.googleapis.com/longrun.demo.v1.SleepMetadata', '\\x1801', 'done', 5, '\\x0805', 0, 5, 5, 5, 9e15)`,
      );
      const store = await open({ schema });
      const record = await store.get("old", 6);
      assert.deepEqual(record?.error, { code: 5, message: "", status: new Uint8Array([8, 5]) });
      assert.equal(record?.principal, undefined, "who started it was never known");
      assert.deepEqual((await store.getViews(["old"], 6)).map((v) => v?.principal), [undefined]);
      assert.equal(record?.resource, undefined, "it belongs to no resource but its name's");
      assert.deepEqual((await store.getViews(["old"], 6)).map((v) => v?.resource), [undefined]);
      assert.deepEqual((await store.list({ parent: "", resource: "projects/a", limit: 10, now: 6 })).map((r) => r.id), []);
      const filters = buildFilterSchema([]);
      const list = async (filter: string) => (await store.list({ parent: "", filter: compileFilter(filter, filters), limit: 10, now: 6 })).map((r) => r.id);
      assert.deepEqual(await list("error.code = 5 AND metadata:*"), ["old"]);
      assert.deepEqual(await list("error.message:*"), []);
      assert.deepEqual(await list('NOT error.message = "x"'), [], "no message: unknown");
    });

    it("filters in the same single statement, walking the list index from the cursor", async () => {
      // As on a big table: with a few rows, a sequential scan and a sort would be as good.
      const store = await open({ schema: newSchema("plan"), connectionString: `${urlFor("plan")}&options=-c%20enable_seqscan%3Doff` });
      const filter = compileFilter('metadata.progress_percent > 5 AND name = "operations/a*"', buildFilterSchema([SleepMetadataSchema]));
      await store.create([newOp("a")], T);
      for (const after of [undefined, { createTime: 5, id: "k" }]) {
        const plan = await store.explainList({ parent: "", filter, after, limit: 10, now: 0 });
        assert.match(plan, /Index Scan using operations_list/, plan);
        assert.doesNotMatch(plan, /Sort/, "rows come in index order");
      }
    });

    it("lists one resource's operations walking operations_resource_list from the cursor, with or without a filter", async () => {
      const store = await open({ schema: newSchema("planr"), connectionString: `${urlFor("planr")}&options=-c%20enable_seqscan%3Doff` });
      const filter = compileFilter("metadata.progress_percent > 5", buildFilterSchema([SleepMetadataSchema]));
      await store.create([newOp("a")], T);
      for (const query of [{}, { filter }]) {
        for (const after of [undefined, { createTime: 5, id: "k" }]) {
          const plan = await store.explainList({ parent: "", resource: "projects/a", ...query, after, limit: 10, now: 0 });
          assert.match(plan, /Index Scan using operations_resource_list/, plan);
          assert.match(plan, /Index Cond: .*resource = /, plan);
          assert.doesNotMatch(plan, /Sort/, "rows come in index order");
        }
      }
    });

    it("refuses a schema migrated by a newer version", async () => {
      const schema = newSchema("m4");
      await migrate({ connectionString: urlFor("migrate"), schema });
      await admin.query(`INSERT INTO "${schema}".migrations (version) VALUES (999)`);
      await assert.rejects(open({ schema }), new RegExp(`schema "longrun_test_\\w+" is at version 999, newer than this version of longrun supports \\(${MIGRATIONS.length}\\)`));
      await assert.rejects(open({ schema, migrate: false }), /is at version 999, newer/);
      await assert.rejects(migrate({ connectionString: urlFor("migrate"), schema }), /is at version 999, newer/);
      await waitFor(async () => (await connectionsOf(`${APP}-store%`)) === 0, "a refused open leaves no connection behind");
    });

    it("with migrate: false, refuses a schema not migrated yet", async () => {
      const schema = newSchema("m5");
      await assert.rejects(open({ schema, migrate: false }), new RegExp(`is at version 0, older than this version of longrun needs \\(${MIGRATIONS.length}\\); run \`longrun migrate\``));
      assert.equal((await admin.query("SELECT FROM pg_namespace WHERE nspname = $1", [schema])).rowCount, 0);
    });

    it("rejects a schema name that is not a plain lowercase identifier", async () => {
      for (const schema of ['x"; DROP SCHEMA public; --', "Upper", "pg_mine", "1st", "", "a".repeat(49)]) {
        await assert.rejects(PostgresStore.open({ connectionString: POSTGRES_URL, schema }), /schema must be a lowercase identifier/, schema);
        await assert.rejects(migrate({ connectionString: POSTGRES_URL, schema }), /schema must be a lowercase identifier/, schema);
      }
    });

    it("holds the invariants in CHECK constraints, and lists through the index with the row-value cursor", async () => {
      const table = `"${contractSchema}".operations`;
      await assert.rejects(
        admin.query(`INSERT INTO ${table} (id, name, parent, method, request, state, run_after, create_time, update_time)
                     VALUES ('x', 'operations/x', '', 'm', '', 'done', 0, 0, 0)`),
        /operations_result/,
      );
      await admin.query("SET enable_seqscan = off");
      const { rows } = await admin
        .query(
          `EXPLAIN SELECT id FROM ${table}
           WHERE parent = '' AND (expire_time IS NULL OR expire_time > 0) AND (create_time, id) < (5, 'k')
           ORDER BY create_time DESC, id DESC LIMIT 10`,
        )
        .finally(() => admin.query("RESET enable_seqscan"));
      const plan = rows.map((r: Record<string, string>) => r["QUERY PLAN"]).join("\n");
      assert.match(plan, /Index Scan using operations_list/);
      assert.match(plan, /Index Cond: .*ROW\(create_time, id\) < ROW/);
    });
  });

  describe("change feed across instances", () => {
    const schema = newSchema("feed");

    it("delivers a write through A to B with its ids, and to A's own listeners once", async () => {
      const a = await open({ schema }, "feed-a");
      const b = await open({ schema }, "feed-b");
      const seenByA = record(a);
      const seenByB = record(b);
      await a.create([newOp("x"), newOp("y")], T);
      await a.claim({ owner: "w", methods: [SLEEP], limit: 2, leaseMs: 30_000, now: T });
      await a.progress([{ id: "x", attempt: 1, metadata: { typeUrl: "t/M", value: new Uint8Array([1]) } }], T);
      await a.requestCancel([{ id: "y", name: "operations/y" }], T);
      await a.finish([{ id: "x", attempt: 1, response: { typeUrl: "t/R", value: new Uint8Array() } }], 60_000, T);
      await a.release("w", [{ id: "y", attempt: 1 }], T, T);
      await a.delete(["x", "y"]);
      // Progress is not announced across instances (see src/store/postgres/progress.ts); A hears it locally.
      const expected: ChangeEvent[] = [
        { kind: "created", ids: ["x", "y"] },
        { kind: "cancel-requested", ids: ["y"] },
        { kind: "done", ids: ["x"] },
        { kind: "released", ids: ["y"] },
        { kind: "deleted", ids: ["x", "y"] },
      ];
      await waitFor(() => seenByB.length >= expected.length, "B hears of every write");
      assert.deepEqual(seenByB, expected);
      // A's own notifications come back to A too: they must not be delivered a second time.
      await b.create([newOp("from-b")], T);
      await waitFor(() => seenByA.length > expected.length + 1, "A hears of B's write");
      assert.deepEqual(seenByA, [expected[0], { kind: "progress", ids: ["x"] }, ...expected.slice(1), { kind: "created", ids: ["from-b"] }]);
      assert.equal(seenByB.length, expected.length + 1);
    });

    it("delivers a 1,000-operation batch to B in full, split into notifications under 8000 bytes", async () => {
      const a = await open({ schema }, "feed-a");
      const b = await open({ schema }, "feed-b");
      const payloads: string[] = [];
      const spy = new pg.Client({ connectionString: POSTGRES_URL, application_name: `${APP}-spy` });
      await spy.connect();
      try {
        spy.on("notification", (n) => payloads.push(n.payload ?? ""));
        await spy.query(`LISTEN "${schema}_changes"`);
        const seenByB = record(b);
        const ids = Array.from({ length: 1000 }, () => randomBytes(16).toString("base64url"));
        await a.create(
          ids.map((id) => newOp(id)),
          T,
        );
        const heard = () => new Set(seenByB.flatMap((e) => e.ids));
        await waitFor(() => heard().size === ids.length, "B hears of all 1,000 operations");
        assert.ok(seenByB.every((e) => e.kind === "created"));
        assert.deepEqual([...heard()].sort(), [...ids].sort());
        assert.ok(seenByB.length > 1 && seenByB.length <= 10, `${seenByB.length} notifications`);
        await waitFor(() => payloads.length === seenByB.length, "the spy hears them too");
        for (const payload of payloads) assert.ok(Buffer.byteLength(payload) < 8000, `payload of ${Buffer.byteLength(payload)} bytes`);
      } finally {
        await spy.end();
      }
    });

    it("delivers a chunk of ids too long for one notification as resync", async () => {
      const a = await open({ schema }, "feed-a");
      const b = await open({ schema }, "feed-b");
      const seenByB = record(b);
      // Chunks are cut by the running total of the ids' JSON size (6000 bytes a chunk): two ids of 1700
      // bytes, then one of 2604 crossing into the second chunk, which 230 short ids then fill to 8584.
      const long = ["a1", "a2"].map((p) => p + "x".repeat(1694));
      const crossing = "b" + "x".repeat(2599);
      const short = Array.from({ length: 230 }, (_, i) => `c-${String(i).padStart(3, "0")}${"x".repeat(17)}`);
      await a.create(
        [...long, crossing, ...short].map((id) => newOp(id)),
        T,
      );
      await waitFor(() => seenByB.length === 2, "B hears of both chunks");
      // Notifications of one statement come in no defined order.
      assert.deepEqual(
        [...seenByB].sort((x, y) => x.kind.localeCompare(y.kind)),
        [
          { kind: "created", ids: long },
          { kind: "resync", ids: [] },
        ],
      );
    });

    it("sends nothing for a write that fails, and nothing for one that changes nothing", async () => {
      const a = await open({ schema }, "feed-a");
      const b = await open({ schema }, "feed-b");
      const seenByB = record(b);
      await a.create([newOp("exists")], T);
      await waitFor(() => seenByB.length === 1, "B hears of the first create");
      await assert.rejects(a.create([newOp("fresh"), newOp("exists")], T));
      await a.delete(["missing"]);
      await a.finish([{ id: "missing", attempt: 0, error: { code: 2, message: "", status: new Uint8Array() } }], 1, T);
      await a.create([newOp("later")], T);
      await waitFor(() => seenByB.length === 2, "B hears of the later create");
      assert.deepEqual(seenByB, [
        { kind: "created", ids: ["exists"] },
        { kind: "created", ids: ["later"] },
      ]);
    });

    it("ignores foreign and malformed notifications, and its own echoes; a payload without ids is a resync", async () => {
      const b = await open({ schema, instanceId: "instance-b" }, "feed-b");
      const seen = record(b);
      const channel = `${schema}_changes`;
      for (const payload of [
        "not json",
        "[]",
        JSON.stringify({ k: "bogus", i: ["a"], o: "x" }),
        JSON.stringify({ k: "created", i: "a", o: "x" }),
        JSON.stringify({ k: "created", i: ["a"], o: "instance-b" }),
        JSON.stringify({ k: "created", o: "x" }),
        JSON.stringify({ k: "done", i: ["z"], o: "x" }),
      ]) {
        await admin.query("SELECT pg_notify($1, $2)", [channel, payload]);
      }
      await waitFor(() => seen.length === 2, "B delivers the two valid notifications");
      assert.deepEqual(seen, [
        { kind: "resync", ids: [] },
        { kind: "done", ids: ["z"] },
      ]);
    });

    it("reconnects a lost LISTEN connection, announces resync, and hears later writes", async () => {
      const a = await open({ schema }, "feed-a");
      const b = await open({ schema }, "feed-b");
      const seenByB = record(b);
      assert.equal(await terminate(`${APP}-feed-b-listener`), 1);
      await waitFor(() => seenByB.some((e) => e.kind === "resync"), "B announces resync after reconnecting");
      assert.deepEqual(seenByB, [{ kind: "resync", ids: [] }]);
      await a.create([newOp("after-reconnect")], T);
      await waitFor(() => seenByB.length === 2, "B hears of a write after reconnecting");
      assert.deepEqual(seenByB[1], { kind: "created", ids: ["after-reconnect"] });
    });

    it("close() ends every connection of the store, and stops reconnecting", async () => {
      const store = await open({ schema }, "feed-close");
      await Promise.all([store.get("a", T), store.get("b", T)]);
      assert.ok((await connectionsOf(`${APP}-feed-close%`)) >= 2);
      await terminate(`${APP}-feed-close-listener`);
      await store.close();
      await store.close();
      await waitFor(async () => (await connectionsOf(`${APP}-feed-close%`)) === 0, "no connection left");
      await sleep(300); // longer than the first reconnect delay
      assert.equal(await connectionsOf(`${APP}-feed-close%`), 0);
    });
  });

  describe("claim", () => {
    it("never gives one operation to two claimers: 500 operations, 8 claimers on two instances", async () => {
      const schema = newSchema("claim");
      const a = await open({ schema }, "claim-a");
      const b = await open({ schema }, "claim-b");
      const ids = Array.from({ length: 500 }, (_, i) => `op-${String(i).padStart(3, "0")}`);
      await a.create(
        ids.map((id) => newOp(id)),
        T,
      );
      const claimedBy = new Map<string, string[]>();
      const claimer = async (store: PostgresStore, owner: string) => {
        for (;;) {
          const claimed = await store.claim({ owner, methods: [SLEEP], limit: 50, leaseMs: 60_000, now: T });
          if (claimed.length === 0) return;
          for (const r of claimed) claimedBy.set(r.id, [...(claimedBy.get(r.id) ?? []), owner]);
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, i) => claimer(i % 2 === 0 ? a : b, `w${i}`)));
      assert.deepEqual([...claimedBy.keys()].sort(), ids);
      const twice = [...claimedBy].filter(([, owners]) => owners.length !== 1);
      assert.deepEqual(twice, [], "claimed more than once");
      const { rows } = await admin.query<{ id: string; lease_owner: string; attempt: number }>(
        `SELECT id, lease_owner, attempt FROM "${schema}".operations`,
      );
      for (const row of rows) {
        assert.equal(row.attempt, 1);
        assert.equal(row.lease_owner, claimedBy.get(row.id)?.[0]);
      }
    });
  });

  describe("create", () => {
    it("gives one operation per requestId to instances racing to create it", async () => {
      const schema = newSchema("race");
      const a = await open({ schema }, "race-a");
      const b = await open({ schema }, "race-b");
      for (let round = 0; round < 20; round++) {
        const [fromA, fromB] = await Promise.all([
          a.create([newOp(`a-${round}`, { requestId: `r-${round}` })], T),
          b.create([newOp(`b-${round}`, { requestId: `r-${round}` })], T),
        ]);
        assert.equal(fromA[0]!.record.id, fromB[0]!.record.id);
        assert.deepEqual([fromA[0]!.created, fromB[0]!.created].sort(), [false, true]);
      }
    });
  });

  describe("unavailable", () => {
    function assertUnavailable(error: unknown): true {
      assert.ok(error instanceof RpcError, `expected an RpcError, got ${String(error)}`);
      assert.equal(error.code, Code.UNAVAILABLE);
      assert.equal(error.reason, Reason.STORE_UNAVAILABLE);
      assert.ok(error.cause !== undefined);
      return true;
    }

    it("answers UNAVAILABLE (or succeeds) when its connections are killed, and recovers by itself", async () => {
      const schema = newSchema("down");
      const logged: string[] = [];
      const store = await open({ schema, log: (message) => logged.push(message) }, "down");
      const seen = record(store);
      await store.create([newOp("a")], T);
      // Several connections in the pool, all idle.
      await Promise.all(Array.from({ length: 5 }, () => store.get("a", T)));
      assert.ok((await terminate(`${APP}-down%`)) >= 3);

      let failures = 0;
      for (let i = 0; i < 20; i++) {
        try {
          assert.equal((await store.get("a", T))?.id, "a");
          break;
        } catch (error) {
          assertUnavailable(error);
          failures++;
        }
      }
      assert.ok(failures < 20, "the store recovered");
      for (let i = 0; i < 5; i++) assert.equal((await store.get("a", T))?.id, "a");
      await store.create([newOp("b")], T);
      await waitFor(() => seen.some((e) => e.kind === "resync"), "the listener came back");
      assert.ok(logged.some((m) => /LISTEN connection was lost/.test(m)));
    });

    it("answers UNAVAILABLE for a query cut off mid-statement", async () => {
      const schema = newSchema("cut");
      const store = await open({ schema }, "cut");
      await store.create([newOp("a")], T);
      // Hold a row lock so the store's next write waits, then kill the waiting backend.
      const locker = new pg.Client({ connectionString: POSTGRES_URL, application_name: `${APP}-locker` });
      await locker.connect();
      try {
        await locker.query("BEGIN");
        await locker.query(`SELECT FROM "${schema}".operations WHERE id = 'a' FOR UPDATE`);
        // Watched from the start: the rejection may come before the terminate call below returns.
        const write = assert.rejects(store.delete(["a"]), assertUnavailable);
        await waitFor(
          async () =>
            (await admin.query("SELECT FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [`${APP}-cut`]))
              .rowCount === 1,
          "the delete waits for the lock",
        );
        await terminate(`${APP}-cut`);
        await write;
        await locker.query("ROLLBACK");
      } finally {
        await locker.end();
      }
      assert.deepEqual(await store.delete(["a"]), ["a"]);
    });

    it("fails to open with UNAVAILABLE when nothing listens at the address", async () => {
      await assert.rejects(
        PostgresStore.open({ connectionString: "postgres://postgres@127.0.0.1:1/test", schema: "longrun", log: () => {} }),
        assertUnavailable,
      );
    });

    it("classifies errors by SQLSTATE and socket code", () => {
      const withCode = (code: string, message = "x") => Object.assign(new Error(message), { code });
      for (const code of ["57P01", "57P02", "57P03", "53300", "08006", "08001", "08P01", "08999", "40P01", "40001", "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT"]) {
        assert.equal(isUnavailable(withCode(code)), true, code);
      }
      for (const code of ["23505", "42P01", "22P02", "23514", "ENOENT"]) assert.equal(isUnavailable(withCode(code)), false, code);
      assert.equal(isUnavailable(new Error("Connection terminated unexpectedly")), true);
      assert.equal(isUnavailable(new Error("timeout exceeded when trying to connect")), true);
      assert.equal(isUnavailable(new AggregateError([withCode("ECONNREFUSED"), withCode("ECONNREFUSED")])), true);
      assert.equal(isUnavailable(new Error("syntax error")), false);
      assert.equal(isUnavailable("ECONNREFUSED"), false);
    });
  });
});
