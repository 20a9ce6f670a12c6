import { it } from "node:test";
import assert from "node:assert/strict";
import { Batcher } from "../../src/runtime/batch.js";

it("groups calls made while a flush runs into the next flush, in order", async () => {
  const flushes: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const batcher = new Batcher<number, number>(async (items) => {
    flushes.push(items);
    if (flushes.length === 1) await gate;
    return items.map((i) => i * 10);
  });
  const first = batcher.add(1);
  await new Promise((r) => setImmediate(r));
  const later = [batcher.add(2), batcher.add(3), batcher.add(4)];
  release();
  assert.deepEqual(await Promise.all([first, ...later]), [10, 20, 30, 40]);
  assert.deepEqual(flushes, [[1], [2, 3, 4]]);
});

it("rejects every item of a failed flush and keeps working", async () => {
  let fail = true;
  const batcher = new Batcher<number, number>(async (items) => {
    if (fail) throw new Error("store down");
    return items;
  });
  const results = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
  fail = false;
  assert.equal(await batcher.add(3), 3);
});

it("splits batches at maxBatch", async () => {
  const sizes: number[] = [];
  const batcher = new Batcher<number, number>(async (items) => {
    sizes.push(items.length);
    return items;
  }, 2);
  await Promise.all([1, 2, 3, 4, 5].map((i) => batcher.add(i)));
  assert.deepEqual(sizes, [2, 2, 1]);
});

it("soonWhenIdle: an item added to an idle batcher goes out before the next turn; those added meanwhile still go together", async () => {
  const flushes: number[][] = [];
  let turned = false;
  const batcher = new Batcher<number, number>(async (items) => (flushes.push(items), items), 1000, true);
  setImmediate(() => (turned = true));
  const lone = batcher.add(1);
  assert.equal(await lone, 1);
  assert.equal(turned, false, "answered without waiting for a turn of the event loop");
  await Promise.all([batcher.add(2), batcher.add(3), batcher.add(4)]);
  assert.deepEqual(flushes, [[1], [2, 3, 4]], "added in one go: one flush");
});
