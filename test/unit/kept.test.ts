/** Bounded memos (src/core/kept.ts). */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bytesKey, keepBounded } from "../../src/core/kept.js";

describe("keepBounded", () => {
  it("keeps at most max entries, dropping the oldest first; a key set again keeps its place and drops nothing", () => {
    const map = new Map<string, number>();
    for (const [i, key] of ["a", "b", "c"].entries()) keepBounded(map, key, i, 3);
    keepBounded(map, "b", 10, 3);
    assert.deepEqual([...map], [["a", 0], ["b", 10], ["c", 2]]);
    keepBounded(map, "d", 3, 3);
    keepBounded(map, "e", 4, 3);
    assert.deepEqual([...map], [["c", 2], ["d", 3], ["e", 4]]);
  });
});

describe("bytesKey", () => {
  it("is one character a byte, of the view's bytes only, and tells different bytes apart", () => {
    const whole = new Uint8Array([0, 1, 255, 7, 8]);
    const view = whole.subarray(1, 3);
    assert.equal(bytesKey(view), "\u0001\u00ff");
    assert.notEqual(bytesKey(new Uint8Array([1, 2])), bytesKey(new Uint8Array([1, 3])));
    assert.equal(bytesKey(new Uint8Array(0)), "");
  });
});
