/**
 * Tenants of a deployment whose operations are named without a parent (`operations/{id}`): an operation
 * belongs to the resource its start was authorized on (the method's permissionResource, here the request's
 * `parent`), and calls on it are authorized there after a denial on its name. On both stores and both
 * transports: a tenant reads, waits, cancels, pauses and deletes its own operations and lists them with a
 * scope; another tenant's operation and a missing one are denied alike, naming only the name sent; lists
 * scoped to another tenant are denied, and page tokens keep their restriction; bindings on the collection or
 * `*` see everything, as before; the audit log says where each call was granted.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMethod, type Message } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations, OperationSchema } from "../../src/gen/google/longrunning/operations_pb.js";
import { RunMetadataSchema, RunResponseSchema, Scoped } from "../../src/gen/longrun/test/v1/scoped_pb.js";
import { Code, codeName } from "../../src/core/code.js";
import { aip160Dialect, defineMethod, type AuditEntry, type AuthConfig, type FilterDialect, type ListScope } from "../../src/index.js";
import type { Store } from "../../src/store/store.js";
import { StorageTransferService } from "../../examples/storage-transfer/gen/google/storagetransfer/v1/transfer_pb.js";
import { bothStores } from "../support/stores.js";
import { withStatus } from "../support/grpc-client.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { testIssuerWithJwksFile, type TestIssuer } from "../support/jwt.js";

const A = "projects/a/locations/x";
const B = "projects/b/locations/x";
const MISSING = "operations/AAAAAAAAAAAAAAAAAAAAAA";

/** Scoped/Run with the default names: its operations are `operations/{id}`, each belonging to its request's parent. */
const run = defineMethod({
  method: Scoped.method.run,
  response: RunResponseSchema,
  metadata: RunMetadataSchema,
  permissionResource: (request) => request.parent,
  async handler(request, ctx) {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, Number(request.duration?.seconds ?? 0n) * 1000);
      ctx.signal.addEventListener("abort", () => (clearTimeout(timer), reject(ctx.signal.reason)), { once: true });
    });
    return { parent: request.parent };
  },
});

/**
 * The list filter of this deployment: `in <resource>`, optionally followed by `; <AIP-160>`. The first part
 * names the resource the list is about (listScope); the dialect compiles the rest. As Storage Transfer's
 * JSON filter names its project.
 */
const SCOPE = /^in (\S+)(?:;\s*(.*))?$/s;
const dialect: FilterDialect = (filter, schema) => aip160Dialect(SCOPE.exec(filter)?.[2] ?? (SCOPE.test(filter) ? "" : filter), schema);
const listScope: ListScope = (request) => SCOPE.exec(request.filter)?.[1];

type Transport = "grpc" | "rest";
type Rpc = "Get" | "Wait" | "Cancel" | "Delete" | "Pause" | "List" | "Run";
/** The RPCs on one operation; Pause (a control) over gRPC only: its REST binding is Storage Transfer's path. */
const ON_OPERATION = (transport: Transport): Rpc[] => (transport === "grpc" ? ["Get", "Wait", "Cancel", "Delete", "Pause"] : ["Get", "Wait", "Cancel", "Delete"]);

interface Target {
  name?: string;
  parent?: string;
  seconds?: number;
  filter?: string;
  pageSize?: number;
  pageToken?: string;
}

interface Outcome {
  code: string;
  reason: string | undefined;
  message: string;
  metadata: Record<string, string>;
  /** Run: the operation's name; Get/Wait: {name, done}; List: {names, nextPageToken}. */
  body?: unknown;
}

