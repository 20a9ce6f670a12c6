import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { SleepRequestSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { ListOperationsRequestSchema } from "../../src/gen/google/longrunning/operations_pb.js";
import { Code, RpcError } from "../../src/index.js";
import { startTestServer, type TestServer } from "../support/server.js";

const list = (t: TestServer, filter = "") =>
  t.server.service.listOperations(create(ListOperationsRequestSchema, { name: "operations", filter, pageSize: 1000 }));

describe("the batch start API (runtime.startOperations)", () => {
  let t: TestServer;
  before(async () => (t = await startTestServer()));
  after(async () => t.close());

  it("creates every operation in one write, in request order, and runs them all", async () => {
    const requests = Array.from({ length: 500 }, (_, i) => create(SleepRequestSchema, { duration: durationFromMs(i % 3) }));
    const records = await t.server.runtime.startOperations("longrun.demo.v1.Demo.Sleep", requests);
    assert.equal(records.length, 500);
    assert.equal(new Set(records.map((r) => r.name)).size, 500);
    for (const r of records) assert.match(r.name, /^operations\/[A-Za-z0-9_-]+$/);
    const byName = new Set(records.map((r) => r.name));
    for (;;) {
      const page = await list(t, "done = false");
      const pending = page.operations.filter((op) => byName.has(op.name));
      if (pending.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const done = await list(t, "done = true");
    assert.equal(done.operations.filter((op) => byName.has(op.name) && op.result.case === "response").length, 500);
  });

  it("validates every request first: one invalid request fails the call and creates nothing", async () => {
    const before = (await list(t)).operations.length;
    const requests = [create(SleepRequestSchema, {}), create(SleepRequestSchema, { duration: { seconds: -1n, nanos: 0 } })];
    const err = await t.server.runtime.startOperations("longrun.demo.v1.Demo.Sleep", requests).then(
      () => assert.fail("resolved"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof RpcError);
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    const after = (await list(t)).operations.length;
    assert.equal(after, before);
  });

  it("an empty batch creates nothing; an unknown method is UNIMPLEMENTED", async () => {
    assert.deepEqual(await t.server.runtime.startOperations("longrun.demo.v1.Demo.Sleep", []), []);
    await assert.rejects(t.server.runtime.startOperations("no.Such.Method", [create(SleepRequestSchema, {})]), (e: unknown) => e instanceof RpcError && e.code === Code.UNIMPLEMENTED);
  });
});
