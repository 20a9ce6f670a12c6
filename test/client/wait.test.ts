import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { Code } from "../../src/core/code.js";
import { CallFailedError, WaitTimeoutError } from "../../src/client/errors.js";
import { WAIT_DEADLINE_SLACK_MS, watchOperation, type WaitRpc } from "../../src/client/wait.js";
import { OperationSchema, type Operation } from "../../src/gen/google/longrunning/operations_pb.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";

/** A scripted server: each Wait/Get call gets the next answer; records what was asked. */
function scripted(answers: ("running" | "done" | Code)[], waitTakes: "all" | "nothing" = "all") {
  const asked: { method: "wait" | "get"; timeoutMs?: number; deadlineMs?: number }[] = [];
  let i = 0;
  const answer = (name: string): Operation => {
    const next = answers[Math.min(i++, answers.length - 1)]!;
    if (typeof next === "number") {
      throw new CallFailedError("google.longrunning.Operations/WaitOperation", create(StatusSchema, { code: next, message: "scripted" }), undefined);
    }
    return create(OperationSchema, { name, done: next === "done" });
  };
  const rpc: WaitRpc = {
    waitSupport: { unimplemented: false },
    async getOperation(name) {
      asked.push({ method: "get" });
      return answer(name);
    },
    async waitOperation(name, timeoutMs, options) {
      asked.push({ method: "wait", timeoutMs, deadlineMs: options.timeoutMs });
      const failing = typeof answers[Math.min(i, answers.length - 1)] === "number";
      if (waitTakes === "all" && !failing) await new Promise((r) => setTimeout(r, timeoutMs));
      return answer(name);
    },
  };
  return { rpc, asked };
}

async function drain(gen: AsyncGenerator<Operation>): Promise<Operation[]> {
  const out: Operation[] = [];
  for await (const op of gen) out.push(op);
  return out;
}

describe("waiting: Wait in chunks, then polling", () => {
  it("re-issues a long wait in chunks, each under a deadline a little longer than the chunk", async () => {
    const { rpc, asked } = scripted(["running", "running", "done"]);
    const ops = await drain(watchOperation(rpc, "operations/x", { waitChunkMs: 20 }));
    assert.deepEqual(ops.map((op) => op.done), [false, false, true]);
    assert.deepEqual(asked, [1, 2, 3].map(() => ({ method: "wait", timeoutMs: 20, deadlineMs: 20 + WAIT_DEADLINE_SLACK_MS })));
  });

  it("never asks to wait past the total timeout, and then fails with WaitTimeoutError", async () => {
    const { rpc, asked } = scripted(["running"]);
    await assert.rejects(drain(watchOperation(rpc, "operations/x", { waitChunkMs: 60_000, timeoutMs: 50 })), WaitTimeoutError);
    assert.ok(asked.every((a) => a.timeoutMs! <= 50), JSON.stringify(asked));
  });

  it("switches to polling for good when Wait is UNIMPLEMENTED", async () => {
    const { rpc, asked } = scripted([Code.UNIMPLEMENTED, "running", "running", "done"]);
    await drain(watchOperation(rpc, "operations/x", { polling: { initialDelayMs: 1, maxDelayMs: 2 } }));
    assert.deepEqual(asked.map((a) => a.method), ["wait", "get", "get", "get"]);
    assert.equal(rpc.waitSupport.unimplemented, true);
  });

  it("asks again after a Wait that ran into its deadline; other errors end the wait", async () => {
    const { rpc, asked } = scripted([Code.DEADLINE_EXCEEDED, "done"]);
    const ops = await drain(watchOperation(rpc, "operations/x", { waitChunkMs: 5, polling: { initialDelayMs: 1 } }));
    assert.equal(ops.length, 1);
    assert.equal(asked.length, 2);
    const failing = scripted([Code.PERMISSION_DENIED]);
    await assert.rejects(drain(watchOperation(failing.rpc, "operations/x", {})), (e: unknown) => e instanceof CallFailedError && e.code === Code.PERMISSION_DENIED);
  });

  it("paces a Wait that answers at once like polling, instead of spinning", async () => {
    const { rpc, asked } = scripted(["running"], "nothing");
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("stop")), 200);
    await assert.rejects(drain(watchOperation(rpc, "operations/x", { signal: controller.signal, polling: { initialDelayMs: 20, multiplier: 2, jitter: 0 } })), /stop/);
    // 20 + 40 + 80 ms of pauses fit in 200 ms: a handful of calls, not thousands.
    assert.ok(asked.length >= 2 && asked.length <= 6, `${asked.length} calls`);
  });
});
