// What one operation may hold: a too large response fails it, a too large error is truncated, a too large
// ctx.progress is refused (and the operation goes on).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code } from "../../src/core/code.js";
import { Reason, RpcError } from "../../src/core/errors.js";
import { DEFAULT_OPERATION_LIMITS, type OperationLimits } from "../../src/runtime/executor.js";
import { encodeError } from "../../src/runtime/status.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { SleepMetadataSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { settle, until } from "../support/manual-clock.js";
import { claimAll, deferred, executorOf, fixture, sleepMethod, type SleepHandler } from "./fixture.js";

function limits(overrides: Partial<OperationLimits>): OperationLimits {
  return { ...DEFAULT_OPERATION_LIMITS, ...overrides };
}

async function runOne(handler: SleepHandler, caps: OperationLimits) {
  const f = fixture([sleepMethod(handler)]);
  const { executor } = executorOf(f, { limits: caps });
  const queued = await f.createQueued();
  executor.run(await claimAll(f));
  await until(() => executor.running.size === 0);
  const done = await f.store.get(queued.id, f.clock.now());
  f.close();
  return { done, logged: f.logged };
}

describe("operation limits", () => {
  it("a response over maxResponseBytes fails the operation RESOURCE_EXHAUSTED, naming sizes only", async () => {
    const response = { slept: { seconds: 123456789n, nanos: 5 } };
    const size = toBinary(SleepResponseSchema, create(SleepResponseSchema, response)).byteLength;
    const { done, logged } = await runOne(async () => response, limits({ maxResponseBytes: size - 1 }));
    assert.equal(done?.state, "done");
    assert.equal(done?.response, undefined);
    assert.equal(done?.error?.code, Code.RESOURCE_EXHAUSTED);
    assert.equal(done?.error?.message, `The operation's response is ${size} bytes, over the ${size - 1}-byte limit.`);
    const status = fromBinary(StatusSchema, done!.error!.status);
    assert.equal(status.message, done?.error?.message);
    assert.match(logged.join("\n"), /response is \d+ bytes, over the \d+-byte limit; the operation fails RESOURCE_EXHAUSTED/);
  });

  it("a response at maxResponseBytes is stored", async () => {
    const response = { slept: { seconds: 3n } };
    const size = toBinary(SleepResponseSchema, create(SleepResponseSchema, response)).byteLength;
    const { done } = await runOne(async () => response, limits({ maxResponseBytes: size }));
    assert.equal(done?.error, undefined);
    assert.equal(done?.response?.value.byteLength, size);
  });

  it("an error over maxErrorBytes is stored truncated: same code, message cut with a note, details dropped", async () => {
    const info = anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { reason: "BIG", domain: "x.example" }));
    const message = "é".repeat(5000); // two bytes each: the cut falls between characters
    const { done } = await runOne(async () => {
      throw new RpcError(Code.FAILED_PRECONDITION, message, { details: [info] });
    }, limits({ maxErrorBytes: 1000 }));
    assert.equal(done?.error?.code, Code.FAILED_PRECONDITION);
    assert.ok(done!.error!.status.byteLength <= 1000, `${done!.error!.status.byteLength} bytes`);
    const status = fromBinary(StatusSchema, done!.error!.status);
    assert.equal(status.details.length, 0);
    assert.equal(status.message, done?.error?.message);
    assert.match(status.message, /^é+ … \[truncated: the error was \d+ bytes, over the 1000-byte limit; its details were dropped\]$/);
    assert.ok(!status.message.includes("\uFFFD"));
  });

  it("an error within maxErrorBytes is stored whole, details kept", async () => {
    const info = anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { reason: "SMALL", domain: "x.example" }));
    const { done } = await runOne(async () => {
      throw new RpcError(Code.NOT_FOUND, "no such book", { details: [info] });
    }, DEFAULT_OPERATION_LIMITS);
    const status = fromBinary(StatusSchema, done!.error!.status);
    assert.equal(status.message, "no such book");
    assert.equal(status.details.length, 1);
  });

  it("encodeError without a cap, or within it, keeps the status as it is", () => {
    const status = create(StatusSchema, { code: Code.INTERNAL, message: "x".repeat(100_000) });
    assert.equal(encodeError(status).message.length, 100_000);
    assert.equal(encodeError(status, 100_010).message.length, 100_000);
    assert.ok(encodeError(status, 100).status.byteLength <= 100);
  });

  it("a ctx.progress over maxMetadataBytes rejects RESOURCE_EXHAUSTED; the metadata stays, the operation goes on", async () => {
    const gate = deferred();
    let refused: unknown;
    let seenAfter: number | undefined;
    const f = fixture([
      sleepMethod(async (_request, ctx) => {
        await ctx.progress({ progressPercent: 5 });
        try {
          await ctx.progress({ progressPercent: 2_000_000_000 }); // a 5-byte varint: over the cap set below
        } catch (err) {
          refused = err;
        }
        seenAfter = ctx.metadata.progressPercent;
        await gate.promise;
        await ctx.progress({ progressPercent: 6 });
        return { slept: { seconds: 1n } };
      }),
    ]);
    const codec = f.methods.require("longrun.demo.v1.Demo.Sleep").codec;
    const withFive = codec.encode(codec.merge(codec.initial(f.clock.now()), { progressPercent: 5 })).value.byteLength;
    const { executor } = executorOf(f, { limits: limits({ maxMetadataBytes: withFive + 2 }) });
    const queued = await f.createQueued();
    executor.run(await claimAll(f));
    await until(() => seenAfter !== undefined);
    assert.ok(refused instanceof RpcError);
    assert.equal(refused.code, Code.RESOURCE_EXHAUSTED);
    assert.equal(refused.reason, Reason.OPERATION_TOO_LARGE);
    assert.match(refused.message, /^The operation's metadata is \d+ bytes, over the \d+-byte limit\.$/);
    assert.equal(seenAfter, 5);
    await settle();
    const running = await f.store.get(queued.id, f.clock.now());
    assert.equal(fromBinary(SleepMetadataSchema, running!.metadata!.value).progressPercent, 5);
    gate.resolve();
    await until(() => executor.running.size === 0);
    const done = await f.store.get(queued.id, f.clock.now());
    assert.equal(done?.state, "done");
    assert.ok(done?.response);
    assert.equal(fromBinary(SleepMetadataSchema, done!.metadata!.value).progressPercent, 6);
    f.close();
  });
});
