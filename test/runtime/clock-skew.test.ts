// Faults: the clocks of two instances sharing one PostgreSQL disagree (skew), or one of them jumps. The store
// compares leases, run_after and expire_time with the `now` each runtime passes in, not with the database's
// now(), so a lease one instance writes with its clock is read by the other with its own. Each instance here
// has its own store (pool, LISTEN connection) on one fresh schema and its own ManualClock; both clocks are
// moved together, step by step, and each step waits until the store calls it set off are answered.
//
// The tolerance (docs/reliability.md, "Clocks"): a heartbeat every lease/3 sets the lease to the holder's
// now + lease, so just before the next heartbeat it has lease − lease/3 left in the holder's time. Another
// instance whose clock is ahead by less than that (minus a heartbeat's latency) never sees it expired: with
// the 30 s lease here, 20 s.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "../../src/core/code.js";
import { RpcError } from "../../src/core/errors.js";
import { buildRegistry } from "../../src/core/registry.js";
import { Runtime } from "../../src/runtime/runtime.js";
import { OperationsService } from "../../src/service/operations-service.js";
import type { CallContext } from "../../src/service/endpoint.js";
import { PageTokens } from "../../src/service/page-token.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import type { OperationRecord, Store } from "../../src/store/store.js";
import { ListOperationsRequestSchema, WaitOperationRequestSchema, type Operation } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepRequestSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { ManualClock } from "../support/manual-clock.js";
import { freshSchema, watchFinishes, type TestSchema } from "../support/postgres.js";
import { deferred, SLEEP, sleepMethod } from "./fixture.js";

const LEASE_MS = 30_000;
const HEARTBEAT_MS = LEASE_MS / 3;
/** The largest skew between instances that never moves a lease: lease − heartbeat interval. */
const TOLERANCE_MS = LEASE_MS - HEARTBEAT_MS;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.UTC(2026, 0, 1);
/** A bound on each test, so a hang fails instead of stalling the run. */
const BOUND = { timeout: 120_000 };

/** One run of a handler: its attempt, its signal, and the deferred the test finishes it with. */
interface Run {
  id: string;
  attempt: number;
  signal: AbortSignal;
  release: ReturnType<typeof deferred<void>>;
}

/** Store calls in flight, over every instance: a step is over when none is left. */
let inFlight = 0;

interface Instance {
  name: string;
  clock: ManualClock;
  store: Store;
  runtime: Runtime;
  runs: Run[];
  /** What each of this instance's claims returned (ids and attempts). */
  claimed: { id: string; attempt: number }[];
  claimCalls: number;
  /** Each finish this instance wrote, and whether the store applied it. */
  finishes: { id: string; attempt: number; applied: boolean }[];
  logged: string[];
  close(): Promise<void>;
}

/** The store, with its calls counted in `inFlight` and claims and finishes recorded. */
function tracked(store: PostgresStore, into: Pick<Instance, "claimed" | "finishes"> & { claimCalls: number }): Store {
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) return result;
        inFlight++;
        if (key === "claim") into.claimCalls++;
        return result.then(
          (answer: unknown) => {
            if (key === "claim") for (const r of answer as OperationRecord[]) into.claimed.push({ id: r.id, attempt: r.attempt });
            if (key === "finish") {
              const results = args[0] as { id: string; attempt: number }[];
              results.forEach((r, i) => into.finishes.push({ id: r.id, attempt: r.attempt, applied: (answer as boolean[])[i]! }));
            }
            inFlight--;
            return answer;
          },
          (err: unknown) => {
            inFlight--;
            throw err;
          },
        );
      };
    },
  }) as unknown as Store;
}

interface InstanceOptions {
  worker?: boolean;
  concurrency?: number;
}

