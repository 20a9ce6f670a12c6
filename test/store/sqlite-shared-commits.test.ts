// SharedCommits (src/store/sqlite/shared-commits.ts) on a real SQLite file: the writes asked for in one turn
// of the event loop commit together, once; one that fails is undone alone; none is answered before its
// commit; a closed database refuses them.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { SharedCommits } from "../../src/store/sqlite/shared-commits.js";

describe("SQLite shared commits", () => {
  const dir = mkdtempSync(join(tmpdir(), "longrun-shared-commits-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  const open = () => {
    const db = new Database(join(dir, `db${files++}.sqlite`));
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE t (v INTEGER NOT NULL CHECK (v >= 0))");
    return { db, commits: new SharedCommits(db), insert: db.prepare("INSERT INTO t (v) VALUES (?)") };
  };
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
});
