/**
 * Page tokens (src/service/page-token.ts) under random input: a token reads back only on the instance that
 * issued it, for the bound it was issued for, before it expires; anything else is INVALID_ARGUMENT with
 * reason INVALID_PAGE_TOKEN, never another error.
 */
import { it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { PageTokens, type PageTokenBinding } from "../../src/service/page-token.js";
import { RpcError } from "../../src/core/errors.js";
import { Code } from "../../src/core/code.js";
import type { ListCursor } from "../../src/store/store.js";
import { check } from "./config.js";

const TTL = 60_000;
const T0 = 1_700_000_000_000;

function refused(fn: () => unknown): boolean {
  try {
    fn();
  } catch (e) {
    if (e instanceof RpcError && e.code === Code.INVALID_ARGUMENT && e.reason === "INVALID_PAGE_TOKEN") return true;
    throw e; // any other error fails the property, with its own message
  }
  return false;
}

const text = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: "binary", maxLength: 20 }), fc.constantFrom("", "operations", "done = true", "\0", "a\0b"));
const binding: fc.Arbitrary<PageTokenBinding> = fc.record(
  { name: text, filter: text, resource: fc.option(text, { nil: undefined }) },
  { requiredKeys: ["name", "filter"] },
);
const cursor: fc.Arbitrary<ListCursor> = fc
  .record({
    createTime: fc.integer({ min: 0, max: 2 ** 47 }),
    id: fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: "grapheme", maxLength: 10 })),
  })
  .map(({ createTime, id }) => ({ createTime, id })); // a plain object (fc.record may give a null prototype)
const sameBinding = (a: PageTokenBinding, b: PageTokenBinding): boolean =>
  a.name === b.name && a.filter === b.filter && a.resource === b.resource;

const tokens = new PageTokens({ secret: "fuzz-secret", ttlMs: TTL });

it("a random string is refused", () => {
  const base64ish = fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/%"), maxLength: 120 });
  const token = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 80 }), base64ish, fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b).toString("latin1")));
  check(
    fc.property(token, binding, (t, b) => {
      assert.ok(refused(() => tokens.read(t, b, T0)), `read ${JSON.stringify(t)}`);
    }),
    2000,
  );
});

it("an issued token reads back exactly, on its own bound, before it expires", () => {
  check(
    fc.property(cursor, binding, fc.integer({ min: 0, max: TTL - 1 }), (c, b, age) => {
      const t = tokens.issue(c, b, T0);
      assert.match(t, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      assert.deepEqual(tokens.read(t, b, T0 + age), c);
      // A copy with another secret never reads it.
      assert.ok(refused(() => new PageTokens({ secret: "other", ttlMs: TTL }).read(t, b, T0 + age)));
    }),
    1000,
  );
});

it("a token is refused once expired (injected clock)", () => {
  check(
    fc.property(cursor, binding, fc.integer({ min: TTL, max: 10 * TTL }), (c, b, age) => {
      const t = tokens.issue(c, b, T0);
      assert.ok(refused(() => tokens.read(t, b, T0 + age)));
    }),
    500,
  );
});

it("a token issued for one bound is refused for any other", () => {
  check(
    fc.property(cursor, binding, binding, (c, b1, b2) => {
      fc.pre(!sameBinding(b1, b2));
      const t = tokens.issue(c, b1, T0);
      assert.ok(refused(() => tokens.read(t, b2, T0)), `bound ${JSON.stringify(b1)} read as ${JSON.stringify(b2)}`);
    }),
    1000,
  );
});

it("a token with one byte of its decoded body or MAC changed is refused", () => {
  check(
    fc.property(cursor, binding, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), (c, b, at, xor, inMac) => {
      const t = tokens.issue(c, b, T0);
      const [body, mac] = t.split(".") as [string, string];
      const bytes = Buffer.from(inMac ? mac : body, "base64url");
      bytes[at % bytes.length]! ^= xor;
      const changed = inMac ? `${body}.${bytes.toString("base64url")}` : `${bytes.toString("base64url")}.${mac}`;
      assert.ok(refused(() => tokens.read(changed, b, T0)));
    }),
    1000,
  );
});

/**
 * Found by the property above (LONGRUN_FUZZ_SEED=1 LONGRUN_FUZZ_RUNS=20000), fixed: bounds were hashed as
 * name + "\0" + filter, so {name: "", filter: "\0"} and {name: "\0", filter: ""} shared tokens.
 */
it("bounds that differ only in where a NUL byte sits are told apart", () => {
  const t = tokens.issue({ createTime: 0, id: "" }, { name: "", filter: "\0" }, T0);
  assert.ok(refused(() => tokens.read(t, { name: "\0", filter: "" }, T0)));
});

/**
 * Found by this property (seed 16), fixed: base64url decoding was lenient — the spare low bits of a part's
 * last character were ignored — so one token had several spellings. Parts must now be canonical.
 */
it("a token with one character of its text changed is refused", () => {
  check(
    fc.property(cursor, binding, fc.nat(), fc.integer({ min: 1, max: 127 }), (c, b, at, code) => {
      const t = tokens.issue(c, b, T0);
      const i = at % t.length;
      fc.pre(t.charCodeAt(i) !== code);
      const changed = t.slice(0, i) + String.fromCharCode(code) + t.slice(i + 1);
      assert.ok(refused(() => tokens.read(changed, b, T0)), `changed token ${JSON.stringify(changed)} (was ${JSON.stringify(t)}) was accepted`);
    }),
    1000,
  );
});
