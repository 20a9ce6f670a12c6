import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { startTestServer, type TestServer } from "../support/server.js";

/** The proto3 JSON of an Operation as a REST client reads it. */
interface OperationJson {
  name: string;
  done?: boolean;
  metadata?: { "@type": string; createTime?: string; endTime?: string; progressPercent?: number; cancelRequested?: boolean };
  response?: { "@type": string; slept?: string };
  error?: { code: number; message?: string; details?: unknown[] };
}

interface ErrorJson {
  error: { code: number; status: string; message: string; details: { "@type": string; reason?: string; domain?: string }[] };
}

describe("Operations over REST (wire details real clients depend on)", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; text: string; json: unknown }> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    const res = await fetch(t.url + path, init);
    const text = await res.text();
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    return { status: res.status, text, json: text === "" ? undefined : JSON.parse(text) };
  }
  const start = async (body: unknown) => (await call("POST", "/v1/demo:sleep", body)).json as OperationJson;
  const wait = async (name: string, timeout = "10s") => (await call("POST", `/v1/${name}:wait`, { timeout })).json as OperationJson;

  it("starts over the method's google.api.http binding and returns the Operation in lowerCamelCase", async () => {
    const res = await call("POST", "/v1/demo:sleep", { duration: "0.05s" });
    assert.equal(res.status, 200);
    const op = res.json as OperationJson;
    assert.match(op.name, /^operations\/[A-Za-z0-9_-]{30}$/);
    assert.equal(op.done, undefined, "done: false is omitted (proto3 JSON)");
    assert.equal(op.metadata?.["@type"], "type.googleapis.com/longrun.demo.v1.SleepMetadata");
    assert.match(op.metadata?.createTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z$/, "RFC 3339, Z");
    assert.ok(!res.text.includes("create_time"), "no snake_case keys out");

    const done = await wait(op.name);
    assert.equal(done.done, true);
    assert.deepEqual(done.response, { "@type": "type.googleapis.com/longrun.demo.v1.SleepResponse", slept: "0.050s" });
    assert.equal(done.error, undefined, "never both error and response");
    assert.equal(done.metadata?.progressPercent, 100);
  });

  it("accepts snake_case keys in, and an operation's error is a plain google.rpc.Status", async () => {
    const op = await start({ duration: "0s", fail_with: { code: 9, message: "not now" }, request_id: "snake-case-1" });
    const done = await wait(op.name);
    assert.deepEqual(done.error, { code: 9, message: "not now" });
    assert.equal(done.response, undefined);
    const again = await start({ duration: "0s", failWith: { code: 9, message: "not now" }, requestId: "snake-case-1" });
    assert.equal(again.name, op.name, "requestId and request_id are the same field");
  });

  it("Get, and gax's bundled binding GET /v1/operations/{name} with the name percent-encoded", async () => {
    const op = await start({ duration: "0s" });
    const done = await wait(op.name);
    const id = op.name.split("/")[1];
    assert.deepEqual((await call("GET", `/v1/${op.name}`)).json, done);
    assert.deepEqual((await call("GET", `/v1/operations/${encodeURIComponent(op.name)}`)).json, done);
    assert.deepEqual((await call("GET", `/v1/operations/${id}`)).json, done);
  });

  it("Cancel answers 200 {} with or without a body; the operation ends CANCELLED", async () => {
    const op = await start({ duration: "60s" });
    const res = await fetch(`${t.url}/v1/${op.name}:cancel`, { method: "POST" });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {});
    assert.deepEqual((await call("POST", `/v1/${op.name}:cancel`, {})).json, {});
    const done = await wait(op.name);
    assert.equal(done.error?.code, 1);
    assert.equal(done.metadata?.cancelRequested, true);
  });

  it("Delete answers 200 {}; then 404 with the error envelope", async () => {
    const op = await start({ duration: "0s" });
    await wait(op.name);
    const res = await call("DELETE", `/v1/${op.name}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {});
    const gone = await call("GET", `/v1/${op.name}`);
    assert.equal(gone.status, 404);
    const body = gone.json as ErrorJson;
    assert.equal(body.error.code, 404);
    assert.equal(body.error.status, "NOT_FOUND");
    assert.match(body.error.message, /not found/);
    const info = body.error.details.find((d) => d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo");
    assert.equal(info?.reason, "OPERATION_NOT_FOUND");
    assert.equal(info?.domain, "longrun.dev");
  });

  it("a Wait whose client goes away lets go of its waiter at once (CallContext.onCancel)", async () => {
    const op = await start({ duration: "30s" });
    const waiting = () => (t.server.service as unknown as { waiters: { byId: Map<string, Set<unknown>> } }).waiters.byId.size;
    const aborted = new AbortController();
    const pending = fetch(`${t.url}/v1/${op.name}:wait`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ timeout: "60s" }),
      signal: aborted.signal,
    }).catch(() => undefined);
    for (let i = 0; waiting() === 0; i++) {
      assert.ok(i < 500, "the Wait never registered");
      await new Promise((r) => setTimeout(r, 10));
    }
    aborted.abort();
    await pending;
    for (let i = 0; waiting() > 0; i++) {
      assert.ok(i < 500, "the abandoned Wait still holds its waiter");
      await new Promise((r) => setTimeout(r, 10));
    }
    await call("POST", `/v1/${op.name}:cancel`, {});
  });

  it("Wait at :wait returns the latest state at its timeout, not an error", async () => {
    const op = await start({ duration: "60s" });
    const res = await call("POST", `/v1/${op.name}:wait`, { timeout: "0.2s" });
    assert.equal(res.status, 200);
    assert.equal((res.json as OperationJson).done, undefined);
    const negative = await call("POST", `/v1/${op.name}:wait`, { timeout: "-1s" });
    assert.equal(negative.status, 400);
    assert.equal((negative.json as ErrorJson).error.status, "INVALID_ARGUMENT");
    await call("POST", `/v1/${op.name}:cancel`);
  });

  it("lists at GET /v1/operations with camelCase or snake_case query parameters and page tokens", async () => {
    for (let i = 0; i < 3; i++) await wait((await start({ duration: "0s" })).name);
    const first = (await call("GET", "/v1/operations?pageSize=2&filter=done%20%3D%20true")).json as { operations: OperationJson[]; nextPageToken: string };
    assert.equal(first.operations.length, 2);
    assert.ok(first.nextPageToken);
    const second = (await call("GET", `/v1/operations?page_size=2&filter=done%20%3D%20true&page_token=${encodeURIComponent(first.nextPageToken)}`)).json as {
      operations: OperationJson[];
    };
    assert.ok(second.operations.length >= 1);
    const names = [...first.operations, ...second.operations].map((o) => o.name);
    assert.equal(new Set(names).size, names.length);
    const bad = await call("GET", "/v1/operations?pageSize=-3");
    assert.equal(bad.status, 400);
    const partial = await call("GET", "/v1/operations?returnPartialSuccess=true");
    assert.equal(partial.status, 501);
    assert.equal((partial.json as ErrorJson).error.status, "UNIMPLEMENTED");
  });

  it("accepts $alt=json;enum-encoding=int and $prettyPrint", async () => {
    const op = await start({ duration: "0s" });
    await wait(op.name);
    const pretty = await call("GET", `/v1/${op.name}`);
    assert.ok(pretty.text.includes("\n"), "pretty by default, as Google's front end");
    const compact = await call("GET", `/v1/${op.name}?$alt=json%3Benum-encoding%3Dint&$prettyPrint=0`);
    assert.equal(compact.status, 200);
    assert.ok(!compact.text.includes("\n"));
    assert.deepEqual(compact.json, pretty.json);
  });

  it("accepts a request target in absolute form (RFC 9112 §3.2.2), as proxies send it", async () => {
    const op = await start({ duration: "0s" });
    await wait(op.name);
    const { port } = new URL(t.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () =>
        socket.write(`GET http://127.0.0.1:${port}/v1/${op.name}?$prettyPrint=0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
      );
      let data = "";
      socket.on("data", (d: Buffer) => (data += d.toString()));
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
    });
    assert.match(reply, /^HTTP\/1\.1 200 /);
    assert.ok(reply.includes(`"name":"${op.name}"`));
  });

  it("answers client mistakes with 4xx and the error envelope", async () => {
    const cases: [string, string, unknown, number, string][] = [
      ["POST", "/v1/demo:sleep", "{not json", 400, "INVALID_ARGUMENT"],
      ["POST", "/v1/demo:sleep", { duration: "1s", color: "blue" }, 400, "INVALID_ARGUMENT"],
      ["POST", "/v1/demo:sleep", { duration: 5 }, 400, "INVALID_ARGUMENT"],
      ["POST", "/v1/demo:sleep", { duration: "-1s" }, 400, "INVALID_ARGUMENT"],
      ["GET", "/v1/operations/a/b", undefined, 400, "INVALID_ARGUMENT"],
      ["GET", "/v1/projects/p/operations/x", undefined, 404, "NOT_FOUND"],
      ["GET", "/v1/operations?filter=nmae%3D%22x%22", undefined, 400, "INVALID_ARGUMENT"],
      ["GET", "/v1/operations?pageToken=garbage", undefined, 400, "INVALID_ARGUMENT"],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await call(method, path, body);
      assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
      const envelope = res.json as ErrorJson;
      assert.equal(envelope.error.code, status);
      assert.equal(envelope.error.status, code);
      assert.ok(envelope.error.details.some((d) => d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo"), `${path} has ErrorInfo`);
    }
  });
});
