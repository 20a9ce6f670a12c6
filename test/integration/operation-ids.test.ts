import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { anyUnpack, durationFromMs } from "@bufbuild/protobuf/wkt";
import { Demo, SleepMetadataSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Code, defineMethod, invalidArgument } from "../../src/index.js";
import { callError } from "../support/grpc-client.js";
import { startTestServer, type TestServer } from "../support/server.js";

describe("operationIdPrefix: ids derived from the request", () => {
  let t: TestServer;
  before(async () => {
    const sleep = defineMethod({
      method: Demo.method.sleep,
      response: SleepResponseSchema,
      metadata: SleepMetadataSchema,
      // The failure message doubles as the prefix here, so the test can send a bad one.
      operationIdPrefix: (request) => request.failWith?.message ?? `sleep${request.duration?.seconds ?? 0n}s-`,
      handler: async () => ({}),
    });
    t = await startTestServer({ methods: [sleep] });
  });
  after(async () => t.close());

  it("names the operation prefix + random id, and the name works in every Operations method", async () => {
    const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(7000) });
    assert.match(op.name, /^operations\/sleep7s-[A-Za-z0-9_-]{30}$/);
    const other = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(7000) });
    assert.notEqual(other.name, op.name);
    const done = await t.grpc.call(Operations.method.waitOperation, { name: op.name, timeout: durationFromMs(10_000) });
    assert.equal(done.done, true);
    assert.equal(done.name, op.name);
  });

  it("a prefix with characters a name cannot carry refuses the start (INVALID_ARGUMENT), creating nothing", async () => {
    const err = await callError(t.grpc.call(Demo.method.sleep, { failWith: { message: "a/b" } }));
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    const list = await t.grpc.call(Operations.method.listOperations, { name: "operations", pageSize: 100 });
    assert.ok(list.operations.every((o) => !o.name.includes("a/b")));
  });
});

describe("initialMetadata: what a queued operation already tells", () => {
  let t: TestServer;
  before(async () => {
    const sleep = defineMethod({
      method: Demo.method.sleep,
      response: SleepResponseSchema,
      metadata: SleepMetadataSchema,
      validate: (request) => {
        if (request.failWith) throw invalidArgument("fail_with", "not taken here");
      },
      // Reached only for valid requests: validate runs first.
      initialMetadata: (request) => {
        if (request.failWith) throw new Error("initialMetadata ran before validate");
        return { progressPercent: Number(request.duration?.seconds ?? 0n) };
      },
      handler: async () => ({}),
    });
    // No worker: the operations stay queued, so what they show comes from initialMetadata alone.
    t = await startTestServer({ methods: [sleep], worker: false });
  });
  after(async () => t.close());

  it("is merged over the defaults at creation, readable and filterable before any handler runs", async () => {
    const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(42_000) });
    const other = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(7_000) });
    const got = await t.grpc.call(Operations.method.getOperation, { name: op.name });
    const metadata = anyUnpack(got.metadata!, SleepMetadataSchema)!;
    assert.equal(metadata.progressPercent, 42);
    assert.ok(metadata.createTime, "the defaults stay (create_time)");
    const listed = await t.grpc.call(Operations.method.listOperations, { name: "operations", filter: "metadata.progress_percent = 42" });
    assert.deepEqual(
      listed.operations.map((o) => o.name),
      [op.name],
    );
    assert.notEqual(other.name, op.name);
  });

  it("runs after validate: an invalid request gets validate's error", async () => {
    const err = await callError(t.grpc.call(Demo.method.sleep, { failWith: { code: 3, message: "x" } }));
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.match(err.details, /fail_with/);
  });
});
