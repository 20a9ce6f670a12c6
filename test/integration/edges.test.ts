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

describe("a request_id reused for a different request is refused", () => {
  it("REST: the same body again is the same operation; another body with that id is 400 REQUEST_ID_REUSED", async () => {
    const first = await post("/v1/demo:sleep", '{"duration":"60s","requestId":"edges-rest-1"}');
    assert.equal(first.status, 200, first.text);
    const retry = await post("/v1/demo:sleep", '{"request_id":"edges-rest-1","duration":"60.000s"}');
    assert.equal(retry.json.name, first.json.name, retry.text);
    const other = await post("/v1/demo:sleep", '{"duration":"61s","requestId":"edges-rest-1"}');
    assert.equal(other.status, 400, other.text);
    assert.equal(other.json.error.status, "INVALID_ARGUMENT");
    const info = other.json.error.details.find((d: { "@type": string }) => d["@type"].endsWith("google.rpc.ErrorInfo"));
    assert.equal(info.reason, "REQUEST_ID_REUSED");
    const bad = other.json.error.details.find((d: { "@type": string }) => d["@type"].endsWith("google.rpc.BadRequest"));
    assert.equal(bad.fieldViolations[0].field, "request_id");
  });

  it("gRPC: the same request again is the same operation; another with that id is INVALID_ARGUMENT REQUEST_ID_REUSED", async () => {
    const first = await t.grpc.call(Demo.method.sleep, { duration: { seconds: 60n }, requestId: "edges-grpc-1" });
    const retry = await t.grpc.call(Demo.method.sleep, { duration: { seconds: 60n }, requestId: "edges-grpc-1" });
    assert.equal(retry.name, first.name);
    const err = await callError(t.grpc.call(Demo.method.sleep, { duration: { seconds: 60n }, requestId: "edges-grpc-1", failWith: { code: 5 } }));
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.equal(err.errorInfo?.reason, "REQUEST_ID_REUSED");
    assert.match(err.details, /used before for a different request/);
  });
});
