// OperationsWatch (src/service/watch.ts): the change feed, batched, read once per batch, and told to each
// watcher as far as it may know. A fake store (subscribe and getViews only) and a manual clock.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OperationNames } from "../../src/core/names.js";
import type { ChangeListener, OperationView, Store } from "../../src/store/store.js";
import { OperationsWatch, type OperationChanges } from "../../src/service/watch.js";
import { ManualClock, settle } from "../support/manual-clock.js";

function fakeStore(views: Record<string, Partial<OperationView>>, fail = false) {
  const listeners = new Set<ChangeListener>();
  const reads: string[][] = [];
  const store = {
    subscribe(listener: ChangeListener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async getViews(ids: readonly string[]) {
      reads.push([...ids]);
      if (fail) throw new Error("store down");
      return ids.map((id) => (views[id] === undefined ? undefined : ({ id, ...views[id] } as OperationView)));
    },
  } as unknown as Store;
  return { store, listeners, reads, emit: (kind: string, ids: string[]) => listeners.forEach((l) => l({ kind: kind as never, ids })) };
}

describe("OperationsWatch", () => {
  it("reads each batch once for all watchers, and tells each what its scope holds", async () => {
    const names = new OperationNames({ parent: "projects/*" });
    const fake = fakeStore({
      a1: { name: "projects/a/operations/a1" },
      b1: { name: "projects/b/operations/b1" },
      r1: { name: "projects/a/operations/r1", resource: "r" },
    });
    const clock = new ManualClock();
    const watch = new OperationsWatch({ store: fake.store, names, clock, log: () => {} });
    const heardA: OperationChanges[] = [];
    const heardR: OperationChanges[] = [];
    const stopA = watch.watch({ parent: "projects/a" }, (c) => heardA.push(c));
    const stopR = watch.watch({ parent: "projects/a", resource: "r" }, (c) => heardR.push(c));
    assert.equal(fake.listeners.size, 1, "one subscription however many watch");
    fake.emit("progress", ["a1", "b1"]);
    fake.emit("done", ["r1", "a1"]);
    fake.emit("deleted", ["gone"]);
    await clock.advance(150);
    await settle();
    assert.deepEqual(fake.reads, [["a1", "b1", "r1"]]);
    assert.deepEqual(heardA, [{ changed: ["projects/a/operations/a1", "projects/a/operations/r1"], deleted: [], resync: false }]);
    assert.deepEqual(heardR, [{ changed: ["projects/a/operations/r1"], deleted: [], resync: false }]);
    // Nothing changed: nothing read, nothing sent.
    await clock.advance(1000);
    await settle();
    assert.equal(fake.reads.length, 1);
    stopA();
    stopR();
    assert.equal(fake.listeners.size, 0, "unsubscribed when nobody watches");
  });

  it("tells deletions to watchers of the whole collection only", async () => {
    const fake = fakeStore({});
    const clock = new ManualClock();
    const watch = new OperationsWatch({ store: fake.store, names: new OperationNames(), clock, log: () => {} });
    const whole: OperationChanges[] = [];
    const scoped: OperationChanges[] = [];
    watch.watch({ parent: "" }, (c) => whole.push(c));
    watch.watch({ parent: "", resource: "projects/p" }, (c) => scoped.push(c));
    fake.emit("deleted", ["x1"]);
    await clock.advance(150);
    await settle();
    assert.deepEqual(whole, [{ changed: [], deleted: ["operations/x1"], resync: false }]);
    assert.deepEqual(scoped, []);
    watch.close();
  });

  it("says resync when the feed did, when too much changed to read, or when the read failed", async () => {
    const clock = new ManualClock();
    for (const [why, fake, emit] of [
      ["feed", fakeStore({}), (f: ReturnType<typeof fakeStore>) => f.emit("resync", [])],
      ["too many", fakeStore({}), (f: ReturnType<typeof fakeStore>) => f.emit("created", ["1", "2", "3", "4"])],
      ["read failed", fakeStore({}, true), (f: ReturnType<typeof fakeStore>) => f.emit("created", ["1"])],
    ] as const) {
      const watch = new OperationsWatch({ store: fake.store, names: new OperationNames(), clock, log: () => {}, maxIdsPerBatch: 3 });
      const heard: OperationChanges[] = [];
      watch.watch({ parent: "" }, (c) => heard.push(c));
      emit(fake);
      await clock.advance(150);
      await settle();
      assert.deepEqual(heard, [{ changed: [], deleted: [], resync: true }], why);
      watch.close();
    }
  });
});

describe("OperationsWatch on a shared store: the progress of operations running elsewhere", () => {
  it("lists each watched scope's running operations every sweep and tells those whose update time moved", async () => {
    const fake = fakeStore({ a1: { name: "operations/a1" }, a2: { name: "operations/a2" } });
    const running = new Map<string, number>([["a1", 1]]);
    const lists: unknown[] = [];
    const store = Object.assign(Object.create(fake.store) as Store, {
      shared: true,
      getViews: fake.store.getViews,
      subscribe: fake.store.subscribe,
      async list(query: { parent: string; filter?: unknown; limit: number }) {
        lists.push({ parent: query.parent, filter: query.filter, limit: query.limit });
        return [...running].map(([id, updateTime]) => ({ id, name: `operations/${id}`, updateTime }));
      },
    });
    const clock = new ManualClock();
    const watch = new OperationsWatch({ store, names: new OperationNames(), clock, log: () => {}, progressSweepMs: 1000, progressSweepLimit: 50 });
    const heard: OperationChanges[] = [];
    const stop = watch.watch({ parent: "" }, (c) => heard.push(c));
    await clock.advance(1000 + 150);
    await settle();
    assert.deepEqual(heard, [{ changed: ["operations/a1"], deleted: [], resync: false }], "new to the sweep: told once");
    assert.deepEqual(lists, [{ parent: "", filter: { kind: "compare", field: { kind: "column", column: "done", type: "bool" }, op: "=", value: { type: "bool", value: false } }, limit: 50 }]);
    running.set("a1", 2); // progress written by another instance
    running.set("a2", 5); // started running elsewhere
    await clock.advance(1000 + 150);
    await settle();
    assert.deepEqual(heard.slice(1), [{ changed: ["operations/a1", "operations/a2"], deleted: [], resync: false }]);
    await clock.advance(1000 + 150);
    await settle();
    assert.equal(heard.length, 2, "nothing moved: nothing told");
    stop();
    await clock.advance(5000);
    assert.equal(lists.length, 3, "no sweep while nobody watches");
    watch.close();
  });

  it("never sweeps a store one process owns (its feed has all)", async () => {
    const fake = fakeStore({});
    let listed = 0;
    const store = Object.assign(Object.create(fake.store) as Store, { shared: false, subscribe: fake.store.subscribe, list: async () => (listed++, []) });
    const clock = new ManualClock();
    const watch = new OperationsWatch({ store, names: new OperationNames(), clock, log: () => {}, progressSweepMs: 1000 });
    watch.watch({ parent: "" }, () => {});
    await clock.advance(5000);
    await settle();
    assert.equal(listed, 0);
    watch.close();
  });
});
