// Cancel and control requests on existing operations.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code } from "../../src/core/code.js";
import { Reason, type RpcError } from "../../src/core/errors.js";
import { OperationCommands } from "../../src/runtime/commands.js";
import { ResultWriter } from "../../src/runtime/writer.js";
import { SleepMetadataSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { fromBinary } from "@bufbuild/protobuf";
import { claimAll, fixture, sleepMethod } from "./fixture.js";

function setUp() {
  const f = fixture([sleepMethod(async () => ({}))]);
  const writer = new ResultWriter({ store: f.store, clock: f.clock, log: f.log, retentionMs: 60_000, owner: "worker-a", isStopping: () => false });
  const commands = new OperationCommands({ store: f.store, clock: f.clock, methods: f.methods, writer });
  return { f, commands };
}

describe("OperationCommands", () => {
  it("cancelling a queued operation ends it at once: CANCELLED, end_time and cancel_requested set", async () => {
    const { f, commands } = setUp();
    const queued = await f.createQueued();
    await commands.cancel(queued.id, queued.name);
    const done = await f.store.get(queued.id, f.clock.now());
    assert.equal(done?.state, "done");
    assert.equal(done?.error?.code, Code.CANCELLED);
    const metadata = fromBinary(SleepMetadataSchema, done!.metadata!.value);
    assert.equal(metadata.cancelRequested, true);
    assert.ok(metadata.endTime);
    f.close();
  });

  it("cancelling a running operation only records the request (its worker stops the handler)", async () => {
    const { f, commands } = setUp();
    const queued = await f.createQueued();
    await claimAll(f);
    await commands.cancel(queued.id, queued.name);
    const record = await f.store.get(queued.id, f.clock.now());
    assert.equal(record?.state, "running");
    assert.equal(record?.cancelRequested, true);
    f.close();
  });

  it("an unknown id, or a name that is not the operation's, is NOT_FOUND", async () => {
    const { f, commands } = setUp();
    const queued = await f.createQueued();
    await assert.rejects(commands.cancel("nope", "operations/nope"), (err: RpcError) => err.code === Code.NOT_FOUND);
    await assert.rejects(commands.cancel(queued.id, "operations/other"), (err: RpcError) => err.code === Code.NOT_FOUND);
    await assert.rejects(commands.control("nope", "operations/nope", "pause"), (err: RpcError) => err.code === Code.NOT_FOUND);
    await assert.rejects(commands.control(queued.id, "operations/other", "pause"), (err: RpcError) => err.code === Code.NOT_FOUND);
    // Refused before anything was recorded: not cancelled, not ended, no command.
    const after = await f.store.get(queued.id, f.clock.now());
    assert.deepEqual([after?.state, after?.cancelRequested, after?.control, after?.updateTime], ["queued", false, undefined, queued.updateTime]);
    f.close();
  });

  it("a control command is recorded; a done operation cannot be controlled (FAILED_PRECONDITION, OPERATION_DONE)", async () => {
    const { f, commands } = setUp();
    const queued = await f.createQueued();
    assert.equal((await commands.control(queued.id, queued.name, "pause")).control, "pause");
    await commands.cancel(queued.id, queued.name);
    await assert.rejects(
      commands.control(queued.id, queued.name, "resume"),
      (err: RpcError) => err.code === Code.FAILED_PRECONDITION && err.reason === Reason.OPERATION_DONE,
    );
    f.close();
  });
});
