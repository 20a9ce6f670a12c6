import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { anyUnpack, durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { RunMetadataSchema, RunResponseSchema, Scoped } from "../../src/gen/longrun/test/v1/scoped_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Code } from "../../src/core/code.js";
import { defineMethod } from "../../src/index.js";
import { parseDisabled } from "../../src/cli/serve.js";
import { methods as demoMethods } from "../../src/demo/index.js";
import { bothStores } from "../support/stores.js";
import { callError } from "../support/grpc-client.js";
import { startTestServer, type TestServer } from "../support/server.js";

const ops = Operations.method;

const run = defineMethod({
  method: Scoped.method.run,
  response: RunResponseSchema,
  metadata: RunMetadataSchema,
  async handler(request, ctx) {
    const ms = Number(request.duration?.seconds ?? 0n) * 1000 + (request.duration?.nanos ?? 0) / 1e6;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      ctx.signal.addEventListener("abort", () => (clearTimeout(timer), reject(ctx.signal.reason)), { once: true });
    });
    return { parent: request.parent };
  },
});

/** Each suite below runs on the embedded store and on PostgreSQL (a fresh schema). */
const STORES = bothStores("names");

for (const { label, open } of STORES) describe(`parent-scoped names (projects/*/locations/*), REST serving Get only — ${label}`, () => {
  let t: TestServer;
  let drop: () => Promise<void>;
  before(async () => {
    const opened = await open();
    drop = opened.drop;
    t = await startTestServer({
      store: opened.store,
      methods: [run],
      names: { parent: "projects/*/locations/*" },
      disabled: { rest: ["ListOperations", "CancelOperation", "DeleteOperation", "WaitOperation"] },
    });
  });
  after(async () => {
    await t.close();
    await drop();
  });

  const rest = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(t.url + path, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it("names operations under the request's parent, over the method's own REST binding", async () => {
    const started = await rest("POST", "/v1/projects/p1/locations/l1:run", { duration: "0s" });
    assert.equal(started.status, 200);
    const name = started.json.name as string;
    assert.match(name, /^projects\/p1\/locations\/l1\/operations\/[A-Za-z0-9_-]{30}$/);
    const done = await t.grpc.call(ops.waitOperation, { name, timeout: durationFromMs(10_000) });
    assert.equal(anyUnpack(done.result.value as never, RunResponseSchema)?.parent, "projects/p1/locations/l1");
    const got = await rest("GET", `/v1/${name}`);
    assert.equal(got.status, 200);
    assert.equal(got.json.name, name);
    assert.equal(got.json.done, true);
  });

  it("lists one parent's operations over gRPC (name = the parent)", async () => {
    const inP1 = await t.grpc.call(Scoped.method.run, { parent: "projects/p1/locations/l1" });
    const inP2 = await t.grpc.call(Scoped.method.run, { parent: "projects/p2/locations/l1" });
    const page = await t.grpc.call(ops.listOperations, { name: "projects/p1/locations/l1" });
    const names = page.operations.map((o) => o.name);
    assert.ok(names.includes(inP1.name));
    assert.ok(!names.includes(inP2.name));
    assert.ok(names.every((n) => n.startsWith("projects/p1/locations/l1/operations/")));
    const err = await callError(t.grpc.call(ops.listOperations, { name: "operations" }));
    assert.equal(err.code, Code.INVALID_ARGUMENT);
  });

  it("answers UNIMPLEMENTED over REST for the methods switched off there, and serves them over gRPC", async () => {
    const op = await t.grpc.call(Scoped.method.run, { parent: "projects/p1/locations/l1", duration: durationFromMs(60_000) });
    for (const [method, path] of [
      ["GET", "/v1/projects/p1/locations/l1/operations"],
      ["POST", `/v1/${op.name}:cancel`],
      ["DELETE", `/v1/${op.name}`],
      ["POST", `/v1/${op.name}:wait`],
    ] as const) {
      const res = await rest(method, path, method === "POST" ? {} : undefined);
      assert.equal(res.status, 501, `${method} ${path}`);
      assert.equal((res.json.error as { status: string }).status, "UNIMPLEMENTED");
    }
    await t.grpc.call(ops.cancelOperation, { name: op.name });
    const done = await t.grpc.call(ops.waitOperation, { name: op.name, timeout: durationFromMs(10_000) });
    assert.equal(done.result.case, "error");
    assert.equal(done.result.value.code, Code.CANCELLED);
  });

  it("refuses names and parents of another shape; a name under another parent is NOT_FOUND", async () => {
    const op = await t.grpc.call(Scoped.method.run, { parent: "projects/p1/locations/l1" });
    const id = op.name.split("/").pop()!;
    assert.equal((await callError(t.grpc.call(ops.getOperation, { name: `operations/${id}` }))).code, Code.INVALID_ARGUMENT);
    assert.equal((await callError(t.grpc.call(ops.getOperation, { name: `projects/p2/locations/l1/operations/${id}` }))).code, Code.NOT_FOUND);
    const badParent = await callError(t.grpc.call(Scoped.method.run, { parent: "projects/p1" }));
    assert.equal(badParent.code, Code.INVALID_ARGUMENT);
    assert.equal(badParent.errorInfo?.metadata.field, "parent");
  });
});

describe("another collection id", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ names: { collection: "transferOperations" } });
  });
  after(() => t.close());

  it("serves transferOperations/{id} with bindings to match", async () => {
    const started = await (await fetch(`${t.url}/v1/demo:sleep`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"duration":"0s"}' })).json();
    const name = (started as { name: string }).name;
    assert.match(name, /^transferOperations\/[A-Za-z0-9_-]{30}$/);
    assert.equal((await fetch(`${t.url}/v1/${name}`)).status, 200);
    const list = (await (await fetch(`${t.url}/v1/transferOperations`)).json()) as { operations: { name: string }[] };
    assert.ok(list.operations.some((o) => o.name === name));
    assert.equal((await fetch(`${t.url}/v1/operations/${name.split("/")[1]}`)).status, 404, "the default collection is not served");
  });
});

describe("configuration mistakes are caught at start-up", () => {
  it("a method whose request has no parent cannot serve parent-scoped names", async () => {
    await assert.rejects(startTestServer({ methods: demoMethods, names: { parent: "projects/*" } }), /no parent field/);
  });

  it("--disable parses methods and transports, and refuses what cannot be disabled", () => {
    assert.deepEqual(parseDisabled("ListOperations,rest:CancelOperation,grpc:WaitOperation"), {
      grpc: ["ListOperations", "WaitOperation"],
      rest: ["ListOperations", "CancelOperation"],
    });
    assert.throws(() => parseDisabled("GetOperation"), /always served/);
    assert.throws(() => parseDisabled("http:ListOperations"), /not a transport/);
  });
});

describe("listing configuration", () => {
  it("page_size 0 gives the configured default; larger sizes are coerced to the configured maximum", async () => {
    const t = await startTestServer({ defaultPageSize: 2, maxPageSize: 3 });
    try {
      for (let i = 0; i < 5; i++) await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0) });
      const byDefault = await t.grpc.call(ops.listOperations, { name: "operations" });
      assert.equal(byDefault.operations.length, 2);
      assert.notEqual(byDefault.nextPageToken, "");
      const capped = await t.grpc.call(ops.listOperations, { name: "operations", pageSize: 100 });
      assert.equal(capped.operations.length, 3);
    } finally {
      await t.close();
    }
  });
});
