/**
 * Tenant isolation, end to end: for every RPC, on both transports and both stores, every kind of bad
 * credential, the wrong role, and one tenant reaching for another's operations — existing or not — gets
 * the exact code and reason, and nothing that tells whether the other tenant's operation exists.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMethod } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations, OperationSchema } from "../../src/gen/google/longrunning/operations_pb.js";
import { RunMetadataSchema, RunResponseSchema, Scoped } from "../../src/gen/longrun/test/v1/scoped_pb.js";
import { Code, codeName } from "../../src/core/code.js";
import { defineMethod, hashApiKey, type AuditEntry, type AuthConfig } from "../../src/index.js";
import { bothStores } from "../support/stores.js";
import { withStatus } from "../support/grpc-client.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { testIssuerWithJwksFile, unsignedToken, type TestIssuer } from "../support/jwt.js";

const run = defineMethod({
  method: Scoped.method.run,
  response: RunResponseSchema,
  metadata: RunMetadataSchema,
  async handler(request, ctx) {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, Number(request.duration?.seconds ?? 0n) * 1000);
      ctx.signal.addEventListener("abort", () => (clearTimeout(timer), reject(ctx.signal.reason)), { once: true });
    });
    return { parent: request.parent };
  },
});

const STORES = bothStores("iso");

type Transport = "grpc" | "rest";
type Rpc = "Get" | "List" | "Wait" | "Cancel" | "Delete" | "Run";
const RPCS: readonly Rpc[] = ["Get", "List", "Wait", "Cancel", "Delete", "Run"];
const MUTATIONS: ReadonlySet<Rpc> = new Set(["Cancel", "Delete", "Run"]);

interface Creds {
  apiKey?: string;
  bearer?: string;
}

/** A call's outcome, the same shape from either transport. */
interface Outcome {
  code: string;
  reason: string | undefined;
  message: string;
  metadata: Record<string, string>;
  /** REST only: the WWW-Authenticate header. */
  challenge?: string | null;
  /** The answer of a call that succeeded, as JSON (REST) or the decoded Operation's name (gRPC). */
  body?: unknown;
}

const KEY_A = "lr_key_tenant_a_ci";
const KEY_VIEWER = "lr_key_tenant_a_viewer";
const A = "projects/a/locations/x";
const B = "projects/b/locations/x";
const MISSING_ID = "AAAAAAAAAAAAAAAAAAAAAA";

