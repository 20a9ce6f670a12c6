import { it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toBinary } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations, OperationSchema } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Code } from "../../src/core/code.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { Store } from "../../src/store/store.js";
import { callError } from "../support/grpc-client.js";
import { startTestServer } from "../support/server.js";

/** The real store, counting the operations it reads (get and getViews). */
function countingReads(store: Store): { store: Store; reads: () => number } {
  let reads = 0;
  const counted = new Proxy(store, {
    get(target, property) {
      if (property === "get") {
        return (...args: Parameters<Store["get"]>) => ((reads += 1), target.get(...args));
      }
      if (property === "getViews") {
        return (...args: Parameters<Store["getViews"]>) => ((reads += args[0].length), target.getViews(...args));
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: counted, reads: () => reads };
}

const newStore = () => SqliteStore.open(join(mkdtempSync(join(tmpdir(), "longrun-local-finish-")), "longrun.db"));

it("a Wait on an operation finished here is answered with the result just written, without reading it back", { timeout: 20_000 }, async () => {
  const { store, reads } = countingReads(newStore());
  const t = await startTestServer({ store });
  try {
    const cases = [
      { duration: durationFromMs(300) },
      { duration: durationFromMs(300), failWith: { code: Code.FAILED_PRECONDITION, message: "no" } },
    ];
    for (const request of cases) {
      const op = await t.grpc.call(Demo.method.sleep, request);
      const waiting = t.grpc.call(Operations.method.waitOperation, { name: op.name, timeout: durationFromMs(10_000) });
      await new Promise((r) => setTimeout(r, 150)); // the Wait has read it, pending, and waits
      const before = reads();
      const answered = await waiting;
      assert.equal(answered.done, true);
      assert.equal(reads(), before, "no read between the finish and the answer");
      // The same operation a read finds, byte for byte.
      const read = await t.grpc.call(Operations.method.getOperation, { name: op.name });
      assert.deepEqual(toBinary(OperationSchema, answered), toBinary(OperationSchema, read));
    }

    // Cancelled while waited on: the cancelled result is the one written, and the one answered.
    const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(5_000) });
    const waiting = t.grpc.call(Operations.method.waitOperation, { name: op.name, timeout: durationFromMs(10_000) });
    await new Promise((r) => setTimeout(r, 150));
    await t.grpc.call(Operations.method.cancelOperation, { name: op.name });
    const answered = await waiting;
    assert.equal(answered.result.case, "error");
    assert.equal(answered.result.case === "error" ? answered.result.value.code : undefined, Code.CANCELLED);
    const read = await t.grpc.call(Operations.method.getOperation, { name: op.name });
    assert.deepEqual(toBinary(OperationSchema, answered), toBinary(OperationSchema, read));
  } finally {
    await t.close();
  }
});

it("a result finished here that expires at once (retention 0) is read, and answered NOT_FOUND as a read would", { timeout: 20_000 }, async () => {
  const { store, reads } = countingReads(newStore());
  const t = await startTestServer({ store, retentionMs: 0 });
  try {
    const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(300) });
    const waiting = t.grpc.call(Operations.method.waitOperation, { name: op.name, timeout: durationFromMs(10_000) });
    await new Promise((r) => setTimeout(r, 150));
    const before = reads();
    const err = await callError(waiting);
    assert.equal(err.code, Code.NOT_FOUND);
    assert.ok(reads() > before, "read again rather than answered from the finish");
  } finally {
    await t.close();
  }
});
