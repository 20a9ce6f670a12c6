// SharedCommits (src/store/sqlite/shared-commits.ts) on a real SQLite file: the writes asked for in one turn
// of the event loop commit together, once; one that fails is undone alone; none is answered before its
// commit — nor, with a Durability (wal-sync.ts), before an fsync that began after it; a closed database
// refuses them.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { SharedCommits, type Durability } from "../../src/store/sqlite/shared-commits.js";
import { WalSync } from "../../src/store/sqlite/wal-sync.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";

describe("SQLite shared commits", () => {
  const dir = mkdtempSync(join(tmpdir(), "longrun-shared-commits-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  const open = (durable?: Durability) => {
    const db = new Database(join(dir, `db${files++}.sqlite`));
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE t (v INTEGER NOT NULL CHECK (v >= 0))");
    return { db, commits: new SharedCommits(db, durable), insert: db.prepare("INSERT INTO t (v) VALUES (?)") };
  };
  /** A Durability whose fsyncs end when the test says: each sync() waits for the next `end()`. */
  class HeldSyncs implements Durability {
    started = 0;
    closed = false;
    #pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
    sync(): Promise<void> {
      this.started++;
      return new Promise((resolve, reject) => this.#pending.push({ resolve, reject }));
    }
    end(failure?: Error): void {
      const sync = this.#pending.shift();
      assert.ok(sync, "a sync is running");
      if (failure) sync.reject(failure);
      else sync.resolve();
    }
    async close(): Promise<void> {
      this.closed = true;
    }
  }
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  /**
   * Frames in the WAL (checkpoints off): each commit appends the pages it changed, so two commits of one
   * page append two frames. A frame is a 24-byte header and a page, after the WAL's 32-byte header.
   */
  const walFrames = (db: Database.Database) => {
    const size = statSync(`${db.name}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    return size === 0 ? 0 : (size - 32) / (24 + (db.pragma("page_size", { simple: true }) as number));
  };

  it("commits the writes of one turn once, and each separately when asked in separate turns", async () => {
    const { db, commits, insert } = open();
    db.pragma("wal_autocheckpoint = 0");
    const start = walFrames(db);
    await Promise.all([1, 2, 3].map((v) => commits.write(() => insert.run(v).changes)));
    const together = walFrames(db) - start;
    for (const v of [4, 5, 6]) await commits.write(() => insert.run(v).changes);
    const apart = walFrames(db) - start - together;
    assert.equal(together, 1, "three writes of one page in one turn: one commit, one frame");
    assert.equal(apart, 3, "three writes in three turns: three commits");
    assert.deepEqual(db.prepare("SELECT v FROM t ORDER BY v").pluck().all(), [1, 2, 3, 4, 5, 6]);
    db.close();
  });

  it("undoes a failing write alone: the others of its turn commit, and it is refused with its error", async () => {
    const { db, commits, insert } = open();
    const results = await Promise.allSettled([
      commits.write(() => insert.run(1).changes),
      commits.write(() => {
        insert.run(2); // undone with the rest of this write
        return insert.run(-1).changes; // CHECK fails
      }),
      commits.write(() => insert.run(3).changes),
    ]);
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
    assert.match(String((results[1] as PromiseRejectedResult).reason), /CHECK constraint/);
    assert.deepEqual(db.prepare("SELECT v FROM t ORDER BY v").pluck().all(), [1, 3]);
    assert.equal(db.inTransaction, false);
    db.close();
  });

  it("runs a turn's claims after its other writes, whatever the order they were asked in", async () => {
    const { db, commits, insert } = open();
    const count = db.prepare("SELECT count(*) FROM t").pluck();
    const [seen] = await Promise.all([
      commits.write(() => count.get() as number, { last: true }), // asked first, as a claimer woken by a freed slot is
      commits.write(() => insert.run(1).changes),
      commits.write(() => insert.run(2).changes),
    ]);
    assert.equal(seen, 2, "the claim saw both writes of its turn");
    db.close();
  });

  it("answers a write only once it is committed, and not in the turn it was asked in", async () => {
    const { db, commits, insert } = open();
    let answered = false;
    const written = commits.write(() => insert.run(7).changes).then(() => (answered = true));
    await Promise.resolve();
    assert.equal(answered, false);
    assert.deepEqual(db.prepare("SELECT v FROM t").pluck().all(), [], "not written before its turn");
    await written;
    assert.equal(answered, true);
    assert.deepEqual(db.prepare("SELECT v FROM t").pluck().all(), [7]);
    db.close();
  });

  it("refuses the writes of a turn whose database was closed meanwhile", async () => {
    const { db, commits, insert } = open();
    const write = commits.write(() => insert.run(1).changes);
    db.close();
    await assert.rejects(write, /closed/);
  });

  it("with a Durability, answers a committed write only once an fsync that began after its commit is done; the commits made meanwhile share the next", async () => {
    const syncs = new HeldSyncs();
    const { db, commits, insert } = open(syncs);
    const answered: number[] = [];
    const first = commits.write(() => insert.run(1).changes).then(() => answered.push(1));
    await turn();
    assert.deepEqual(db.prepare("SELECT v FROM t").pluck().all(), [1], "committed: reads see it");
    assert.equal(syncs.started, 1);
    assert.equal(answered.length, 0, "not answered before its fsync");
    const second = commits.write(() => insert.run(2).changes).then(() => answered.push(2));
    const third = commits.write(() => insert.run(3).changes).then(() => answered.push(3));
    await turn();
    assert.equal(syncs.started, 1, "committed while the first fsync runs: they wait for the next, not a second at once");
    syncs.end();
    await first;
    await turn();
    assert.deepEqual(answered, [1], "the first fsync began before their commit: it does not answer them");
    assert.equal(syncs.started, 2, "one fsync for both");
    syncs.end();
    await Promise.all([second, third]);
    assert.deepEqual(answered, [1, 2, 3]);
    db.close();
  });

  it("with a Durability, answers a write asked `atCommit` (a claim, a lease renewal) at its commit, the others of its turn after the fsync", async () => {
    const syncs = new HeldSyncs();
    const { db, commits, insert } = open(syncs);
    const answered: string[] = [];
    const claim = commits.write(() => insert.run(1).changes, { last: true, atCommit: true }).then(() => answered.push("claim"));
    const finish = commits.write(() => insert.run(2).changes).then(() => answered.push("finish"));
    await claim;
    assert.deepEqual(answered, ["claim"], "the claim is answered while the fsync runs");
    assert.equal(syncs.started, 1);
    syncs.end();
    await finish;
    assert.deepEqual(answered, ["claim", "finish"]);
    const lone = await commits.write(() => insert.run(3).changes, { atCommit: true });
    assert.equal(lone, 1);
    assert.equal(syncs.started, 1, "a turn of atCommit writes only starts no fsync");
    db.close();
  });

  it("with a Durability, fails the writes of an fsync that failed, and close waits for the fsync running", async () => {
    const syncs = new HeldSyncs();
    const { db, commits, insert } = open(syncs);
    const write = commits.write(() => insert.run(1).changes);
    await turn();
    syncs.end(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }));
    await assert.rejects(write, /EIO/);
    const another = commits.write(() => insert.run(2).changes);
    let closed = false;
    const closing = commits.close().then(() => (closed = true));
    await turn();
    assert.equal(closed, false, "close waits for the fsync of the writes it committed");
    syncs.end();
    await Promise.all([another, closing]);
    assert.equal(syncs.closed, true);
    db.close();
  });

  it("WalSync stands in for FULL on a file: the database commits with NORMAL and the store's writes are answered after the WAL's fsync", async () => {
    const path = join(dir, `store${files++}.sqlite`);
    const store = SqliteStore.open(path);
    const ids = await store.create([{ id: "a", name: "operations/a", parent: "", method: "m", requestId: undefined, request: new Uint8Array(), metadata: undefined, runAfter: 0 }], 1);
    assert.deepEqual(ids.map((r) => r.created), [true]);
    assert.ok(statSync(`${path}-wal`).size > 0, "the commit is in the WAL");
    await store.close();
    const db = new Database(join(dir, `plain${files++}.sqlite`));
    db.pragma("journal_mode = WAL");
    assert.ok(WalSync.instead(db, "FULL") instanceof WalSync);
    assert.equal(db.pragma("synchronous", { simple: true }), 1, "NORMAL");
    assert.equal(WalSync.instead(db, "NORMAL"), undefined, "NORMAL asked for: no fsync at all");
    db.close();
    const memory = new Database(":memory:");
    assert.equal(WalSync.instead(memory, "FULL"), undefined, "nothing to fsync in memory");
    memory.close();
  });
});
