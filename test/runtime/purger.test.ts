// Retention: expired done operations are deleted at start and then every interval.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code } from "../../src/core/code.js";
import { encodeError, statusOf } from "../../src/runtime/status.js";
import { Purger } from "../../src/runtime/purger.js";
import type { Store } from "../../src/store/store.js";
import { until } from "../support/manual-clock.js";
import { fixture, sleepMethod, storeWith } from "./fixture.js";

describe("Purger", () => {
  it("purges once at start and then every interval, at the clock's time; stop ends it", async () => {
    const f = fixture([sleepMethod(async () => ({}))]);
    const calls: number[] = [];
    const store = storeWith(f.store, { purgeExpired: (now: number) => (calls.push(now), f.store.purgeExpired(now)) });
    const purger = new Purger({ store, clock: f.clock, log: f.log, intervalMs: 3_600_000 });
    const start = f.clock.now();
    purger.start();
    assert.deepEqual(calls, [start]);
    await f.clock.advance(3_600_000);
    await f.clock.advance(3_600_000);
    assert.deepEqual(calls, [start, start + 3_600_000, start + 7_200_000]);
    purger.stop();
    await f.clock.advance(3_600_000);
    assert.equal(calls.length, 3);
    f.close();
  });

  it("deletes what expired, and a store failure is logged, not thrown", async () => {
    const f = fixture([sleepMethod(async () => ({}))]);
    const queued = await f.createQueued();
    const [claimed] = await f.store.claim({ owner: "w", methods: [queued.method], limit: 1, leaseMs: 1000, now: f.clock.now() });
    await f.store.finish([{ id: queued.id, attempt: claimed!.attempt, error: encodeError(statusOf(Code.ABORTED, "x")) }], 1000, f.clock.now());
    await f.clock.advance(2000);
    const purger = new Purger({ store: f.store, clock: f.clock, log: f.log, intervalMs: 1000 });
    await purger.purge();
    assert.equal(await f.store.get(queued.id, 0), undefined, "gone even for a reader with an earlier clock");
    const broken = new Purger({ store: { purgeExpired: () => Promise.reject(new Error("disk")) } as unknown as Store, clock: f.clock, log: f.log, intervalMs: 1000 });
    await broken.purge();
    await until(() => f.logged.some((line) => /deleting expired operations failed/.test(line)));
    f.close();
  });
});
