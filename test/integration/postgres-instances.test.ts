import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { anyUnpack, durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepMetadataSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Code } from "../../src/core/code.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import type { ChangeListener } from "../../src/store/store.js";
import { callError } from "../support/grpc-client.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { freshSchema, type TestSchema } from "../support/postgres.js";

const ops = Operations.method;

describe("several instances on one PostgreSQL", () => {
  let db: TestSchema;
  /** A runs the handlers; B only serves RPCs, so whatever B sees of a running operation came through the database. */
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    db = await freshSchema("lr_inst");
    const open = () => PostgresStore.open({ connectionString: db.url, schema: db.schema });
    // Long leases: cancellation must arrive by NOTIFY, not by the heartbeat (every 20 s here).
    a = await startTestServer({ store: await open(), leaseMs: 60_000, pageTokenSecret: "shared" });
    b = await startTestServer({ store: await open(), worker: false, pageTokenSecret: "shared" });
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await db.drop();
  });

  it("an operation started on A is the same on B: Get, List, Wait, Delete", async () => {
    const op = await a.grpc.call(Demo.method.sleep, { duration: durationFromMs(100) });
    assert.equal((await b.grpc.call(ops.getOperation, { name: op.name })).name, op.name, "B finds it at once");
    const done = await b.grpc.call(ops.waitOperation, { name: op.name, timeout: durationFromMs(20_000) });
    assert.equal(done.done, true);
    assert.equal(done.result.case, "response");
    assert.deepEqual(await a.grpc.call(ops.getOperation, { name: op.name }), done, "identical on both");
    assert.deepEqual(await b.grpc.call(ops.getOperation, { name: op.name }), done);
    const listedOnB = await b.grpc.call(ops.listOperations, { name: "operations", filter: "done = true" });
    assert.ok(listedOnB.operations.some((o) => o.name === op.name));
    await b.grpc.call(ops.deleteOperation, { name: op.name });
    assert.equal((await callError(a.grpc.call(ops.getOperation, { name: op.name }))).code, Code.NOT_FOUND);
  });

  it("page tokens issued by one instance are accepted by the other (shared secret)", async () => {
    for (let i = 0; i < 3; i++) await a.grpc.call(Demo.method.sleep, { duration: durationFromMs(0) });
    const first = await a.grpc.call(ops.listOperations, { name: "operations", pageSize: 1 });
    const second = await b.grpc.call(ops.listOperations, { name: "operations", pageSize: 1, pageToken: first.nextPageToken });
    assert.equal(second.operations.length, 1);
    assert.notEqual(second.operations[0]!.name, first.operations[0]!.name);
  });

  it("Wait on B wakes when the operation finishes on A, by notification", async (ctx) => {
    const op = await b.grpc.call(Demo.method.sleep, { duration: durationFromMs(300) });
    const started = Date.now();
    const done = await b.grpc.call(ops.waitOperation, { name: op.name, timeout: durationFromMs(30_000) });
    assert.equal(done.done, true);
    const endTime = anyUnpack(done.metadata!, SleepMetadataSchema)!.endTime!;
    const finishedAt = Number(endTime.seconds) * 1000 + endTime.nanos / 1e6;
    ctx.diagnostic(`Wait on B answered ${Date.now() - finishedAt} ms after A finished (waited ${Date.now() - started} ms)`);
  });

  it("Cancel on B reaches the handler running on A", async () => {
    const op = await b.grpc.call(Demo.method.sleep, { duration: durationFromMs(60_000) });
    for (;;) {
      const seen = await b.grpc.call(ops.getOperation, { name: op.name });
      if (anyUnpack(seen.metadata!, SleepMetadataSchema)!.progressPercent > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await b.grpc.call(ops.cancelOperation, { name: op.name });
    // Well before A's next heartbeat (20 s): only the notification can have stopped it.
    const done = await b.grpc.call(ops.waitOperation, { name: op.name, timeout: durationFromMs(10_000) });
    assert.equal(done.done, true, "cancelled within 10 s");
    assert.equal(done.result.case, "error");
    assert.equal(done.result.value.code, Code.CANCELLED);
    assert.equal(anyUnpack(done.metadata!, SleepMetadataSchema)!.cancelRequested, true);
  });
});

describe("cancellation without notifications", () => {
  it("the heartbeat still brings the cancel to the handler", { timeout: 30_000 }, async () => {
    const db = await freshSchema("lr_hb");
    const store = await PostgresStore.open({ connectionString: db.url, schema: db.schema });
    // The only worker on this schema, and its store hides cancel notifications from it: only its
    // heartbeat (every 200 ms with a 600 ms lease) can tell it.
    const deaf = new Proxy(store, {
      get(target, property) {
        if (property === "subscribe") {
          return (listener: ChangeListener) => target.subscribe((event) => event.kind === "cancel-requested" || listener(event));
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const t = await startTestServer({ store: deaf, leaseMs: 600 });
    try {
      const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(60_000) });
      for (;;) {
        const seen = await t.grpc.call(ops.getOperation, { name: op.name });
        if (anyUnpack(seen.metadata!, SleepMetadataSchema)!.progressPercent > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await t.grpc.call(ops.cancelOperation, { name: op.name });
      const done = await t.grpc.call(ops.waitOperation, { name: op.name, timeout: durationFromMs(20_000) });
      assert.equal(done.done, true);
      assert.equal(done.result.case, "error");
      assert.equal(done.result.value.code, Code.CANCELLED);
    } finally {
      await t.close();
      await db.drop();
    }
  });
});