async function openInstance(db: TestSchema, name: string, clockOffsetMs: number, options: InstanceOptions = {}): Promise<Instance> {
  const raw = await PostgresStore.open({ connectionString: db.url, schema: db.schema, log: () => undefined });
  const clock = new ManualClock(START + clockOffsetMs);
  const runs: Run[] = [];
  const logged: string[] = [];
  const record = { claimed: [] as Instance["claimed"], finishes: [] as Instance["finishes"], claimCalls: 0 };
  const store = tracked(raw, record);
  const handler = sleepMethod(async (_request, ctx) => {
    const run: Run = { id: ctx.name.split("/").pop()!, attempt: ctx.attempt, signal: ctx.signal, release: deferred() };
    runs.push(run);
    await run.release.promise;
    return { slept: { seconds: BigInt(ctx.attempt) } };
  });
  const runtime = new Runtime({
    store,
    registry: buildRegistry([Demo.file]),
    methods: [handler],
    clock,
    log: (message, err) => void logged.push(err === undefined ? message : `${message}: ${String(err)}`),
    instanceId: name,
    leaseMs: LEASE_MS,
    ...(options.worker === false ? { worker: false } : {}),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  });
  const instance: Instance = {
    name,
    clock,
    store,
    runtime,
    runs,
    claimed: record.claimed,
    finishes: record.finishes,
    get claimCalls() {
      return record.claimCalls;
    },
    logged,
    close: async () => {
      for (const run of runs) run.release.resolve();
      await stop(instance);
      await raw.close();
    },
  };
  return instance;
}

/** Stops the runtime, its grace period (0) timed by its manual clock. */
async function stop(instance: Pick<Instance, "runtime" | "clock">): Promise<void> {
  const stopping = instance.runtime.stop(0);
  await instance.clock.advance(0);
  await stopping;
}

/** Until no store call is in flight for a few turns and a few milliseconds (NOTIFY reaches the other instance). */
async function quiet(): Promise<void> {
  let calm = 0;
  while (calm < 3) {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 2));
    calm = inFlight === 0 ? calm + 1 : 0;
  }
}

/** Orders rows (arrays) by their first element, an id, as PostgreSQL's ORDER BY id COLLATE "C" does. */
function byId<T extends readonly unknown[]>(rows: T[]): T[] {
  return rows.sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : String(x[0]) > String(y[0]) ? 1 : 0));
}

