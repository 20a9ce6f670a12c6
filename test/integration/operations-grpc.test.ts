import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { anyUnpack, durationFromMs, durationMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { create, toBinary } from "@bufbuild/protobuf";
import { Operations, WaitOperationRequestSchema, type Operation } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepMetadataSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Code } from "../../src/core/code.js";
import { callError } from "../support/grpc-client.js";
import { startTestServer, type TestServer } from "../support/server.js";

const ops = Operations.method;

describe("Operations over gRPC", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  const sleep = (ms: number, extra: Record<string, unknown> = {}) =>
    t.grpc.call(Demo.method.sleep, { duration: durationFromMs(ms), ...extra });
  const wait = (name: string, timeoutMs = 10_000) =>
    t.grpc.call(ops.waitOperation, { name, timeout: durationFromMs(timeoutMs) });

  it("starts an operation at once: not done, an opaque URL-safe name, typed metadata", async () => {
    const op = await sleep(60_000);
    assert.equal(op.done, false);
    assert.match(op.name, /^operations\/[A-Za-z0-9_-]{30}$/);
    assert.equal(op.result.case, undefined);
    assert.equal(op.metadata?.typeUrl, "type.googleapis.com/longrun.demo.v1.SleepMetadata");
    const metadata = anyUnpack(op.metadata!, SleepMetadataSchema)!;
    assert.ok(metadata.createTime, "create_time is filled in");
    assert.ok(Math.abs(timestampMs(metadata.createTime) - Date.now()) < 60_000);
    await t.grpc.call(ops.cancelOperation, { name: op.name });
  });

  it("runs the handler in the background: Wait returns the packed response", async () => {
    const op = await sleep(50);
    const done = await wait(op.name);
    assert.equal(done.done, true);
    assert.equal(done.result.case, "response");
    const response = done.result.value!;
    assert.equal(response.typeUrl, "type.googleapis.com/longrun.demo.v1.SleepResponse");
    assert.equal(durationMs(anyUnpack(response, SleepResponseSchema)!.slept!), 50);
    const metadata = anyUnpack(done.metadata!, SleepMetadataSchema)!;
    assert.equal(metadata.progressPercent, 100);
    assert.ok(metadata.endTime, "end_time is set when done");
    assert.deepEqual(await t.grpc.call(ops.getOperation, { name: op.name }), done);
  });

  it("ends with the handler's status in error, details as given and nothing added", async () => {
    const op = await sleep(10, { failWith: { code: Code.FAILED_PRECONDITION, message: "the bucket is gone" } });
    const done = await wait(op.name);
    assert.equal(done.done, true);
    assert.equal(done.result.case, "error");
    const error = done.result.value as { code: number; message: string; details: unknown[] };
    assert.equal(error.code, Code.FAILED_PRECONDITION);
    assert.equal(error.message, "the bucket is gone");
    assert.deepEqual(error.details, []);
  });

  it("cancels a running operation: the handler stops, error.code = 1, cancel_requested set", async () => {
    const op = await sleep(60_000);
    await waitUntil(async () => progress(await t.grpc.call(ops.getOperation, { name: op.name })) > 0);
    const started = Date.now();
    await t.grpc.call(ops.cancelOperation, { name: op.name });
    const done = await wait(op.name);
    assert.ok(Date.now() - started < 10_000, "the handler stopped promptly");
    assert.equal(done.done, true);
    assert.equal(done.result.case, "error");
    assert.equal(done.result.value!.code, Code.CANCELLED);
    assert.equal(anyUnpack(done.metadata!, SleepMetadataSchema)!.cancelRequested, true);
  });

  it("cancelling a done operation succeeds and changes nothing", async () => {
    const op = await sleep(0);
    const done = await wait(op.name);
    await t.grpc.call(ops.cancelOperation, { name: op.name });
    await t.grpc.call(ops.cancelOperation, { name: op.name });
    assert.deepEqual(await t.grpc.call(ops.getOperation, { name: op.name }), done);
  });

  it("deletes an operation without cancelling it; then it is NOT_FOUND everywhere", async () => {
    const op = await sleep(0);
    await wait(op.name);
    await t.grpc.call(ops.deleteOperation, { name: op.name });
    const errors = await Promise.all(
      [
        t.grpc.call(ops.getOperation, { name: op.name }),
        t.grpc.call(ops.deleteOperation, { name: op.name }),
        t.grpc.call(ops.cancelOperation, { name: op.name }),
        t.grpc.call(ops.waitOperation, { name: op.name }),
      ].map(callError),
    );
    for (const err of errors) {
      assert.equal(err.code, Code.NOT_FOUND);
      assert.equal(err.errorInfo?.reason, "OPERATION_NOT_FOUND");
      assert.equal(err.errorInfo?.metadata.name, op.name);
    }
  });

  it("Wait returns the latest state at its timeout, not an error", async () => {
    const op = await sleep(60_000);
    const started = Date.now();
    const latest = await wait(op.name, 300);
    const waited = Date.now() - started;
    assert.equal(latest.done, false);
    assert.equal(latest.name, op.name);
    assert.ok(waited >= 250, `waited ${waited} ms`);
    await t.grpc.call(ops.cancelOperation, { name: op.name });
  });

  it("Wait answers before the RPC deadline instead of failing with DEADLINE_EXCEEDED", async () => {
    const op = await sleep(60_000);
    const latest = await t.grpc.call(ops.waitOperation, { name: op.name, timeout: durationFromMs(30_000) }, { deadlineMs: 1500 });
    assert.equal(latest.done, false);
    await t.grpc.call(ops.cancelOperation, { name: op.name });
  });

  it("Wait wakes when the operation finishes, long before its timeout", async () => {
    const op = await sleep(200);
    const started = Date.now();
    const done = await wait(op.name, 30_000);
    assert.equal(done.done, true);
    assert.ok(Date.now() - started < 15_000);
  });

  it("a Wait whose caller cancels the call lets go of its waiter at once", async () => {
    const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(30_000) });
    const waiting = () => (t.server.service as unknown as { waiters: { byId: Map<string, Set<unknown>> } }).waiters.byId.size;
    const body = Buffer.from(toBinary(WaitOperationRequestSchema, create(WaitOperationRequestSchema, { name: op.name, timeout: durationFromMs(60_000) })));
    const call = t.grpc.client.makeUnaryRequest(`/google.longrunning.Operations/WaitOperation`, (b: Buffer) => b, (b: Buffer) => b, body, () => undefined);
    for (let i = 0; waiting() === 0; i++) {
      assert.ok(i < 500, "the Wait never registered");
      await new Promise((r) => setTimeout(r, 10));
    }
    call.cancel();
    for (let i = 0; waiting() > 0; i++) {
      assert.ok(i < 500, "the cancelled Wait still holds its waiter");
      await new Promise((r) => setTimeout(r, 10));
    }
    await t.grpc.call(ops.cancelOperation, { name: op.name });
  });

  it("a request_id makes the start idempotent (AIP-155); reused for a different request it is REQUEST_ID_REUSED", async () => {
    const requestId = "7c5e1f3a-5a4e-4e8f-9d5e-0a1b2c3d4e5f";
    const first = await sleep(0, { requestId });
    const again = await sleep(0, { requestId });
    assert.equal(again.name, first.name);
    const reused = await callError(sleep(5000, { requestId }));
    assert.equal(reused.code, Code.INVALID_ARGUMENT);
    assert.equal(reused.errorInfo?.reason, "REQUEST_ID_REUSED");
    const other = await sleep(0, { requestId: "another-id" });
    assert.notEqual(other.name, first.name);
  });

  it("refuses to start with an invalid request: INVALID_ARGUMENT with ErrorInfo and BadRequest", async () => {
    const err = await callError(t.grpc.call(Demo.method.sleep, { duration: { seconds: -5n, nanos: 0 } }));
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.equal(err.errorInfo?.reason, "INVALID_ARGUMENT");
    assert.equal(err.errorInfo?.domain, "longrun.dev");
    assert.ok(err.status?.details.some((d) => d.typeUrl.endsWith("google.rpc.BadRequest")));
  });

  it("lists newest first, pages with opaque tokens, filters on done", async () => {
    const names: string[] = [];
    for (let i = 0; i < 5; i++) names.push((await sleep(0)).name);
    for (const name of names) await wait(name);
    const seen: string[] = [];
    let pageToken = "";
    do {
      const page = await t.grpc.call(ops.listOperations, { name: "operations", pageSize: 2, pageToken, filter: "done = true" });
      assert.ok(page.operations.length <= 2);
      seen.push(...page.operations.map((o) => o.name));
      assert.ok(page.operations.every((o) => o.done));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    assert.equal(new Set(seen).size, seen.length, "no operation twice");
    const ours = seen.filter((n) => names.includes(n));
    assert.deepEqual(ours, [...names].reverse(), "newest first");
  });

  it("page_size 0 means 50, larger sizes are capped, negative is INVALID_ARGUMENT", async () => {
    const all = await t.grpc.call(ops.listOperations, { name: "operations", pageSize: 0 });
    assert.ok(all.operations.length <= 50);
    const err = await callError(t.grpc.call(ops.listOperations, { name: "operations", pageSize: -1 }));
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.equal(err.errorInfo?.reason, "INVALID_PAGE_SIZE");
    const capped = await t.grpc.call(ops.listOperations, { name: "operations", pageSize: 100_000 });
    assert.ok(capped.operations.length > 0);
  });

  it("refuses invalid filters, foreign page tokens, and partial success", async () => {
    const filterErr = await callError(t.grpc.call(ops.listOperations, { name: "operations", filter: 'metadata.progress_percent > "five"' }));
    assert.equal(filterErr.code, Code.INVALID_ARGUMENT);
    assert.equal(filterErr.errorInfo?.reason, "INVALID_FILTER");
    assert.match(filterErr.details, /"five" is not an integer, as metadata.progress_percent needs \(at column 29\)/);
    assert.equal(filterErr.errorInfo?.metadata.column, "29");

    const tokenErr = await callError(t.grpc.call(ops.listOperations, { name: "operations", pageToken: "bogus" }));
    assert.equal(tokenErr.code, Code.INVALID_ARGUMENT);
    assert.equal(tokenErr.errorInfo?.reason, "INVALID_PAGE_TOKEN");

    const page = await t.grpc.call(ops.listOperations, { name: "operations", pageSize: 1 });
    assert.notEqual(page.nextPageToken, "");
    const reusedErr = await callError(
      t.grpc.call(ops.listOperations, { name: "operations", pageSize: 1, pageToken: page.nextPageToken, filter: "done = false" }),
    );
    assert.equal(reusedErr.code, Code.INVALID_ARGUMENT, "a token is bound to its filter");
    const tampered = page.nextPageToken.slice(0, -2) + (page.nextPageToken.endsWith("A") ? "BB" : "AA");
    assert.equal((await callError(t.grpc.call(ops.listOperations, { name: "operations", pageToken: tampered }))).code, Code.INVALID_ARGUMENT);

    const partial = await callError(t.grpc.call(ops.listOperations, { name: "operations", returnPartialSuccess: true }));
    assert.equal(partial.code, Code.UNIMPLEMENTED);
  });

  it("rejects malformed names with INVALID_ARGUMENT and unknown ones with NOT_FOUND", async () => {
    for (const name of ["", "operations", "operations/", "projects/p/operations/x", "operations/a/b", "operations/has space", "x/abc"]) {
      const err = await callError(t.grpc.call(ops.getOperation, { name }));
      assert.equal(err.code, Code.INVALID_ARGUMENT, `name ${JSON.stringify(name)}`);
      assert.equal(err.errorInfo?.reason, "INVALID_NAME");
    }
    assert.equal((await callError(t.grpc.call(ops.getOperation, { name: "operations/doesNotExist" }))).code, Code.NOT_FOUND);
    const listErr = await callError(t.grpc.call(ops.listOperations, { name: "projects/p" }));
    assert.equal(listErr.code, Code.INVALID_ARGUMENT);
  });

  it("answers undecodable request bytes with INVALID_ARGUMENT, not INTERNAL", async () => {
    const err = await callError(t.grpc.raw("/google.longrunning.Operations/GetOperation", Buffer.from([0x0a, 0xff, 0xff, 0xff])));
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.equal(err.errorInfo?.reason, "MALFORMED_REQUEST");
  });

  it("a done operation never changes again", async () => {
    const op = await sleep(0);
    const done = await wait(op.name);
    await t.grpc.call(ops.cancelOperation, { name: op.name });
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await t.grpc.call(ops.getOperation, { name: op.name }), done);
  });
});

describe("cancelling a queued operation", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ concurrency: 1 });
  });
  after(() => t.close());

  it("ends it at once with CANCELLED, without running the handler", async () => {
    const busy = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(60_000) });
    const queued = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(60_000) });
    await t.grpc.call(ops.cancelOperation, { name: queued.name });
    const after = await t.grpc.call(ops.getOperation, { name: queued.name });
    assert.equal(after.done, true, "done right after Cancel returns");
    assert.equal(after.result.case, "error");
    assert.equal(after.result.value.code, Code.CANCELLED);
    const metadata = anyUnpack(after.metadata!, SleepMetadataSchema)!;
    assert.equal(metadata.progressPercent, 0, "the handler never ran");
    assert.equal(metadata.cancelRequested, true);
    await t.grpc.call(Operations.method.cancelOperation, { name: busy.name });
  });
});

function progress(op: Operation): number {
  return op.metadata ? anyUnpack(op.metadata, SleepMetadataSchema)!.progressPercent : 0;
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
