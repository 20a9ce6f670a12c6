// Faults: the wall clock jumps (an NTP step, an operator, a VM resumed) while operations run, wait or are
// kept. The store compares leases, run_after and expire_time with the runtime's `now`; timers count on a
// monotonic clock. ManualClock.jump models that: `now()` moves, pending timers keep their remaining delay.
// Two runtimes sharing one SQLite file live in one process, so they see the same jump.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary } from "@bufbuild/protobuf";
import { Code } from "../../src/core/code.js";
import { RpcError } from "../../src/core/errors.js";
import { buildRegistry } from "../../src/core/registry.js";
import { Runtime } from "../../src/runtime/runtime.js";
import type { Store, StoredAny } from "../../src/store/store.js";
import { Demo, SleepRequestSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { settle, until } from "../support/manual-clock.js";
import { deferred, fixture, SLEEP, sleepMethod, storeWith, type Fixture } from "./fixture.js";

const LEASE_MS = 30_000;
const HEARTBEAT_MS = LEASE_MS / 3;
const MINUTE = 60_000;

/** One run of the handler: its attempt, its signal, and the deferred the test finishes it with. */
interface Run {
  attempt: number;
  signal: AbortSignal;
  release: ReturnType<typeof deferred<void>>;
}

/** A handler that waits for the test, then answers `slept: <its attempt> s` (whatever its signal says). */
function heldHandler(runs: Run[]) {
  return sleepMethod(async (_request, ctx) => {
    const run: Run = { attempt: ctx.attempt, signal: ctx.signal, release: deferred() };
    runs.push(run);
    await run.release.promise;
    return { slept: { seconds: BigInt(ctx.attempt) } };
  });
}

function runtimeOf(f: Fixture, declarations: Parameters<typeof fixture>[0], instanceId: string, options: { store?: Store; retentionMs?: number; purgeIntervalMs?: number } = {}) {
  return new Runtime({
    store: options.store ?? f.store,
    registry: buildRegistry([Demo.file]),
    methods: declarations,
    clock: f.clock,
    log: f.log,
    instanceId,
    leaseMs: LEASE_MS,
    ...(options.retentionMs === undefined ? {} : { retentionMs: options.retentionMs }),
    ...(options.purgeIntervalMs === undefined ? {} : { purgeIntervalMs: options.purgeIntervalMs }),
  });
}

async function viewOf(f: Fixture, id: string) {
  const [view] = await f.store.getViews([id], f.clock.now());
  return view;
}

/** The attempt a stored response came from (the handler answers `slept: <attempt> s`). */
function sleptSeconds(response: StoredAny | undefined): bigint | undefined {
  return response ? fromBinary(SleepResponseSchema, response.value).slept?.seconds : undefined;
}

describe("clock jumps", () => {
  it("forward past the lease: another runtime takes over at attempt 2; the stale attempt learns LEASE_LOST and its result is dropped; done once", async () => {
    const runs: Run[] = [];
    const declarations = [heldHandler(runs)];
    const f = fixture(declarations);
    const a = runtimeOf(f, declarations, "a");
    a.start();
    const record = await a.startOperation(SLEEP, create(SleepRequestSchema));
    await until(() => runs.length === 1);

    f.clock.jump(10 * MINUTE); // one step: no heartbeat of a's in between
    const b = runtimeOf(f, declarations, "b");
    b.start();
    await until(() => runs.length === 2);
    assert.deepEqual(
      runs.map((r) => r.attempt),
      [1, 2],
    );
    const taken = await f.store.get(record.id, f.clock.now());
    assert.deepEqual([taken?.state, taken?.attempt, taken?.leaseOwner], ["running", 2, "b"]);

    await f.clock.advance(HEARTBEAT_MS); // a's heartbeat is refused: its lease is lost
    await until(() => runs[0]!.signal.aborted);
    const reason = runs[0]!.signal.reason as RpcError;
    assert.ok(reason instanceof RpcError);
    assert.equal(reason.code, Code.ABORTED);
    assert.equal(reason.reason, "LEASE_LOST");
    assert.equal(runs[1]!.signal.aborted, false, "b's heartbeat keeps its lease");

    runs[0]!.release.resolve(); // the stale handler answers anyway: dropped, never written
    await settle(20);
    assert.equal((await f.store.get(record.id, f.clock.now()))?.state, "running");

    runs[1]!.release.resolve();
    await until(async () => (await viewOf(f, record.id))?.state === "done");
    const done = await f.store.get(record.id, f.clock.now());
    assert.deepEqual([done?.state, done?.attempt, done?.error], ["done", 2, undefined]);
    assert.equal(sleptSeconds(done?.response), 2n, "attempt 2's result");
    assert.equal(runs.length, 2, "no third attempt");
    await a.stop(0);
    await b.stop(0);
    f.close();
  });
});
