// The dashboard's reads beyond google.longrunning.Operations, over real gRPC and real HTTP on loopback:
// GetOperationDetails (`GET /v1/{name}:details`) of a queued, a running and a done operation, NOT_FOUND for
// a missing one, denied exactly as GetOperation with auth on; GetOperationCounts (`GET /v1/…operations:counts`)
// by method and state, scoped and checked as ListOperations.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { fromBinary, toBinary, create, type DescMethodUnary, type DescMessage, type MessageShape, type MessageInitShape } from "@bufbuild/protobuf";
import { anyUnpack, durationFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { hashApiKey, type AuthConfig } from "../../src/index.js";
import { Demo, SleepMetadataSchema, SleepRequestSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { OperationActivity } from "../../src/gen/longrun/admin/v1/activity_pb.js";
import { OperationDetails_State } from "../../src/gen/longrun/admin/v1/details_pb.js";
import { Code } from "../../src/core/code.js";
import { RunMetadataSchema, RunResponseSchema, Scoped } from "../../src/gen/longrun/test/v1/scoped_pb.js";
import { callError, withStatus, type CallError } from "../support/grpc-client.js";
import { instantScopedRun } from "../support/scoped-run.js";
import { defineMethod } from "../../src/runtime/methods.js";
import { RpcError } from "../../src/core/errors.js";
import { startTestServer, type TestServer } from "../support/server.js";

const details = OperationActivity.method.getOperationDetails;
const counts = OperationActivity.method.getOperationCounts;
const SLEEP = "longrun.demo.v1.Demo.Sleep";

async function json(res: Response): Promise<any> {
  return res.json();
}

/** Polls `read` until `until` holds of it (the worker runs on its own schedule); fails after 10 s. */
async function eventually<T>(read: () => Promise<T>, until: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (until(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("GetOperationDetails and GetOperationCounts without auth", () => {
  let t: TestServer;
  let queuedServer: TestServer;
  before(async () => {
    t = await startTestServer();
    // No worker: what it starts stays queued.
    queuedServer = await startTestServer({ worker: false });
  });
  after(async () => {
    await t.close();
    await queuedServer.close();
  });

  const sleep = (server: TestServer, ms: number) => server.grpc.call(Demo.method.sleep, { duration: durationFromMs(ms) });

  it("a queued operation: method, state, create time, no start, attempt 0, its request", async () => {
    const op = await sleep(queuedServer, 1500);
    const d = await queuedServer.grpc.call(details, { name: op.name });
    assert.equal(d.name, op.name);
    assert.equal(d.method, SLEEP);
    assert.equal(d.state, OperationDetails_State.QUEUED);
    assert.equal(d.principal, "");
    assert.ok(d.createTime);
    assert.equal(d.startTime, undefined);
    assert.equal(d.attemptTime, undefined);
    assert.equal(d.endTime, undefined);
    assert.equal(d.attempt, 0);
    assert.equal(d.cancelRequested, false);
    assert.equal(d.request?.typeUrl, "type.googleapis.com/longrun.demo.v1.SleepRequest");
    assert.deepEqual(anyUnpack(d.request!, SleepRequestSchema)?.duration, durationFromMs(1500));

    const rest = await fetch(`${queuedServer.url}/v1/${op.name}:details`);
    assert.equal(rest.status, 200);
    const body = await json(rest);
    assert.equal(body.state, "STATE_QUEUED");
    assert.equal(body.method, SLEEP);
    assert.deepEqual(body.request, { "@type": "type.googleapis.com/longrun.demo.v1.SleepRequest", duration: "1.500s" }, "the request decoded, as every Any");
    assert.equal(body.startTime, undefined);

    const c = await json(await fetch(`${queuedServer.url}/v1/operations:counts`));
    assert.deepEqual(c.methods, [{ method: SLEEP, queued: "1" }], "proto3 JSON: zero counts left out");
  });

  it("a running and a done operation: start, attempt and end times; counts by state", async () => {
    const running = await sleep(t, 60_000);
    const r = await eventually(() => t.grpc.call(details, { name: running.name }), (d) => d.state === OperationDetails_State.RUNNING);
    assert.equal(r.state, OperationDetails_State.RUNNING);
    assert.equal(r.attempt, 1);
    assert.ok(r.startTime && r.attemptTime);
    assert.equal(timestampMs(r.startTime), timestampMs(r.attemptTime), "the first attempt started when the operation did");
    assert.ok(timestampMs(r.startTime) >= timestampMs(r.createTime!));
    assert.equal(r.endTime, undefined);

    const done = await sleep(t, 10);
    const d = await eventually(() => t.grpc.call(details, { name: done.name }), (x) => x.state === OperationDetails_State.DONE);
    assert.equal(d.state, OperationDetails_State.DONE);
    assert.ok(d.endTime && d.startTime);
    assert.ok(timestampMs(d.endTime) >= timestampMs(d.startTime));

    const failed = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0), failWith: { code: Code.ABORTED, message: "no" } });
    await eventually(() => t.grpc.call(details, { name: failed.name }), (x) => x.state === OperationDetails_State.DONE);
    const cancelled = await sleep(t, 60_000);
    await t.grpc.call(Operations.method.cancelOperation, { name: cancelled.name });
    await eventually(() => t.grpc.call(details, { name: cancelled.name }), (x) => x.state === OperationDetails_State.DONE);

    // Cached for a second: read until the counts show them all.
    const c = await eventually(() => t.grpc.call(counts, { name: "operations" }), (x) => x.methods[0]?.cancelled === 1n && x.methods[0]?.failed === 1n);
    assert.equal(c.methods.length, 1);
    const m = c.methods[0]!;
    assert.deepEqual({ method: m.method, queued: m.queued, running: m.running, paused: m.paused, done: m.done, failed: m.failed, cancelled: m.cancelled },
      { method: SLEEP, queued: 0n, running: 1n, paused: 0n, done: 1n, failed: 1n, cancelled: 1n });
    assert.ok(c.readTime);
    const rest = await json(await fetch(`${t.url}/v1/operations:counts`));
    assert.equal(rest.methods[0].running, "1");
  });

  it("NOT_FOUND for a missing operation, with ErrorInfo, on both transports; INVALID_ARGUMENT for a bad name", async () => {
    const name = "operations/AAAAAAAAAAAAAAAAAAAAAA";
    const err = await callError(t.grpc.call(details, { name }));
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(err.errorInfo?.reason, "OPERATION_NOT_FOUND");
    const rest = await fetch(`${t.url}/v1/${name}:details`);
    assert.equal(rest.status, 404);
    const body = await json(rest);
    assert.equal(body.error.status, "NOT_FOUND");
    assert.ok(body.error.details.some((d: any) => d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo" && d.reason === "OPERATION_NOT_FOUND"));
    const bad = await callError(t.grpc.call(details, { name: "nope" }));
    assert.equal(bad.code, grpc.status.INVALID_ARGUMENT);
    const badCounts = await callError(t.grpc.call(counts, { name: "nope" }));
    assert.equal(badCounts.code, grpc.status.INVALID_ARGUMENT);
  });

  it("GetOperation still answers at its own path", async () => {
    const op = await sleep(t, 10);
    const res = await fetch(`${t.url}/v1/${op.name}`);
    assert.equal(res.status, 200);
    assert.equal((await json(res)).name, op.name);
  });
});

const KEY_A = "lr_details_key_a";
const KEY_B = "lr_details_key_b";
const A = "projects/a/locations/x";
const B = "projects/b/locations/x";

describe("GetOperationDetails and GetOperationCounts with auth on and tenants", () => {
  let t: TestServer;
  before(async () => {
    const auth: AuthConfig = {
      apiKeys: [
        { sha256: hashApiKey(KEY_A), principal: "serviceAccount:a@example" },
        { sha256: hashApiKey(KEY_B), principal: "serviceAccount:b@example" },
      ],
      bindings: [
        { role: "roles/longrun.editor", members: ["serviceAccount:a@example"], resource: "projects/a" },
        { role: "roles/longrun.editor", members: ["serviceAccount:b@example"], resource: "projects/b" },
      ],
    };
    t = await startTestServer({ methods: [instantScopedRun], names: { parent: "projects/*/locations/*" }, auth, audit: () => {} });
  });
  after(async () => t.close());

  const grpcCall = <I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>, request: MessageInitShape<I>, key?: string): Promise<MessageShape<O>> => {
    const metadata = new grpc.Metadata();
    if (key !== undefined) metadata.set("x-goog-api-key", key);
    return new Promise((resolve, reject) =>
      t.grpc.client.makeUnaryRequest(`/${method.parent.typeName}/${method.name}`, (b: Buffer) => b, (b: Buffer) => b,
        Buffer.from(toBinary(method.input, create(method.input, request))), metadata, {},
        (err, res) => (err ? reject(withStatus(err)) : resolve(fromBinary(method.output, res as Buffer)))),
    );
  };
  const rest = (path: string, key?: string) => fetch(`${t.url}${path}`, { headers: key === undefined ? {} : { "x-goog-api-key": key } });
  const start = async (parent: string, key: string): Promise<string> => (await grpcCall(Scoped.method.run, { parent }, key)).name;
  /** What a denial says, for comparing two of them. */
  const restDenial = async (res: Response) => {
    const body = await json(res);
    return { http: res.status, status: body.error.status, message: body.error.message, reasons: body.error.details.map((d: any) => d.reason).filter(Boolean) };
  };
  const grpcDenial = (err: CallError) => ({ code: err.code, message: err.status?.message, reason: err.errorInfo?.reason, metadata: err.errorInfo?.metadata });

  it("tells the principal who started it to whoever may get it", async () => {
    const name = await start(A, KEY_A);
    const d = await grpcCall(details, { name }, KEY_A);
    assert.equal(d.principal, "serviceAccount:a@example");
    assert.equal(d.method, "longrun.test.v1.Scoped.Run");
    const body = await json(await rest(`/v1/${name}:details`, KEY_A));
    assert.equal(body.principal, "serviceAccount:a@example");
    assert.equal(body.request["@type"], "type.googleapis.com/longrun.test.v1.RunRequest");
    assert.equal(body.request.parent, A);
  });

  it("is denied exactly as GetOperation: unauthenticated, another tenant's operation, a missing one", async () => {
    const name = await start(A, KEY_A);
    const missing = `${A}/operations/AAAAAAAAAAAAAAAAAAAAAA`;
    for (const target of [name, missing]) {
      for (const key of [undefined, KEY_B]) {
        const get = await restDenial(await rest(`/v1/${target}`, key));
        const det = await restDenial(await rest(`/v1/${target}:details`, key));
        assert.equal(det.http, key === undefined ? 401 : 403);
        assert.deepEqual(det, get, `REST ${target} ${key}`);
        const getErr = grpcDenial(await callError(grpcCall(Operations.method.getOperation, { name: target }, key)));
        const detErr = grpcDenial(await callError(grpcCall(details, { name: target }, key)));
        assert.deepEqual(detErr, getErr, `gRPC ${target} ${key}`);
      }
    }
    // For A, its own missing operation is NOT_FOUND, as GetOperation says.
    const own = await callError(grpcCall(details, { name: missing }, KEY_A));
    assert.equal(own.code, grpc.status.NOT_FOUND);
  });

  it("counts a tenant's own collection; another's is denied as ListOperations", async () => {
    await start(A, KEY_A);
    const mine = await eventually(() => grpcCall(counts, { name: A }, KEY_A), (c) => c.methods[0]?.done !== undefined && c.methods[0].done > 0n);
    assert.equal(mine.methods[0]?.method, "longrun.test.v1.Scoped.Run");
    const res = await rest(`/v1/${A}/operations:counts`, KEY_A);
    assert.equal(res.status, 200);
    const list = await restDenial(await rest(`/v1/${B}/operations`, KEY_A));
    const denied = await restDenial(await rest(`/v1/${B}/operations:counts`, KEY_A));
    assert.equal(denied.http, 403);
    assert.deepEqual({ ...denied, message: undefined }, { ...list, message: undefined });
  });
});

/** Demo/Sleep whose first attempt fails UNAVAILABLE, retried a minute later: it waits, queued, in between. */
const flakySleep = defineMethod({
  method: Demo.method.sleep,
  response: SleepResponseSchema,
  metadata: SleepMetadataSchema,
  retry: { maxAttempts: 2, initialBackoffMs: 60_000, jitter: 0 },
  timeoutMs: 3_600_000,
  async handler(_request, ctx) {
    if (ctx.attempt === 1) throw new RpcError(Code.UNAVAILABLE, "flaky backend");
    return { slept: durationFromMs(0) };
  },
});

describe("GetOperationDetails' scheduling state; RetryOperation without auth", () => {
  let t: TestServer;
  let flaky: TestServer;
  before(async () => {
    t = await startTestServer();
    flaky = await startTestServer({ methods: [flakySleep] });
  });
  after(async () => {
    await t.close();
    await flaky.close();
  });

  const retry = OperationActivity.method.retryOperation;
  const post = (path: string) => fetch(`${t.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  const doneOp = (name: string) => eventually(() => t.grpc.call(Operations.method.getOperation, { name }), (op) => op.done);

  it("a failed attempt waiting for its retry: last_failure, next_attempt_time and the deadline, over gRPC and REST", async () => {
    const before = Date.now();
    const op = await flaky.grpc.call(Demo.method.sleep, { duration: durationFromMs(0) });
    const d = await eventually(() => flaky.grpc.call(details, { name: op.name }), (x) => x.lastFailure !== undefined);
    assert.equal(d.state, OperationDetails_State.QUEUED);
    assert.equal(d.attempt, 1);
    assert.equal(d.lastFailure?.attempt, 1);
    assert.equal(d.lastFailure?.error?.code, Code.UNAVAILABLE);
    assert.equal(d.lastFailure?.error?.message, "flaky backend");
    assert.ok(d.nextAttemptTime && timestampMs(d.nextAttemptTime) >= before + 60_000, "the backoff: a minute after the failure");
    // An hour from the start (the starter's clock, read just before the store stamps create_time).
    assert.ok(d.deadline && Math.abs(timestampMs(d.deadline) - (timestampMs(d.createTime!) + 3_600_000)) < 1000);
    assert.equal(d.retryOf, "");

    const body = await json(await fetch(`${flaky.url}/v1/${op.name}:details`));
    assert.equal(body.state, "STATE_QUEUED");
    assert.deepEqual(body.lastFailure, { attempt: 1, error: { code: Code.UNAVAILABLE, message: "flaky backend" } }, "proto3 JSON: empty details left out");
    assert.equal(typeof body.nextAttemptTime, "string");
    assert.equal(typeof body.deadline, "string");
  });

  it("no scheduling state for an operation that ran at once without failing", async () => {
    const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0) });
    await doneOp(op.name);
    const d = await t.grpc.call(details, { name: op.name });
    assert.deepEqual([d.deadline, d.nextAttemptTime, d.lastFailure, d.retryOf], [undefined, undefined, undefined, ""]);
  });

  it("runs a failed operation's request again as a new operation linked to it, its request_id cleared; gRPC and REST", async () => {
    const failWith = { code: Code.FAILED_PRECONDITION, message: "no" };
    const old = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0), failWith, requestId: "retry-req-1" });
    assert.equal((await doneOp(old.name)).result.case, "error");

    const again = await t.grpc.call(retry, { name: old.name });
    assert.notEqual(again.name, old.name);
    const ended = await doneOp(again.name);
    assert.equal(ended.result.case, "error");
    assert.deepEqual(ended.result.case === "error" && [ended.result.value.code, ended.result.value.message], [Code.FAILED_PRECONDITION, "no"], "the same request: it fails the same way");
    const d = await t.grpc.call(details, { name: again.name });
    assert.equal(d.retryOf, old.name);
    const request = anyUnpack(d.request!, SleepRequestSchema);
    assert.equal(request?.requestId, "", "cleared: the old request_id would hand back the old operation");
    assert.deepEqual(request?.failWith?.message, "no");

    const res = await post(`/v1/${old.name}:retry`);
    assert.equal(res.status, 200);
    const third = await json(res);
    assert.ok(third.name !== old.name && third.name !== again.name);
    assert.equal((await json(await fetch(`${t.url}/v1/${third.name}:details`))).retryOf, old.name);
    // The old request id still names the old operation.
    const repeat = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0), failWith, requestId: "retry-req-1" });
    assert.equal(repeat.name, old.name);
  });

  it("refuses a succeeded or running operation FAILED_PRECONDITION (OPERATION_NOT_FAILED); a missing one NOT_FOUND", async () => {
    const succeeded = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0) });
    await doneOp(succeeded.name);
    const running = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(60_000) });
    for (const name of [succeeded.name, running.name]) {
      const err = await callError(t.grpc.call(retry, { name }));
      assert.equal(err.code, grpc.status.FAILED_PRECONDITION, name);
      assert.equal(err.errorInfo?.reason, "OPERATION_NOT_FAILED");
      const res = await post(`/v1/${name}:retry`);
      assert.equal(res.status, 400);
      const body = await json(res);
      assert.equal(body.error.status, "FAILED_PRECONDITION");
      assert.ok(body.error.details.some((x: any) => x.reason === "OPERATION_NOT_FAILED"));
    }
    await t.grpc.call(Operations.method.cancelOperation, { name: running.name });
    const missing = "operations/AAAAAAAAAAAAAAAAAAAAAA";
    const err = await callError(t.grpc.call(retry, { name: missing }));
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal((await post(`/v1/${missing}:retry`)).status, 404);
  });
});

/** Scoped/Run failing at once: a failed operation under a tenant's parent. */
const failingScopedRun = defineMethod({
  method: Scoped.method.run,
  response: RunResponseSchema,
  metadata: RunMetadataSchema,
  async handler(): Promise<never> {
    throw new RpcError(Code.FAILED_PRECONDITION, "bucket missing");
  },
});

const KEY_VIEWER = "lr_details_key_viewer";

describe("RetryOperation with auth on and tenants", () => {
  let t: TestServer;
  before(async () => {
    const auth: AuthConfig = {
      apiKeys: [
        { sha256: hashApiKey(KEY_A), principal: "serviceAccount:a@example" },
        { sha256: hashApiKey(KEY_B), principal: "serviceAccount:b@example" },
        { sha256: hashApiKey(KEY_VIEWER), principal: "user:viewer@example" },
      ],
      bindings: [
        { role: "roles/longrun.editor", members: ["serviceAccount:a@example"], resource: "projects/a" },
        { role: "roles/longrun.editor", members: ["serviceAccount:b@example"], resource: "projects/b" },
        { role: "roles/longrun.viewer", members: ["user:viewer@example"], resource: "projects/a" },
      ],
    };
    t = await startTestServer({ methods: [failingScopedRun], names: { parent: "projects/*/locations/*" }, auth, audit: () => {} });
  });
  after(async () => t.close());

  const retryRest = (name: string, key?: string) =>
    fetch(`${t.url}/v1/${name}:retry`, { method: "POST", headers: { "content-type": "application/json", ...(key === undefined ? {} : { "x-goog-api-key": key }) }, body: "{}" });
  const get = (name: string, key?: string) => fetch(`${t.url}/v1/${name}`, { headers: key === undefined ? {} : { "x-goog-api-key": key } });
  const denial = async (res: Response) => {
    const body = await json(res);
    return { http: res.status, status: body.error.status, message: body.error.message, reasons: body.error.details.map((d: any) => d.reason).filter(Boolean) };
  };
  const startFailed = async (): Promise<string> => {
    const res = await fetch(`${t.url}/v1/${A}:run`, { method: "POST", headers: { "content-type": "application/json", "x-goog-api-key": KEY_A }, body: "{}" });
    const { name } = await json(res);
    await eventually(async () => json(await get(name, KEY_A)), (op) => op.done === true);
    return name;
  };

  it("the starter's tenant retries: a new operation under the same parent, started by the caller", async () => {
    const old = await startFailed();
    const res = await retryRest(old, KEY_A);
    assert.equal(res.status, 200);
    const again = await json(res);
    assert.ok(again.name.startsWith(`${A}/operations/`));
    const d = await json(await fetch(`${t.url}/v1/${again.name}:details`, { headers: { "x-goog-api-key": KEY_A } }));
    assert.equal(d.retryOf, old);
    assert.equal(d.principal, "serviceAccount:a@example");
  });

  it("another tenant is denied exactly as GetOperation, whether the operation exists or not; a viewer lacks the start permission", async () => {
    const old = await startFailed();
    const missing = `${A}/operations/AAAAAAAAAAAAAAAAAAAAAA`;
    for (const target of [old, missing]) {
      for (const key of [undefined, KEY_B]) {
        assert.deepEqual(await denial(await retryRest(target, key)), await denial(await get(target, key)), `${target} ${key}`);
      }
    }
    const viewer = await denial(await retryRest(old, KEY_VIEWER));
    assert.equal(viewer.http, 403);
    assert.match(viewer.message, /longrun\.operations\.run/);
    assert.match(viewer.message, /projects\/a\/locations\/x/);
    const own = await retryRest(missing, KEY_VIEWER);
    assert.equal(own.status, 404, "who may see the collection learns it does not exist, as GetOperation tells");
  });
});
