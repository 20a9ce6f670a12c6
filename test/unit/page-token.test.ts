import { it } from "node:test";
import assert from "node:assert/strict";
import { PageTokens } from "../../src/service/page-token.js";
import { RpcError } from "../../src/core/errors.js";
import { Code } from "../../src/core/code.js";

const request = { name: "operations", filter: "done = true" };
const cursor = { createTime: 1_700_000_000_000, id: "abcDEF_-123" };

function refused(fn: () => unknown, why: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof RpcError && err.code === Code.INVALID_ARGUMENT && err.reason === "INVALID_PAGE_TOKEN" && why.test(err.message));
}

it("round-trips a cursor and is URL-safe and opaque", () => {
  const tokens = new PageTokens({ secret: "s3cret" });
  const token = tokens.issue(cursor, request, 1000);
  assert.match(token, /^[A-Za-z0-9_.-]+$/);
  assert.ok(!token.includes(cursor.id), "the cursor is not readable as is");
  assert.deepEqual(tokens.read(token, request, 2000), cursor);
});

it("refuses tampered, foreign, rebound and expired tokens", () => {
  const tokens = new PageTokens({ secret: "s3cret", ttlMs: 10_000 });
  const token = tokens.issue(cursor, request, 1000);
  const [body, mac] = token.split(".") as [string, string];
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, "base64url").toString()), i: "other" })).toString("base64url");
  refused(() => tokens.read(`${forged}.${mac}`, request, 2000), /not a page token/);
  refused(() => new PageTokens({ secret: "other" }).read(token, request, 2000), /not a page token/);
  refused(() => tokens.read(token, { ...request, filter: "done = false" }, 2000), /another name or filter/);
  refused(() => tokens.read(token, { ...request, name: "other" }, 2000), /another name or filter/);
  refused(() => tokens.read(token, request, 11_001), /expired/);
  for (const garbage of ["", ".", "a.b", "x".repeat(5000), "%%%.%%%", `${body}.${mac}.x`]) {
    refused(() => tokens.read(garbage, request, 2000), /not a page token/);
  }
});

it("binds a restricted list's token to its resource: it serves neither another resource nor the unrestricted list, nor they it", () => {
  const tokens = new PageTokens({ secret: "s3cret" });
  const scoped = { ...request, resource: "projects/a" };
  const token = tokens.issue(cursor, scoped, 1000);
  assert.deepEqual(tokens.read(token, scoped, 2000), cursor);
  refused(() => tokens.read(token, { ...request, resource: "projects/b" }, 2000), /restricted to another resource/);
  refused(() => tokens.read(token, request, 2000), /another name or filter/);
  refused(() => tokens.read(tokens.issue(cursor, request, 1000), scoped, 2000), /another name or filter/);
  // An unrestricted list: resource undefined or absent alike, hashed as tokens always were.
  assert.deepEqual(tokens.read(tokens.issue(cursor, { ...request, resource: undefined }, 1000), request, 2000), cursor);
});
