/** The server's security settings end to end: refusals at start-up, an application's own IAM, scopes, mutual TLS, ctx.principal, the CLI. */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyUnpack, durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations, OperationSchema } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { RunMetadataSchema, RunResponseSchema, Scoped } from "../../src/gen/longrun/test/v1/scoped_pb.js";
import { Code } from "../../src/core/code.js";
import { defineMethod, hashApiKey, RpcError, startServer, type AuthConfig, type Endpoint } from "../../src/index.js";
import { SqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { methods as demoMethods } from "../../src/demo/index.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { makeCertificates, type Certificates } from "../support/certificates.js";
import { testIssuer } from "../support/jwt.js";
import { spawnServer } from "../support/process.js";
import { runCli } from "../cli/run.js";

const KEY = "lr_server_test_key";
const keyAuth = (role = "roles/longrun.editor"): AuthConfig => ({
  apiKeys: [{ sha256: hashApiKey(KEY), principal: "serviceAccount:ci@example" }],
  bindings: [{ role, members: ["serviceAccount:ci@example"], resource: "*" }],
});

function freshStore(): SqliteStore {
  return SqliteStore.open(join(mkdtempSync(join(tmpdir(), "longrun-sec-")), "longrun.db"));
}

interface Answer {
  code: Code;
  reason: string | undefined;
  bytes: Buffer | undefined;
}

function callGrpc(client: grpc.Client, path: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
  return new Promise((resolve) =>
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(body), metadata, {}, (err, response) => {
      if (!err) return resolve({ code: Code.OK, reason: undefined, bytes: response as Buffer });
      const bin = err.metadata?.get("grpc-status-details-bin")[0];
      const info = bin ? fromBinary(StatusSchema, bin as Buffer).details.find((d) => d.typeUrl.endsWith("ErrorInfo")) : undefined;
      resolve({ code: err.code as number as Code, reason: info ? anyUnpack(info, ErrorInfoSchema)?.reason : undefined, bytes: undefined });
    }),
  );
}

const sleepPath = `/${Demo.typeName}/Sleep`;
const getPath = `/${Operations.typeName}/GetOperation`;
const sleep0 = toBinary(Demo.method.sleep.input, create(Demo.method.sleep.input, { duration: durationFromMs(0) }));
const getOf = (name: string) => toBinary(Operations.method.getOperation.input, create(Operations.method.getOperation.input, { name }));

