import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { anyPack, anyUnpack, durationFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { Operations, type Operation } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepMetadataSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { Code, defineMethod, RpcError, SqliteStore, type MethodDeclaration } from "../../src/index.js";
import { callError } from "../support/grpc-client.js";
import { startTestServer, type TestServer } from "../support/server.js";

const ops = Operations.method;

/** A handler for Demo/Sleep chosen by the request's fail_with.message, so one server runs every scenario. */
type Scenario = Parameters<MethodDeclaration["handler"]>[1] extends infer Ctx ? (ctx: Ctx) => Promise<object> : never;

const events = new Map<string, string[]>();
function note(key: string, event: string): void {
  events.set(key, [...(events.get(key) ?? []), event]);
}

const scenarios: Record<string, Scenario> = {
  async "throws a plain Error"() {
    throw new Error("disk full at /var/data");
  },
  async "throws a string"() {
    throw "not an error object";
  },
  async "throws an RpcError with details"() {
    throw new RpcError(Code.RESOURCE_EXHAUSTED, "quota exceeded", {
      details: [anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { reason: "QUOTA", domain: "example.com" }))],
    });
  },
  async "finishes despite cancel"(ctx) {
    await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
    return { slept: durationFromMs(1234) };
  },
  async "reports progress many times"(ctx) {
    await Promise.all(Array.from({ length: 50 }, (_, i) => ctx.progress({ progressPercent: i + 1 })));
    await ctx.progress({ progressPercent: 77, createTime: { seconds: 0n, nanos: 0 } });
    return {};
  },
  async "runs on after delete"(ctx) {
    note(ctx.name, "started");
    for (let i = 0; i < 100 && !events.get(ctx.name)?.includes("deleted"); i++) await new Promise((r) => setTimeout(r, 10));
    await ctx.progress({ progressPercent: 50 });
    note(ctx.name, ctx.signal.aborted ? "aborted" : "finished without abort");
    return {};
  },
};

const scenarioMethod = defineMethod({
  method: Demo.method.sleep,
  response: SleepResponseSchema,
  metadata: SleepMetadataSchema,
  handler: async (request, ctx) => {
    const scenario = scenarios[request.failWith?.message ?? ""];
    if (!scenario) throw new Error(`no scenario ${request.failWith?.message}`);
    return (await scenario(ctx as never)) as never;
  },
});

describe("handlers", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ methods: [scenarioMethod] });
  });
  after(() => t.close());

  const run = (scenario: string) => t.grpc.call(Demo.method.sleep, { failWith: { code: 2, message: scenario } });
  const wait = (name: string) => t.grpc.call(ops.waitOperation, { name, timeout: durationFromMs(10_000) });
  const errorOf = (op: Operation) => {
    assert.equal(op.result.case, "error");
    return op.result.value;
  };

  it("a plain Error ends the operation UNKNOWN with its message only, never a stack", async () => {
    const error = errorOf(await wait((await run("throws a plain Error")).name));
    assert.equal(error.code, Code.UNKNOWN);
    assert.equal(error.message, "disk full at /var/data");
    assert.deepEqual(error.details, []);
  });

  it("any other thrown value ends it UNKNOWN", async () => {
    const error = errorOf(await wait((await run("throws a string")).name));
    assert.equal(error.code, Code.UNKNOWN);
    assert.equal(error.message, "not an error object");
  });

  it("an RpcError ends it with exactly that status, details included", async () => {
    const error = errorOf(await wait((await run("throws an RpcError with details")).name));
    assert.equal(error.code, Code.RESOURCE_EXHAUSTED);
    assert.equal(error.message, "quota exceeded");
    assert.equal(error.details.length, 1);
    assert.equal(anyUnpack(error.details[0]!, ErrorInfoSchema)?.reason, "QUOTA");
  });

  it("a handler that finishes despite a cancel keeps its real result", async () => {
    const op = await run("finishes despite cancel");
    await new Promise((r) => setTimeout(r, 50));
    await t.grpc.call(ops.cancelOperation, { name: op.name });
    const done = await wait(op.name);
    assert.equal(done.result.case, "response");
    assert.equal(anyUnpack(done.result.value, SleepResponseSchema)?.slept?.nanos, 234_000_000);
    assert.equal(anyUnpack(done.metadata!, SleepMetadataSchema)?.cancelRequested, true);
  });

  it("progress calls are coalesced to the latest state, and cannot overwrite create_time", async () => {
    const op = await run("reports progress many times");
    const created = anyUnpack(op.metadata!, SleepMetadataSchema)!.createTime!;
    const done = await wait(op.name);
    const metadata = anyUnpack(done.metadata!, SleepMetadataSchema)!;
    assert.equal(metadata.progressPercent, 77);
    assert.equal(timestampMs(metadata.createTime!), timestampMs(created));
  });

  it("DeleteOperation does not cancel: the handler runs on to its end, unheard", async () => {
    const op = await run("runs on after delete");
    while (!events.get(op.name)?.includes("started")) await new Promise((r) => setTimeout(r, 5));
    await t.grpc.call(ops.deleteOperation, { name: op.name });
    note(op.name, "deleted");
    while (events.get(op.name)?.length !== 3) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(events.get(op.name), ["started", "deleted", "finished without abort"]);
    assert.equal((await callError(t.grpc.call(ops.getOperation, { name: op.name }))).code, Code.NOT_FOUND);
  });
});

describe("retention", () => {
  it("done operations answer NOT_FOUND after the retention period and are purged", async () => {
    const store = SqliteStore.open(join(mkdtempSync(join(tmpdir(), "longrun-retention-")), "longrun.db"));
    const t = await startTestServer({ store, retentionMs: 300, purgeIntervalMs: 50 });
    try {
      const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0) });
      const done = await t.grpc.call(ops.waitOperation, { name: op.name, timeout: durationFromMs(10_000) });
      assert.equal(done.done, true);
      assert.equal((await t.grpc.call(ops.getOperation, { name: op.name })).done, true, "kept while retained");
      await new Promise((r) => setTimeout(r, 600));
      assert.equal((await callError(t.grpc.call(ops.getOperation, { name: op.name }))).code, Code.NOT_FOUND);
      const page = await t.grpc.call(ops.listOperations, { name: "operations" });
      assert.ok(!page.operations.some((o) => o.name === op.name));
      assert.equal(await store.purgeExpired(Date.now()), 0, "the runtime already deleted it");
    } finally {
      await t.close();
    }
  });
});
