// Every REST answer carries `X-Content-Type-Options: nosniff` and the call's request id, however it is
// written: the API's own answers, its errors, the probes and /metrics, the dashboard, a CORS preflight and
// the live stream.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../support/server.js";

const APP = "https://app.example";

describe("the headers of every REST answer", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ corsOrigins: [APP] });
  });
  after(() => t.close());

  const check = async (what: string, path: string, init: RequestInit = {}, status?: number): Promise<Response> => {
    const id = `req-${what.replaceAll(" ", "-")}`;
    const res = await fetch(`${t.url}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), "x-request-id": id } });
    if (status !== undefined) assert.equal(res.status, status, what);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", what);
    assert.equal(res.headers.get("x-request-id"), id, what);
    return res;
  };

  it("on answers, errors, probes, metrics, pages and preflights", async () => {
    const started = await check("start", "/v1/demo:sleep", { method: "POST", headers: { "content-type": "application/json" }, body: '{"duration":"0s"}' }, 200);
    const { name } = (await started.json()) as { name: string };
    await (await check("get", `/v1/${name}`, {}, 200)).text();
    await (await check("get from an allowed origin", `/v1/${name}`, { headers: { origin: APP } }, 200)).text();
    await (await check("not found", "/v1/operations/nope", {}, 404)).text();
    await (await check("unknown path", "/v1/nothing/here", {}, 404)).text();
    await (await check("wrong method", "/v1/demo:sleep", { method: "GET" })).text();
    await (await check("healthz", "/healthz", {}, 200)).text();
    await (await check("metrics", "/metrics", {}, 200)).text();
    await (await check("page", "/ui/", {}, 200)).text();
    const preflight = { method: "OPTIONS", headers: { origin: APP, "access-control-request-method": "GET" } };
    await (await check("preflight", `/v1/${name}`, preflight, 204)).text();
    await (await check("refused preflight", `/v1/${name}`, { ...preflight, headers: { ...preflight.headers, origin: "https://evil.example" } }, 403)).text();
  });

  it("on the live stream", async () => {
    const controller = new AbortController();
    const res = await check("watch", "/v1/operations:watch", { signal: controller.signal }, 200);
    assert.match(String(res.headers.get("content-type")), /^text\/event-stream/);
    controller.abort();
    await res.body?.cancel().catch(() => undefined);
  });
});
