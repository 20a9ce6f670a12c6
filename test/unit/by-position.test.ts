/** prepareByPosition (src/store/sqlite/by-position.ts): SQL written with names, bound by position. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { prepareByPosition } from "../../src/store/sqlite/by-position.js";

describe("prepareByPosition", () => {
  const db = new Database(":memory:");
  db.exec("CREATE TABLE t (a, b, c, d)");

  it("binds each name where it appears, a name used twice in both places, whatever the object's key order", () => {
    const insert = prepareByPosition<{ x: number; y: string; z: Uint8Array | null }>(db, "INSERT INTO t VALUES (@y, @x, @y, @z)");
    assert.equal(insert.run({ z: null, x: 1, y: "one" }).changes, 1);
    assert.equal(insert.run({ x: 2, y: "two", z: new Uint8Array([7]) }).changes, 1);
    const rows = db.prepare("SELECT * FROM t ORDER BY b").all();
    assert.deepEqual(rows, [
      { a: "one", b: 1, c: "one", d: null },
      { a: "two", b: 2, c: "two", d: Buffer.from([7]) },
    ]);
  });

  it("get, all and raw rows; source is the SQL as written", () => {
    const sql = "SELECT b, a FROM t WHERE b >= @from ORDER BY b";
    const select = prepareByPosition<{ from: number }, { b: number; a: string }>(db, sql);
    assert.deepEqual(select.get({ from: 2 }), { b: 2, a: "two" });
    assert.equal(select.get({ from: 3 }), undefined);
    assert.deepEqual(select.all({ from: 1 }).map((r) => r.a), ["one", "two"]);
    assert.equal(select.source, sql);
    const raw = prepareByPosition<{ from: number }, unknown[]>(db, sql, { raw: true });
    assert.deepEqual(raw.all({ from: 1 }), [[1, "one"], [2, "two"]]);
  });

  it("a value left out throws, as a missing name does in better-sqlite3, and writes nothing", () => {
    const update = prepareByPosition<{ b: number; a?: string }>(db, "UPDATE t SET a = @a WHERE b = @b");
    assert.throws(() => update.run({ b: 1 }), { name: "RangeError", message: 'Missing named parameter "a"' });
    assert.deepEqual(db.prepare("SELECT a FROM t WHERE b = 1").get(), { a: "one" });
    assert.equal(update.run({ b: 1, a: "uno" }).changes, 1);
  });
});
