// The Reaper: on a shared store, Store.expireDeadLeases every second at the clock's time, one call at a time;
// nothing on a store no other process writes to.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Reaper, REAP_INTERVAL_MS } from "../../src/runtime/reaper.js";
import { until } from "../support/manual-clock.js";
import { deferred, fixture, sleepMethod, storeWith } from "./fixture.js";

describe("Reaper", () => {
  it("on a shared store, asks every second at the clock's time, one call at a time; stop ends it", async () => {
    const f = fixture([sleepMethod(async () => ({}))]);
    const calls: number[] = [];
    let slow: ReturnType<typeof deferred<number>> | undefined;
    const store = storeWith(f.store, {
      shared: true,
      expireDeadLeases: (now: number) => (calls.push(now), slow?.promise ?? Promise.resolve(0)),
    });
    const reaper = new Reaper({ store, clock: f.clock, log: f.log });
    const start = f.clock.now();
    reaper.start();
    assert.deepEqual(calls, [], "not at start: nobody died yet that the lease would not cover");
    await f.clock.advance(REAP_INTERVAL_MS);
    await f.clock.advance(REAP_INTERVAL_MS);
    assert.deepEqual(calls, [start + REAP_INTERVAL_MS, start + 2 * REAP_INTERVAL_MS]);
    // A call that hangs (PostgreSQL unreachable) is not joined by others.
    slow = deferred<number>();
    await f.clock.advance(REAP_INTERVAL_MS);
    await f.clock.advance(REAP_INTERVAL_MS);
    assert.equal(calls.length, 3);
    slow.resolve(2);
    slow = undefined;
    await until(async () => (await reaper.reap()) === 0);
    assert.equal(calls.length, 4, "a new call once the slow one ended");
    reaper.stop();
    await f.clock.advance(3 * REAP_INTERVAL_MS);
    assert.equal(calls.length, 4);
    f.close();
  });

  it("does nothing on a store that is not shared (SQLite), and logs a failure rather than throwing", async () => {
    const f = fixture([sleepMethod(async () => ({}))]);
    let calls = 0;
    const local = new Reaper({ store: storeWith(f.store, { expireDeadLeases: async () => (calls++, 0) }), clock: f.clock, log: f.log });
    local.start();
    await f.clock.advance(5 * REAP_INTERVAL_MS);
    assert.equal(calls, 0);
    assert.equal(await f.store.expireDeadLeases(f.clock.now()), 0, "SQLite has nothing to end");
    const broken = new Reaper({
      store: storeWith(f.store, { shared: true, expireDeadLeases: () => Promise.reject(new Error("connection refused")) }),
      clock: f.clock,
      log: f.log,
    });
    assert.equal(await broken.reap(), 0);
    await until(() => f.logged.some((line) => /ending the leases of dead instances failed/.test(line)));
    f.close();
  });
});
