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

/** Every object of `value` holding "@type" has it first; returns how many it saw. */
function assertTypeFirst(value: unknown, path = "$"): number {
  if (value === null || typeof value !== "object") return 0;
  let seen = 0;
  if (Array.isArray(value)) {
    value.forEach((v, i) => (seen += assertTypeFirst(v, `${path}[${i}]`)));
    return seen;
  }
  const keys = Object.keys(value);
  if (keys.includes("@type")) {
    assert.equal(keys[0], "@type", `${path} starts with "@type": ${keys.join(",")}`);
    seen++;
  }
  for (const k of keys) seen += assertTypeFirst((value as Record<string, unknown>)[k], `${path}.${k}`);
  return seen;
}

describe("every Any in a REST answer starts with \"@type\"", () => {
  it("metadata, response and error details of Get, Wait and List; details of an error body", async () => {
    const ok = await post("/v1/demo:sleep", '{"duration":"0s"}');
    assert.match(ok.text, /"metadata": \{\s*"@type": "type\.googleapis\.com\/longrun\.demo\.v1\.SleepMetadata"/);
    const failing = await post(
      "/v1/demo:sleep",
      JSON.stringify({ failWith: { code: 9, message: "no", details: [{ reason: "R", domain: "d", "@type": "type.googleapis.com/google.rpc.ErrorInfo" }] } }),
    );
    for (const started of [ok, failing]) {
      const waited = await post(`/v1/${started.json.name}:wait`, '{"timeout":"10s"}');
      assert.equal(waited.json.done, true, waited.text);
      const got = await fetch(`${t.url}/v1/${started.json.name}`);
      const text = await got.text();
      for (const raw of [waited.text, text]) {
        const json = JSON.parse(raw);
        assert.equal(Object.keys(json.metadata)[0], "@type", raw);
        if (json.response) assert.equal(Object.keys(json.response)[0], "@type", raw);
        else assert.equal(Object.keys(json.error.details[0])[0], "@type", raw);
        assertTypeFirst(json);
      }
    }
    const list = await fetch(`${t.url}/v1/operations?pageSize=100`);
    const listed = JSON.parse(await list.text());
    assert.ok(listed.operations.length >= 2 && assertTypeFirst(listed) >= listed.operations.length);

    const refused = await post("/v1/demo:sleep", '{"duration":"-1s"}');
    assert.equal(refused.status, 400);
    assert.ok(assertTypeFirst(refused.json) >= 2, refused.text);
  });
});
