// The facade: its parts composed — start → claim → run → finish, cancel through the change feed, stop.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { Code } from "../../src/core/code.js";
import type { RpcError } from "../../src/core/errors.js";
import { Runtime } from "../../src/runtime/runtime.js";
import { Demo, SleepRequestSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { buildRegistry } from "../../src/core/registry.js";
import { settle, until } from "../support/manual-clock.js";
import { deferred, fixture, SLEEP, sleepMethod } from "./fixture.js";

function runtimeOf(f: ReturnType<typeof fixture>, declarations: Parameters<typeof fixture>[0], worker = true) {
  return new Runtime({ store: f.store, registry: buildRegistry([Demo.file]), methods: declarations, clock: f.clock, log: f.log, worker, instanceId: "test" });
}

describe("Runtime", () => {
  it("runs a started operation to its response, woken by the change feed", async () => {
    const declarations = [sleepMethod(async (request) => ({ slept: request.duration }))];
    const f = fixture(declarations);
    const runtime = runtimeOf(f, declarations);
    runtime.start();
    const record = await runtime.startOperation(SLEEP, create(SleepRequestSchema, { duration: { seconds: 2n } }));
    await until(async () => (await f.store.get(record.id, f.clock.now()))?.state === "done");
    assert.ok((await f.store.get(record.id, f.clock.now()))?.response);
    assert.deepEqual([...runtime.methods.keys()], [SLEEP]);
    await runtime.stop(0);
    f.close();
  });

  it("a handler sees the principal its operation was started with (one start or a batch), undefined without", async () => {
    const seen = new Map<string, string | undefined>();
    const declarations = [sleepMethod(async (_request, ctx) => (seen.set(ctx.name, ctx.principal), {}))];
    const f = fixture(declarations);
    const runtime = runtimeOf(f, declarations);
    runtime.start();
    const alice = await runtime.startOperation(SLEEP, create(SleepRequestSchema), { principal: "user:alice" });
    const anonymous = await runtime.startOperation(SLEEP, create(SleepRequestSchema));
    const batch = await runtime.startOperations(SLEEP, [create(SleepRequestSchema), create(SleepRequestSchema)], { principal: "serviceAccount:ci@example" });
    await until(() => seen.size === 4);
    assert.deepEqual(
      [alice, anonymous, ...batch].map((r) => [seen.has(r.name), seen.get(r.name)]),
      [
        [true, "user:alice"],
        [true, undefined],
        [true, "serviceAccount:ci@example"],
        [true, "serviceAccount:ci@example"],
      ],
    );
    await runtime.stop(0);
    f.close();
  });

  it("a cancel reaches the running handler through the change feed; it ends CANCELLED", async () => {
    const started = deferred();
    const declarations = [
      sleepMethod(async (_request, ctx) => {
        started.resolve();
        throw await new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve(ctx.signal.reason), { once: true }));
      }),
    ];
    const f = fixture(declarations);
    const runtime = runtimeOf(f, declarations);
    runtime.start();
    const record = await runtime.startOperation(SLEEP, create(SleepRequestSchema));
    await started.promise;
    await runtime.cancel(record.id, record.name);
    await until(async () => (await f.store.get(record.id, f.clock.now()))?.state === "done");
    assert.equal((await f.store.get(record.id, f.clock.now()))?.error?.code, Code.CANCELLED);
    await runtime.stop(0);
    f.close();
  });

  it("a cancel or control command naming the id under another parent's name is NOT_FOUND and never reaches the handler", async () => {
    const started = deferred();
    let signal: AbortSignal | undefined;
    let control: { readonly current: string | undefined } | undefined;
    const declarations = [
      sleepMethod(async (_request, ctx) => {
        ({ signal, control } = ctx);
        started.resolve();
        throw await new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve(ctx.signal.reason), { once: true }));
      }),
    ];
    const f = fixture(declarations);
    const runtime = runtimeOf(f, declarations);
    const events: string[] = [];
    f.store.subscribe((event) => void events.push(event.kind));
    runtime.start();
    // projects/b's operation; the caller (allowed on projects/a) sends its id under a projects/a name.
    const theirs = await f.createQueued(undefined, { parent: "projects/b/locations/x" });
    await started.promise;
    const wrong = `projects/a/locations/x/operations/${theirs.id}`;
    await assert.rejects(runtime.cancel(theirs.id, wrong), (err: RpcError) => err.code === Code.NOT_FOUND);
    await assert.rejects(runtime.control(theirs.id, wrong, "pause"), (err: RpcError) => err.code === Code.NOT_FOUND);
    // Past a heartbeat too, which delivers what the change feed missed: nothing was recorded to deliver.
    await f.clock.advance(15_000);
    await settle();
    assert.equal(signal?.aborted, false);
    assert.equal(control?.current, undefined);
    assert.deepEqual(events.filter((kind) => kind === "cancel-requested" || kind === "control-requested"), []);
    const record = await f.store.get(theirs.id, f.clock.now());
    assert.deepEqual([record?.state, record?.cancelRequested, record?.control], ["running", false, undefined]);

    await runtime.cancel(theirs.id, theirs.name);
    await until(async () => (await f.store.get(theirs.id, f.clock.now()))?.state === "done");
    assert.equal(signal?.aborted, true);
    assert.equal((await f.store.get(theirs.id, f.clock.now()))?.error?.code, Code.CANCELLED);
    await runtime.stop(0);
    f.close();
  });

  it("stop: refuses new starts, waits out the grace period, then aborts and releases what still runs", async () => {
    const started = deferred();
    let reason: unknown;
    const declarations = [
      sleepMethod(async (_request, ctx) => {
        started.resolve();
        reason = await new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve(ctx.signal.reason), { once: true }));
        return {};
      }),
    ];
    const f = fixture(declarations);
    const runtime = runtimeOf(f, declarations);
    runtime.start();
    const record = await runtime.startOperation(SLEEP, create(SleepRequestSchema));
    await started.promise;
    let stopped = false;
    const stopping = runtime.stop(5000).then(() => (stopped = true));
    await settle();
    await assert.rejects(runtime.startOperation(SLEEP, create(SleepRequestSchema)), (err: RpcError) => err.code === Code.UNAVAILABLE);
    await f.clock.advance(4999);
    assert.equal(stopped, false);
    await f.clock.advance(1);
    await stopping;
    assert.equal((reason as RpcError).code, Code.UNAVAILABLE);
    const released = await f.store.get(record.id, f.clock.now());
    assert.equal(released?.state, "queued");
    assert.equal(released?.leaseOwner, undefined);
    f.close();
  });

  it("worker: false only starts operations; it claims none", async () => {
    let ran = 0;
    const declarations = [sleepMethod(async () => (ran++, {}))];
    const f = fixture(declarations);
    const runtime = runtimeOf(f, declarations, false);
    runtime.start();
    const record = await runtime.startOperation(SLEEP, create(SleepRequestSchema));
    await settle(20);
    assert.equal(ran, 0);
    assert.equal((await f.store.get(record.id, f.clock.now()))?.state, "queued");
    await runtime.stop(0);
    f.close();
  });
});