for (const { label, open } of STORES) describe(`tenant isolation — ${label}`, () => {
  let t: TestServer;
  let drop: () => Promise<void>;
  let issuer: TestIssuer;
  const audit: AuditEntry[] = [];
  const tokens: Record<string, string> = {};
  let opA = "";
  let opB = "";

  before(async () => {
    const withFile = await testIssuerWithJwksFile();
    issuer = withFile;
    const auth: AuthConfig = {
      apiKeys: [
        { sha256: hashApiKey(KEY_A), principal: "serviceAccount:a-ci@example" },
        { sha256: hashApiKey(KEY_VIEWER), principal: "user:a-viewer" },
      ],
      jwt: { jwks: withFile.jwksPath, issuer: issuer.issuer, audience: issuer.audience },
      bindings: [
        { role: "roles/longrun.editor", members: ["user:alice", "serviceAccount:a-ci@example"], resource: "projects/a" },
        { role: "roles/longrun.viewer", members: ["user:a-viewer"], resource: "projects/a" },
        { role: "roles/longrun.editor", members: ["user:bob"], resource: "projects/b" },
      ],
    };
    const opened = await open();
    drop = opened.drop;
    t = await startTestServer({ store: opened.store, methods: [run], names: { parent: "projects/*/locations/*" }, auth, audit: (e) => audit.push(e) });
    tokens["alice"] = await issuer.token({ sub: "alice" });
    tokens["bob"] = await issuer.token({ sub: "bob" });
    tokens["nobody"] = await issuer.token({ sub: "nobody" });
    opA = String((await call(t, "grpc", "Run", { parent: A, seconds: 600 }, { bearer: tokens["alice"] })).body);
    opB = String((await call(t, "grpc", "Run", { parent: B, seconds: 600 }, { bearer: tokens["bob"] })).body);
    assert.match(opA, /^projects\/a\/locations\/x\/operations\//);
    assert.match(opB, /^projects\/b\/locations\/x\/operations\//);
  });
  after(async () => {
    await t.close();
    await drop();
  });

  /** The request of each RPC aimed at an operation (or, for List and Run, its parent). */
  const target = (rpc: Rpc, name: string): Target => {
    const parent = name.split("/operations/")[0]!;
    return rpc === "List" || rpc === "Run" ? { parent, seconds: 600 } : { name };
  };

  for (const transport of ["grpc", "rest"] as const) {
    it(`${transport}: no credentials, a bad key, and every bad token are UNAUTHENTICATED with their reason, on every RPC`, async () => {
      const bad: [string, Creds, string][] = [
        ["none", {}, "CREDENTIALS_MISSING"],
        ["bad key", { apiKey: "lr_not_a_key" }, "API_KEY_INVALID"],
        ["expired", { bearer: await issuer.token({ sub: "alice" }, { expiresInSeconds: -300 }) }, "ACCESS_TOKEN_EXPIRED"],
        ["wrong audience", { bearer: await issuer.token({ sub: "alice", aud: "other" }) }, "ACCESS_TOKEN_INVALID"],
        ["wrong issuer", { bearer: await issuer.token({ sub: "alice", iss: "https://evil.example" }) }, "ACCESS_TOKEN_INVALID"],
        ["alg none", { bearer: unsignedToken({ sub: "alice", iss: issuer.issuer, aud: issuer.audience, exp: Math.floor(Date.now() / 1000) + 600 }) }, "ACCESS_TOKEN_INVALID"],
        ["unknown kid", { bearer: await issuer.token({ sub: "alice" }, { kid: "other-key" }) }, "ACCESS_TOKEN_INVALID"],
        ["forged", { bearer: await issuer.forged({ sub: "alice" }) }, "ACCESS_TOKEN_INVALID"],
      ];
      for (const rpc of RPCS) {
        for (const [what, creds, reason] of bad) {
          const outcome = await call(t, transport, rpc, target(rpc, opA), creds);
          assert.equal(outcome.code, "UNAUTHENTICATED", `${rpc} ${what}`);
          assert.equal(outcome.reason, reason, `${rpc} ${what}`);
          if (transport === "rest") assert.equal(outcome.challenge, 'Bearer realm="longrun"', `${rpc} ${what}`);
          for (const secret of [creds.apiKey, creds.bearer]) {
            if (secret) assert.ok(!JSON.stringify(outcome).includes(secret.slice(-16)), `${rpc} ${what}: the answer repeats no credential`);
          }
        }
      }
    });

    it(`${transport}: the wrong role is PERMISSION_DENIED; the right one passes`, async () => {
      const viewer: Creds = { apiKey: KEY_VIEWER };
      for (const rpc of RPCS) {
        const outcome = await call(t, transport, rpc, { ...target(rpc, opA), ...(rpc === "Wait" ? { timeoutMs: 1 } : {}) }, viewer);
        if (MUTATIONS.has(rpc)) {
          assert.equal(outcome.code, "PERMISSION_DENIED", rpc);
          assert.equal(outcome.reason, "IAM_PERMISSION_DENIED", rpc);
        } else {
          assert.equal(outcome.code, "OK", `${rpc}: ${outcome.message}`);
        }
      }
      const stranger = await call(t, transport, "Get", { name: opA }, { bearer: tokens["nobody"] });
      assert.equal(stranger.code, "PERMISSION_DENIED");
      assert.equal(stranger.metadata["permission"], "longrun.operations.get");
    });

    it(`${transport}: tenant A on tenant B's operations is PERMISSION_DENIED, the same whether or not they exist`, async () => {
      const missingB = `${B}/operations/${MISSING_ID}`;
      for (const creds of [{ bearer: tokens["alice"] }, { apiKey: KEY_A }] as Creds[]) {
        for (const rpc of RPCS) {
          const existing = await call(t, transport, rpc, target(rpc, opB), creds);
          const missing = await call(t, transport, rpc, target(rpc, missingB), creds);
          assert.equal(existing.code, "PERMISSION_DENIED", `${rpc} on B's existing operation`);
          assert.equal(existing.reason, "IAM_PERMISSION_DENIED");
          const resourceOf = (o: Outcome) => o.metadata["resource"] ?? "";
          // The only difference is the name the caller sent, echoed back.
          const scrub = (o: Outcome) => JSON.stringify(o).split(resourceOf(o)).join("<resource>");
          assert.equal(scrub(existing), scrub(missing), `${rpc}: a denial says nothing of existence`);
        }
      }
      // B's operation is untouched, and B still reads it.
      const seen = await call(t, transport, "Get", { name: opB }, { bearer: tokens["bob"] });
      assert.equal(seen.code, "OK");
      assert.doesNotMatch(JSON.stringify(seen.body), /"done":\s*true/);
    });

    it(`${transport}: B's id under A's parent is NOT_FOUND for A, and leaves B's operation running`, async () => {
      const idB = opB.split("/").pop()!;
      const disguised = `${A}/operations/${idB}`;
      for (const rpc of ["Get", "Wait", "Cancel", "Delete"] as const) {
        const outcome = await call(t, transport, rpc, { name: disguised, timeoutMs: 1 }, { bearer: tokens["alice"] });
        assert.equal(outcome.code, "NOT_FOUND", rpc);
      }
      const seen = await call(t, transport, "Get", { name: opB }, { bearer: tokens["bob"] });
      assert.equal(seen.code, "OK");
      assert.doesNotMatch(JSON.stringify(seen.body), /"done":\s*true|cancel/i, "not cancelled, not deleted");
    });

    it(`${transport}: lists, filters and page tokens stay inside the tenant; Wait on B's operation is denied at once`, async () => {
      const alice: Creds = { bearer: tokens["alice"] };
      const extra = await call(t, transport, "Run", { parent: A, seconds: 600 }, alice);
      assert.equal(extra.code, "OK");
      const listed = await call(t, transport, "List", { parent: A, pageSize: 1 }, alice);
      assert.equal(listed.code, "OK");
      const pageToken = (listed.body as { nextPageToken?: string }).nextPageToken ?? "";
      assert.notEqual(pageToken, "");
      // A's token on B's parent: denied before the token is read; on another of A's parents: refused.
      assert.equal((await call(t, transport, "List", { parent: B, pageToken }, alice)).code, "PERMISSION_DENIED");
      const moved = await call(t, transport, "List", { parent: "projects/a/locations/y", pageToken }, alice);
      assert.equal(moved.code, "INVALID_ARGUMENT");
      assert.equal(moved.reason, "INVALID_PAGE_TOKEN");
      const forged = await call(t, transport, "List", { parent: A, pageToken: Buffer.from(JSON.stringify({ parent: B })).toString("base64url") }, alice);
      assert.equal(forged.reason, "INVALID_PAGE_TOKEN");
      // A filter naming B's operation finds nothing: the list never leaves A's parent.
      const filtered = await call(t, transport, "List", { parent: A, filter: `name = "${opB}" OR name = "${opA}"` }, alice);
      assert.equal(filtered.code, "OK");
      const names = JSON.stringify(filtered.body);
      assert.ok(names.includes(opA) && !names.includes(opB), names);
      // No list across parents for a tenant: the wildcard parent is not A's.
      assert.equal((await call(t, transport, "List", { parent: "projects/-/locations/-" }, alice)).code, "PERMISSION_DENIED");
      const started = Date.now();
      const wait = await call(t, transport, "Wait", { name: opB, timeoutMs: 30_000 }, alice);
      assert.equal(wait.code, "PERMISSION_DENIED");
      assert.ok(Date.now() - started < 10_000, "a denied Wait does not wait");
    });
  }

  it("every mutation is audited with principal, permission, resource and outcome; no credential is logged", () => {
    const denied = audit.filter((e) => e.outcome === "PERMISSION_DENIED");
    assert.ok(denied.some((e) => e.principal === "user:alice" && e.permission === "longrun.operations.cancel" && e.resource === opB));
    assert.ok(denied.some((e) => e.principal === "user:a-viewer" && e.permission === "longrun.operations.run" && e.resource === A));
    const started = audit.find((e) => e.outcome === "OK" && e.operation === opA);
    assert.deepEqual(started && { ...started, time: "", requestId: typeof started.requestId }, {
      time: "",
      requestId: "string",
      principal: "user:alice",
      method: "longrun.test.v1.Scoped.Run",
      permission: "longrun.operations.run",
      resource: A,
      outcome: "OK",
      operation: opA,
    });
    assert.ok(!audit.some((e) => e.method.endsWith("GetOperation") || e.method.endsWith("ListOperations")), "reads are not audited");
    const everything = JSON.stringify(audit) + t.logged.join("\n");
    for (const secret of [KEY_A, KEY_VIEWER, tokens["alice"]!, tokens["bob"]!]) assert.ok(!everything.includes(secret));
  });
});

interface Target {
  name?: string;
  parent?: string;
  seconds?: number;
  pageSize?: number;
  pageToken?: string;
  filter?: string;
  timeoutMs?: number;
}

const ops = Operations.method;

/** One RPC over one transport with the given credentials. */
async function call(t: TestServer, transport: Transport, rpc: Rpc, target: Target, creds: Creds): Promise<Outcome> {
  return transport === "grpc" ? grpcCall(t, rpc, target, creds) : restCall(t, rpc, target, creds);
}

function grpcRequest(rpc: Rpc, target: Target): { method: DescMethod; bytes: Uint8Array } {
  const timeout = target.timeoutMs === undefined ? undefined : durationFromMs(target.timeoutMs);
  switch (rpc) {
    case "Get": return { method: ops.getOperation, bytes: toBinary(ops.getOperation.input, create(ops.getOperation.input, { name: target.name })) };
    case "Wait": return { method: ops.waitOperation, bytes: toBinary(ops.waitOperation.input, create(ops.waitOperation.input, { name: target.name, timeout })) };
    case "Cancel": return { method: ops.cancelOperation, bytes: toBinary(ops.cancelOperation.input, create(ops.cancelOperation.input, { name: target.name })) };
    case "Delete": return { method: ops.deleteOperation, bytes: toBinary(ops.deleteOperation.input, create(ops.deleteOperation.input, { name: target.name })) };
    case "List":
      return {
        method: ops.listOperations,
        bytes: toBinary(ops.listOperations.input, create(ops.listOperations.input, { name: target.parent, pageSize: target.pageSize, pageToken: target.pageToken, filter: target.filter })),
      };
    case "Run":
      return { method: Scoped.method.run, bytes: toBinary(Scoped.method.run.input, create(Scoped.method.run.input, { parent: target.parent, duration: durationFromMs((target.seconds ?? 0) * 1000) })) };
  }
}

async function grpcCall(t: TestServer, rpc: Rpc, target: Target, creds: Creds): Promise<Outcome> {
  const { method, bytes } = grpcRequest(rpc, target);
  const metadata = new grpc.Metadata();
  if (creds.apiKey) metadata.set("x-goog-api-key", creds.apiKey);
  if (creds.bearer) metadata.set("authorization", `Bearer ${creds.bearer}`);
  return new Promise((resolve) => {
    t.grpc.client.makeUnaryRequest(
      `/${method.parent.typeName}/${method.name}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(bytes),
      metadata,
      {},
      (err, response) => {
        if (!err) {
          const decoded = method.output.typeName === OperationSchema.typeName ? fromBinary(OperationSchema, response as Buffer) : undefined;
          const body = rpc === "List" ? listJson(response as Buffer) : decoded ? (rpc === "Run" ? decoded.name : { name: decoded.name, done: decoded.done }) : {};
          resolve({ code: "OK", reason: undefined, message: "", metadata: {}, body });
          return;
        }
        const { errorInfo } = withStatus(err);
        resolve({ code: codeName(err.code as number as Code), reason: errorInfo?.reason, message: err.details, metadata: { ...(errorInfo?.metadata ?? {}) } });
      },
    );
  });
}

function listJson(bytes: Buffer): unknown {
  const list = fromBinary(ops.listOperations.output, bytes);
  return { operations: list.operations.map((o) => ({ name: o.name })), nextPageToken: list.nextPageToken };
}

async function restCall(t: TestServer, rpc: Rpc, target: Target, creds: Creds): Promise<Outcome> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (creds.apiKey) headers["x-goog-api-key"] = creds.apiKey;
  if (creds.bearer) headers["authorization"] = `Bearer ${creds.bearer}`;
  const timeout = target.timeoutMs === undefined ? undefined : `${target.timeoutMs / 1000}s`;
  const query = new URLSearchParams();
  if (target.pageSize) query.set("pageSize", String(target.pageSize));
  if (target.pageToken) query.set("pageToken", target.pageToken);
  if (target.filter) query.set("filter", target.filter);
  const [method, path, body]: [string, string, unknown] =
    rpc === "Get" ? ["GET", `/v1/${target.name}`, undefined]
    : rpc === "Wait" ? ["POST", `/v1/${target.name}:wait`, timeout ? { timeout } : {}]
    : rpc === "Cancel" ? ["POST", `/v1/${target.name}:cancel`, {}]
    : rpc === "Delete" ? ["DELETE", `/v1/${target.name}`, undefined]
    : rpc === "List" ? ["GET", `/v1/${target.parent}/operations${query.size ? `?${query}` : ""}`, undefined]
    : ["POST", `/v1/${target.parent}:run`, { duration: `${target.seconds ?? 0}s` }];
  const res = await fetch(t.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json()) as { error?: { status: string; message: string; details?: { "@type": string; reason?: string; metadata?: Record<string, string> }[] } } & Record<string, unknown>;
  if (res.ok) return { code: "OK", reason: undefined, message: "", metadata: {}, body: rpc === "Run" ? json["name"] : json };
  const info = json.error?.details?.find((d) => d["@type"].endsWith("google.rpc.ErrorInfo"));
  return {
    code: json.error?.status ?? `HTTP ${res.status}`,
    reason: info?.reason,
    message: json.error?.message ?? "",
    metadata: info?.metadata ?? {},
    challenge: res.headers.get("www-authenticate"),
  };
}
