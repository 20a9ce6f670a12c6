/**
 * The AIP-160 parser and type checker on any text: random strings, and strings put together from the
 * grammar's tokens (so they get past the tokenizer and reach the parser and the checker, nesting and
 * chaining deep). compileFilter either returns an expression (or nothing, for an empty filter) or throws
 * an RpcError INVALID_ARGUMENT with reason INVALID_FILTER: never another error (a stack overflow, a
 * TypeError), whatever the length, depth or characters; and what it returns compiles to SQL for both
 * stores. Filters within the limits are checked against the stores' rows by test/filter/property.test.ts.
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Code } from "../../src/core/code.js";
import { Reason, RpcError } from "../../src/core/errors.js";
import { buildFilterSchema, compileFilter } from "../../src/filter/index.js";
import { toPostgres } from "../../src/filter/postgres.js";
import { toSqlite } from "../../src/filter/sqlite.js";
import { SleepMetadataSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { check } from "./config.js";

const schema = buildFilterSchema([SleepMetadataSchema]);

const TOKENS = [
  "done", "name", "error.code", "error.message", "metadata", "metadata.progress_percent", "metadata.@type", "create_time",
  "metadata.cancel_requested", "metadata.end_time", "response", "response.@type", "nope", "a.b.c.d",
  "=", "!=", "<", "<=", ">", ">=", ":", "AND", "OR", "NOT", "-", "(", ")", ".", ",", "*",
  "true", "false", "0", "-1", "5", "1.5", "1e400", "9223372036854775808", "NOT_FOUND", "FAILED_PRECONDITION",
  '"operations/a*"', '"2023-11-14T22:13:20Z"', '"x', "'y'", '"\\"', '"é😀"', "\u0000", "fn(x)", "  ", "\t", "\n",
];

function outcome(text: string): void {
  let compiled;
  try {
    compiled = compileFilter(text, schema);
  } catch (e) {
    assert.ok(e instanceof RpcError, `${JSON.stringify(text.slice(0, 200))}: threw ${String(e)}`);
    assert.equal(e.code, Code.INVALID_ARGUMENT, e.message);
    assert.equal(e.reason, Reason.INVALID_FILTER, e.message);
    return;
  }
  if (compiled === undefined) {
    assert.equal(text.trim(), "", `${JSON.stringify(text)} compiled to nothing`);
    return;
  }
  assert.equal(typeof toSqlite(compiled).sql, "string");
  assert.equal(typeof toPostgres(compiled, 1).sql, "string");
}

it("random text: an expression, or INVALID_FILTER; never another error", () => {
  check(fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "grapheme", maxLength: 100 })), (text) => outcome(text)), 2000);
});

it("text made of the grammar's tokens: an expression, or INVALID_FILTER; never another error", () => {
  const filter = fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).chain((tokens) =>
    fc.array(fc.constantFrom(" ", "", "  "), { minLength: tokens.length, maxLength: tokens.length }).map((gaps) => tokens.map((t, i) => t + gaps[i]).join("")),
  );
  check(fc.property(filter, (text) => outcome(text)), 3000);
});

it("deep nesting, long chains and long text at and past the limits: INVALID_FILTER, not a stack overflow", () => {
  check(
    fc.property(fc.integer({ min: 1, max: 20_000 }), fc.constantFrom("(", "NOT ", "-", "(NOT "), fc.constantFrom(" AND ", " OR ", " "), (n, open, join) => {
      outcome(`${open.repeat(n)}done = true${open.startsWith("(") ? ")".repeat(n) : ""}`);
      outcome(Array.from({ length: Math.min(n, 5000) }, () => "metadata.progress_percent > 1").join(join));
      outcome("a.".repeat(Math.min(n, 5000)) + "b = 1");
    }),
    40,
  );
});

it("RpcError carries the ErrorInfo reason the API documents", () => {
  // Keeps the assertion above honest: a known bad filter is INVALID_FILTER.
  assert.throws(() => compileFilter("done = ", schema), (e: unknown) => e instanceof RpcError && e.reason === Reason.INVALID_FILTER);
});
