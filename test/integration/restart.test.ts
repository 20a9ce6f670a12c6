import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { anyUnpack, durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { Operations, type Operation } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepMetadataSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Code } from "../../src/core/code.js";
import { TestGrpcClient } from "../support/grpc-client.js";
import { spawnServer } from "../support/process.js";

const ops = Operations.method;

async function waitDone(client: TestGrpcClient, name: string): Promise<Operation> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const op = await client.call(ops.waitOperation, { name, timeout: durationFromMs(5000) });
    if (op.done) return op;
    if (Date.now() > deadline) throw new Error(`${name} not done in time`);
  }
}

async function waitForProgress(client: TestGrpcClient, name: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const op = await client.call(ops.getOperation, { name });
    if (anyUnpack(op.metadata!, SleepMetadataSchema)!.progressPercent > 0) return;
    if (Date.now() > deadline) throw new Error(`${name} made no progress`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Runs `body` against a real `longrun serve` process, then stops it with SIGTERM and expects a clean exit. */
async function withServer(args: string[], env: Record<string, string>, body: (client: TestGrpcClient) => Promise<void>): Promise<void> {
  const server = await spawnServer(args, env);
  const client = new TestGrpcClient(server.grpcAddress);
  try {
    await body(client);
  } finally {
    client.close();
    server.child.kill("SIGTERM");
    assert.equal(await server.exited, 0, "SIGTERM shuts down cleanly");
  }
}

/** A fresh store file for one test, removed afterwards. */
async function withStoreFile(body: (store: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "longrun-restart-"));
  try {
    await body(`sqlite:${join(dir, "longrun.db")}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts a server, starts a Sleep of `ms`, waits until it made progress, then kills the server with `signal`. */
async function interruptSleep(args: string[], env: Record<string, string>, ms: number, signal: NodeJS.Signals): Promise<{ name: string; exited: number | string; output: string }> {
  const server = await spawnServer(args, env);
  const client = new TestGrpcClient(server.grpcAddress);
  try {
    const op = await client.call(Demo.method.sleep, { duration: durationFromMs(ms) });
    await waitForProgress(client, op.name);
    server.child.kill(signal);
    const exited = await server.exited;
    return { name: op.name, exited, output: server.output() };
  } finally {
    client.close();
    server.child.kill("SIGKILL");
  }
}

describe("operations survive a restart", () => {
  it("done operations are unchanged; interrupted ones resume where their progress left off (kill -9)", async () => {
    await withStoreFile(async (store) => {
      const args = ["--demo", "--store", store];
      let quick = "";
      let quickDone: Operation | undefined;
      await withServer(args, {}, async (client) => {
        quick = (await client.call(Demo.method.sleep, { duration: durationFromMs(0) })).name;
        quickDone = await waitDone(client, quick);
      });
      const long = await interruptSleep(args, {}, 3000, "SIGKILL");
      assert.equal(long.exited, "SIGKILL");

      await withServer(args, {}, async (client) => {
        assert.deepEqual(await client.call(ops.getOperation, { name: quick }), quickDone, "done operation unchanged");
        const resumed = await waitDone(client, long.name);
        assert.equal(resumed.result.case, "response", "the interrupted operation was run again and succeeded");
        const slept = durationMs(anyUnpack(resumed.result.value, SleepResponseSchema)!.slept!);
        assert.ok(slept >= 3000 - 1 && slept <= 3000 + 1, `reports the whole duration (${slept} ms)`);
        assert.equal(anyUnpack(resumed.metadata!, SleepMetadataSchema)!.progressPercent, 100);
      });
    });
  });

  it("a method marked not retryable ends ABORTED after an interruption, saying why", async () => {
    await withStoreFile(async (store) => {
      const args = ["--methods", "test/fixtures/non-retryable.ts", "--store", store];
      const long = await interruptSleep(args, {}, 60_000, "SIGKILL");
      await withServer(args, {}, async (client) => {
        const ended = await waitDone(client, long.name);
        assert.equal(ended.result.case, "error");
        assert.equal(ended.result.value.code, Code.ABORTED);
        assert.match(ended.result.value.message, /interrupted.*not retryable/);
      });
    });
  });

  it("SIGTERM gives running operations back: the next start resumes them at once", async () => {
    await withStoreFile(async (store) => {
      const args = ["--demo", "--store", store];
      const env = { LONGRUN_LEASE: "10m", LONGRUN_SHUTDOWN_GRACE: "100ms" };
      const long = await interruptSleep(args, env, 3000, "SIGTERM");
      assert.equal(long.exited, 0);
      assert.match(long.output, /SIGTERM: shutting down/);
      await withServer(args, env, async (client) => {
        const done = await waitDone(client, long.name);
        assert.equal(done.result.case, "response", "resumed without waiting for a 10-minute lease to expire");
      });
    });
  });
});
