// Custom methods on operations (pause/resume): declared by the server as control RPCs, delivered to the
// handler through ctx.control, on one SQLite instance and across PostgreSQL instances.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepMetadataSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { StorageTransferService } from "../../examples/storage-transfer/gen/google/storagetransfer/v1/transfer_pb.js";
import { Code, defineMethod, type OperationContext, type ServerOptions } from "../../src/index.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { callError } from "../support/grpc-client.js";
import { freshSchema, type TestSchema } from "../support/postgres.js";
import { startTestServer, type TestServer } from "../support/server.js";

const ops = Operations.method;
const sts = StorageTransferService.method;

/** What each handler saw of its control commands, by operation name. */
const seen = new Map<string, (string | undefined)[]>();

/**
 * Demo/Sleep as a pausable worker: runs until cancelled; records the command it starts with, and each
 * pause and resume it then observes. Its name doubles as the test's key.
 */
const pausable = defineMethod({
  method: Demo.method.sleep,
  response: SleepResponseSchema,
  metadata: SleepMetadataSchema,
  async handler(_request, ctx: OperationContext) {
    const log = [ctx.control.current];
    seen.set(ctx.name, log);
    for (;;) {
      await ctx.control.until((c) => c === "pause");
      log.push("pause");
      await ctx.control.until((c) => c !== "pause");
      log.push(ctx.control.current);
      if (ctx.control.current === "finish") return {};
    }
  },
});

/** Storage Transfer's collection, so its RPCs' REST bindings (`/v1/{name=transferOperations/**}:pause`) match. */
const names = { collection: "transferOperations" };

const controls: ServerOptions["controls"] = [
  { method: sts.pauseTransferOperation, command: "pause" },
  { method: sts.resumeTransferOperation, command: "resume" },
  { method: "google.storagetransfer.v1.StorageTransferService.DeleteTransferJob", command: "finish", nameField: "job_name" },
];

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function scenarios(servers: () => { runner: TestServer; caller: TestServer }) {
  it("pause and resume reach the running handler; the last command wins; done operations refuse", async () => {
    const { runner, caller } = servers();
    const op = await caller.grpc.call(Demo.method.sleep, {});
    await until(() => seen.has(op.name), "the handler to start");
    await caller.grpc.call(sts.pauseTransferOperation, { name: op.name });
    await until(() => seen.get(op.name)!.length === 2, "the pause");
    await caller.grpc.call(sts.resumeTransferOperation, { name: op.name });
    await until(() => seen.get(op.name)!.length === 3, "the resume");
    await caller.grpc.call(sts.pauseTransferOperation, { name: op.name });
    await until(() => seen.get(op.name)!.length === 4, "the second pause");
    await caller.grpc.call(sts.deleteTransferJob, { jobName: op.name });
    const done = await runner.grpc.call(ops.waitOperation, { name: op.name, timeout: durationFromMs(15_000) });
    assert.equal(done.done, true);
    assert.deepEqual(seen.get(op.name), [undefined, "pause", "resume", "pause", "finish"]);

    const err = await callError(caller.grpc.call(sts.pauseTransferOperation, { name: op.name }));
    assert.equal(err.code, Code.FAILED_PRECONDITION);
    assert.equal(err.errorInfo?.reason, "OPERATION_DONE");
  });

  it("a command sent while queued is what the handler starts with; cancel still ends a paused operation", async () => {
    const { caller } = servers();
    // Not claimable for now: fill the runner's single slot first.
    const blocker = await caller.grpc.call(Demo.method.sleep, {});
    await until(() => seen.has(blocker.name), "the blocker to start");
    const queued = await caller.grpc.call(Demo.method.sleep, {});
    await caller.grpc.call(sts.pauseTransferOperation, { name: queued.name });
    await caller.grpc.call(ops.cancelOperation, { name: blocker.name });
    await until(() => seen.get(queued.name)?.length === 2, "the queued one to start paused");
    assert.deepEqual(seen.get(queued.name), ["pause", "pause"]);
    await caller.grpc.call(ops.cancelOperation, { name: queued.name });
    const done = await caller.grpc.call(ops.waitOperation, { name: queued.name, timeout: durationFromMs(15_000) });
    assert.equal(done.result.case === "error" && done.result.value.code, Code.CANCELLED);
  });

  it("unknown operations are NOT_FOUND; a malformed name is INVALID_ARGUMENT", async () => {
    const { caller } = servers();
    assert.equal((await callError(caller.grpc.call(sts.resumeTransferOperation, { name: "transferOperations/nope" }))).code, Code.NOT_FOUND);
    assert.equal((await callError(caller.grpc.call(sts.resumeTransferOperation, { name: "elsewhere/x" }))).code, Code.INVALID_ARGUMENT);
  });
}

describe("control commands on one embedded instance", () => {
  let t: TestServer;
  before(async () => (t = await startTestServer({ methods: [pausable], controls, names, concurrency: 1 })));
  after(async () => t.close());
  scenarios(() => ({ runner: t, caller: t }));

  it("the control RPCs are served over REST at their own bindings, answering {}", async () => {
    const op = await t.grpc.call(Demo.method.sleep, {});
    await until(() => seen.has(op.name), "the handler to start");
    const res = await fetch(`${t.url}/v1/${op.name}:pause`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    assert.deepEqual(await res.json(), {});
    await until(() => seen.get(op.name)!.length === 2, "the pause");
    await t.grpc.call(ops.cancelOperation, { name: op.name });
    await t.grpc.call(ops.waitOperation, { name: op.name, timeout: durationFromMs(15_000) });
  });
});

describe("control commands across PostgreSQL instances (A runs, B is sent the commands)", () => {
  let db: TestSchema;
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    db = await freshSchema("lr_ctl");
    const open = () => PostgresStore.open({ connectionString: db.url, schema: db.schema });
    // Long leases: the commands must arrive by NOTIFY, not by the heartbeat (every 20 s here).
    a = await startTestServer({ store: await open(), methods: [pausable], controls, names, concurrency: 1, leaseMs: 60_000 });
    b = await startTestServer({ store: await open(), methods: [pausable], controls, names, worker: false });
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await db.drop();
  });
  scenarios(() => ({ runner: a, caller: b }));
});
