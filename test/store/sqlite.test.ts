import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import { migrate, MIGRATIONS } from "../../src/store/sqlite/migrations.js";
import { openDatabase } from "../../src/store/sqlite/open.js";
import { SqliteDriver } from "../../src/store/sqlite/driver.js";
import { isFull, mappingErrors } from "../../src/store/sqlite/errors.js";
import { Code } from "../../src/core/code.js";
import { Reason, RpcError } from "../../src/core/errors.js";
import { buildFilterSchema, compileFilter } from "../../src/filter/index.js";
import { SleepMetadataSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import type { ChangeEvent, NewOperation, Store } from "../../src/store/store.js";
import { newOp as newContractOp, runStoreContract, SLEEP } from "longrun/testing";

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "longrun-sqlite-"));
}

/** The directory of each store the contract opened, removed when the contract closes the store. */
const contractDirs = new Map<Store, string>();
runStoreContract("SqliteStore", {
  async open() {
    const dir = tempDir();
    // The contract makes a listener throw on purpose; keep the test output quiet about it.
    const store = SqliteStore.open(path.join(dir, "longrun.db"), { onListenerError: () => {} });
    contractDirs.set(store, dir);
    return store;
  },
  async close(store) {
    await store.close();
    fs.rmSync(contractDirs.get(store)!, { recursive: true, force: true });
    contractDirs.delete(store);
  },
});


function newOp(id: string, runAfter: number, overrides: Partial<NewOperation> = {}): NewOperation {
  return newContractOp(id, { runAfter, ...overrides });
}