describe("start-up refusals", () => {
  it("auth without TLS on an address beyond loopback is refused, unless insecure; with TLS it starts", async () => {
    for (const host of ["0.0.0.0", "::", "10.1.2.3"]) {
      await assert.rejects(
        startServer({ store: freshStore(), methods: demoMethods, auth: keyAuth(), grpc: { host, port: 0 }, http: false }),
        /auth is on but TLS is not: refusing to listen on/,
      );
    }
    const insecure = await startServer({ store: freshStore(), methods: demoMethods, auth: keyAuth(), insecure: true, grpc: { host: "0.0.0.0", port: 0 }, http: false });
    await insecure.close();
    const certs = await makeCertificates();
    try {
      const tls = await startServer({ store: freshStore(), methods: demoMethods, auth: keyAuth(), tls: { cert: certs.serverCertPem, key: certs.serverKeyPem }, grpc: false, http: { host: "0.0.0.0", port: 0 } });
      assert.match(tls.httpUrl ?? "", /^https:\/\//);
      await tls.close();
    } finally {
      certs.remove();
    }
    // Loopback needs no TLS: the demo set-up.
    const local = await startServer({ store: freshStore(), methods: demoMethods, auth: keyAuth(), grpc: { host: "127.0.0.1", port: 0 }, http: { host: "localhost", port: 0 } });
    await local.close();
  });

  it("an extra endpoint declaring no permission, a bad auth file, or authorize without auth is refused", async () => {
    const undeclared: Endpoint = { method: Operations.method.getOperation, httpRules: [], grpc: true, invoke: async () => create(OperationSchema) };
    const { access: _, ...withoutAccess } = undeclared;
    await assert.rejects(
      startServer({ store: freshStore(), methods: demoMethods, auth: keyAuth(), grpc: { host: "127.0.0.1", port: 0 }, http: false, extraEndpoints: () => [withoutAccess] }),
      /declares no permission/,
    );
    await assert.rejects(
      startServer({ store: freshStore(), methods: demoMethods, auth: { bindings: [{ role: "roles/nope", members: ["user:a"], resource: "*" }] }, grpc: { host: "127.0.0.1", port: 0 }, http: false }),
      /unknown role "roles\/nope"/,
    );
    await assert.rejects(
      startServer({ store: freshStore(), methods: demoMethods, authorize: () => true, grpc: { host: "127.0.0.1", port: 0 }, http: false }),
      /authorize needs auth/,
    );

    // A method permission naming no served method is most likely a typo: said, not silently ignored.
    const logged: string[] = [];
    const typo = await startServer({
      store: freshStore(),
      methods: demoMethods,
      auth: keyAuth(),
      methodPermissions: { "longrun.demo.v1.Demo.Slep": "longrun.demo.sleep" },
      grpc: { host: "127.0.0.1", port: 0 },
      http: false,
      log: (message) => logged.push(message),
    });
    await typo.close();
    assert.ok(logged.some((m) => m.includes("longrun.demo.v1.Demo.Slep") && m.includes("does not serve")), logged.join("\n"));
  });
});

describe("an application's own IAM, scopes and who started what", () => {
  let t: TestServer;
  const asked: string[] = [];
  const principals: (string | undefined)[] = [];
  let issuer: Awaited<ReturnType<typeof testIssuer>>;
  const run = defineMethod({
    method: Scoped.method.run,
    response: RunResponseSchema,
    metadata: RunMetadataSchema,
    async handler(request, ctx) {
      principals.push(ctx.principal);
      return { parent: request.parent };
    },
  });

  before(async () => {
    issuer = await testIssuer();
    const dir = mkdtempSync(join(tmpdir(), "longrun-sec-jwks-"));
    writeFileSync(join(dir, "jwks.json"), JSON.stringify(issuer.jwks));
    writeFileSync(
      join(dir, "auth.yaml"),
      [
        "apiKeys:",
        `  - sha256: "${hashApiKey(KEY)}"`,
        '    principal: "serviceAccount:ci@example"',
        "jwt:",
        "  jwks: ./jwks.json",
        `  issuer: "${issuer.issuer}"`,
        `  audience: "${issuer.audience}"`,
        "  methodScopes:",
        "    longrun.test.v1.Scoped.Run: [\"https://www.googleapis.com/auth/cloud-platform\"]",
      ].join("\n"),
    );
    t = await startTestServer({
      store: freshStore(),
      methods: [run],
      names: { parent: "projects/*/locations/*" },
      auth: join(dir, "auth.yaml"),
      audit: () => undefined,
      authorize: async (principal, permission, resource) => {
        asked.push(`${principal} ${permission} ${resource}`);
        if (resource.startsWith("projects/boom")) throw new Error("the IAM backend is down");
        if (resource.startsWith("projects/quota")) throw new RpcError(Code.RESOURCE_EXHAUSTED, "IAM quota");
        return resource.startsWith("projects/mine");
      },
    });
  });
  after(() => t.close());

  const runBody = (parent: string) => toBinary(Scoped.method.run.input, create(Scoped.method.run.input, { parent }));
  const runPath = `/${Scoped.typeName}/Run`;

  it("the hook is asked (principal, permission, resource) once per call and decides; what it throws is answered safely", async () => {
    asked.length = 0;
    const ok = await callGrpc(t.grpc.client, runPath, runBody("projects/mine/locations/x"), { "x-goog-api-key": KEY });
    assert.equal(ok.code, Code.OK);
    assert.deepEqual(asked, ["serviceAccount:ci@example longrun.operations.run projects/mine/locations/x"]);
    const name = fromBinary(OperationSchema, ok.bytes!).name;
    asked.length = 0;
    assert.equal((await callGrpc(t.grpc.client, getPath, getOf(name), { "x-goog-api-key": KEY })).code, Code.OK);
    assert.deepEqual(asked, [`serviceAccount:ci@example longrun.operations.get ${name}`]);
    assert.equal((await callGrpc(t.grpc.client, runPath, runBody("projects/other/locations/x"), { "x-goog-api-key": KEY })).code, Code.PERMISSION_DENIED);
    const boom = await callGrpc(t.grpc.client, runPath, runBody("projects/boom/locations/x"), { "x-goog-api-key": KEY });
    assert.equal(boom.code, Code.INTERNAL);
    assert.ok(t.logged.some((l) => l.includes("the IAM backend is down")));
    assert.equal((await callGrpc(t.grpc.client, runPath, runBody("projects/quota/locations/x"), { "x-goog-api-key": KEY })).code, Code.RESOURCE_EXHAUSTED);
  });

  it("a method's scopes: a token without one is ACCESS_TOKEN_SCOPE_INSUFFICIENT; with one it runs; API keys carry none to check", async () => {
    const noScope = await callGrpc(t.grpc.client, runPath, runBody("projects/mine/locations/x"), { authorization: `Bearer ${await issuer.token({ scope: "openid email" })}` });
    assert.equal(noScope.code, Code.PERMISSION_DENIED);
    assert.equal(noScope.reason, "ACCESS_TOKEN_SCOPE_INSUFFICIENT");
    const scoped = await callGrpc(t.grpc.client, runPath, runBody("projects/mine/locations/x"), {
      authorization: `Bearer ${await issuer.token({ sub: "carol", scope: "openid https://www.googleapis.com/auth/cloud-platform" })}`,
    });
    assert.equal(scoped.code, Code.OK);
    // Other methods have no scopes configured: any valid token reads.
    const name = fromBinary(OperationSchema, scoped.bytes!).name;
    assert.equal((await callGrpc(t.grpc.client, getPath, getOf(name), { authorization: `Bearer ${await issuer.token({ scope: "" })}` })).code, Code.OK);
  });

  it("the handler sees the principal that started its operation (ctx.principal)", async () => {
    principals.length = 0;
    const started = await callGrpc(t.grpc.client, runPath, runBody("projects/mine/locations/y"), { authorization: `Bearer ${await issuer.token({ sub: "dave", scope: "https://www.googleapis.com/auth/cloud-platform" })}` });
    const name = fromBinary(OperationSchema, started.bytes!).name;
    const waitBody = toBinary(Operations.method.waitOperation.input, create(Operations.method.waitOperation.input, { name, timeout: durationFromMs(10_000) }));
    const waited = await callGrpc(t.grpc.client, `/${Operations.typeName}/WaitOperation`, waitBody, { "x-goog-api-key": KEY });
    assert.equal(fromBinary(OperationSchema, waited.bytes!).done, true);
    assert.ok(principals.includes("user:dave"), JSON.stringify(principals));
  });
});

describe("mutual TLS: the client certificate is the principal", () => {
  let certs: Certificates;
  let t: TestServer;
  before(async () => {
    certs = await makeCertificates({ clientCommonName: "worker-1" });
    t = await startTestServer({
      store: freshStore(),
      tls: { cert: certs.serverCertPem, key: certs.serverKeyPem, clientCa: certs.caPem },
      auth: { bindings: [{ role: "roles/longrun.editor", members: ["certificate:worker-1"], resource: "*" }] },
      audit: () => undefined,
      http: false,
    });
  });
  after(async () => {
    await t.close();
    certs.remove();
  });

  it("a certificate bound in the file may call; another of the same CA is denied", async () => {
    const dial = (cert: string, key: string) =>
      new grpc.Client(t.server.grpcAddress ?? "", grpc.credentials.createSsl(Buffer.from(certs.caPem), Buffer.from(key), Buffer.from(cert)));
    const worker = dial(certs.clientCertPem, certs.clientKeyPem);
    const started = await callGrpc(worker, sleepPath, sleep0);
    assert.equal(started.code, Code.OK);
    const name = fromBinary(OperationSchema, started.bytes!).name;
    assert.equal((await callGrpc(worker, getPath, getOf(name))).code, Code.OK);
    const other = await certs.issueClient("worker-2");
    const stranger = dial(other.certPem, other.keyPem);
    const denied = await callGrpc(stranger, getPath, getOf(name));
    assert.equal(denied.code, Code.PERMISSION_DENIED);
    worker.close();
    stranger.close();
  });
});

describe("longrun serve --auth, and the CLI's --api-key", () => {
  it("refuses calls without the key, serves them with it, and writes audit lines without the key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "longrun-sec-cli-"));
    writeFileSync(join(dir, "auth.json"), JSON.stringify(keyAuth()));
    const server = await spawnServer(["--demo", "--auth", join(dir, "auth.json")], { LONGRUN_STORE: `sqlite:${join(dir, "l.db")}` });
    try {
      const anonymous = await runCli(["start", "demo.Sleep", "--data", '{"duration":"0s"}', "--server", server.grpcAddress]);
      assert.equal(anonymous.code, Code.UNAUTHENTICATED, anonymous.stderr);
      const keyed = await runCli(["start", "demo.Sleep", "--data", '{"duration":"0s"}', "--wait", "--server", server.grpcAddress], { env: { LONGRUN_API_KEY: KEY } });
      assert.equal(keyed.code, 0, keyed.stderr);
      const wrongKey = await runCli(["list", "--server", server.grpcAddress, "--api-key", "lr_wrong"]);
      assert.equal(wrongKey.code, Code.UNAUTHENTICATED);
      await new Promise((r) => setTimeout(r, 100));
      const audit = server.output().split("\n").filter((l) => l.includes('"type":"longrun.audit"'));
      const records = audit.map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(records.some((r) => r["principal"] === "serviceAccount:ci@example" && r["outcome"] === "OK"), server.output());
      // Records of the server's logger (pino, at info), not lines of their own.
      for (const r of records) assert.deepEqual([r["level"], r["msg"], r["name"], typeof r["time"]], [30, "audit", "longrun", "number"], JSON.stringify(r));
      assert.ok(!server.output().includes(KEY) && !server.output().includes("lr_wrong"), "no key in the server's output");
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
  });
});