for (const { label, open } of bothStores("flat")) describe(`operations named without a parent — ${label}`, () => {
  let t: TestServer;
  let store: Store;
  let drop: () => Promise<void>;
  let issuer: TestIssuer;
  const audit: AuditEntry[] = [];
  const bearer: Record<string, string> = {};
  let opB = "";

  before(async () => {
    const withFile = await testIssuerWithJwksFile();
    issuer = withFile;
    const auth: AuthConfig = {
      jwt: { jwks: withFile.jwksPath, issuer: issuer.issuer, audience: issuer.audience },
      bindings: [
        { role: "roles/longrun.editor", members: ["user:alice"], resource: "projects/a" },
        { role: "roles/longrun.viewer", members: ["user:a-viewer"], resource: "projects/a" },
        { role: "roles/longrun.editor", members: ["user:bob"], resource: "projects/b" },
        { role: "roles/longrun.viewer", members: ["user:auditor"], resource: "operations" },
        { role: "roles/longrun.admin", members: ["user:root"], resource: "*" },
      ],
    };
    const opened = await open();
    store = opened.store;
    drop = opened.drop;
    t = await startTestServer({
      store,
      methods: [run],
      auth,
      audit: (e) => audit.push(e),
      filterDialect: dialect,
      listScope,
      controls: [{ method: StorageTransferService.method.pauseTransferOperation, command: "pause" }],
    });
    for (const who of ["alice", "bob", "a-viewer", "auditor", "root", "nobody"]) bearer[who] = await issuer.token({ sub: who });
    opB = await started("bob", B);
  });
  after(async () => {
    await t.close();
    await drop();
  });

  const as = (who: string) => bearer[who]!;
  /** A running operation `who` starts under `parent` (600 s long): its name. */
  async function started(who: string, parent: string): Promise<string> {
    const outcome = await call(t, "grpc", "Run", { parent, seconds: 600 }, as(who));
    assert.equal(outcome.code, "OK", outcome.message);
    const name = String(outcome.body);
    assert.match(name, /^operations\/[A-Za-z0-9_-]{30}$/);
    return name;
  }
  /** The request of each RPC on `name`. */
  const on = (rpc: Rpc, name: string): Target => (rpc === "Wait" ? { name, seconds: 0 } : { name });

  it("an operation keeps the resource its start was authorized on; the start is audited there", async () => {
    const mine = await started("alice", A);
    assert.equal((await store.getViews([mine.slice("operations/".length)], Date.now()))[0]?.resource, A);
    const entry = audit.find((e) => e.operation === mine);
    assert.deepEqual(entry && { ...entry, time: "", requestId: typeof entry.requestId }, {
      time: "",
      requestId: "string",
      principal: "user:alice",
      method: "longrun.test.v1.Scoped.Run",
      permission: "longrun.operations.run",
      resource: A,
      outcome: "OK",
      operation: mine,
    });
    assert.equal((await call(t, "grpc", "Run", { parent: B, seconds: 600 }, as("alice"))).code, "PERMISSION_DENIED", "not in another tenant's");
  });

  for (const transport of ["grpc", "rest"] as const) {
    it(`${transport}: a tenant gets, waits on, lists with its scope, pauses, cancels and deletes its own operation`, async () => {
      const mine = await started("alice", A);
      const got = await call(t, transport, "Get", { name: mine }, as("alice"));
      assert.equal(got.code, "OK", got.message);
      assert.deepEqual(got.body, { name: mine, done: false });
      const waited = await call(t, transport, "Wait", { name: mine, seconds: 0 }, as("alice"));
      assert.deepEqual([waited.code, waited.body], ["OK", { name: mine, done: false }]);
      const listed = await call(t, transport, "List", { filter: `in ${A}` }, as("alice"));
      assert.equal(listed.code, "OK", listed.message);
      const names = (listed.body as { names: string[] }).names;
      assert.ok(names.includes(mine) && !names.includes(opB), JSON.stringify(names));
      // The scope's own filter part applies too; a scope inside A's binding (another location) is A's as well.
      assert.deepEqual((await call(t, transport, "List", { filter: `in ${A}; done = true` }, as("alice"))).body, { names: [], nextPageToken: "" });
      assert.deepEqual((await call(t, transport, "List", { filter: "in projects/a/locations/y" }, as("alice"))).body, { names: [], nextPageToken: "" });
      if (transport === "grpc") assert.equal((await call(t, transport, "Pause", { name: mine }, as("alice"))).code, "OK");
      assert.equal((await call(t, transport, "Cancel", { name: mine }, as("alice"))).code, "OK");
      const cancelled = await call(t, transport, "Wait", { name: mine, seconds: 10 }, as("alice"));
      assert.deepEqual(cancelled.body, { name: mine, done: true });
      assert.equal((await call(t, transport, "Delete", { name: mine }, as("alice"))).code, "OK");
      // Gone: to its tenant as any missing operation is (nothing tells the name once existed); NOT_FOUND to the collection's.
      const gone = await call(t, transport, "Get", { name: mine }, as("alice"));
      assert.equal(gone.code, "PERMISSION_DENIED");
      assert.equal((await call(t, transport, "Get", { name: mine }, as("root"))).code, "NOT_FOUND");
    });

    it(`${transport}: another tenant's operation and a missing one are PERMISSION_DENIED alike, naming only the name sent`, async () => {
      for (const rpc of ON_OPERATION(transport)) {
        const existing = await call(t, transport, rpc, on(rpc, opB), as("alice"));
        const missing = await call(t, transport, rpc, on(rpc, MISSING), as("alice"));
        assert.equal(existing.code, "PERMISSION_DENIED", `${rpc} on B's operation`);
        assert.equal(existing.reason, "IAM_PERMISSION_DENIED", rpc);
        assert.equal(existing.metadata["resource"], opB, `${rpc}: the name sent, not where it belongs`);
        assert.ok(!JSON.stringify(existing).includes("projects/b"), `${rpc}: nothing of whose it is`);
        const scrub = (o: Outcome) => JSON.stringify(o).split(o.metadata["resource"] ?? "").join("<name>");
        assert.equal(scrub(existing), scrub(missing), `${rpc}: a denial says nothing of existence`);
        // A name that is not even an operation name: the same denial.
        const malformed = await call(t, transport, rpc, on(rpc, "operations/not.an.id"), as("alice"));
        assert.equal(scrub(malformed), scrub(missing), `${rpc}: nor of the name's form`);
      }
      // A stranger, bound nowhere, is denied on its own name as before.
      assert.equal((await call(t, transport, "Get", { name: opB }, as("nobody"))).code, "PERMISSION_DENIED");
      const started = Date.now();
      assert.equal((await call(t, transport, "Wait", { name: opB, seconds: 30 }, as("alice"))).code, "PERMISSION_DENIED");
      assert.ok(Date.now() - started < 10_000, "a denied Wait does not wait");
    });

    if (transport === "rest") {
      it("rest: gax's fallback route for GetOperation (`GET /v1/operations/{name}`, the name percent-encoded) checks the owner too", async () => {
        const mine = await started("alice", A);
        const fallback = (name: string, who: string) =>
          fetch(`${t.url}/v1/operations/${encodeURIComponent(name)}`, { headers: { authorization: `Bearer ${as(who)}` } });
        const own = await fallback(mine, "alice");
        assert.equal(own.status, 200, await own.clone().text());
        assert.equal(((await own.json()) as { name: string }).name, mine);
        const other = await fallback(opB, "alice");
        const missing = await fallback(MISSING, "alice");
        assert.deepEqual([other.status, missing.status], [403, 403]);
        const scrub = (text: string, name: string) => text.split(name).join("<name>");
        assert.equal(scrub(await other.text(), opB), scrub(await missing.text(), MISSING));
      });
    }

    it(`${transport}: the owner's resource grants only what the role there grants`, async () => {
      const mine = await started("alice", A);
      assert.equal((await call(t, transport, "Get", { name: mine }, as("a-viewer"))).code, "OK", "a viewer of A reads A's");
      assert.equal((await call(t, transport, "List", { filter: `in ${A}` }, as("a-viewer"))).code, "OK");
      for (const rpc of ["Cancel", "Delete"] as const) {
        const denied = await call(t, transport, rpc, { name: mine }, as("a-viewer"));
        assert.deepEqual([denied.code, denied.metadata["resource"]], ["PERMISSION_DENIED", mine], rpc);
      }
      // bob may pause in projects/b, not in A: the permission is checked on the owner, not just held somewhere.
      if (transport === "grpc") assert.equal((await call(t, transport, "Pause", { name: mine }, as("bob"))).code, "PERMISSION_DENIED");
      const view = await store.get(mine.slice("operations/".length), Date.now());
      assert.deepEqual([view?.state === "done", view?.cancelRequested, view?.control], [false, false, undefined], "untouched");
    });

    it(`${transport}: lists — the whole collection, or a scope not granted, are denied on the name; page tokens keep the scope`, async () => {
      await started("alice", A);
      await started("alice", A);
      for (const filter of ["", "done = false", `in ${B}`, "in projects/ab/locations/x", "in operations", "in *", "in"]) {
        const denied = await call(t, transport, "List", { filter }, as("alice"));
        assert.deepEqual([denied.code, denied.reason, denied.metadata], ["PERMISSION_DENIED", "IAM_PERMISSION_DENIED", { permission: "longrun.operations.list", resource: "operations" }], filter);
      }
      const first = await call(t, transport, "List", { filter: `in ${A}`, pageSize: 1 }, as("alice"));
      const pageToken = (first.body as { nextPageToken: string }).nextPageToken;
      assert.notEqual(pageToken, "");
      // Another scope of A's own: a token of one list serves no other.
      const moved = await call(t, transport, "List", { filter: "in projects/a/locations/y", pageSize: 1, pageToken }, as("alice"));
      assert.deepEqual([moved.code, moved.reason], ["INVALID_ARGUMENT", "INVALID_PAGE_TOKEN"]);
      // B's scope: denied before the token is read.
      assert.equal((await call(t, transport, "List", { filter: `in ${B}`, pageSize: 1, pageToken }, as("alice"))).code, "PERMISSION_DENIED");
      // The same filter listed without restriction (by a caller allowed on the collection): the token does not carry over.
      const widened = await call(t, transport, "List", { filter: `in ${A}`, pageSize: 1, pageToken }, as("root"));
      assert.deepEqual([widened.code, widened.reason], ["INVALID_ARGUMENT", "INVALID_PAGE_TOKEN"]);
      // Paged to the end, A's list holds A's operations only, each once.
      const seen: string[] = [...(first.body as { names: string[] }).names];
      for (let token = pageToken; token !== ""; ) {
        const page = await call(t, transport, "List", { filter: `in ${A}`, pageSize: 1, pageToken: token }, as("alice"));
        assert.equal(page.code, "OK", page.message);
        const body = page.body as { names: string[]; nextPageToken: string };
        seen.push(...body.names);
        token = body.nextPageToken;
      }
      assert.equal(new Set(seen).size, seen.length);
      const resources = await store.getViews(seen.map((n) => n.slice("operations/".length)), Date.now());
      assert.ok(resources.every((v) => v?.resource === A), JSON.stringify(resources.map((v) => v?.resource)));
    });

    it(`${transport}: bindings on the collection and on * see every tenant's operations, as before; a missing one is NOT_FOUND to them`, async () => {
      const mine = await started("alice", A);
      for (const who of ["auditor", "root"]) {
        for (const name of [mine, opB]) assert.equal((await call(t, transport, "Get", { name }, as(who))).code, "OK", `${who} ${name}`);
        const listed = await call(t, transport, "List", {}, as(who));
        const names = (listed.body as { names: string[] }).names;
        assert.ok(names.includes(mine) && names.includes(opB), who);
        // A scope is not a restriction for them: their list of the collection is allowed as it is.
        const scoped = (await call(t, transport, "List", { filter: `in ${A}` }, as(who))).body as { names: string[] };
        assert.ok(scoped.names.includes(opB), `${who}: listed as the collection`);
        assert.equal((await call(t, transport, "Get", { name: MISSING }, as(who))).code, "NOT_FOUND", who);
      }
      assert.equal((await call(t, transport, "Cancel", { name: mine }, as("auditor"))).code, "PERMISSION_DENIED", "a viewer still cannot cancel");
    });
  }

  it("B's operation is unchanged by everything A tried, and B still reads it", async () => {
    const view = await store.get(opB.slice("operations/".length), Date.now());
    assert.deepEqual([view?.state, view?.cancelRequested, view?.control, view?.resource], ["running", false, undefined, B]);
    const seen = await call(t, "rest", "Get", { name: opB }, as("bob"));
    assert.deepEqual([seen.code, seen.body], ["OK", { name: opB, done: false }]);
  });

  it("the audit log: calls granted on the operation's owner say so (grantedOn); denials name only the name sent", () => {
    const alice = audit.filter((e) => e.principal === "user:alice");
    const granted = alice.filter((e) => e.outcome === "OK" && e.method.startsWith("google.longrunning"));
    assert.ok(granted.length >= 4);
    for (const e of granted) {
      assert.match(e.resource, /^operations\//, JSON.stringify(e));
      assert.equal(e.grantedOn, A, JSON.stringify(e));
    }
    const denied = alice.filter((e) => e.outcome === "PERMISSION_DENIED" && e.resource.startsWith("operations/"));
    assert.ok(denied.some((e) => e.method === "google.longrunning.Operations.CancelOperation" && e.resource === opB));
    assert.ok(denied.some((e) => e.method === "google.storagetransfer.v1.StorageTransferService.PauseTransferOperation" && e.resource === opB));
    for (const e of denied) {
      assert.equal(e.grantedOn, undefined);
      assert.ok(!JSON.stringify(e).includes("projects/b/"), JSON.stringify(e));
    }
    assert.ok(alice.some((e) => e.outcome === "PERMISSION_DENIED" && e.method === "longrun.test.v1.Scoped.Run" && e.resource === B), "a start in B");
    assert.ok(!audit.some((e) => /GetOperation|ListOperations|WaitOperation/.test(e.method)), "reads are not audited");
  });
});

// ---- calls -----------------------------------------------------------------------------------------------------

const ops = Operations.method;

async function call(t: TestServer, transport: Transport, rpc: Rpc, target: Target, token: string): Promise<Outcome> {
  return transport === "grpc" ? grpcCall(t, rpc, target, token) : restCall(t, rpc, target, token);
}

function grpcRequest(rpc: Rpc, target: Target): { method: DescMethod; message: Message } {
  const name = target.name ?? "";
  switch (rpc) {
    case "Get": return { method: ops.getOperation, message: create(ops.getOperation.input, { name }) };
    case "Wait": return { method: ops.waitOperation, message: create(ops.waitOperation.input, { name, timeout: durationFromMs((target.seconds ?? 0) * 1000) }) };
    case "Cancel": return { method: ops.cancelOperation, message: create(ops.cancelOperation.input, { name }) };
    case "Delete": return { method: ops.deleteOperation, message: create(ops.deleteOperation.input, { name }) };
    case "Pause": {
      const pause = StorageTransferService.method.pauseTransferOperation;
      return { method: pause, message: create(pause.input, { name }) };
    }
    case "List":
      return { method: ops.listOperations, message: create(ops.listOperations.input, { name: "operations", filter: target.filter, pageSize: target.pageSize, pageToken: target.pageToken }) };
    case "Run":
      return { method: Scoped.method.run, message: create(Scoped.method.run.input, { parent: target.parent, duration: durationFromMs((target.seconds ?? 0) * 1000) }) };
  }
}

async function grpcCall(t: TestServer, rpc: Rpc, target: Target, token: string): Promise<Outcome> {
  const { method, message } = grpcRequest(rpc, target);
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  return new Promise((resolve) => {
    t.grpc.client.makeUnaryRequest(
      `/${method.parent.typeName}/${method.name}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(toBinary(method.input, message)),
      metadata,
      {},
      (err, response) => {
        if (!err) {
          let body: unknown = {};
          if (rpc === "List") {
            const list = fromBinary(ops.listOperations.output, response as Buffer);
            body = { names: list.operations.map((o) => o.name), nextPageToken: list.nextPageToken };
          } else if (method.output.typeName === OperationSchema.typeName) {
            const operation = fromBinary(OperationSchema, response as Buffer);
            body = rpc === "Run" ? operation.name : { name: operation.name, done: operation.done };
          }
          resolve({ code: "OK", reason: undefined, message: "", metadata: {}, body });
          return;
        }
        const { errorInfo } = withStatus(err);
        resolve({ code: codeName(err.code as number as Code), reason: errorInfo?.reason, message: err.details, metadata: { ...(errorInfo?.metadata ?? {}) } });
      },
    );
  });
}

async function restCall(t: TestServer, rpc: Rpc, target: Target, token: string): Promise<Outcome> {
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
  const query = new URLSearchParams();
  if (target.filter) query.set("filter", target.filter);
  if (target.pageSize) query.set("pageSize", String(target.pageSize));
  if (target.pageToken) query.set("pageToken", target.pageToken);
  const name = target.name ?? "";
  const [method, path, body]: [string, string, unknown] =
    rpc === "Get" ? ["GET", `/v1/${name}`, undefined]
    : rpc === "Wait" ? ["POST", `/v1/${name}:wait`, { timeout: `${target.seconds ?? 0}s` }]
    : rpc === "Cancel" ? ["POST", `/v1/${name}:cancel`, {}]
    : rpc === "Delete" ? ["DELETE", `/v1/${name}`, undefined]
    : rpc === "List" ? ["GET", `/v1/operations${query.size ? `?${query}` : ""}`, undefined]
    : rpc === "Run" ? ["POST", `/v1/${target.parent}:run`, { duration: `${target.seconds ?? 0}s` }]
    : assert.fail(`${rpc} is not served over REST here`);
  const res = await fetch(t.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown> & {
    error?: { status: string; message: string; details?: { "@type": string; reason?: string; metadata?: Record<string, string> }[] };
  };
  if (res.ok) {
    const answer =
      rpc === "Run" ? json["name"]
      : rpc === "List" ? { names: ((json["operations"] ?? []) as { name: string }[]).map((o) => o.name), nextPageToken: json["nextPageToken"] ?? "" }
      : rpc === "Get" || rpc === "Wait" ? { name: json["name"], done: json["done"] === true }
      : {};
    return { code: "OK", reason: undefined, message: "", metadata: {}, body: answer };
  }
  const info = json.error?.details?.find((d) => d["@type"].endsWith("google.rpc.ErrorInfo"));
  return { code: json.error?.status ?? `HTTP ${res.status}`, reason: info?.reason, message: json.error?.message ?? "", metadata: info?.metadata ?? {} };
}
