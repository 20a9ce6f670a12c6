/**
 * Small edges answered cleanly, over both transports of one real demo server: the 24 h cap on a Sleep is
 * exact, a request_id reused for a different request is refused, and every `Any` in a REST answer starts
 * with "@type".
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Code } from "../../src/core/code.js";
import { callError } from "../support/grpc-client.js";
import { startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
before(async () => {
  t = await startTestServer({ shutdownGraceMs: 0 });
});
after(async () => {
  await t.close();
});

async function post(path: string, body: string): Promise<{ status: number; text: string; json: any }> {
  const res = await fetch(t.url + path, { method: "POST", headers: { "content-type": "application/json" }, body });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) };
}

describe("the demo's 24 h cap is exact", () => {
  it("REST: 86400s is accepted, 86400.000000001s refused", async () => {
    const ok = await post("/v1/demo:sleep", '{"duration":"86400s"}');
    assert.equal(ok.status, 200, ok.text);
    const over = await post("/v1/demo:sleep", '{"duration":"86400.000000001s"}');
    assert.equal(over.status, 400, over.text);
    assert.equal(over.json.error.status, "INVALID_ARGUMENT");
    assert.match(over.json.error.message, /duration: must be at most 24h/);
  });

  it("gRPC: 86400s is accepted, 86400s + 1 ns refused", async () => {
    const op = await t.grpc.call(Demo.method.sleep, { duration: { seconds: 86_400n } });
    assert.match(op.name, /^operations\//);
    const err = await callError(t.grpc.call(Demo.method.sleep, { duration: { seconds: 86_400n, nanos: 1 } }));
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.equal(err.errorInfo?.metadata["field"], "duration");
  });
});
