// The claim loop: claims up to the free slots when woken, waits when saturated, and times the next due one.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Claimer } from "../../src/runtime/claimer.js";
import type { OperationRecord, Store } from "../../src/store/store.js";
import { settle, until } from "../support/manual-clock.js";
import { fixture, SLEEP, sleepMethod, storeWith } from "./fixture.js";

function claimerOf(f: ReturnType<typeof fixture>, slots: { free: number }, store: Store = f.store) {
  const ran: OperationRecord[] = [];
  const claimer = new Claimer({
    store,
    clock: f.clock,
    log: f.log,
    owner: "worker-a",
    methods: [SLEEP],
    leaseMs: 30_000,
    retryBackoff: { initialMs: 1000, maxMs: 60_000 },
    freeSlots: () => slots.free,
    run: (records) => {
      ran.push(...records);
      slots.free -= records.length;
    },
  });
  return { claimer, ran };
}

describe("Claimer", () => {
  it("claims what is queued up to the free slots, and no more until a slot is freed", async () => {
    const f = fixture([sleepMethod(async () => ({}))]);
    for (let i = 0; i < 5; i++) await f.createQueued();
    const slots = { free: 3 };
    const { claimer, ran } = claimerOf(f, slots);
    claimer.wake();
    await until(() => ran.length === 3);
    await settle(20);
    assert.equal(ran.length, 3, "saturated: nothing more is claimed");
    slots.free += 1;
    claimer.slotFreed();
    await until(() => ran.length === 4);
    slots.free += 2;
    claimer.slotFreed();
    await until(() => ran.length === 5);
    assert.equal(new Set(ran.map((r) => r.id)).size, 5);
    claimer.stop();
    f.close();
  });

  it("a wake-up while a claim is in flight is not lost", async () => {
    const f = fixture([sleepMethod(async () => ({}))]);
    await f.createQueued();
    const { claimer, ran } = claimerOf(f, { free: 10 });
    claimer.wake();
    await f.createQueued(); // committed after the first claim was scheduled
    claimer.wake();
    await until(() => ran.length === 2);
    claimer.stop();
    f.close();
  });

  it("sets one timer for the next operation that becomes due, and claims it when the clock gets there", async () => {
    const f = fixture([sleepMethod(async () => ({}))]);
    const queued = await f.createQueued();
    // Claimed by a worker that then vanished: due again when its lease expires (30 s) plus backoff (1 s).
    await f.store.claim({ owner: "lost", methods: [SLEEP], limit: 10, leaseMs: 30_000, now: f.clock.now(), retryBackoff: { initialMs: 1000, maxMs: 60_000 } });
    const { claimer, ran } = claimerOf(f, { free: 10 });
    claimer.wake();
    await until(() => f.clock.pending > 0);
    assert.equal(ran.length, 0);
    await f.clock.advance(29_000);
    assert.equal(ran.length, 0, "not before the lease expired");
    await f.clock.advance(3_000);
    await until(() => ran.length === 1);
    assert.equal(ran[0]!.id, queued.id);
    assert.equal(ran[0]!.attempt, 2);
    claimer.stop();
    f.close();
  });

  it("a failing claim is retried after a second, not in a busy loop", async () => {
    const f = fixture([sleepMethod(async () => ({}))]);
    await f.createQueued();
    let failures = 1;
    const flaky = storeWith(f.store, {
      claim: (request) => (failures-- > 0 ? Promise.reject(new Error("store down")) : f.store.claim(request)),
    });
    const { claimer, ran } = claimerOf(f, { free: 10 }, flaky);
    claimer.wake();
    await until(() => f.logged.length === 1);
    assert.match(f.logged[0]!, /claiming operations failed/);
    await settle(20);
    assert.equal(ran.length, 0);
    await f.clock.advance(1000);
    await until(() => ran.length === 1);
    claimer.stop();
    f.close();
  });

  it("claims nothing once stopped", async () => {
    const f = fixture([sleepMethod(async () => ({}))]);
    await f.createQueued();
    const { claimer, ran } = claimerOf(f, { free: 10 });
    claimer.stop();
    claimer.wake();
    await settle(20);
    assert.equal(ran.length, 0);
    f.close();
  });
});
