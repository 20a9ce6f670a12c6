// Concurrency limits per method and per key (docs/scheduling.md), through the whole runtime: the claimer
// carries the limits, the store keeps to them, and a finished operation's `done` wakes a claimer that left
// work behind for a limit — without polling while everything due is at its limit.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Runtime } from "../../src/runtime/runtime.js";
import { resolveScheduling } from "../../src/runtime/scheduling.js";
import { buildRegistry } from "../../src/core/registry.js";
import { Demo, type SleepRequest } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import type { Store } from "../../src/store/store.js";
import { settle, until } from "../support/manual-clock.js";
import { create, deferred, fixture, SleepRequestSchema, SLEEP, sleepMethod } from "./fixture.js";

type Gate = ReturnType<typeof deferred<void>>;

/** Tenant "b" for a request of one second, "a" for any other. */
const tenant = (request: unknown) => ((request as SleepRequest).duration?.seconds === 1n ? "b" : "a");

/** The store, counting its claims. */
function counting(store: Store): { store: Store; claims: () => number } {
  let claims = 0;
  const counted = new Proxy(store, {
    get(target, property) {
      if (property === "claim") return (...args: Parameters<Store["claim"]>) => (claims++, target.claim(...args));
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: counted, claims: () => claims };
}

describe("concurrency limits", () => {
  it("perKey 2: at most two of a key run at once, another key's run without waiting for the first's backlog", async () => {
    const gates = new Map<string, Gate>();
    const runningNow = { a: 0, b: 0 };
    let mostOfA = 0;
    const declarations = [
      sleepMethod(
        async (request, ctx) => {
          const key = tenant(request);
          runningNow[key]++;
          mostOfA = Math.max(mostOfA, runningNow.a);
          const gate = deferred<void>();
          gates.set(ctx.name, gate);
          await gate.promise;
          runningNow[key]--;
          return {};
        },
        { concurrency: { perKey: 2 }, fairness: { key: tenant } },
      ),
    ];
    const f = fixture(declarations);
    const { store, claims } = counting(f.store);
    const runtime = new Runtime({ store, registry: buildRegistry([Demo.file]), methods: declarations, clock: f.clock, log: f.log, instanceId: "test", concurrency: 64 });
    runtime.start();
    const a = await runtime.startOperations(SLEEP, Array.from({ length: 10 }, () => create(SleepRequestSchema)));
    const b = await runtime.startOperations(SLEEP, [create(SleepRequestSchema, { duration: { seconds: 1n } }), create(SleepRequestSchema, { duration: { seconds: 1n } })]);
    await until(() => runningNow.a === 2 && runningNow.b === 2);
    assert.deepEqual(runningNow, { a: 2, b: 2 }, "b's two run beside a's two, not after a's ten");

    // Everything due is at its limit: the claimer sleeps until an operation ends (no claim loop meanwhile).
    const before = claims();
    await settle(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(claims() - before <= 1, `no claims while all due work is at its limit (${claims() - before})`);

    // Each finish of a's frees one slot of a's: the next of a's runs, never more than two at once.
    const names = new Set(a.map((r) => r.name));
    for (let finished = 0; finished < 10; finished++) {
      const name = [...gates.keys()].find((n) => names.has(n));
      assert.ok(name, `an operation of a's is running (${finished} finished)`);
      gates.get(name)?.resolve(undefined);
      gates.delete(name);
      names.delete(name);
      await until(() => finished === 9 || runningNow.a === Math.min(2, 9 - finished));
    }
    assert.equal(mostOfA, 2);
    for (const record of b) gates.get(record.name)?.resolve(undefined);
    await until(async () => (await f.store.get(b[1]!.id, f.clock.now()))?.state === "done");
    await runtime.stop(0);
    f.close();
  });

  it("a method limit of 3: three run, the fourth after one of them ends", async () => {
    const gates: Gate[] = [];
    const declarations = [sleepMethod(async () => { const gate = deferred<void>(); gates.push(gate); await gate.promise; return {}; }, { concurrency: { limit: 3 } })];
    const f = fixture(declarations);
    const runtime = new Runtime({ store: f.store, registry: buildRegistry([Demo.file]), methods: declarations, clock: f.clock, log: f.log, instanceId: "test" });
    runtime.start();
    const started = await runtime.startOperations(SLEEP, Array.from({ length: 4 }, () => create(SleepRequestSchema)));
    await until(() => gates.length === 3);
    await settle(50);
    assert.equal(gates.length, 3);
    gates[0]!.resolve(undefined);
    await until(() => gates.length === 4);
    gates.slice(1).forEach((g) => g.resolve(undefined));
    await until(async () => (await Promise.all(started.map((r) => f.store.get(r.id, f.clock.now())))).every((r) => r?.state === "done"));
    await runtime.stop(0);
    f.close();
  });

  it("refuses limits that are not positive integers at declaration", () => {
    for (const bad of [{ limit: 0 }, { perKey: 1.5 }, { limit: -2 }, {}]) {
      assert.throws(() => resolveScheduling("a.B.C", { concurrency: bad }, 3), /a\.B\.C: concurrency/, JSON.stringify(bad));
    }
    assert.deepEqual(resolveScheduling("a.B.C", { concurrency: { perKey: 4 } }, 3).concurrency, { limit: undefined, perKey: 4 });
  });
});
