// `longrun retry NAME [--wait]`: the real binary against a real server, over gRPC and REST.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, LongrunClient } from "longrun/client";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { OperationActivity } from "../../src/gen/longrun/admin/v1/activity_pb.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { runCli } from "./run.js";

describe("longrun retry (the real binary against a real server)", () => {
  let t: TestServer;
  let grpc: string[];
  let rest: string[];
  let client: LongrunClient;

  before(async () => {
    t = await startTestServer();
    grpc = ["--server", t.server.grpcAddress!];
    rest = ["--rest", "--server", t.url];
    client = new LongrunClient({ server: t.server.grpcAddress! });
  });
  after(async () => {
    client.close();
    await t.close();
  });

  /** A Demo/Sleep started and waited for; it fails with `failWith` if given. */
  const finished = async (failWith?: { code: Code; message: string }): Promise<string> => {
    const handle = await client.start(Demo.method.sleep, { duration: durationFromMs(50), failWith });
    await client.wait(handle.name);
    return handle.name;
  };

  it("makes a new operation of the failed one's request, which fails the same way; --wait follows it (exit = its code)", async () => {
    const old = await finished({ code: Code.FAILED_PRECONDITION, message: "not now" });
    const r = await runCli(["retry", old, ...grpc]);
    assert.equal(r.code, 0, r.stderr);
    const name = r.stdout.trim();
    assert.match(name, /^operations\/\S+$/);
    assert.notEqual(name, old);
    const again = await client.wait(name);
    assert.equal(again.result.case === "error" && again.result.value.message, "not now", "the same request, the same failure");
    const details = await client.call(OperationActivity.method.getOperationDetails, { name });
    assert.equal(details.retryOf, old);

    const waited = await runCli(["retry", old, "--wait", ...rest]);
    assert.equal(waited.code, Code.FAILED_PRECONDITION, waited.stderr);
    assert.match(waited.stderr, /operations\/\S+ failed: FAILED_PRECONDITION \(9\): not now/);
    assert.doesNotMatch(waited.stderr, new RegExp(`${old} failed`), "it follows the new operation, not the old");
  });

  it("--json prints the new Operation", async () => {
    const old = await finished({ code: Code.ABORTED, message: "busy" });
    const r = await runCli(["retry", old, "--json", ...rest]);
    assert.equal(r.code, 0, r.stderr);
    const op = JSON.parse(r.stdout) as { name: string; metadata: Record<string, unknown> };
    assert.match(op.name, /^operations\//);
    assert.notEqual(op.name, old);
    assert.equal(op.metadata["@type"], "type.googleapis.com/longrun.demo.v1.SleepMetadata");
  });

  it("refuses a succeeded operation (exit 9, FAILED_PRECONDITION) and an unknown one (exit 5, NOT_FOUND)", async () => {
    const succeeded = await finished();
    for (const transport of [grpc, rest]) {
      const refused = await runCli(["retry", succeeded, ...transport]);
      assert.equal(refused.code, Code.FAILED_PRECONDITION, refused.stderr);
      assert.match(refused.stderr, /FAILED_PRECONDITION \(9\): .*succeeded.*\[OPERATION_NOT_FAILED\]/);
      const unknown = await runCli(["retry", "operations/AAAAAAAAAAAAAAAAAAAAAA", ...transport]);
      assert.equal(unknown.code, Code.NOT_FOUND, unknown.stderr);
      assert.match(unknown.stderr, /NOT_FOUND \(5\): Operation "operations\/AAAAAAAAAAAAAAAAAAAAAA" not found/);
    }
  });
});
