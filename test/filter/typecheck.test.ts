/**
 * Type checking against the schema: which fields exist (fixed ones, metadata fields by proto name),
 * what values convert to their types, which operators apply; and INVALID_ARGUMENT errors that say what
 * and where.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { buildFilterSchema, compileFilter, DEFAULT_FILTER_LIMITS } from "../../src/filter/index.js";
import { RpcError } from "../../src/core/errors.js";
import { Code } from "../../src/core/code.js";
import { BadRequestSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { SleepMetadataSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { JobMetadataSchema, OtherMetadataSchema, JOB_URL, OTHER_URL } from "./fixtures.js";
import { show } from "./show.js";

const schema = buildFilterSchema([JobMetadataSchema, OtherMetadataSchema, JobMetadataSchema]);
const typed = (filter: string) => show(compileFilter(filter, schema));

function refusal(filter: string, s = schema, limits = DEFAULT_FILTER_LIMITS): RpcError {
  try {
    compileFilter(filter, s, limits);
  } catch (error) {
    assert.ok(error instanceof RpcError, `${filter}: ${String(error)}`);
    return error;
  }
  assert.fail(`${JSON.stringify(filter)} should be refused`);
}

const message = (filter: string) => refusal(filter).message;

describe("type checking", () => {
  it("refuses with INVALID_ARGUMENT, ErrorInfo INVALID_FILTER with the column, and a BadRequest violation on filter", () => {
    const error = refusal("done = true AND metadata.progress_percent > high");
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.equal(error.message, 'filter: "high" is not an integer, as metadata.progress_percent needs (at column 45)');
    assert.equal(error.reason, "INVALID_FILTER");
    assert.deepEqual(error.metadata, { column: "45", field: "filter" });
    const badRequest = error.details.map((d) => anyUnpack(d, BadRequestSchema)).find((d) => d !== undefined);
    assert.equal(badRequest?.fieldViolations[0]?.field, "filter");
    assert.equal(badRequest?.fieldViolations[0]?.description, '"high" is not an integer, as metadata.progress_percent needs (at column 45)');
  });

  it("knows the fixed fields, and lists them for an unknown one", () => {
    assert.equal(typed('name = "operations/x"'), 'name = "operations/x"');
    assert.equal(typed("method = longrun.demo.v1.Demo.Sleep"), 'method = "longrun.demo.v1.Demo.Sleep"');
    assert.equal(typed("error.code = 5 error.message = oops"), '(error_code = 5 AND error_message = "oops")');
    const unknown = message("status = 1");
    assert.match(unknown, /^filter: unknown field "status" \(at column 1\); filterable fields: name, method, done, create_time/);
    assert.match(unknown, /metadata\.<field> \(create_time, end_time, progress_percent/);
    assert.match(message("error.details = 1"), /only error.code, error.message and presence \(error:\*\) are filterable \(at column 7\)/);
    assert.match(message("response.name = x"), /only response.@type and presence \(response:\*\) are filterable \(at column 10\)/);
    assert.match(message("done.x = 1"), /unknown field "done.x" \(at column 6\)/);
  });

  it("resolves metadata fields by proto name through nested messages, typed from the field", () => {
    assert.equal(typed("metadata.inner.child.label = x"), 'metadata.inner.child.label = "x"');
    assert.equal(typed('metadata.inner.seen_time < "2024-01-01T00:00:00Z"'), "metadata.inner.seen_time < 1704067200000000000ns");
    assert.equal(typed("metadata.elapsed >= 1.5s"), "metadata.elapsed >= 1500000000ns");
    assert.equal(typed("metadata.ratio < 2.5e-1"), "metadata.ratio < 0.25");
    assert.equal(typed("metadata.bytes_done > 9223372036854775807"), "metadata.bytes_done > 9223372036854775807");
    assert.equal(typed("metadata.retries = 3"), "metadata.retries = 3", "wrappers read as their scalar");
    assert.equal(typed("metadata.note:*"), "metadata.note:*");
    assert.match(message("metadata.progressPercent = 1"), /unknown field "metadata.progressPercent": longrun.filtertest.v1.JobMetadata has no field "progressPercent" \(at column 10\); metadata fields: /);
    assert.match(message("metadata.inner.nope = 1"), /Inner has no field "nope" \(at column 16\)/);
    assert.match(message("metadata.target.x = 1"), /metadata.target is a string, which has no fields \(at column 17\)/);
    assert.match(message("metadata.labels.a = b"), /metadata.labels is a map field; map fields are not filterable \(at column 10\)/);
    assert.match(message("metadata.blob = x"), /bytes fields are not filterable/);
    assert.match(message("metadata.inner = x"), /metadata.inner is a message: only presence \(metadata.inner:\*\) applies/);
  });

  it("types a field from the first metadata type that has it; others with another type do not match it", () => {
    const stage = compileFilter("metadata.stage = RUNNING", schema);
    assert.ok(stage?.kind === "compare" && stage.field.kind === "json");
    assert.deepEqual(stage.field.typeUrls, [JOB_URL], "OtherMetadata.stage is an int32");
    const target = compileFilter("metadata.target = x", schema);
    assert.ok(target?.kind === "compare" && target.field.kind === "json");
    assert.deepEqual(target.field.typeUrls, [JOB_URL, OTHER_URL]);
    const otherFirst = buildFilterSchema([OtherMetadataSchema, JobMetadataSchema]);
    assert.equal(show(compileFilter("metadata.stage > 1", otherFirst)), "metadata.stage > 1");
    assert.match(refusal("metadata.foo = 1", buildFilterSchema([])).message, /this server declares no metadata types/);
  });

  it("converts literals to the field's type, quoted or not", () => {
    assert.equal(typed('done = "true"'), "done = true");
    assert.equal(typed('metadata.progress_percent = "50"'), "metadata.progress_percent = 50");
    assert.equal(typed("metadata.progress_percent = 5e1"), "metadata.progress_percent = 50");
    assert.equal(typed("error.code = NOT_FOUND"), "error_code = 5");
    assert.equal(typed("metadata.stage = 2"), "metadata.stage = RUNNING", "enum by number");
    assert.equal(typed("name = 42"), 'name = "42"');
    assert.equal(typed('create_time > "2012-04-21T11:30:00-04:00"'), "create_time > 1335022200000000000ns");
    assert.equal(typed("create_time > 2012-04-21T15:30:00Z"), "create_time > 1335022200000000000ns");
    assert.equal(typed('create_time <= "0001-01-01T00:00:00Z"'), "create_time <= -62135596800000000000ns");
  });

  it("refuses values of the wrong type, saying what was expected and where", () => {
    const cases: [string, RegExp][] = [
      ["done = yes", /"yes" is not true or false, as done needs \(at column 8\)/],
      ["done = True", /"True" is not true or false/],
      ["metadata.progress_percent = 1.5", /"1.5" is not an integer/],
      ["metadata.progress_percent = 2147483648", /2147483648 is out of range for metadata.progress_percent \(int32: -2147483648 to 2147483647\) \(at column 29\)/],
      ["metadata.shards = -1", /out of range for metadata.shards \(uint32/],
      ["metadata.bytes_done = 9223372036854775808", /out of range .*int64/],
      ["error.code = NOPE", /"NOPE" is not an integer, as error.code needs \(at column 14\); error.code also takes google.rpc.Code names/],
      ["metadata.ratio = NaN", /"NaN" is not a finite number/],
      ["metadata.stage = running", /"running" is not a value of longrun.filtertest.v1.Stage, as metadata.stage needs \(at column 18\); values \(case-sensitive\): STAGE_UNSPECIFIED, QUEUED, RUNNING, DONE/],
      ["metadata.stage = 7", /"7" is not a value of/],
      ['create_time > "2024-13-01T00:00:00Z"', /"2024-13-01T00:00:00Z" is not an RFC 3339 timestamp, as create_time needs \(at column 15\); for example/],
      ['create_time > "2024-02-30T00:00:00Z"', /is not an RFC 3339 timestamp/],
      ['create_time > "2024-01-01 00:00:00Z"', /is not an RFC 3339 timestamp/],
      ['create_time > "2024-01-01T00:00:00"', /is not an RFC 3339 timestamp/],
      ['create_time > "2024-01-01T00:00:00.1234567891Z"', /is not an RFC 3339 timestamp/],
      ['create_time > "10000-01-01T00:00:00Z"', /is not an RFC 3339 timestamp/],
      ["end_time > yesterday", /"yesterday" is not an RFC 3339 timestamp/],
      ["metadata.elapsed > 20", /"20" is not a duration, as metadata.elapsed needs \(at column 20\); write seconds with an s suffix/],
      ["metadata.elapsed > 1.5m", /is not a duration/],
    ];
    for (const [filter, expected] of cases) assert.match(message(filter), expected, filter);
  });

  it("applies ordering only to strings, numbers, timestamps and durations", () => {
    assert.match(message("done < true"), /"<" does not apply to done, a bool field: use = or != \(at column 6\)/);
    assert.match(message("metadata.stage >= RUNNING"), /">=" does not apply to metadata.stage, an enum field/);
    assert.equal(typed("name >= b"), 'name >= "b"');
  });

  it("reads leading and trailing stars in string values as wildcards, for = and != only", () => {
    assert.equal(typed('name = "*.foo"'), 'name = ".foo"[suffix]');
    assert.equal(typed("name = operations/*"), 'name = "operations/"[prefix]');
    assert.equal(typed('name != "*mid*"'), 'name != "mid"[contains]');
    assert.equal(typed(String.raw`name = "\*lit"`), 'name = "*lit"');
    assert.match(message('name > "a*"'), /wildcards \(\*\) only work with = and != \(and :\); escape a literal star as \\\* \(at column 8\)/);
    assert.match(message('metadata.progress_percent = "5*"'), /wildcards \(\*\) apply to strings only/);
    assert.match(message("name = *"), /a bare \* is only for presence \(name:\*\); to match any string write "\*"/);
  });

  it("reads : as presence with *, equality otherwise, and some-element for repeated fields", () => {
    assert.equal(typed("error:*"), "error:*");
    assert.equal(typed("end_time:*"), "end_time:*");
    assert.equal(typed("metadata.inner:*"), "metadata.inner:*");
    assert.equal(typed("metadata.target:x"), 'metadata.target = "x"');
    assert.equal(typed('metadata.tags:"a*"'), 'any(metadata.tags: <e> = "a"[prefix])');
    assert.equal(typed("metadata.tags:*"), "any(metadata.tags)");
    assert.equal(typed("metadata.items.name:x"), 'any(metadata.items: <e>.name = "x")');
    assert.equal(typed("metadata.items.seen_time:*"), "any(metadata.items: <e>.seen_time:*)");
    assert.equal(typed("metadata.items:*"), "any(metadata.items)");
    assert.equal(typed("metadata.sizes:5"), "any(metadata.sizes: <e> = 5)");
    assert.match(message("metadata.tags = a"), /metadata.tags is a repeated field: only ":" applies/);
    assert.match(message("metadata.items.count > 1"), /metadata.items.count is a repeated field: only ":" applies \(.*\) \(at column 22\)/);
    assert.match(message("metadata.items:x"), /metadata.items is a message: ":" takes only \*/);
    assert.match(message("error:x"), /error is a message: ":" takes only \*/);
  });

  it("compares @type with the message name, or with the type URL when the value has a /", () => {
    assert.equal(typed("metadata.@type = longrun.filtertest.v1.JobMetadata"), 'metadata.@type(name) = "longrun.filtertest.v1.JobMetadata"');
    assert.equal(typed(`metadata.@type = "${JOB_URL}"`), `metadata.@type(url) = "${JOB_URL}"`);
    assert.equal(typed('response.@type = "*Response"'), 'response.@type(name) = "Response"[suffix]');
    assert.equal(typed("metadata.@type:*"), "metadata.@type(name):*");
    assert.match(message("metadata.@type.x = 1"), /metadata.@type is a string; it has no fields \(at column 16\)/);
  });

  it("refuses bare values and functions, saying so", () => {
    assert.match(message("foo"), /^filter: bare value "foo": global \(free-text\) restrictions are not supported; compare a field, e.g. name = "…" \(at column 1\)$/);
    assert.match(message('"some text"'), /bare value "some text"/);
    assert.match(message("done"), /"done" needs a comparison, e.g. done = …, or done:\* for presence/);
    assert.match(message("done = true regex(name, 'a.*')"), /functions are not supported \("regex"\(…\)\) \(at column 13\)/);
    assert.match(message("name = lower(x)"), /functions are not supported \("lower"\(…\)\) \(at column 8\)/);
  });

  it("works with the demo's metadata", () => {
    const demo = buildFilterSchema([SleepMetadataSchema]);
    assert.equal(show(compileFilter("metadata.progress_percent > 50 AND metadata.cancel_requested = true", demo)), "(metadata.progress_percent > 50 AND metadata.cancel_requested = true)");
  });
});

