import { it } from "node:test";
import assert from "node:assert/strict";
import { OperationNames } from "../../src/core/names.js";
import { RpcError } from "../../src/core/errors.js";
import { newOperationId, OPERATION_ID_PATTERN } from "../../src/core/ids.js";

it("ids are 22 URL-safe characters and distinct", () => {
  const ids = new Set(Array.from({ length: 1000 }, newOperationId));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{30}$/);
  assert.ok([...ids].every((id) => OPERATION_ID_PATTERN.test(id)));
});

it("formats and parses operations/{id}", () => {
  const names = new OperationNames();
  assert.equal(names.format("", "abc"), "operations/abc");
  assert.deepEqual(names.parse("operations/abc"), { parent: "", id: "abc" });
  assert.equal(names.parseListName("operations"), "");
  for (const bad of ["", "operations", "operations/", "operations/a/b", "ops/abc", "projects/p/operations/abc", "operations/a%2Fb"]) {
    assert.throws(() => names.parse(bad), RpcError, bad);
  }
  assert.throws(() => names.parseListName("projects/p"), RpcError);
});

it("formats and parses parent-scoped names", () => {
  const names = new OperationNames({ parent: "projects/*/locations/*" });
  assert.equal(names.format("projects/p/locations/l", "x"), "projects/p/locations/l/operations/x");
  assert.deepEqual(names.parse("projects/p/locations/l/operations/x"), { parent: "projects/p/locations/l", id: "x" });
  assert.equal(names.parseListName("projects/p/locations/l"), "projects/p/locations/l");
  assert.throws(() => names.parse("operations/x"), RpcError);
  assert.throws(() => names.parse("projects/p/zones/l/operations/x"), RpcError);
  assert.throws(() => names.parseListName("projects/p"), RpcError);
});

it("supports another collection id", () => {
  const names = new OperationNames({ collection: "transferOperations" });
  assert.deepEqual(names.parse("transferOperations/t-1"), { parent: "", id: "t-1" });
  assert.throws(() => names.parse("operations/t-1"), RpcError);
});