describe("SqliteStore", () => {
  let dir: string;
  let file: string;
  const opened: SqliteStore[] = [];

  /** Opens a store that is closed after the test, whatever happens. */
  function open(options: Parameters<typeof SqliteStore.open>[1] = {}): SqliteStore {
    const store = SqliteStore.open(file, options);
    opened.push(store);
    return store;
  }

  beforeEach(() => {
    dir = tempDir();
    file = path.join(dir, "longrun.db");
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe("belongs to one process", () => {
    it("refuses a second open of the same file while the first is open, in this process", async () => {
      const first = open();
      assert.throws(() => SqliteStore.open(file, { busyTimeoutMs: 20 }), /in use by another process/);
      // The failed open must not have disturbed the owner.
      await first.create([newOp("a", 0)], 0);
      await first.close();
      const second = open({ busyTimeoutMs: 20 });
      assert.ok(await second.get("a", 0));
    });

    it("refuses an open from another process while the file is open, and allows it after close", async () => {
      const first = open();
      const repo = fileURLToPath(new URL("../../", import.meta.url));
      const storeModule = new URL("../../src/store/sqlite/index.ts", import.meta.url).href;
      const script = path.join(dir, "open.mjs");
      fs.writeFileSync(
        script,
        `const { SqliteStore } = await import(process.argv[2]);
        try {
          const store = SqliteStore.open(process.argv[3], { busyTimeoutMs: 20 });
          await store.close();
          console.log(JSON.stringify({ ok: true }));
        } catch (error) {
          console.log(JSON.stringify({ ok: false, message: error.message }));
        }`,
      );
      const child = () => {
        const result = spawnSync(process.execPath, ["--import", "tsx", script, storeModule, file], {
          cwd: repo,
          encoding: "utf8",
        });
        assert.equal(result.status, 0, result.stderr);
        return JSON.parse(result.stdout) as { ok: boolean; message?: string };
      };

      const whileOpen = child();
      assert.equal(whileOpen.ok, false);
      assert.match(whileOpen.message ?? "", /in use by another process/);
      assert.match(whileOpen.message ?? "", new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));

      await first.close();
      assert.deepEqual(child(), { ok: true });
    });
  });

  describe("reopen", () => {
    it("keeps every operation across close and reopen", async () => {
      const store = open();
      await store.create(
        [
          newOp("full", 5, {
            parent: "projects/p",
            name: "projects/p/operations/full",
            requestId: "req",
            metadata: { typeUrl: "t/M", value: new Uint8Array([7]) },
          }),
          newOp("done", 5),
        ],
        5,
      );
      await store.finish(
        [{ id: "done", attempt: 0, error: { code: 10, message: "", status: new Uint8Array([8, 10]) } }],
        1_000_000,
        6,
      );
      const before = [await store.get("full", 7), await store.get("done", 7)];
      await store.close();

      const reopened = open();
      assert.deepEqual([await reopened.get("full", 7), await reopened.get("done", 7)], before);
      const [again] = await reopened.create([newOp("other", 8, { requestId: "req" })], 8);
      assert.equal(again?.created, false);
      assert.equal(again?.record.id, "full");
    });

    it("expires the leases a previous process left, so they are claimable at once with the attempt counting on", async () => {
      const hour = 3_600_000;
      const store = open();
      await store.create([newOp("op-1", Date.now())], Date.now());
      const [claimed] = await store.claim({ owner: "dead", methods: [SLEEP], limit: 1, leaseMs: hour, now: Date.now() });
      assert.equal(claimed?.attempt, 1);
      await store.close();

      const reopened = open();
      const now = Date.now();
      const record = await reopened.get("op-1", now);
      assert.ok(record);
      assert.equal(record.state, "running");
      assert.equal(record.attempt, 1);
      assert.ok(record.leaseExpireTime !== undefined && record.leaseExpireTime <= now, "lease should have expired");
      const [reclaimed] = await reopened.claim({ owner: "alive", methods: [SLEEP], limit: 1, leaseMs: hour, now });
      assert.equal(reclaimed?.id, "op-1");
      assert.equal(reclaimed?.attempt, 2);
      assert.equal(reclaimed?.leaseOwner, "alive");
    });
  });

  describe("migrations", () => {
    function migrations(): { version: number; applied_at: number }[] {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare<[], { version: number; applied_at: number }>("SELECT * FROM schema_migrations ORDER BY version").all();
      } finally {
        db.close();
      }
    }

    it("records each applied migration once, and reopening applies none again", async () => {
      const startedAt = Date.now();
      await open().close();
      const applied = migrations();
      assert.deepEqual(
        applied.map((m) => m.version),
        MIGRATIONS.map((_, i) => i + 1),
      );
      assert.ok(applied[0]!.applied_at >= startedAt && applied[0]!.applied_at <= Date.now());

      await open().close();
      assert.deepEqual(migrations(), applied);
    });

    it("brings a version-1 database forward: old rows read back (error.message empty) and match no metadata filter", async () => {
      const db = new Database(file);
      migrate(db, 0, MIGRATIONS.slice(0, 1));
      db.prepare(
        `INSERT INTO operations (id, name, parent, method, request, metadata_type, metadata, state, error_code, error, run_after, create_time, update_time, end_time, expire_time)
         VALUES ('old', 'operations/old', '', 'm', x'', 'type.googleapis.com/longrun.demo.v1.SleepMetadata', x'1801', 'done', 5, x'0805', 0, 5, 5, 5, 9e15)`,
      ).run();
      db.close();
      const store = open();
      const record = await store.get("old", 6);
      assert.deepEqual(record?.error, { code: 5, message: "", status: new Uint8Array([8, 5]) });
      assert.equal(record?.principal, undefined, "who started it was never known");
      assert.deepEqual((await store.getViews(["old"], 6)).map((v) => v?.principal), [undefined]);
      assert.equal(record?.resource, undefined, "it belongs to no resource but its name's");
      assert.deepEqual((await store.getViews(["old"], 6)).map((v) => v?.resource), [undefined]);
      assert.deepEqual((await store.list({ parent: "", resource: "projects/a", limit: 10, now: 6 })).map((r) => r.id), []);
      const schema = buildFilterSchema([]);
      const list = async (filter: string) => (await store.list({ parent: "", filter: compileFilter(filter, schema), limit: 10, now: 6 })).map((r) => r.id);
      assert.deepEqual(await list("error.code = 5 AND metadata:*"), ["old"]);
      assert.deepEqual(await list("error.message:*"), []);
      assert.deepEqual(await list('NOT error.message = "x"'), [], "no message: unknown");
    });

    it("lists with a filter in one statement that walks the list index from the cursor", async () => {
      const store = open();
      const filter = compileFilter('metadata.progress_percent > 5 AND name = "operations/a*"', buildFilterSchema([SleepMetadataSchema]));
      for (const after of [undefined, { createTime: 1, id: "x" }]) {
        const plan = await store.explainList({ parent: "", filter, after, limit: 10, now: 0 });
        const cursor = after === undefined ? "" : " AND (create_time,id)<(?,?)";
        assert.ok(plan.includes(`SEARCH op USING INDEX operations_list (parent=?${cursor})`), plan);
        assert.doesNotMatch(plan, /TEMP B-TREE/, "rows come in index order");
      }
    });

    it("lists one resource's operations walking operations_resource_list from the cursor, with or without a filter", async () => {
      const store = open();
      const filter = compileFilter("metadata.progress_percent > 5", buildFilterSchema([SleepMetadataSchema]));
      for (const query of [{}, { filter }]) {
        for (const after of [undefined, { createTime: 1, id: "x" }]) {
          const plan = await store.explainList({ parent: "", resource: "projects/a", ...query, after, limit: 10, now: 0 });
          const cursor = after === undefined ? "" : " AND (create_time,id)<(?,?)";
          assert.ok(plan.includes(`SEARCH op USING INDEX operations_resource_list (parent=? AND resource=?${cursor})`), plan);
          assert.doesNotMatch(plan, /TEMP B-TREE/, "rows come in index order");
        }
      }
    });

    it("gives no statement a bare parameter as its LIMIT (SQLite would compile it again at every run)", () => {
      const prepared: string[] = [];
      const prepare = Database.prototype.prepare;
      Database.prototype.prepare = function (this: Database.Database, source: string) {
        prepared.push(source);
        return prepare.call(this, source);
      } as typeof prepare;
      try {
        const db = openDatabase(file);
        const driver = new SqliteDriver(db);
        driver.list({ parent: "", filter: compileFilter("metadata.progress_percent > 5", buildFilterSchema([SleepMetadataSchema])), limit: 10, now: 0 });
        driver.listEvents({ limit: 10 });
        db.close();
      } finally {
        Database.prototype.prepare = prepare;
      }
      const limited = prepared.filter((sql) => /\bLIMIT\b/i.test(sql));
      assert.ok(limited.length >= 5, `the claim, list, filtered list and outbox statements: ${limited.length}`);
      for (const sql of limited) assert.doesNotMatch(sql, /\bLIMIT\s+[@?:$]/i, sql);
    });

    it("refuses a database migrated by a newer version", async () => {
      await open().close();
      const db = new Database(file);
      db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)").run();
      db.close();
      assert.throws(() => SqliteStore.open(file), /schema is at version 999, newer/);
    });

    it("leaves the file in WAL mode", async () => {
      await open().close();
      const db = new Database(file, { readonly: true });
      try {
        assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
      } finally {
        db.close();
      }
    });
  });

  describe("options", () => {
    it("rejects an unknown synchronous mode", () => {
      const synchronous = "OFF" as unknown as "FULL";
      assert.throws(() => SqliteStore.open(file, { synchronous }), /synchronous must be/);
    });

    it("opens with synchronous NORMAL", async () => {
      const store = open({ synchronous: "NORMAL" });
      await store.create([newOp("a", 0)], 0);
      assert.ok(await store.get("a", 0));
    });

    it("reports what a listener threw to onListenerError", async () => {
      const reported: [unknown, ChangeEvent][] = [];
      const store = open({ onListenerError: (error, event) => reported.push([error, event]) });
      const failure = new Error("boom");
      store.subscribe(() => {
        throw failure;
      });
      await store.create([newOp("a", 0)], 0);
      assert.equal(reported.length, 1);
      assert.equal(reported[0]![0], failure);
      assert.deepEqual(reported[0]![1], { kind: "created", ids: ["a"] });
    });

    it("survives an onListenerError that throws too", async () => {
      const store = open({
        onListenerError: () => {
          throw new Error("handler failure");
        },
      });
      store.subscribe(() => {
        throw new Error("listener failure");
      });
      const [result] = await store.create([newOp("a", 0)], 0);
      assert.equal(result?.created, true);
    });
  });
  describe("no space left (SQLITE_FULL)", () => {
    // max_page_count makes SQLite answer SQLITE_FULL as a full disk does, without one (the real full disk,
    // a tmpfs, is test/integration/full-disk.test.ts, which needs root).
    it("a write that does not fit is UNAVAILABLE STORE_FULL, writes nothing, and succeeds once there is room", () => {
      const db = openDatabase(file);
      try {
        const driver = mappingErrors(new SqliteDriver(db));
        driver.create([newOp("before", 0)], 0);
        db.pragma(`max_page_count = ${db.pragma("page_count", { simple: true }) as number}`);
        const many = Array.from({ length: 500 }, (_, i) => newOp(`op${i}`, 0));
        assert.throws(
          () => driver.create(many, 0),
          (error: unknown) =>
            error instanceof RpcError && error.code === Code.UNAVAILABLE && error.reason === Reason.STORE_FULL && isFull(error.cause),
        );
        assert.deepEqual(
          (driver.list({ parent: "", now: 0, limit: 1000 }) as { id: string }[]).map((r) => r.id),
          ["before"],
          "the failed transaction wrote nothing; reads still work",
        );
        db.pragma("max_page_count = 1073741823");
        assert.equal((driver.create(many, 0) as { created: boolean }[]).filter((r) => r.created).length, many.length);
        assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
      } finally {
        db.close();
      }
    });

    it("other errors pass through as they are", () => {
      const db = openDatabase(file);
      try {
        const driver = mappingErrors(new SqliteDriver(db));
        db.exec("DROP INDEX IF EXISTS operations_resource_list; DROP TABLE operations");
        assert.throws(() => driver.get("a", 0), (error: unknown) => error instanceof Database.SqliteError);
      } finally {
        db.close();
      }
    });
  });
});
