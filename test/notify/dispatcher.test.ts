// The dispatcher of completion notifications over a real SQLite store (and, for sharing, the real
// PostgreSQL): claims, hands to sinks, retries with backoff, gives up into "failed", never blocks the rest.
// The sinks here are Sink implementations that record what they get and answer as told; the real sinks
// (webhook, NATS, Redis) have their own tests against real receivers and brokers.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildRegistry } from "../../src/core/registry.js";
import { Dispatcher, type DispatcherOptions } from "../../src/notify/dispatcher.js";
import type { DeliveryOutcome, Notification, Sink } from "../../src/notify/sink.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { NewEvent, Store } from "../../src/store/store.js";
import { file_longrun_demo_v1_demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { ManualClock, settle, until } from "../support/manual-clock.js";
import { twoInstances } from "../support/postgres.js";

const registry = buildRegistry([file_longrun_demo_v1_demo]);
const RESPONSE = { typeUrl: "type.googleapis.com/google.protobuf.Empty", value: new Uint8Array() };
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function sqlite(synchronous: "NORMAL" | "FULL" = "NORMAL"): SqliteStore {
  const dir = mkdtempSync(join(tmpdir(), "longrun-dispatcher-"));
  dirs.push(dir);
  // Commits answered at once (NORMAL), as in test/runtime/fixture.ts: these tests drive a manual clock
  // from what the store shows, and with the default a commit shows before its fsync is done and answered.
  return SqliteStore.open(join(dir, "ops.db"), { synchronous });
}

/** A sink that records what it is given and answers with `answer` (delivered by default). */
class RecordingSink implements Sink {
  readonly received: Notification[] = [];
  answer: (n: Notification) => DeliveryOutcome = () => ({ kind: "delivered" });
  closed = false;
  constructor(readonly name: string) {}
  async deliver(batch: readonly Notification[]): Promise<DeliveryOutcome[]> {
    this.received.push(...batch);
    return batch.map((n) => this.answer(n));
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function event(id: string, destination = "hook", withPayload = true): NewEvent {
  return { id, destination, type: "OPERATION_SUCCEEDED", withPayload, attributes: { eventType: "OPERATION_SUCCEEDED", eventId: id, operationName: `operations/${id}` } };
}

/** Creates an operation per event and finishes it with that event, at the clock's now. */
async function finishWithEvents(store: Store, clock: ManualClock, events: NewEvent[]): Promise<void> {
  const now = clock.now();
  await store.create(events.map((e) => ({ id: e.id, name: `operations/${e.id}`, parent: "", method: "m.S.M", requestId: undefined, request: new Uint8Array(), metadata: undefined, runAfter: now })), now);
  assert.deepEqual(await store.finish(events.map((e) => ({ id: e.id, attempt: 0, response: RESPONSE, events: [e] })), 60_000, now), events.map(() => true));
}

function dispatcher(store: Store, clock: ManualClock, sinks: Sink[], extra: Partial<DispatcherOptions> = {}): Dispatcher {
  const logged: string[] = [];
  const d = new Dispatcher({
    store,
    sinks: new Map(sinks.map((s) => [s.name, s])),
    registry,
    clock,
    log: (m) => logged.push(m),
    owner: "test",
    random: () => 0.5,
    backoff: { initialMs: 1000, maxMs: 60_000 },
    ...extra,
  });
  return d;
}

describe("Dispatcher", () => {
  it("delivers each event once, as a notification: its id, attributes, the operation as JSON (or none), its time", async () => {
    const store = sqlite();
    const clock = new ManualClock();
    const hook = new RecordingSink("hook");
    const d = dispatcher(store, clock, [hook]);
    d.start();
    await finishWithEvents(store, clock, [event("a"), event("b", "hook", false)]);
    await until(() => hook.received.length === 2);
    const [a, b] = hook.received;
    assert.equal(a?.eventId, "a");
    assert.equal(a?.attempt, 1);
    assert.deepEqual(a?.attributes, { eventType: "OPERATION_SUCCEEDED", eventId: "a", operationName: "operations/a" });
    assert.deepEqual(JSON.parse(Buffer.from(a!.data!).toString()), { name: "operations/a", done: true, response: { "@type": "type.googleapis.com/google.protobuf.Empty" } });
    assert.equal(a?.publishTime.getTime(), clock.now());
    assert.equal(b?.data, undefined);
    await until(async () => (await store.listEvents({ limit: 10 })).length === 0);
    assert.deepEqual(d.stats, { delivered: 2, retried: 0, failed: 0 });
    // Woken by each finish: a later one is delivered without time passing.
    await finishWithEvents(store, clock, [event("c")]);
    await until(() => hook.received.length === 3);
    await d.close();
    assert.ok(hook.closed);
    await store.close();
  });

  it("retries with exponential backoff (half fixed, half jitter) until delivered; Retry-After is honoured", async () => {
    const store = sqlite();
    const clock = new ManualClock();
    const hook = new RecordingSink("hook");
    let failures = 3;
    hook.answer = () => (failures-- > 0 ? { kind: "retry", reason: "HTTP 503" } : { kind: "delivered" });
    const d = dispatcher(store, clock, [hook]);
    d.start();
    await finishWithEvents(store, clock, [event("r")]);
    await until(() => hook.received.length === 1);
    await until(async () => (await store.listEvents({ limit: 1 }))[0]?.lastError === "HTTP 503");
    // Attempt 1 failed: base 1 s, jitter 0.5 → 750 ms.
    assert.equal((await store.listEvents({ limit: 1 }))[0]?.runAfter, clock.now() + 750);
    await clock.advance(749);
    assert.equal(hook.received.length, 1);
    await clock.advance(1);
    await until(() => hook.received.length === 2);
    await until(async () => (await store.listEvents({ limit: 1 }))[0]?.attempt === 2 && (await store.listEvents({ limit: 1 }))[0]?.leaseOwner === undefined);
    await clock.advance(1500); // attempt 2: base 2 s → 1.5 s
    await until(() => hook.received.length === 3);
    failures = 1;
    hook.answer = () => (failures-- > 0 ? { kind: "retry", reason: "HTTP 429", retryAfterMs: 30_000 } : { kind: "delivered" });
    await until(async () => (await store.listEvents({ limit: 1 }))[0]?.attempt === 3 && (await store.listEvents({ limit: 1 }))[0]?.leaseOwner === undefined);
    await clock.advance(3000);
    await until(() => hook.received.length === 4);
    await until(async () => (await store.listEvents({ limit: 1 }))[0]?.lastError === "HTTP 429");
    assert.equal((await store.listEvents({ limit: 1 }))[0]?.runAfter, clock.now() + 30_000, "Retry-After: 30 s, more than the 3 s backoff");
    await clock.advance(30_000);
    await until(async () => (await store.listEvents({ limit: 10 })).length === 0);
    assert.deepEqual(hook.received.map((n) => n.attempt), [1, 2, 3, 4, 5]);
    assert.deepEqual(d.stats, { delivered: 1, retried: 4, failed: 0 });
    await d.close();
    await store.close();
  });

  it("a refusal (4xx) keeps the event as failed at once and does not hold back other events; retryEvents sends it again", async () => {
    const store = sqlite();
    const clock = new ManualClock();
    const hook = new RecordingSink("hook");
    hook.answer = (n) => (n.eventId === "bad" ? { kind: "failed", reason: "HTTP 400 Bad Request" } : { kind: "delivered" });
    const d = dispatcher(store, clock, [hook]);
    d.start();
    await finishWithEvents(store, clock, [event("bad"), event("good1"), event("good2")]);
    await until(async () => (await store.listEvents({ limit: 10 })).map((e) => e.id).join() === "bad");
    const [failed] = await store.listEvents({ limit: 10 });
    assert.equal(failed?.state, "failed");
    assert.equal(failed?.lastError, "HTTP 400 Bad Request");
    assert.deepEqual(d.stats, { delivered: 2, retried: 0, failed: 1 });
    hook.answer = () => ({ kind: "delivered" });
    await store.retryEvents(["bad"], clock.now());
    await until(async () => (await store.listEvents({ limit: 10 })).length === 0);
    assert.equal(hook.received.filter((n) => n.eventId === "bad").length, 2);
    await d.close();
    await store.close();
  });

  it("gives up after retryForMs: the event is kept as failed with the last reason", async () => {
    const store = sqlite();
    const clock = new ManualClock();
    const hook = new RecordingSink("hook");
    hook.answer = () => ({ kind: "retry", reason: "connect ECONNREFUSED" });
    const d = dispatcher(store, clock, [hook], { retryForMs: 10_000 });
    d.start();
    await finishWithEvents(store, clock, [event("x")]);
    for (let i = 0; i < 20 && (await store.listEvents({ limit: 1, state: "failed" })).length === 0; i++) {
      await until(async () => (await store.listEvents({ limit: 1 }))[0]?.leaseOwner === undefined);
      await clock.advance(5_000);
    }
    const [gaveUp] = await store.listEvents({ limit: 1, state: "failed" });
    assert.match(gaveUp?.lastError ?? "", /^gave up after \d attempts: connect ECONNREFUSED$/);
    assert.ok(hook.received.length >= 3 && hook.received.length <= 5, `${hook.received.length} attempts in 10 s`);
    await d.close();
    await store.close();
  });

  it("delivers only the destinations it has sinks for; another instance's events stay for it", async () => {
    const store = sqlite();
    const clock = new ManualClock();
    const hook = new RecordingSink("hook");
    const d = dispatcher(store, clock, [hook]);
    d.start();
    await finishWithEvents(store, clock, [event("mine"), event("theirs", "bus")]);
    await until(() => hook.received.length === 1);
    await settle(20);
    assert.deepEqual((await store.listEvents({ limit: 10 })).map((e) => [e.id, e.attempt]), [["theirs", 0]]);
    await d.close();
    await store.close();
  });

  // Also on the default store, whose writes are answered after their fsync (its settles at close too).
  for (const synchronous of ["NORMAL", "FULL"] as const) {
    it(`at close, deliveries in flight are aborted and their events due again at once (synchronous ${synchronous})`, async () => {
      const store = sqlite(synchronous);
      const clock = new ManualClock();
      // Answers only when its signal fires: given an aborted signal, it would wait forever.
      const slow: Sink = {
        name: "hook",
        deliver: (batch, signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve(batch.map(() => ({ kind: "retry", reason: "aborted" }))))),
        close: async () => undefined,
      };
      const d = dispatcher(store, clock, [slow]);
      d.start();
      await finishWithEvents(store, clock, [event("s")]);
      await until(async () => (await store.listEvents({ limit: 1 }))[0]?.leaseOwner === "test");
      await d.close();
      const [s] = await store.listEvents({ limit: 1 });
      assert.equal(s?.state, "pending");
      assert.equal(s?.leaseOwner, undefined);
      assert.equal(s?.runAfter, clock.now());
      await store.close();
    });
  }
});

describe("Dispatcher on PostgreSQL: two instances share the outbox", () => {
  it("each of 300 events is delivered by exactly one of two dispatchers", { timeout: 60_000 }, async () => {
    const instances = await twoInstances("lr_outbox");
    const { a, b } = instances;
    try {
      const clock = new ManualClock(Date.now());
      const [sinkA, sinkB] = [new RecordingSink("hook"), new RecordingSink("hook")];
      const dispatchers = [dispatcher(a, clock, [sinkA], { batchSize: 16 }), dispatcher(b, clock, [sinkB], { batchSize: 16 })];
      for (const d of dispatchers) d.start();
      const events = Array.from({ length: 300 }, (_, i) => event(`e${i}`));
      for (let i = 0; i < events.length; i += 50) await finishWithEvents(i % 100 === 0 ? a : b, clock, events.slice(i, i + 50));
      await until(() => sinkA.received.length + sinkB.received.length >= 300, 5000);
      await until(async () => (await a.listEvents({ limit: 10 })).length === 0, 5000);
      const ids = [...sinkA.received, ...sinkB.received].map((n) => n.eventId).sort();
      assert.deepEqual(ids, events.map((e) => e.id).sort(), "each once");
      for (const d of dispatchers) await d.close();
    } finally {
      await instances.close();
    }
  });
});

describe("Dispatcher: events handed over by finishes", () => {
  it("delivers them without a claim; beyond its bound of events in delivery it gives them back, due now, and claims them as deliveries end", async () => {
    const store = sqlite();
    const clock = new ManualClock();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sink = new RecordingSink("hook");
    const slow: Sink = { name: "hook", deliver: async (batch) => (await gate, sink.deliver(batch)), close: async () => {} };
    const d = dispatcher(store, clock, [slow], { maxHandedInFlight: 2 });
    d.start();
    const lease = { owner: "test", expireTime: clock.now() + 60_000 };
    const handed = ["h1", "h2", "h3"].map((id) => ({ ...event(id), lease }));
    await finishWithEvents(store, clock, handed);
    const stored = await store.listEvents({ limit: 10 });
    for (const e of stored) d.deliverNow([e]);
    await settle();
    const third = (await store.listEvents({ limit: 10 })).find((e) => e.id === "h3");
    assert.match(third?.lastError ?? "", /dispatcher was busy/, "the third (beyond 2 in delivery) was given back");
    release();
    await until(async () => (await store.listEvents({ limit: 10 })).length === 0);
    assert.deepEqual(sink.received.map((n) => n.eventId).sort(), ["h1", "h2", "h3"]);
    await d.close();
    await store.close();
  });
});
