import { it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { ChangeKind, ChangeListener, Store } from "../../src/store/store.js";
import { startTestServer } from "../support/server.js";

/**
 * The store with its look-ahead query made slow, as a networked store's is: its answer is read at once and
 * delivered `delayMs` later, so (like a PostgreSQL snapshot) it cannot include operations created meanwhile.
 * Wake-ups during it must not be lost.
 */
function withSlowLookAhead(store: Store, delayMs: number): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property === "nextDueTime") {
        return async (...args: Parameters<Store["nextDueTime"]>) => {
          const answer = await target.nextDueTime(...args);
          await new Promise((r) => setTimeout(r, delayMs));
          return answer;
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

it("an operation created while the worker looks ahead is claimed at once, not lost", { timeout: 20_000 }, async () => {
  const store = SqliteStore.open(join(mkdtempSync(join(tmpdir(), "longrun-wake-")), "longrun.db"));
  // The only other wake-up would be the look-ahead timer, 60 s out (the retry backoff of the running one):
  // far beyond the Wait below, so a lost wake-up fails the test instead of slowing it.
  const t = await startTestServer({ store: withSlowLookAhead(store, 300), retryBackoff: { initialMs: 60_000, maxMs: 60_000 } });
  try {
    const wait = (name: string) => t.grpc.call(Operations.method.waitOperation, { name, timeout: durationFromMs(10_000) });
    for (let i = 0; i < 5; i++) {
      const first = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0) });
      // Started while the worker is (slowly) looking for the next due time after claiming `first`.
      await new Promise((r) => setTimeout(r, 50));
      const second = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0) });
      assert.equal((await wait(first.name)).done, true);
      assert.equal((await wait(second.name)).done, true, `round ${i}: the second operation ran`);
    }
  } finally {
    await t.close();
  }
});

/**
 * The store with a feed that loses the events of `lost` kinds (as a dropped LISTEN connection does) and
 * lets the test announce a "resync", as the store does once its feed is whole again.
 */
function withLossyFeed(store: Store, lost: readonly ChangeKind[]): { store: Store; resync(): void } {
  const listeners = new Set<ChangeListener>();
  const lossy = new Proxy(store, {
    get(target, property) {
      if (property === "subscribe") {
        return (listener: ChangeListener) => {
          listeners.add(listener);
          const unsubscribe = target.subscribe((event) => lost.includes(event.kind) || listener(event));
          return () => (listeners.delete(listener), unsubscribe());
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: lossy, resync: () => listeners.forEach((l) => l({ kind: "resync", ids: [] })) };
}

it("after a resync, waiters re-read and workers claim what they were never told about", { timeout: 20_000 }, async () => {
  const base = SqliteStore.open(join(mkdtempSync(join(tmpdir(), "longrun-resync-")), "longrun.db"));
  const feed = withLossyFeed(base, ["created", "done"]);
  // Nothing else would wake them for a minute: no look-ahead timer (the backoff is 60 s), Waits of 30 s.
  const t = await startTestServer({ store: feed.store, retryBackoff: { initialMs: 60_000, maxMs: 60_000 } });
  try {
    const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0) });
    const waiting = t.grpc.call(Operations.method.waitOperation, { name: op.name, timeout: durationFromMs(30_000) });
    const early = await Promise.race([waiting.then(() => "answered"), new Promise((r) => setTimeout(() => r("still waiting"), 500))]);
    assert.equal(early, "still waiting", "without events, nothing ran and nobody woke");
    feed.resync(); // the worker claims and runs it; its "done" is lost too
    await new Promise((r) => setTimeout(r, 300));
    feed.resync(); // the waiter re-reads and finds it done
    const answer = await Promise.race([waiting, new Promise((r) => setTimeout(() => r(undefined), 10_000))]);
    assert.ok(answer, "answered long before the Wait's 30 s timeout");
    assert.equal((answer as { done: boolean }).done, true);
  } finally {
    await t.close();
  }
});
