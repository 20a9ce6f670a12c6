/**
 * The AIP-160 grammar: tokens, precedence (OR binds tighter than AND), negation, implicit AND, and
 * syntax errors that say where they are.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildFilterSchema, compileFilter } from "../../src/filter/index.js";
import { tokenize } from "../../src/filter/lexer.js";
import { RpcError } from "../../src/core/errors.js";
import { Code } from "../../src/core/code.js";
import { JobMetadataSchema } from "./fixtures.js";
import { show } from "./show.js";

const schema = buildFilterSchema([JobMetadataSchema]);
const typed = (filter: string) => show(compileFilter(filter, schema));

/** The INVALID_ARGUMENT a filter is refused with. */
function refusal(filter: string): RpcError {
  try {
    compileFilter(filter, schema);
  } catch (error) {
    assert.ok(error instanceof RpcError, `${filter}: ${String(error)}`);
    assert.equal(error.code, Code.INVALID_ARGUMENT);
    assert.equal(error.reason, "INVALID_FILTER");
    return error;
  }
  assert.fail(`${JSON.stringify(filter)} should be refused`);
}

describe("lexer", () => {
  const kinds = (source: string) => tokenize(source).map((t) => (t.kind === "text" || t.kind === "string" ? `${t.kind}:${t.value}` : t.kind));

  it("splits on punctuation and whitespace; comparators need no spaces", () => {
    assert.deepEqual(kinds("a.b>=1 c!=d e:*"), ["text:a", ".", "text:b", ">=", "text:1", "text:c", "!=", "text:d", "text:e", ":", "text:", "eof"]);
    assert.deepEqual(kinds("(a<b)OR(c>d)"), ["(", "text:a", "<", "text:b", ")", "text:OR", "(", "text:c", ">", "text:d", ")", "eof"]);
  });

  it("reads numbers with a fraction and exponent, durations and negative numbers as one token", () => {
    assert.deepEqual(kinds("a = 1.5 b > 2.997e9 c < -1.5s d = 20s"), [
      "text:a", "=", "text:1.5", "text:b", ">", "text:2.997e9", "text:c", "<", "text:-1.5s", "text:d", "=", "text:20s", "eof",
    ]);
    assert.deepEqual(kinds("-a = 1"), ["-", "text:a", "=", "text:1", "eof"], "- before a letter negates");
  });

  it("keeps the colons of an unquoted RFC 3339 timestamp", () => {
    assert.deepEqual(kinds("t > 2012-04-21T11:30:00.25-04:00"), ["text:t", ">", "text:2012-04-21T11:30:00.25-04:00", "eof"]);
  });

  it("unescapes strings in either quote, and marks unescaped boundary stars as wildcards", () => {
    const [s] = tokenize(String.raw`"a\"b\'c\\d\n\u00e9"`);
    assert.equal(s?.value, "a\"b'c\\d\né");
    const star = (source: string) => {
      const t = tokenize(source)[0]!;
      return [t.value, t.wildcardStart, t.wildcardEnd];
    };
    assert.deepEqual(star('"*.foo"'), [".foo", true, false]);
    assert.deepEqual(star("'foo*'"), ["foo", false, true]);
    assert.deepEqual(star('"*mid*"'), ["mid", true, true]);
    assert.deepEqual(star(String.raw`"\*lit\*"`), ["*lit*", false, false]);
    assert.deepEqual(star('"a*b"'), ["a*b", false, false], "a star inside is literal");
    assert.deepEqual(star("operations/*"), ["operations/", false, true]);
  });
});

describe("parser", () => {
  it("accepts the empty filter (everything)", () => {
    for (const filter of ["", "   ", "\t\n"]) assert.equal(compileFilter(filter, schema), undefined);
  });

  it("binds OR tighter than AND, explicit or implicit", () => {
    assert.equal(typed("done = true AND name = a OR name = b"), '(done = true AND (name = "a" OR name = "b"))');
    assert.equal(typed("name = a OR name = b AND done = true"), '((name = "a" OR name = "b") AND done = true)');
    assert.equal(typed("done = true name = a OR name = b"), '(done = true AND (name = "a" OR name = "b"))');
    assert.equal(typed("(done = true AND name = a) OR name = b"), '((done = true AND name = "a") OR name = "b")');
  });

  it("reads a sequence as AND, and flattens nested ANDs and ORs", () => {
    assert.equal(typed("done = true name = a method = m"), '(done = true AND name = "a" AND method = "m")');
    assert.equal(typed("name = a OR (name = b OR name = c)"), '(name = "a" OR name = "b" OR name = "c")');
  });

  it("negates with NOT and -, which bind to the restriction or parenthesized expression after them", () => {
    assert.equal(typed("NOT done = true"), "NOT done = true");
    assert.equal(typed("-done = true"), "NOT done = true");
    assert.equal(typed("NOT (done = true OR name = a)"), 'NOT (done = true OR name = "a")');
    assert.equal(typed("NOT(done = true)"), "NOT done = true");
    assert.equal(typed("-error:* done = true"), "(NOT error:* AND done = true)");
    assert.equal(typed("NOT done = true OR name = a"), '(NOT done = true OR name = "a")');
  });

  it("treats keywords as case-sensitive, and allows them as field names after a dot", () => {
    assert.match(refusal("done = true and name = a").message, /bare value "and" \(keywords are upper case: AND\)/);
    assert.match(refusal("done = true or name = a").message, /bare value "or"/);
    assert.match(refusal("metadata.OR = 1").message, /JobMetadata has no field "OR"/);
  });

  it("says what is wrong, and at which column", () => {
    const cases: [string, RegExp][] = [
      ["done = true AND", /the filter ends where a field or value was expected \(at column 16\)/],
      ["AND done = true", /AND is out of place.*\(at column 1\)/],
      ["done = true OR OR name = a", /OR is out of place.*\(at column 16\)/],
      ["(done = true", /unbalanced "\(": no "\)" closes it \(at column 1\)/],
      ["done = true)", /unbalanced "\)": no "\(" to close \(at column 12\)/],
      ["()", /empty parentheses \(at column 1\)/],
      ["done == true", /unexpected "=": a comparison needs a field on its left \(at column 7\)/],
      ["done =", /"=" has nothing on its right \(at column 6\)/],
      ['name = "abc', /unterminated string: no closing " \(at column 8\)/],
      [String.raw`name = "a\qb"`, /unknown escape "\\\\q" in a string .*\(at column 10\)/],
      ["done ! true", /"!" must be followed by "="/],
      ["NOTdone = true", /unknown field "NOTdone"/],
      ["NOT NOT done = true", /NOT cannot negate a negation directly/],
      ["done = true AND NOT", /NOT has nothing after it to negate \(at column 17\)/],
      ["done = true -", /- has nothing after it to negate \(at column 13\)/],
      ["name = a.", /a field name must follow "\."/],
      ["a.b(1)", /functions are not supported \("a\.b"\(…\)\) \(at column 1\)/],
      ["done = (true)", /a value in parentheses is not supported/],
      ["名前 = x", /unknown field "名前".*\(at column 1\)/],
      ["done = true\u0000", /NUL characters are not allowed \(at column 12\)/],
    ];
    for (const [filter, expected] of cases) assert.match(refusal(filter).message, expected, filter);
  });

  it("counts columns in characters, not UTF-16 units", () => {
    assert.match(refusal('name = "😀" AND nope = 1').message, /unknown field "nope" \(at column 16\)/);
    assert.equal(refusal('name = "😀" AND nope = 1').metadata.column, "16");
  });
});