describe("limits", () => {
  const limits = DEFAULT_FILTER_LIMITS;

  it("accepts a filter of exactly the maximum length, and refuses a longer one", () => {
    const base = "name = ";
    const fits = `${base}"${"x".repeat(limits.maxLength - base.length - 2)}"`;
    assert.equal(fits.length, limits.maxLength);
    assert.ok(compileFilter(fits, schema));
    const error = refusal(`${fits} `);
    assert.equal(error.message, `filter: is ${limits.maxLength + 1} characters long; the limit is ${limits.maxLength}`);
  });

  it("accepts parentheses nested to the maximum depth, and refuses one level more", () => {
    const nested = (depth: number) => `${"(".repeat(depth)}done = true${")".repeat(depth)}`;
    assert.ok(compileFilter(nested(limits.maxDepth), schema));
    assert.match(refusal(nested(limits.maxDepth + 1)).message, new RegExp(`parentheses nest deeper than the limit of ${limits.maxDepth} \\(at column ${limits.maxDepth + 1}\\)`));
    assert.match(refusal("(".repeat(100_000)).message, /is 100000 characters long/, "length is checked before parsing");
    assert.match(refusal(nested(1000)).message, /characters long/);
  });

  it("accepts the maximum number of restrictions, and refuses one more", () => {
    const restrictions = (n: number) => Array.from({ length: n }, (_, i) => `metadata.progress_percent != ${i}`).join(" OR ");
    assert.ok(compileFilter(restrictions(limits.maxRestrictions), schema));
    assert.match(refusal(restrictions(limits.maxRestrictions + 1)).message, /has more than the limit of 50 restrictions \(comparisons and : tests\)/);
  });

  it("takes other limits", () => {
    const tight = { maxLength: 30, maxDepth: 1, maxRestrictions: 2 };
    assert.match(refusal("done = true OR done = false OR done = true", schema, tight).message, /characters long; the limit is 30/);
    assert.match(refusal("((done = true))", schema, tight).message, /limit of 1/);
    assert.match(refusal("a = 1 b = 2 c = 3", schema, tight).message, /limit of 2 restrictions \(comparisons and : tests\) \(at column 13\)/);
  });
});
