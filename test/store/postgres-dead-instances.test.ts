// Store.expireDeadLeases: two (three) PostgresStore instances on one schema, each with an application_name
// of its own so the test can cut one's connections. One closes without giving its leases back (what a
// killed process leaves): the other's call ends exactly its leases, not a live instance's. One whose
// connections are cut registers again when it reconnects, and keeps its leases.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { ChangeEvent, NewOperation } from "../../src/store/store.js";
import { freshSchema, type TestSchema } from "../support/postgres.js";

const METHOD = "t.S.M";

function op(id: string, now: number): NewOperation {
  return { id, name: `operations/${id}`, parent: "", method: METHOD, requestId: undefined, request: new Uint8Array(), metadata: undefined, runAfter: now };
}

describe("Store.expireDeadLeases on PostgreSQL: instances whose session lock is gone", () => {
  let db: TestSchema;
  const stores: PostgresStore[] = [];
  const open = async (label: string) => {
    const url = db.url.replace(`application_name=${db.applicationName}`, `application_name=${db.applicationName}-${label}`);
    const store = await PostgresStore.open({ connectionString: url, schema: db.schema, log: () => {} });
    stores.push(store);
    return store;
  };
  const leases = async () => {
    const { rows } = await db.admin.query<{ id: string; state: string; lease_owner: string | null; lease_expire_time: string | null; attempt: number }>(
      `SELECT id, state, lease_owner, lease_expire_time, attempt FROM "${db.schema}".operations ORDER BY id`,
    );
    return new Map(rows.map((r) => [r.id, { ...r, lease_expire_time: r.lease_expire_time === null ? null : Number(r.lease_expire_time) }]));
  };
  /** The sessions holding the owner's registered lock. */
  const lockedBy = async (owner: string) => {
    const { rows } = await db.admin.query<{ pid: number }>(
      `SELECT l.pid FROM "${db.schema}".instances i JOIN pg_locks l
         ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.objid = i.lock_key::oid
       WHERE i.owner = $1`,
      [owner],
    );
    return rows.map((r) => r.pid);
  };
  const locked = async (owner: string) => (await lockedBy(owner)).length > 0;
  before(async () => {
    db = await freshSchema("lr_dead");
  });
  after(async () => {
    for (const store of stores) await store.close();
    await db.drop();
  });

  it("ends the leases of a closed instance only, announced as released; then they are claimable", async () => {
    const a = await open("a");
    const b = await open("b");
    const now = Date.now();
    await a.create(["a1", "a2", "b1", "b2", "q1"].map((id) => op(id, now)), now);
    const claimA = await a.claim({ owner: "instance-a", methods: [METHOD], limit: 2, leaseMs: 30_000, now });
    const claimB = await b.claim({ owner: "instance-b", methods: [METHOD], limit: 2, leaseMs: 30_000, now });
    const ofA = claimA.map((r) => r.id).sort();
    const ofB = claimB.map((r) => r.id).sort();
    assert.deepEqual(ofA, ["a1", "a2"]);
    assert.deepEqual(ofB, ["b1", "b2"]);
    assert.equal(await locked("instance-a"), true, "registered, its lock held");
    assert.equal(await b.expireDeadLeases(now + 1), 0, "both alive: nothing ended");

    // a goes away without releasing anything: its LISTEN session, and with it its lock, are gone.
    await a.close();
    const heard: ChangeEvent[] = [];
    const unsubscribe = b.subscribe((event) => heard.push(event));
    const at = now + 100;
    assert.equal(await b.expireDeadLeases(at), 2);
    unsubscribe();
    const rows = await leases();
    for (const id of ofA) {
      assert.equal(rows.get(id)?.state, "running");
      assert.equal(rows.get(id)?.lease_expire_time, at, `${id}: lease ended at the call's now`);
    }
    for (const id of ofB) assert.equal(rows.get(id)?.lease_expire_time, now + 30_000, `${id}: a live instance's lease untouched`);
    assert.equal(rows.get("q1")?.state, "queued");
    assert.deepEqual(heard.filter((e) => e.kind === "released").flatMap((e) => e.ids).sort(), ofA);
    const { rows: registered } = await db.admin.query<{ owner: string }>(`SELECT owner FROM "${db.schema}".instances ORDER BY owner`);
    assert.deepEqual(registered.map((r) => r.owner), ["instance-b"], "the dead instance forgotten");
    assert.equal(await b.expireDeadLeases(at + 1), 0, "once only");

    // The ordinary claim takes them: the lost attempts are fenced off by the new attempt.
    const reclaimed = await b.claim({ owner: "instance-b", methods: [METHOD], limit: 10, leaseMs: 30_000, now: at + 1 });
    assert.deepEqual(reclaimed.map((r) => r.id).sort(), [...ofA, "q1"].sort());
    for (const r of reclaimed.filter((r) => ofA.includes(r.id))) assert.equal(r.attempt, 2);
  });

  it("leaves alone an instance whose connections were cut once it has reconnected (it registers again)", async () => {
    const c = await open("c");
    const b = stores[1]!;
    const now = Date.now();
    await c.create([op("c1", now)], now);
    const [claimed] = await c.claim({ owner: "instance-c", methods: [METHOD], limit: 1, leaseMs: 30_000, now });
    assert.equal(claimed?.id, "c1");
    const [session] = await lockedBy("instance-c");
    assert.ok(session !== undefined);
    const { rowCount } = await db.admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1",
      [`${db.applicationName}-c%`],
    );
    assert.ok((rowCount ?? 0) >= 1);
    const until = Date.now() + 10_000;
    // The lock goes with the session, and comes back with the listener's reconnect (100 ms later).
    for (;;) {
      const by = await lockedBy("instance-c");
      if (by.length > 0 && !by.includes(session)) break;
      if (Date.now() > until) assert.fail("instance-c did not register again after its reconnect");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await b.expireDeadLeases(now + 1), 0);
    assert.equal((await leases()).get("c1")?.lease_expire_time, now + 30_000);
  });
});

describe("Store.expireDeadLeases on SQLite", () => {
  it("has nothing to end: one process owns the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lr-dead-"));
    const store = SqliteStore.open(join(dir, "db.sqlite"));
    try {
      const now = Date.now();
      await store.create([op("s1", now)], now);
      await store.claim({ owner: "x", methods: [METHOD], limit: 1, leaseMs: 30_000, now });
      assert.equal(await store.expireDeadLeases(now + 1), 0);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