/** Waits until `check` holds (a bound on waiting for PostgreSQL, not a speed assertion). */
async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Both clocks move on by `ms`, `stepMs` at a time (each instance's store calls answered after each step). */
async function advance(instances: readonly Instance[], ms: number, stepMs = 1000, stopWhen?: () => boolean): Promise<void> {
  for (let done = 0; done < ms; done += stepMs) {
    if (stopWhen?.()) return;
    for (const instance of instances) {
      await instance.clock.advance(Math.min(stepMs, ms - done));
      await quiet();
    }
    if (stopWhen?.()) return;
  }
}

function callContext(signal = new AbortController().signal): CallContext {
  return { deadline: undefined, signal, transport: "grpc", credentials: {}, principal: undefined } as unknown as CallContext;
}

describe("clock skew between two instances on one PostgreSQL", () => {
  let db: TestSchema;
  const open: Instance[] = [];

  async function instance(name: string, clockOffsetMs: number, options: InstanceOptions = {}): Promise<Instance> {
    const made = await openInstance(db, name, clockOffsetMs, options);
    open.push(made);
    return made;
  }

  async function startHeld(on: Instance, count: number): Promise<OperationRecord[]> {
    const before = on.runs.length;
    const records = await Promise.all(Array.from({ length: count }, () => on.runtime.startOperation(SLEEP, create(SleepRequestSchema))));
    await eventually(() => on.runs.length === before + count, `${on.name} runs its ${count} operations`);
    await quiet();
    return records;
  }

  async function rows(ids: readonly string[]) {
    const { rows } = await db.admin.query<{ id: string; state: string; attempt: number; lease_owner: string | null }>(
      `SELECT id, state, attempt, lease_owner FROM "${db.schema}".operations WHERE id = ANY($1) ORDER BY id COLLATE "C"`,
      [ids],
    );
    return rows;
  }

  /** Every operation finished exactly once, at the attempt given, with no error, and no done row changed. */
  async function finishedOnce(expected: readonly (readonly [string, number])[]): Promise<void> {
    const { rows: finishes } = await db.admin.query<{ id: string; attempt: number; errored: boolean }>(
      `SELECT id, attempt, errored FROM "${db.schema}".test_finishes WHERE id = ANY($1) ORDER BY id COLLATE "C"`,
      [expected.map(([id]) => id)],
    );
    assert.deepEqual(
      finishes,
      byId([...expected]).map(([id, attempt]) => ({ id, attempt, errored: false })),
      "each finished once",
    );
    const { rows: violations } = await db.admin.query(`SELECT * FROM "${db.schema}".test_violations`);
    assert.deepEqual(violations, []);
  }

  async function allDone(ids: readonly string[]): Promise<void> {
    await eventually(async () => (await rows(ids)).every((r) => r.state === "done"), "all done");
  }

  async function responses(ids: readonly string[], from: Instance): Promise<bigint[]> {
    const views = await from.store.getViews(ids, from.clock.now());
    return views.map((v) => (v?.response ? fromBinary(SleepResponseSchema, v.response.value).slept!.seconds : -1n));
  }

  before(async () => {
    db = await freshSchema("lr_skew");
    await (await PostgresStore.open({ connectionString: db.url, schema: db.schema })).close(); // migrate
    await watchFinishes(db);
  });
  after(async () => {
    await Promise.all(open.splice(0).map((i) => i.close()));
    await db.drop();
  });

  it(`below the tolerance (B ahead by ${TOLERANCE_MS - 1000} ms < lease ${LEASE_MS} − heartbeat ${HEARTBEAT_MS}): B never claims A's running operations; each runs once, at attempt 1`, BOUND, async () => {
    const a = await instance("a", 0);
    const b = await instance("b", TOLERANCE_MS - 1000);
    try {
      a.runtime.start();
      const ids = (await startHeld(a, 3)).map((r) => r.id);
      b.runtime.start();
      await quiet();
      await advance([a, b], 3 * LEASE_MS); // nine heartbeats of A's; B wakes each time it foresaw a lease expiring
      assert.ok(b.claimCalls >= 3, `B looked (${b.claimCalls} claims), just before each lease it saw would expire`);
      assert.deepEqual(b.claimed, [], "B claimed nothing");
      assert.deepEqual(
        (await rows(ids)).map((r) => [r.state, r.attempt, r.lease_owner]),
        ids.map(() => ["running", 1, "a"]),
      );
      assert.equal(b.runs.length, 0);
      assert.ok(a.runs.every((r) => !r.signal.aborted && r.attempt === 1));

      for (const run of a.runs) run.release.resolve();
      await allDone(ids);
      await finishedOnce(ids.map((id) => [id, 1]));
      assert.deepEqual(await responses(ids, b), [1n, 1n, 1n]);
      assert.ok(a.finishes.every((f) => f.applied));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  for (const skewMs of [TOLERANCE_MS + 1000, LEASE_MS + 15_000]) {
    it(`beyond the tolerance (B ahead by ${skewMs} ms): B takes A's running operations over at attempt 2; A's finish is fenced, its attempts learn LEASE_LOST at its next heartbeat; each finishes once`, BOUND, async () => {
      const a = await instance("a", 0);
      const b = await instance("b", skewMs);
      try {
        a.runtime.start();
        const ids = (await startHeld(a, 3)).map((r) => r.id);
        const heartbeatAt = a.clock.now() + HEARTBEAT_MS; // A's first heartbeat (its timer started with it)
        b.runtime.start();
        await quiet();
        // Step by step until B claims.
        await advance([a, b], HEARTBEAT_MS - 1000, 1000, () => b.runs.length > 0);
        await eventually(() => b.runs.length === 3, "B runs all three");
        // When B's now reached the lease end A wrote (A's claim + lease): at once for 45 s; 9 s on for 21 s,
        // one second before A's heartbeat would have pushed it on.
        assert.equal(a.clock.now(), START + Math.max(0, LEASE_MS - skewMs), "taken over when B's now reached A's lease end");
        assert.ok(a.clock.now() < heartbeatAt, "before A's heartbeat");
        assert.deepEqual(
          b.runs.map((r) => r.attempt),
          [2, 2, 2],
        );
        assert.deepEqual(
          (await rows(ids)).map((r) => [r.state, r.attempt, r.lease_owner]),
          ids.map(() => ["running", 2, "b"]),
        );
        assert.ok(a.runs.every((r) => !r.signal.aborted), "A does not know yet");

        const early = a.runs[0]!; // A's handler answers before A's heartbeat: its finish names attempt 1, refused
        early.release.resolve();
        await eventually(() => a.finishes.length === 1, "A writes its finish");
        assert.deepEqual(a.finishes, [{ id: early.id, attempt: 1, applied: false }]);

        await advance([a, b], HEARTBEAT_MS); // A's heartbeat is refused
        await eventually(() => a.runs.slice(1).every((r) => r.signal.aborted), "A's other attempts are told");
        for (const run of a.runs.slice(1)) {
          const reason = run.signal.reason as RpcError;
          assert.ok(reason instanceof RpcError);
          assert.deepEqual([reason.code, reason.reason], [Code.ABORTED, "LEASE_LOST"]);
          run.release.resolve(); // the handler answers anyway: dropped
        }
        await quiet();
        assert.equal(a.finishes.length, 1, "nothing more written by A");
        assert.ok(b.runs.every((r) => !r.signal.aborted), "B's heartbeats keep its leases");
        assert.deepEqual(
          (await rows(ids)).map((r) => [r.state, r.attempt, r.lease_owner]),
          ids.map(() => ["running", 2, "b"]),
        );

        for (const run of b.runs) run.release.resolve();
        await allDone(ids);
        await finishedOnce(ids.map((id) => [id, 2]));
        assert.deepEqual(await responses(ids, a), [2n, 2n, 2n], "attempt 2's results");
        assert.ok(b.finishes.every((f) => f.applied && f.attempt === 2));
        assert.equal(a.runs.length + b.runs.length, 6, "no third attempt");
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  }

  it(`a backward jump within the tolerance (${TOLERANCE_MS - 5000} ms) on either instance, the holder too: no lease expires early, nothing runs twice`, BOUND, async () => {
    const a = await instance("a", 0);
    const b = await instance("b", 0, { concurrency: 2 }); // full with its two: A's are A's
    try {
      b.runtime.start();
      const ofB = (await startHeld(b, 2)).map((r) => r.id);
      a.runtime.start();
      const ofA = (await startHeld(a, 2)).map((r) => r.id);
      await quiet();
      // B steps back: its heartbeats now write leases that end earlier, yet later than A's now whenever A looks.
      b.clock.jump(-(TOLERANCE_MS - 5000));
      await advance([a, b], 2 * LEASE_MS);
      // Then A steps back too (B is ahead of it again by as much): A's leases, likewise, are kept.
      a.clock.jump(-(TOLERANCE_MS - 5000) * 2);
      await advance([a, b], 2 * LEASE_MS);
      const owners = (await rows([...ofA, ...ofB])).map((r) => [r.id, r.state, r.attempt, r.lease_owner]);
      assert.deepEqual(owners, byId([...ofA.map((id) => [id, "running", 1, "a"]), ...ofB.map((id) => [id, "running", 1, "b"])]));
      assert.deepEqual([a.claimed.length, b.claimed.length], [2, 2], "each claimed only its own two");
      assert.ok([...a.runs, ...b.runs].every((r) => r.attempt === 1 && !r.signal.aborted));
      for (const run of [...a.runs, ...b.runs]) run.release.resolve();
      await allDone([...ofA, ...ofB]);
      await finishedOnce([...ofA, ...ofB].map((id) => [id, 1]));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("a backward jump beyond the tolerance (10 min) on one instance, the other fine: the other's leases never expire early; the jumped one's own leases look expired to the other, taken over and finished once; nothing stuck once the clocks agree", BOUND, async () => {
    const a = await instance("a", 0);
    const b = await instance("b", 0, { concurrency: 1 }); // full with its one: A's are A's
    try {
      b.runtime.start();
      const [ofB] = (await startHeld(b, 1)).map((r) => r.id);
      a.runtime.start();
      const ofA = (await startHeld(a, 2)).map((r) => r.id);
      await quiet();

      // B steps back 10 minutes: A's leases look further away to it, never nearer...
      b.clock.jump(-10 * MINUTE);
      await advance([a, b], 2 * MINUTE, 2000);
      assert.deepEqual(b.claimed.map((c) => c.id), [ofB], "B never claimed A's");
      // ...but the leases B's heartbeats now write end 10 minutes in A's past: A takes B's operation over,
      // at attempt 2, as with any skew beyond the tolerance; B learns LEASE_LOST at its next heartbeat.
      assert.deepEqual(
        (await rows([...ofA, ofB!])).map((r) => [r.id, r.state, r.attempt, r.lease_owner]),
        byId([...ofA.map((id) => [id, "running", 1, "a"]), [ofB, "running", 2, "a"]]),
      );
      assert.equal((b.runs[0]!.signal.reason as RpcError).reason, "LEASE_LOST");
      b.runs[0]!.release.resolve(); // its handler answers anyway: dropped, and its slot is free
      assert.deepEqual(
        a.runs.map((r) => [r.attempt, r.signal.aborted]),
        [[1, false], [1, false], [2, false]],
      );

      // A stops: its leases are given back, due at A's now, which is 10 minutes in B's future. B is right not
      // to run them yet; once its clock is put right, it must not wait out a timer set from the wrong clock.
      await stop(a);
      await quiet();
      assert.deepEqual((await rows([...ofA, ofB!])).map((r) => r.state), ["queued", "queued", "queued"]);
      await advance([a, b], MINUTE, 2000);
      assert.equal(b.runs.length, 1, "not due by B's (wrong) clock");
      b.clock.jump(10 * MINUTE); // NTP puts it right: the clocks agree again
      assert.equal(b.clock.now(), a.clock.now());
      await advance([a, b], LEASE_MS, 1000, () => b.runs.length === 2);
      assert.equal(b.runs.length, 2, "B runs the first within a lease of the clocks agreeing");
      for (let next = 2; next <= 3; next++) {
        b.runs[next - 1]!.release.resolve(); // one at a time (concurrency 1): the freed slot claims the next
        await eventually(() => b.runs.length === next + 1, `B runs operation ${next}`);
      }
      b.runs[3]!.release.resolve();
      assert.deepEqual(
        byId(b.runs.slice(1).map((r) => [r.id, r.attempt])),
        byId([...ofA.map((id) => [id, 2]), [ofB, 3]]),
      );
      await allDone([...ofA, ofB!]);
      await finishedOnce([...ofA.map((id) => [id, 2] as const), [ofB!, 3] as const]);
      assert.deepEqual(b.finishes.map((f) => [f.id, f.applied]).sort(), [...ofA, ofB!].map((id) => [id, true]).sort(), "B's three finishes applied, none other written");
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  describe("WaitOperation on B, the operation run by A", () => {
    for (const jumpMs of [HOUR, -HOUR]) {
      it(`a ${jumpMs > 0 ? "forward" : "backward"} jump of B's clock during the wait neither ends it early nor extends it; it still wakes at once when A finishes`, BOUND, async () => {
        const a = await instance("a", 0);
        const b = await instance("b", 0, { worker: false });
        const service = new OperationsService({ store: b.store, runtime: b.runtime, clock: b.clock });
        try {
          a.runtime.start();
          const [op] = await startHeld(a, 1);
          const request = create(WaitOperationRequestSchema, { name: op!.name, timeout: durationFromMs(10_000) });

          let answered: Operation | undefined;
          void service.waitOperation(request, callContext()).then((o) => (answered = o));
          await quiet();
          b.clock.jump(jumpMs);
          await b.clock.advance(9_999);
          await quiet();
          assert.equal(answered, undefined, "still waiting 1 ms before its 10 s");
          await b.clock.advance(1);
          await eventually(() => answered !== undefined, "the wait ends at its 10 s");
          assert.equal(answered!.done, false);

          answered = undefined;
          void service.waitOperation(request, callContext()).then((o) => (answered = o));
          await quiet();
          b.clock.jump(jumpMs);
          a.runs[0]!.release.resolve();
          await eventually(() => answered !== undefined, "woken by A's finish (B's clock not moved)");
          assert.equal(answered!.done, true);
          assert.equal(answered!.result.case, "response");
          await finishedOnce([[op!.id, 1]]);
        } finally {
          service.close();
          await Promise.all([a.close(), b.close()]);
        }
      });
    }

    it("a wait cut short by the caller still ends at once; a zero timeout answers at once", BOUND, async () => {
      const a = await instance("a", 0);
      const b = await instance("b", 0, { worker: false });
      const service = new OperationsService({ store: b.store, runtime: b.runtime, clock: b.clock });
      try {
        a.runtime.start();
        const [op] = await startHeld(a, 1);
        const caller = new AbortController();
        let answered: Operation | undefined;
        void service.waitOperation(create(WaitOperationRequestSchema, { name: op!.name, timeout: durationFromMs(10_000) }), callContext(caller.signal)).then((o) => (answered = o));
        await quiet();
        caller.abort();
        await eventually(() => answered !== undefined, "the wait ends with its caller");
        assert.equal(answered!.done, false);
        const zero = await service.waitOperation(create(WaitOperationRequestSchema, { name: op!.name, timeout: durationFromMs(0) }), callContext());
        assert.equal(zero.done, false);
        assert.equal(b.clock.pending, 0, "no wait timer left behind");
        a.runs[0]!.release.resolve();
        await allDone([op!.id]);
      } finally {
        service.close();
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  it("page tokens across skewed instances: one issued by A reads on B while B's clock is ahead by less than the token's lifetime, and is expired beyond it", BOUND, async () => {
    const a = await instance("a", 0, { worker: false });
    const ttlMs = 5 * MINUTE;
    const tokens = new PageTokens({ secret: "shared", ttlMs });
    const serviceAt = (offsetMs: number) => new OperationsService({ store: a.store, runtime: a.runtime, pageTokens: tokens, clock: () => a.clock.now() + offsetMs });
    await a.runtime.startOperations(SLEEP, [create(SleepRequestSchema), create(SleepRequestSchema)]);
    const list = (pageToken = "") => create(ListOperationsRequestSchema, { name: "operations", pageSize: 1, pageToken });
    const first = await serviceAt(0).listOperations(list());
    assert.notEqual(first.nextPageToken, "");
    const behind = await serviceAt(-HOUR).listOperations(list(first.nextPageToken));
    const ahead = await serviceAt(ttlMs - 1000).listOperations(list(first.nextPageToken));
    assert.equal(behind.operations.length, 1);
    assert.deepEqual(ahead.operations, behind.operations);
    await assert.rejects(serviceAt(ttlMs).listOperations(list(first.nextPageToken)), (err: unknown) => {
      assert.ok(err instanceof RpcError);
      assert.deepEqual([err.code, err.reason], [Code.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN"]);
      assert.match(err.message, /expired/);
      return true;
    });
    await a.close();
  });
});
