import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { anyPack, durationFromMs } from "@bufbuild/protobuf/wkt";
import {
  CallFailedError,
  Code,
  LongrunClient,
  OperationFailedError,
  UnknownTypeError,
  WaitTimeoutError,
  type OperationSnapshot,
} from "longrun/client";
import { Demo, SleepMetadataSchema, SleepResponseSchema, type SleepMetadata, type SleepResponse } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import type { Operation } from "../../src/gen/google/longrunning/operations_pb.js";
import { startTestServer, type TestServer } from "../support/server.js";

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

for (const transport of ["grpc", "rest"] as const) {
  describe(`LongrunClient over ${transport} against longrun`, () => {
    let t: TestServer;
    let client: LongrunClient;
    before(async () => {
      t = await startTestServer();
      client = new LongrunClient({ server: transport === "grpc" ? t.server.grpcAddress! : t.url, transport });
    });
    after(async () => {
      client.close();
      await t.close();
    });

    it("starts a method with explicit types: result() is the typed response, metadata typed", async () => {
      const op = await client.start(Demo.method.sleep, { duration: durationFromMs(50) }, { response: SleepResponseSchema, metadata: SleepMetadataSchema });
      assert.match(op.name, /^operations\//);
      const metadata: SleepMetadata | undefined = op.metadata;
      assert.equal(metadata?.$typeName, "longrun.demo.v1.SleepMetadata");
      const response: SleepResponse = await op.result();
      assert.equal(response.$typeName, "longrun.demo.v1.SleepResponse");
      assert.deepEqual(response.slept, durationFromMs(50));
      assert.equal(op.done, true);
      assert.equal(op.metadata?.progressPercent, 100);
    });

    it("resolves the types from the method's operation_info when none are given", async () => {
      const op = await client.start(Demo.method.sleep, { duration: durationFromMs(10) });
      assert.equal(op.types.response?.typeName, "longrun.demo.v1.SleepResponse");
      assert.equal(op.types.metadata?.typeName, "longrun.demo.v1.SleepMetadata");
      const response = await op.result();
      assert.equal(response.$typeName, "longrun.demo.v1.SleepResponse");
    });

    it("updates() yields each change of progress, ending with the done snapshot", async () => {
      const op = await client.start(Demo.method.sleep, { duration: durationFromMs(600) }, { response: SleepResponseSchema, metadata: SleepMetadataSchema });
      const snapshots: OperationSnapshot<SleepMetadata>[] = await collect(op.updates({ intervalMs: 100 }));
      assert.ok(snapshots.length >= 2, `${snapshots.length} snapshots`);
      assert.equal(snapshots.at(-1)?.done, true);
      assert.ok(snapshots.slice(0, -1).every((s) => !s.done));
      const progress = snapshots.map((s) => s.progressPercent ?? -1);
      assert.deepEqual(progress, [...progress].sort((a, b) => a - b), "progress never goes back");
      assert.equal(progress.at(-1), 100);
      for (let i = 1; i < snapshots.length; i++) {
        assert.notDeepEqual(snapshots[i]!.operation, snapshots[i - 1]!.operation, "only changes are yielded");
      }
      assert.equal(snapshots.at(-1)?.metadata?.progressPercent, 100);
    });

    it("result() rejects with the operation's status, details decoded and the ErrorInfo reason", async () => {
      const info = create(ErrorInfoSchema, { reason: "QUOTA_GONE", domain: "example.com", metadata: { quota: "sleeps" } });
      const op = await client.start(Demo.method.sleep, {
        duration: durationFromMs(0),
        failWith: { code: Code.RESOURCE_EXHAUSTED, message: "no more sleeps", details: [anyPack(ErrorInfoSchema, info)] },
      });
      const err = await op.result().then(
        () => assert.fail("expected a failure"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof OperationFailedError, String(err));
      assert.equal(err.code, Code.RESOURCE_EXHAUSTED);
      assert.equal(err.codeName, "RESOURCE_EXHAUSTED");
      assert.equal(err.status.message, "no more sleeps");
      assert.equal(err.reason, "QUOTA_GONE");
      assert.equal(err.operationName, op.name);
      assert.equal(err.details.length, 1);
      assert.equal(err.details[0]!.$typeName, "google.rpc.ErrorInfo");
    });

    it("cancel() ends a running operation with CANCELLED", async () => {
      const op = await client.start(Demo.method.sleep, { duration: durationFromMs(30_000) });
      await op.cancel();
      await assert.rejects(op.result(), (e: unknown) => e instanceof OperationFailedError && e.code === Code.CANCELLED);
    });

    it("get() of an unknown name is a CallFailedError: NOT_FOUND with the server's ErrorInfo", async () => {
      const err = await client.get("operations/doesnotexist").then(
        () => assert.fail("expected NOT_FOUND"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof CallFailedError, String(err));
      assert.equal(err.code, Code.NOT_FOUND);
      assert.equal(err.reason, "OPERATION_NOT_FOUND");
      assert.equal(err.errorInfo?.domain, "longrun.dev");
      assert.equal(err.method, "google.longrunning.Operations/GetOperation");
    });

    it("list() iterates over every page, with a filter", async () => {
      const running = await client.start(Demo.method.sleep, { duration: durationFromMs(30_000) });
      const names = new Set<string>();
      for (let i = 0; i < 3; i++) names.add((await client.start(Demo.method.sleep, { duration: durationFromMs(0) })).name);
      const all = await collect(client.list({ pageSize: 1 }));
      const listed = all.map((op) => op.name);
      assert.equal(new Set(listed).size, listed.length, "no operation twice");
      for (const name of [...names, running.name]) assert.ok(listed.includes(name), `${name} listed`);
      const notDone: Operation[] = await collect(client.list({ filter: "done = false", pageSize: 2 }));
      assert.ok(notDone.some((op) => op.name === running.name));
      assert.ok(notDone.every((op) => !op.done));
      await running.cancel();
    });

    it("delete() forgets an operation; wait() returns a done operation as it is", async () => {
      const op = await client.start(Demo.method.sleep, { duration: durationFromMs(0), failWith: { code: Code.ABORTED, message: "x" } });
      const done = await client.wait(op.name);
      assert.equal(done.done, true);
      assert.equal(done.result.case, "error");
      await client.delete(op.name);
      await assert.rejects(client.get(op.name), (e: unknown) => e instanceof CallFailedError && e.code === Code.NOT_FOUND);
    });

    it("gives up waiting after timeoutMs with WaitTimeoutError (DEADLINE_EXCEEDED); the operation goes on", async () => {
      const op = await client.start(Demo.method.sleep, { duration: durationFromMs(30_000) });
      await assert.rejects(op.result({ timeoutMs: 150 }), (e: unknown) => e instanceof WaitTimeoutError && e.code === Code.DEADLINE_EXCEEDED);
      assert.equal((await op.refresh()).done, false);
      await op.cancel();
    });

    it("an AbortSignal stops a wait, rejecting with the signal's reason", async () => {
      const op = await client.start(Demo.method.sleep, { duration: durationFromMs(30_000) });
      const controller = new AbortController();
      const reason = new Error("user gave up");
      const waiting = op.result({ signal: controller.signal });
      setTimeout(() => controller.abort(reason), 50);
      await assert.rejects(waiting, (e: unknown) => e === reason);
      const aborted = AbortSignal.abort(reason);
      await assert.rejects(client.get(op.name, { signal: aborted }), (e: unknown) => e === reason);
      await assert.rejects(collect(client.list({ signal: aborted })), (e: unknown) => e === reason);
      await op.cancel();
    });

    it("names an unregistered type in a clear error", async () => {
      const op = await client.start(Demo.method.sleep, { duration: durationFromMs(0) });
      await client.wait(op.name);
      // A client that was never given the demo's file.
      const bare = new LongrunClient({ server: transport === "grpc" ? t.server.grpcAddress! : t.url, transport });
      try {
        const failure = transport === "grpc" ? bare.operation(op.name).result() : bare.get(op.name);
        await assert.rejects(failure, (e: unknown) => {
          assert.ok(e instanceof UnknownTypeError, String(e));
          assert.match(e.typeName, /^longrun\.demo\.v1\.Sleep(Response|Metadata)$/);
          assert.match(e.message, /longrun\.demo\.v1\.Sleep(Response|Metadata).*not in the client's registry/);
          return true;
        });
      } finally {
        bare.close();
      }
    });
  });
}
