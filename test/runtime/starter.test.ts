// Starting operations: validation, names, request-id idempotency, batch starts, refusal while stopping.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code } from "../../src/core/code.js";
import { invalidArgument, Reason, type RpcError } from "../../src/core/errors.js";
import { Starter } from "../../src/runtime/starter.js";
import { SleepMetadataSchema, SleepRequestSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { fixture, SLEEP, sleepMethod } from "./fixture.js";

function setUp(extra: Parameters<typeof sleepMethod>[1] = {}, stopping = false) {
  const f = fixture([sleepMethod(async () => ({}), extra)]);
  const starter = new Starter({ store: f.store, clock: f.clock, methods: f.methods, names: f.names, isStopping: () => stopping });
  return { f, starter };
}

const code = (expected: Code) => (err: RpcError) => err.code === expected;

describe("Starter", () => {
  it("creates a queued operation named in the collection, with the metadata's create_time", async () => {
    const { f, starter } = setUp();
    const record = await starter.startOperation(SLEEP, create(SleepRequestSchema));
    assert.match(record.name, /^operations\/[A-Za-z0-9_-]{30}$/);
    assert.equal(record.state, "queued");
    assert.equal(record.createTime, f.clock.now());
    f.close();
  });

  it("starts in one millisecond share their encoded metadata; a later start's has its own create_time", async () => {
    const { f, starter } = setUp();
    const first = await starter.startOperation(SLEEP, create(SleepRequestSchema));
    const second = await starter.startOperation(SLEEP, create(SleepRequestSchema));
    assert.ok(first.metadata !== undefined && second.metadata !== undefined);
    assert.equal(first.createTime, second.createTime);
    assert.deepEqual(second.metadata, first.metadata);
    await f.clock.advance(1500);
    const later = await starter.startOperation(SLEEP, create(SleepRequestSchema));
    const createTime = (record: typeof later) => timestampMs(fromBinary(SleepMetadataSchema, record.metadata!.value).createTime!);
    assert.equal(createTime(first), first.createTime);
    assert.equal(createTime(later), later.createTime);
    assert.equal(later.createTime, first.createTime + 1500);
    assert.notDeepEqual(later.metadata?.value, first.metadata.value);
    f.close();
  });

  it("a repeated request_id returns the first operation (AIP-155); a bad one is INVALID_ARGUMENT", async () => {
    const { f, starter } = setUp();
    const first = await starter.startOperation(SLEEP, create(SleepRequestSchema, { requestId: "7d3c0d7e-1" }));
    const again = await starter.startOperation(SLEEP, create(SleepRequestSchema, { requestId: "7d3c0d7e-1" }));
    assert.equal(again.name, first.name);
    await assert.rejects(starter.startOperation(SLEEP, create(SleepRequestSchema, { requestId: "has space" })), code(Code.INVALID_ARGUMENT));
    await assert.rejects(starter.startOperation(SLEEP, create(SleepRequestSchema, { requestId: "x".repeat(65) })), code(Code.INVALID_ARGUMENT));
    f.close();
  });

  it("a request_id is the caller's own: reused by another principal or resource it is ALREADY_EXISTS, never the other's operation", async () => {
    const { f, starter } = setUp();
    const request = create(SleepRequestSchema, { requestId: "5b1e-shared" });
    const alices = await starter.startOperation(SLEEP, request, { principal: "user:alice", resource: "projects/a" });
    assert.equal((await starter.startOperation(SLEEP, request, { principal: "user:alice", resource: "projects/a" })).name, alices.name, "alice's retry");
    for (const other of [{ principal: "user:mallory", resource: "projects/a" }, { principal: "user:alice", resource: "projects/b" }, {}]) {
      const err = await starter.startOperation(SLEEP, request, other).then(
        () => assert.fail(`${JSON.stringify(other)} got an operation`),
        (e: unknown) => e as RpcError,
      );
      assert.equal(err.code, Code.ALREADY_EXISTS);
      assert.equal(err.reason, "REQUEST_ID_IN_USE");
      assert.ok(!err.message.includes(alices.name));
    }
    await assert.rejects(starter.startOperations(SLEEP, [request], { principal: "user:mallory" }), code(Code.ALREADY_EXISTS));
    f.close();
  });

  it("a request_id reused by its caller for a different request is INVALID_ARGUMENT REQUEST_ID_REUSED, one start or a batch", async () => {
    const { f, starter } = setUp();
    const first = await starter.startOperation(SLEEP, create(SleepRequestSchema, { requestId: "r-1", duration: { seconds: 1n } }));
    const same = await starter.startOperation(SLEEP, create(SleepRequestSchema, { requestId: "r-1", duration: { seconds: 1n } }));
    assert.equal(same.name, first.name, "the same request again is a retry");
    for (const different of [
      create(SleepRequestSchema, { requestId: "r-1", duration: { seconds: 2n } }),
      create(SleepRequestSchema, { requestId: "r-1" }),
      create(SleepRequestSchema, { requestId: "r-1", duration: { seconds: 1n }, failWith: { code: 5 } }),
    ]) {
      for (const start of [() => starter.startOperation(SLEEP, different), () => starter.startOperations(SLEEP, [different])]) {
        const err = await start().then(
          () => assert.fail("a different request got the first operation"),
          (e: unknown) => e as RpcError,
        );
        assert.equal(err.code, Code.INVALID_ARGUMENT);
        assert.equal(err.reason, Reason.REQUEST_ID_REUSED);
        assert.equal(err.metadata["field"], "request_id");
        assert.match(err.message, /used before for a different request/);
        assert.ok(!err.message.includes(first.name));
      }
    }
    // Another caller still gets ALREADY_EXISTS (it is not told whether the request differs).
    const other = create(SleepRequestSchema, { requestId: "r-1", duration: { seconds: 9n } });
    await assert.rejects(starter.startOperation(SLEEP, other, { principal: "user:mallory" }), code(Code.ALREADY_EXISTS));
    assert.equal((await f.store.list({ parent: "", limit: 10, now: f.clock.now() })).length, 1);
    f.close();
  });

  it("the method's validate refuses the start; a batch with one invalid request creates nothing", async () => {
    const { f, starter } = setUp({
      validate: (request) => {
        if ((request as { requestId?: string }).requestId === "bad") throw invalidArgument("request_id", "bad");
      },
    });
    await assert.rejects(starter.startOperation(SLEEP, create(SleepRequestSchema, { requestId: "bad" })), code(Code.INVALID_ARGUMENT));
    const requests = [create(SleepRequestSchema), create(SleepRequestSchema, { requestId: "bad" })];
    await assert.rejects(starter.startOperations(SLEEP, requests), code(Code.INVALID_ARGUMENT));
    assert.deepEqual(await f.store.list({ parent: "", limit: 10, now: f.clock.now() }), []);
    const made = await starter.startOperations(SLEEP, [create(SleepRequestSchema), create(SleepRequestSchema)]);
    assert.equal(made.length, 2);
    assert.equal((await f.store.list({ parent: "", limit: 10, now: f.clock.now() })).length, 2);
    f.close();
  });

  it("an id prefix goes before the random part; one with other characters is INVALID_ARGUMENT", async () => {
    const { f, starter } = setUp({ operationIdPrefix: (request) => ((request as { requestId?: string }).requestId === "odd" ? "a/b" : "jobs-7-") });
    assert.match((await starter.startOperation(SLEEP, create(SleepRequestSchema))).name, /^operations\/jobs-7-[A-Za-z0-9_-]{30}$/);
    await assert.rejects(starter.startOperation(SLEEP, create(SleepRequestSchema, { requestId: "odd" })), code(Code.INVALID_ARGUMENT));
    f.close();
  });

  it("keeps who started an operation: one start, a batch, and none without a principal", async () => {
    const { f, starter } = setUp();
    const alice = await starter.startOperation(SLEEP, create(SleepRequestSchema), { principal: "user:alice" });
    assert.equal(alice.principal, "user:alice");
    assert.equal((await f.store.get(alice.id, f.clock.now()))?.principal, "user:alice");
    const batch = await starter.startOperations(SLEEP, [create(SleepRequestSchema), create(SleepRequestSchema)], { principal: "serviceAccount:ci@example" });
    assert.deepEqual(batch.map((r) => r.principal), ["serviceAccount:ci@example", "serviceAccount:ci@example"]);
    assert.equal((await starter.startOperation(SLEEP, create(SleepRequestSchema))).principal, undefined);
    assert.deepEqual((await starter.startOperations(SLEEP, [create(SleepRequestSchema)])).map((r) => r.principal), [undefined]);
    f.close();
  });

  it("an unstorable principal fails its own start only, not the others committed with it", async () => {
    const { f, starter } = setUp();
    const [bad, good] = await Promise.allSettled([
      starter.startOperation(SLEEP, create(SleepRequestSchema), { principal: "x".repeat(1025) }),
      starter.startOperation(SLEEP, create(SleepRequestSchema), { principal: "user:alice" }),
    ]);
    assert.equal(bad?.status, "rejected");
    assert.equal(good?.status === "fulfilled" && good.value.principal, "user:alice");
    assert.equal((await f.store.list({ parent: "", limit: 10, now: f.clock.now() })).length, 1);
    f.close();
  });

  it("keeps the resource an operation belongs to: one start, a batch, and none when not given", async () => {
    const { f, starter } = setUp();
    const one = await starter.startOperation(SLEEP, create(SleepRequestSchema), { principal: "user:alice", resource: "projects/a" });
    assert.deepEqual([one.principal, one.resource], ["user:alice", "projects/a"]);
    assert.equal((await f.store.get(one.id, f.clock.now()))?.resource, "projects/a");
    const batch = await starter.startOperations(SLEEP, [create(SleepRequestSchema), create(SleepRequestSchema)], { resource: "projects/b" });
    assert.deepEqual(batch.map((r) => r.resource), ["projects/b", "projects/b"]);
    assert.equal((await starter.startOperation(SLEEP, create(SleepRequestSchema))).resource, undefined);
    const listed = await f.store.list({ parent: "", resource: "projects/b", limit: 10, now: f.clock.now() });
    assert.deepEqual(listed.map((r) => r.id).sort(), batch.map((r) => r.id).sort());
    f.close();
  });

  it("an unstorable resource is INVALID_ARGUMENT (it comes from the request), for its own start only; a batch creates nothing", async () => {
    const { f, starter } = setUp();
    const refused = (err: RpcError) => err.code === Code.INVALID_ARGUMENT && err.metadata["field"] === "resource";
    const [bad, good] = await Promise.allSettled([
      starter.startOperation(SLEEP, create(SleepRequestSchema), { resource: `projects/${"x".repeat(1016)}` }),
      starter.startOperation(SLEEP, create(SleepRequestSchema), { resource: "projects/a" }),
    ]);
    assert.ok(bad?.status === "rejected" && refused(bad.reason as RpcError), String(bad?.status === "rejected" && bad.reason));
    assert.equal(good?.status === "fulfilled" && good.value.resource, "projects/a");
    for (const resource of ["projects/a\u0000", "projects/\ud83e"]) {
      await assert.rejects(starter.startOperation(SLEEP, create(SleepRequestSchema), { resource }), refused);
      await assert.rejects(starter.startOperations(SLEEP, [create(SleepRequestSchema)], { resource }), refused);
    }
    assert.equal((await f.store.list({ parent: "", limit: 10, now: f.clock.now() })).length, 1);
    f.close();
  });

  it("an unknown method is UNIMPLEMENTED; while stopping, starts are UNAVAILABLE", async () => {
    const { f, starter } = setUp();
    await assert.rejects(starter.startOperation("x.Y.Z", create(SleepRequestSchema)), code(Code.UNIMPLEMENTED));
    f.close();
    const stopping = setUp({}, true);
    await assert.rejects(
      stopping.starter.startOperation(SLEEP, create(SleepRequestSchema)),
      (err: RpcError) => err.code === Code.UNAVAILABLE && err.reason === Reason.SHUTTING_DOWN,
    );
    stopping.f.close();
  });
});
