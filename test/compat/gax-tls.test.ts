// Google's own clients, unchanged, call a longrun server that has TLS and auth on: google-gax 5's
// OperationsClient and a long-running call wired as generated clients wire it, the official Route
// Optimization client (@googlemaps/routeoptimization) and the official Storage Transfer client
// (@google-cloud/storage-transfer, on its own google-gax 4), over gRPC and REST.
//
// Google clients send call credentials only over TLS, so nothing here is offline-faked: each client gets a
// real google-auth-library credential (`new GoogleAuth({ apiKey })` → `x-goog-api-key`; an OAuth2Client
// holding a JWT as its access token → `authorization: Bearer …`) and no `sslCreds`, so gax builds
// `createSsl()` + `createFromGoogleCredential(auth)` itself, and https REST requests through auth.fetch.
// The clients trust the throwaway CA (test/support/certificates.ts) only through the environment
// (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH for grpc-js, NODE_EXTRA_CA_CERTS for Node's TLS, read at process start),
// so they run in a child process (./tls-clients.ts) that makes the calls of a plan and prints what each
// returned; this process runs the servers and asserts, including on the audit log of each server.
//
// Clients connect to `localhost:<port>` (a DNS name of the certificate's SANs, as an apiEndpoint is) except
// the Route Optimization ones, which use `127.0.0.1` (an IP SAN): gax dials `${apiEndpoint}:${port}` and
// grpc-js and Node verify the certificate against that host.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as gax from "google-gax";
import { fromJsonString } from "@bufbuild/protobuf";
import { hashApiKey, type AuditEntry, type AuthConfig, type Binding, type ServerOptions } from "../../src/index.js";
import { routeOptimizationOptions } from "../../examples/route-optimization/server.js";
import { OptimizeToursResponseSchema } from "../../examples/route-optimization/gen/google/maps/routeoptimization/v1/route_optimization_service_pb.js";
import { storageTransferOptions } from "../../examples/storage-transfer/server.js";
import { makeCertificates, type Certificates } from "../support/certificates.js";
import { testIssuer, type TestIssuer } from "../support/jwt.js";
import { startTestServer, type TestServer } from "../support/server.js";
import type { Call, CallError, Credential, Outcome, Plan, PromiseOf, Transport } from "./tls-clients.js";

const CANCELLED = 1;
const PERMISSION_DENIED = 7;
const UNAVAILABLE = 14;
const UNAUTHENTICATED = 16;
/** The HTTP status each code is answered with over REST (AIP-193). */
const HTTP_STATUS: Record<number, number> = { [PERMISSION_DENIED]: 403, [UNAUTHENTICATED]: 401 };
const TRANSPORTS: readonly Transport[] = ["grpc", "rest"];
/** Generous: a child process loads tsx, gax and three client libraries before its first call. */
const HOOK = { timeout: 120_000 };

const CHILD = fileURLToPath(new URL("./tls-clients.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

// ---- principals and their credentials ----------------------------------------------------------------------

/** Fresh random keys each run (only their hashes reach the servers' auth config). */
const KEY_CI = `lr_ci_${randomBytes(18).toString("base64url")}`;
const KEY_VIEWER = `lr_viewer_${randomBytes(18).toString("base64url")}`;
const CI = "serviceAccount:ci@example";
const ALICE = "user:alice"; // a JWT with sub "alice"
const VIEWER = "user:viewer";
const CAROL = "user:carol"; // a JWT with sub "carol"
const DAVE = "user:dave"; // a JWT with sub "dave"

/** The credentials every plan may use, by name; `alice`/`carol`/`dave`/`expired` are JWTs of the test issuer. */
async function credentials(issuer: TestIssuer): Promise<Record<string, Credential>> {
  return {
    ci: { apiKey: KEY_CI },
    viewer: { apiKey: KEY_VIEWER },
    alice: { bearer: await issuer.token({ sub: "alice" }) },
    carol: { bearer: await issuer.token({ sub: "carol" }) },
    dave: { bearer: await issuer.token({ sub: "dave" }) },
    none: { none: true },
    badKey: { apiKey: `lr_unknown_${randomBytes(18).toString("base64url")}` },
    // Expired an hour ago (beyond the 30 s clock tolerance); the client itself believes it is valid.
    expired: { bearer: await issuer.token({ sub: "alice" }, { expiresInSeconds: -3600 }) },
  };
}

/** Both kinds of credential of a principal allowed to work: an API key, and a JWT. */
const WORKERS = [
  { as: "ci", principal: CI },
  { as: "alice", principal: ALICE },
] as const;

// ---- servers -------------------------------------------------------------------------------------------------

interface Fixture {
  certs: Certificates;
  issuer: TestIssuer;
  jwksPath: string;
  credentials: Record<string, Credential>;
}

let fixture: Fixture;

before(async () => {
  const certs = await makeCertificates();
  const issuer = await testIssuer();
  const jwksPath = join(certs.dir, "jwks.json");
  writeFileSync(jwksPath, JSON.stringify(issuer.jwks));
  fixture = { certs, issuer, jwksPath, credentials: await credentials(issuer) };
});
after(() => fixture?.certs.remove());

/** A longrun server with TLS (the throwaway CA's server certificate) and auth (keys, JWTs, `bindings`). */
async function tlsServer(options: Partial<ServerOptions>, bindings: Binding[]): Promise<{ t: TestServer; audit: AuditEntry[] }> {
  const { certs, issuer, jwksPath } = fixture;
  const auth: AuthConfig = {
    apiKeys: [
      { sha256: hashApiKey(KEY_CI), principal: CI },
      { sha256: hashApiKey(KEY_VIEWER), principal: VIEWER },
    ],
    jwt: { jwks: jwksPath, issuer: issuer.issuer, audience: issuer.audience },
    bindings,
  };
  const audit: AuditEntry[] = [];
  const t = await startTestServer({ ...options, tls: { cert: certs.serverCertPem, key: certs.serverKeyPem }, auth, audit: (e) => audit.push(e) });
  assert.match(t.url, /^https:\/\//, "REST is served over TLS");
  return { t, audit };
}

/** The server's gRPC and REST ports as a client dials them: `host:port`. */
function target(t: TestServer, host: string): { grpc: string; rest: string } {
  const port = (address: string) => address.slice(address.lastIndexOf(":") + 1);
  return { grpc: `${host}:${port(t.server.grpcAddress!)}`, rest: `${host}:${port(t.url)}` };
}

// ---- the client process -------------------------------------------------------------------------------------

/** The environment of the client process: ours without Google/gRPC settings, plus the CA when `trustCa`. */
function clientEnv(trustCa: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("GOOGLE_") && k !== "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH" && k !== "NODE_EXTRA_CA_CERTS") env[k] = v;
  }
  if (trustCa) {
    env["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"] = fixture.certs.files.ca;
    env["NODE_EXTRA_CA_CERTS"] = fixture.certs.files.ca;
  }
  return env;
}

/** Runs the calls in a child process (./tls-clients.ts); the outcomes by call id. */
async function runClients(targets: Plan["targets"], calls: (Call | PromiseOf)[], { trustCa = true } = {}): Promise<Map<string, Outcome>> {
  const plan: Plan = { targets, credentials: fixture.credentials, calls };
  const child = spawn(process.execPath, ["--import", "tsx", CHILD], { cwd: ROOT, env: clientEnv(trustCa), stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill("SIGKILL"), 100_000);
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  child.stdin.end(JSON.stringify(plan)); // the secrets go through stdin, never argv
  const code = await exited;
  clearTimeout(killer);
  assert.equal(code, 0, `the client process failed (${code}):\n${stderr}`);
  const outcomes = JSON.parse(stdout) as Outcome[];
  assert.deepEqual(
    outcomes.map((o) => o.id),
    calls.map((c) => c.id),
    "one outcome a call",
  );
  return new Map(outcomes.map((o) => [o.id, o]));
}

// ---- reading outcomes ---------------------------------------------------------------------------------------

type Success = Extract<Outcome, { ok: true }>;

function succeeded(outcomes: Map<string, Outcome>, id: string): Success {
  const outcome = outcomes.get(id);
  assert.ok(outcome, `no call ${id}`);
  assert.ok(outcome.ok, `${id} failed: ${outcome.ok ? "" : JSON.stringify(outcome.error)}`);
  return outcome;
}

function failed(outcomes: Map<string, Outcome>, id: string): CallError {
  const outcome = outcomes.get(id);
  assert.ok(outcome, `no call ${id}`);
  assert.ok(!outcome.ok, `${id} succeeded, but should have failed`);
  return outcome.error;
}

/** The promise() of an operation-starting call, which must have resolved: [response, metadata, rawOperation]. */
function resolved(outcome: Success): unknown[] {
  assert.ok(outcome.promise, `${outcome.id}: promise() was not awaited`);
  assert.ok(outcome.promise.ok, `${outcome.id}: promise() rejected: ${outcome.promise.ok ? "" : JSON.stringify(outcome.promise.error)}`);
  return outcome.promise.value as unknown[];
}

interface RpcError {
  code: number;
  reason: string | undefined;
  domain: string | undefined;
  metadata: Record<string, string>;
}

/**
 * How a client library's REST transport surfaces an error answer:
 * - `gaxios` — google-gax 5.0.8 (gax's OperationsClient and Sleep, @googlemaps/routeoptimization): its REST
 *   stub sends the request through `auth.fetch()` of the real google-auth-library credential, and gaxios
 *   rejects every non-2xx answer before gax's own decoder sees it. The call fails with a GaxiosError whose
 *   `code` and `status` are the HTTP status (401, 403) — not 16 or 7 — and whose message is the server's
 *   AIP-193 JSON envelope. (test/compat/gax-clients.ts names the gax change that fixes this upstream; here
 *   the client is used as shipped.) gax's own `GoogleError.parseHttpError` reads that envelope as the code
 *   and ErrorInfo a gRPC caller gets; the assertions below go through it.
 * - `gax` — google-gax 4.6.1 (@google-cloud/storage-transfer): its REST stub asks the credential for
 *   headers and fetches with node-fetch itself, so gax decodes the error body: a GoogleError with code 7
 *   or 16 and ErrorInfo, as over gRPC.
 */
type RestErrors = "gaxios" | "gax";

/**
 * The google.rpc error a call failed with, as the client library surfaced it. gRPC: a GoogleError with the
 * numeric code, and ErrorInfo's reason/domain/metadata decoded by gax from the status details. REST: see
 * RestErrors.
 */
function rpcError(error: CallError, transport: Transport, restErrors: RestErrors = "gaxios"): RpcError {
  if (transport === "grpc" || restErrors === "gax") {
    assert.equal(typeof error.code, "number", `a google.rpc code: ${JSON.stringify(error)}`);
    return { code: error.code as number, reason: error.reason, domain: error.domain, metadata: error.metadata ?? {} };
  }
  assert.equal(error.type, "GaxiosError", JSON.stringify(error));
  assert.equal(error.code, error.status, "gaxios puts the HTTP status in code");
  const parsed = gax.GoogleError.parseHttpError(JSON.parse(error.message)) as gax.GoogleError & { errorInfoMetadata?: Record<string, string> };
  assert.equal(HTTP_STATUS[parsed.code!], error.status, `HTTP ${error.status} for code ${parsed.code}`);
  return { code: parsed.code!, reason: parsed.reason, domain: parsed.domain, metadata: { ...parsed.errorInfoMetadata } };
}

function assertUnauthenticated(outcomes: Map<string, Outcome>, id: string, transport: Transport, reason: string, restErrors?: RestErrors): void {
  const err = rpcError(failed(outcomes, id), transport, restErrors);
  assert.equal(err.code, UNAUTHENTICATED, id);
  assert.equal(err.reason, reason, id);
}

function assertDenied(outcomes: Map<string, Outcome>, id: string, transport: Transport, permission: string, resource: string, restErrors?: RestErrors): void {
  const err = rpcError(failed(outcomes, id), transport, restErrors);
  assert.equal(err.code, PERMISSION_DENIED, id);
  assert.equal(err.reason, "IAM_PERMISSION_DENIED", id);
  assert.deepEqual(err.metadata, { permission, resource }, id);
}

/** Audit entries without their time, sorted: comparable with deepEqual. */
function auditRows(entries: readonly Omit<AuditEntry, "time">[]): string[] {
  return entries.map(({ principal, method, permission, resource, outcome, operation }) => JSON.stringify({ principal, method, permission, resource, outcome, operation })).sort();
}

/** Names of the operations a list answered (listOperations → [ops, …]; listOperationsAsync → ops). */
function listedNames(outcome: Success, paged: boolean): string[] {
  const ops = (paged ? (outcome.value as unknown[])[0] : outcome.value) as { name?: string }[];
  return ops.map((op) => op.name ?? "");
}

// ---- 1. google-gax: OperationsClient and a long-running call ------------------------------------------------------

describe("google-gax 5 over TLS with credentials: OperationsClient and Sleep, gRPC and REST", () => {
  let t: TestServer;
  let audit: AuditEntry[];
  let outcomes: Map<string, Outcome>;
  const SLEEP = "longrun.demo.v1.Demo.Sleep";
  const CANCEL = "google.longrunning.Operations.CancelOperation";

  before(async () => {
    ({ t, audit } = await tlsServer({}, [
      { role: "roles/longrun.editor", members: [CI, ALICE], resource: "operations" },
      { role: "roles/longrun.viewer", members: [VIEWER], resource: "operations" },
    ]));
    const calls: (Call | PromiseOf)[] = [];
    for (const transport of TRANSPORTS) {
      const on = { transport } as const;
      for (const { as } of WORKERS) {
        const id = `${transport} ${as}`;
        calls.push(
          { id: `${id} sleep`, client: "demo", ...on, as, method: "sleep", request: { duration: { nanos: 50_000_000 } }, promise: true },
          { id: `${id} get`, client: "operations", ...on, as, method: "getOperation", request: { name: `<<${id} sleep>>` } },
          { id: `${id} list`, client: "operations", ...on, as, method: "listOperations", request: { name: "operations", filter: "done = true" } },
          { id: `${id} long`, client: "demo", ...on, as, method: "sleep", request: { duration: { seconds: 600 } } },
        );
      }
      const long = `<<${transport} ci long>>`;
      calls.push(
        // The viewer reads, but may neither cancel nor start.
        { id: `${transport} viewer get`, client: "operations", ...on, as: "viewer", method: "getOperation", request: { name: long } },
        { id: `${transport} viewer cancel`, client: "operations", ...on, as: "viewer", method: "cancelOperation", request: { name: long } },
        { id: `${transport} viewer sleep`, client: "demo", ...on, as: "viewer", method: "sleep", request: { duration: { nanos: 1 } } },
        // Missing, unknown and expired credentials, on a read and on a start.
        { id: `${transport} none get`, client: "operations", ...on, as: "none", method: "getOperation", request: { name: long } },
        { id: `${transport} none sleep`, client: "demo", ...on, as: "none", method: "sleep", request: { duration: { nanos: 1 } } },
        { id: `${transport} badKey get`, client: "operations", ...on, as: "badKey", method: "getOperation", request: { name: long } },
        { id: `${transport} badKey cancel`, client: "operations", ...on, as: "badKey", method: "cancelOperation", request: { name: long } },
        { id: `${transport} expired get`, client: "operations", ...on, as: "expired", method: "getOperation", request: { name: long } },
        { id: `${transport} expired sleep`, client: "demo", ...on, as: "expired", method: "sleep", request: { duration: { nanos: 1 } } },
      );
      for (const { as } of WORKERS) {
        calls.push(
          { id: `${transport} ${as} cancel`, client: "operations", ...on, as, method: "cancelOperation", request: { name: `<<${transport} ${as} long>>` } },
          { id: `${transport} ${as} cancelled`, promiseOf: `${transport} ${as} long` },
        );
      }
    }
    outcomes = await runClients({ demo: target(t, "localhost") }, calls);
  }, HOOK);
  after(() => t?.close());

  for (const transport of TRANSPORTS) {
    for (const { as } of WORKERS) {
      it(`${transport}, ${as === "ci" ? "API key" : "JWT"}: Sleep started through gax, promise() resolves; getOperation and listOperations see it`, () => {
        const sleep = succeeded(outcomes, `${transport} ${as} sleep`);
        assert.match(sleep.name ?? "", /^operations\/[A-Za-z0-9_-]{30}$/);
        const [response, metadata, raw] = resolved(sleep) as [{ slept: unknown }, { progressPercent: number }, { done: boolean; name: string }];
        assert.deepEqual(response.slept, { nanos: 50_000_000 });
        assert.equal(metadata.progressPercent, 100);
        assert.equal(raw.done, true);
        assert.equal(raw.name, sleep.name);

        const [got] = succeeded(outcomes, `${transport} ${as} get`).value as [{ name: string; done: boolean; response: { type_url: string } }];
        assert.equal(got.name, sleep.name);
        assert.equal(got.done, true);
        assert.equal(got.response.type_url, "type.googleapis.com/longrun.demo.v1.SleepResponse");
        assert.ok(listedNames(succeeded(outcomes, `${transport} ${as} list`), true).includes(sleep.name!), "listed");
      });

      it(`${transport}, ${as === "ci" ? "API key" : "JWT"}: cancelOperation succeeds; the operation's promise() rejects CANCELLED`, () => {
        succeeded(outcomes, `${transport} ${as} cancel`);
        const cancelled = outcomes.get(`${transport} ${as} cancelled`);
        assert.ok(cancelled && !cancelled.ok, "promise() rejected");
        assert.equal(cancelled.error.code, CANCELLED, cancelled.error.message);
      });
    }

    it(`${transport}: no credentials, an unknown key and an expired JWT are UNAUTHENTICATED (16) with their reason`, () => {
      assertUnauthenticated(outcomes, `${transport} none get`, transport, "CREDENTIALS_MISSING");
      assertUnauthenticated(outcomes, `${transport} none sleep`, transport, "CREDENTIALS_MISSING");
      assertUnauthenticated(outcomes, `${transport} badKey get`, transport, "API_KEY_INVALID");
      assertUnauthenticated(outcomes, `${transport} badKey cancel`, transport, "API_KEY_INVALID");
      assertUnauthenticated(outcomes, `${transport} expired get`, transport, "ACCESS_TOKEN_EXPIRED");
      assertUnauthenticated(outcomes, `${transport} expired sleep`, transport, "ACCESS_TOKEN_EXPIRED");
    });

    it(`${transport}: a viewer reads, but cancelling or starting is PERMISSION_DENIED (7)`, () => {
      const long = succeeded(outcomes, `${transport} ci long`).name!;
      const [got] = succeeded(outcomes, `${transport} viewer get`).value as [{ name: string }];
      assert.equal(got.name, long);
      assertDenied(outcomes, `${transport} viewer cancel`, transport, "longrun.operations.cancel", long);
      assertDenied(outcomes, `${transport} viewer sleep`, transport, "longrun.operations.sleep", "operations");
    });
  }

  it("the audit log holds every mutation with its caller's principal, and nothing of unauthenticated calls", () => {
    const expected: Omit<AuditEntry, "time">[] = [];
    const sleep = (principal: string, outcome: string, operation?: string) =>
      expected.push({ principal, method: SLEEP, permission: "longrun.operations.sleep", resource: "operations", outcome, ...(operation ? { operation } : {}) });
    const cancel = (principal: string, resource: string, outcome: string) =>
      expected.push({ principal, method: CANCEL, permission: "longrun.operations.cancel", resource, outcome });
    for (const transport of TRANSPORTS) {
      for (const { as, principal } of WORKERS) {
        sleep(principal, "OK", succeeded(outcomes, `${transport} ${as} sleep`).name);
        sleep(principal, "OK", succeeded(outcomes, `${transport} ${as} long`).name);
        cancel(principal, succeeded(outcomes, `${transport} ${as} long`).name!, "OK");
      }
      cancel(VIEWER, succeeded(outcomes, `${transport} ci long`).name!, "PERMISSION_DENIED");
      sleep(VIEWER, "PERMISSION_DENIED");
    }
    assert.deepEqual(auditRows(audit), auditRows(expected));
  });

  it("control: without the test CA in its environment, the same client refuses the server (the channel really is verified TLS)", HOOK, async () => {
    const before = audit.length;
    const on = { client: "demo", as: "ci", method: "sleep", request: { duration: { nanos: 1 } } } as const;
    const untrusted = await runClients({ demo: target(t, "localhost") }, [
      { id: "grpc", transport: "grpc", ...on },
      { id: "rest", transport: "rest", ...on },
    ], { trustCa: false });
    const grpcError = failed(untrusted, "grpc");
    assert.equal(grpcError.code, UNAVAILABLE, grpcError.message);
    assert.match(grpcError.message, /unable to verify the first certificate/);
    const restError = failed(untrusted, "rest");
    assert.equal(restError.code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE", restError.message);
    assert.equal(audit.length, before, "no call reached the server's guard");
  });
});

// ---- 2. the official Route Optimization client ----------------------------------------------------------------

describe("@googlemaps/routeoptimization over TLS with credentials, gRPC and REST", () => {
  const PARENT = "projects/p1/locations/us-central1";
  const OTHER = "projects/p2/locations/us-central1";
  const BATCH = "google.maps.routeoptimization.v1.RouteOptimization.BatchOptimizeTours";
  const CREATE = "routeoptimization.operations.create";
  let t: TestServer;
  let audit: AuditEntry[];
  let dir: string;
  let outcomes: Map<string, Outcome>;
  const outputs = new Map<string, string>();

  const model = {
    label: "small",
    model: {
      vehicles: [
        { label: "west", startLocation: { latitude: 48.8, longitude: 2.3 } },
        { label: "east", startLocation: { latitude: 48.8, longitude: 2.5 } },
      ],
      shipments: [
        { label: "near-east", deliveries: [{ arrivalLocation: { latitude: 48.82, longitude: 2.48 } }] },
        { label: "near-west", deliveries: [{ arrivalLocation: { latitude: 48.8, longitude: 2.31 } }] },
      ],
    },
  };

  before(async () => {
    ({ t, audit } = await tlsServer(routeOptimizationOptions, [{ role: "roles/longrun.editor", members: [CI, ALICE], resource: "projects/p1" }]));
    dir = mkdtempSync(join(tmpdir(), "longrun-routes-tls-"));
    const input = join(dir, "input.json");
    writeFileSync(input, JSON.stringify(model));
    const modelConfigs = (id: string) => {
      const output = join(dir, `${id.replaceAll(" ", "-")}.json`);
      outputs.set(id, output);
      return [
        {
          inputConfig: { gcsSource: { uri: pathToFileURL(input).href }, dataFormat: "JSON" },
          outputConfig: { gcsDestination: { uri: pathToFileURL(output).href }, dataFormat: "JSON" },
        },
      ];
    };
    const calls: (Call | PromiseOf)[] = [];
    for (const transport of TRANSPORTS) {
      const on = { client: "routes", transport } as const;
      for (const { as } of WORKERS) {
        const id = `${transport} ${as}`;
        calls.push(
          { id: `${id} batch`, ...on, as, method: "batchOptimizeTours", request: { parent: PARENT, modelConfigs: modelConfigs(`${id} batch`) }, promise: true },
          { id: `${id} check`, ...on, as, method: "checkBatchOptimizeToursProgress", request: `<<${id} batch>>` },
          { id: `${id} get`, ...on, as, method: "getOperation", request: { name: `<<${id} batch>>` } },
          { id: `${id} other project`, ...on, as, method: "batchOptimizeTours", request: { parent: OTHER, modelConfigs: modelConfigs(`${id} other`) } },
        );
        // The real service serves only GetOperation over REST (so does the profile); list over gRPC.
        if (transport === "grpc") calls.push({ id: `${id} list`, ...on, as, method: "listOperationsAsync", request: { name: PARENT, filter: "" } });
      }
      calls.push(
        { id: `${transport} expired batch`, ...on, as: "expired", method: "batchOptimizeTours", request: { parent: PARENT, modelConfigs: modelConfigs(`${transport} expired`) } },
        { id: `${transport} ci get other`, ...on, as: "ci", method: "getOperation", request: { name: `${OTHER}/operations/AAAAAAAAAAAAAAAAAAAAAA` } },
      );
    }
    // The projects/{p} binding names operations under locations/global; the binding on projects/p1 covers it.
    calls.push({ id: "grpc ci project parent", client: "routes", transport: "grpc", as: "ci", method: "batchOptimizeTours", request: { parent: "projects/p1", modelConfigs: modelConfigs("project parent") }, promise: true });
    outcomes = await runClients({ routes: target(t, "127.0.0.1") }, calls);
  }, HOOK);
  after(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const assertOutput = (id: string) => {
    const output = fromJsonString(OptimizeToursResponseSchema, readFileSync(outputs.get(id)!, "utf8"));
    assert.equal(output.requestLabel, "small");
    assert.equal(output.routes.length, 2);
  };

  for (const transport of TRANSPORTS) {
    for (const { as } of WORKERS) {
      it(`${transport}, ${as === "ci" ? "API key" : "JWT"}: batchOptimizeTours → promise() resolves, the output is written; checkBatchOptimizeToursProgress and getOperation`, () => {
        const batch = succeeded(outcomes, `${transport} ${as} batch`);
        assert.match(batch.name ?? "", /^projects\/p1\/locations\/us-central1\/operations\/[A-Za-z0-9_-]+$/);
        const [, , raw] = resolved(batch) as [unknown, unknown, { done: boolean }];
        assert.equal(raw.done, true);
        assertOutput(`${transport} ${as} batch`);

        const checked = succeeded(outcomes, `${transport} ${as} check`).value as { name: string; done: boolean };
        assert.deepEqual([checked.name, checked.done], [batch.name, true]);
        const [got] = succeeded(outcomes, `${transport} ${as} get`).value as [{ name: string; done: boolean; response: { type_url: string } }];
        assert.equal(got.name, batch.name);
        assert.equal(got.done, true);
        assert.equal(got.response.type_url, "type.googleapis.com/google.maps.routeoptimization.v1.BatchOptimizeToursResponse");
        if (transport === "grpc") assert.ok(listedNames(succeeded(outcomes, `${transport} ${as} list`), false).includes(batch.name!), "listed");
      });

      it(`${transport}, ${as === "ci" ? "API key" : "JWT"}: another project's parent is PERMISSION_DENIED, and nothing is written`, () => {
        assertDenied(outcomes, `${transport} ${as} other project`, transport, CREATE, OTHER);
        assert.ok(!existsSync(outputs.get(`${transport} ${as} other`)!));
      });
    }

    it(`${transport}: an expired JWT is UNAUTHENTICATED; another project's operation is PERMISSION_DENIED, not NOT_FOUND`, () => {
      assertUnauthenticated(outcomes, `${transport} expired batch`, transport, "ACCESS_TOKEN_EXPIRED");
      const missing = `${OTHER}/operations/AAAAAAAAAAAAAAAAAAAAAA`;
      assertDenied(outcomes, `${transport} ci get other`, transport, "routeoptimization.operations.get", missing);
    });
  }

  it("the projects/{p} parent: operations under locations/global, covered by the binding on projects/p1", () => {
    const batch = succeeded(outcomes, "grpc ci project parent");
    assert.match(batch.name ?? "", /^projects\/p1\/locations\/global\/operations\//);
    resolved(batch);
    assertOutput("project parent");
  });

  it("the audit log: each start with its principal and operation, each denial with the parent it named", () => {
    const expected: Omit<AuditEntry, "time">[] = [];
    for (const transport of TRANSPORTS) {
      for (const { as, principal } of WORKERS) {
        const operation = succeeded(outcomes, `${transport} ${as} batch`).name;
        expected.push({ principal, method: BATCH, permission: CREATE, resource: PARENT, outcome: "OK", operation });
        expected.push({ principal, method: BATCH, permission: CREATE, resource: OTHER, outcome: "PERMISSION_DENIED" });
      }
    }
    expected.push({ principal: CI, method: BATCH, permission: CREATE, resource: "projects/p1/locations/global", outcome: "OK", operation: succeeded(outcomes, "grpc ci project parent").name });
    assert.deepEqual(auditRows(audit), auditRows(expected));
  });
});

// ---- 3. the official Storage Transfer client ---------------------------------------------------------------------

describe("@google-cloud/storage-transfer (google-gax 4) over TLS with credentials", () => {
  const PROJECT = "tls-project";
  const OTHER = "other-project";
  const JOB = "transferJobs/OPI-tls-1";
  const REST_JOB = "transferJobs/OPI-tls-rest";
  const CAROL_JOB = "transferJobs/OPI-tls-carol";
  const DAVE_JOB = "transferJobs/OPI-tls-dave";
  const SERVICE = "google.storagetransfer.v1.StorageTransferService";
  const OPERATION = (job: string) => new RegExp(`^transferOperations/transferJobs-${job.slice("transferJobs/".length)}-[A-Za-z0-9_-]{30}$`);
  let t: TestServer;
  let audit: AuditEntry[];
  let root: string;
  let outcomes: Map<string, Outcome>;
  const folders = (name: string) => ({ source: join(root, name, "source"), sink: join(root, name, "sink") });
  const job = (name: string, projectId: string, dir: string) => ({
    name,
    projectId,
    status: "ENABLED",
    transferSpec: { posixDataSource: { rootDirectory: folders(dir).source }, posixDataSink: { rootDirectory: folders(dir).sink } },
  });
  const sinkFiles = (dir: string) =>
    existsSync(folders(dir).sink)
      ? readdirSync(folders(dir).sink, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort()
      : [];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "longrun-transfer-tls-"));
    for (const dir of ["grpc", "rest", "carol", "dave"]) {
      mkdirSync(join(folders(dir).source, "sub"), { recursive: true });
      writeFileSync(join(folders(dir).source, "a.txt"), "alpha");
      writeFileSync(join(folders(dir).source, "sub", "b.txt"), "beta");
    }
    // Jobs, and running them, are checked on their project. A transfer operation's name
    // (`transferOperations/…`) carries no project, but the operation belongs to the project its run was
    // authorized on: Get, Cancel, pause/resume are checked there after a denial on the name, and a list on
    // the project its JSON filter names (the profile module's listScope). So a project's bindings are all
    // its workers need; a binding on the collection `transferOperations` covers every project's (the viewer).
    ({ t, audit } = await tlsServer(storageTransferOptions(join(root, "data")), [
      { role: "roles/longrun.editor", members: [CI, ALICE], resource: `projects/${PROJECT}` },
      { role: "roles/longrun.viewer", members: [VIEWER], resource: `projects/${PROJECT}` },
      { role: "roles/longrun.viewer", members: [VIEWER], resource: "transferOperations" },
      // Editors of one project each, and of nothing else.
      { role: "roles/longrun.editor", members: [CAROL], resource: `projects/${PROJECT}` },
      { role: "roles/longrun.editor", members: [DAVE], resource: `projects/${OTHER}` },
    ]));
    const on = { client: "transfer", transport: "grpc" } as const;
    const run = { jobName: JOB, projectId: PROJECT };
    const filter = JSON.stringify({ projectId: PROJECT, jobNames: [JOB] });
    const rest = { client: "transfer", transport: "rest", as: "ci" } as const;
    outcomes = await runClients({ transfer: target(t, "localhost") }, [
      { id: "create", ...on, as: "ci", method: "createTransferJob", request: { transferJob: job(JOB, PROJECT, "grpc") } },
      { id: "get job", ...on, as: "alice", method: "getTransferJob", request: run },
      { id: "run", ...on, as: "alice", method: "runTransferJob", request: run, promise: true },
      { id: "run again", ...on, as: "ci", method: "runTransferJob", request: run, promise: true },
      { id: "check", ...on, as: "ci", method: "checkRunTransferJobProgress", request: "<<run>>" },
      { id: "get operation", ...on, as: "alice", method: "getOperation", request: { name: "<<run>>" } },
      { id: "list", ...on, as: "ci", method: "listOperationsAsync", request: { name: "transferOperations", filter } },
      { id: "viewer get job", ...on, as: "viewer", method: "getTransferJob", request: run },
      { id: "viewer list", ...on, as: "viewer", method: "listOperationsAsync", request: { name: "transferOperations", filter } },
      { id: "viewer run", ...on, as: "viewer", method: "runTransferJob", request: run },
      { id: "create in other project", ...on, as: "ci", method: "createTransferJob", request: { transferJob: job("transferJobs/OPI-tls-other", OTHER, "grpc") } },
      { id: "get job in other project", ...on, as: "alice", method: "getTransferJob", request: { jobName: JOB, projectId: OTHER } },
      { id: "badKey get job", ...on, as: "badKey", method: "getTransferJob", request: run },
      { id: "none run", ...on, as: "none", method: "runTransferJob", request: run },
      { id: "expired list", ...on, as: "expired", method: "listOperationsAsync", request: { name: "transferOperations", filter } },
      // The same client over its REST fallback (https), with the API key.
      { id: "rest create", ...rest, method: "createTransferJob", request: { transferJob: job(REST_JOB, PROJECT, "rest") } },
      { id: "rest run", ...rest, method: "runTransferJob", request: { jobName: REST_JOB, projectId: PROJECT }, promise: true },
      { id: "rest get operation", ...rest, method: "getOperation", request: { name: "<<rest run>>" } },
      { id: "rest create in other project", ...rest, method: "createTransferJob", request: { transferJob: job("transferJobs/OPI-tls-other", OTHER, "rest") } },
      { id: "rest expired run", ...rest, as: "expired", method: "runTransferJob", request: { jobName: REST_JOB, projectId: PROJECT } },
      // Project-scoped bindings: RunTransferJob and the transfer operations (the last test).
      { id: "carol create", ...on, as: "carol", method: "createTransferJob", request: { transferJob: job(CAROL_JOB, PROJECT, "carol") } },
      // Followed to the end: promise() polls getOperation, allowed on the project the run belongs to.
      { id: "carol run", ...on, as: "carol", method: "runTransferJob", request: { jobName: CAROL_JOB, projectId: PROJECT }, promise: true },
      { id: "carol lists", ...on, as: "carol", method: "listOperationsAsync", request: { name: "transferOperations", filter: JSON.stringify({ projectId: PROJECT }) } },
      { id: "dave create", ...on, as: "dave", method: "createTransferJob", request: { transferJob: job(DAVE_JOB, OTHER, "dave") } },
      { id: "ci runs dave's job", ...on, as: "ci", method: "runTransferJob", request: { jobName: DAVE_JOB, projectId: OTHER }, promise: true },
      { id: "ci lists other project", ...on, as: "ci", method: "listOperationsAsync", request: { name: "transferOperations", filter: JSON.stringify({ projectId: OTHER }) } },
      { id: "viewer lists other project", ...on, as: "viewer", method: "listOperationsAsync", request: { name: "transferOperations", filter: JSON.stringify({ projectId: OTHER }) } },
      { id: "dave gets carol's run", ...on, as: "dave", method: "getOperation", request: { name: "<<carol run>>" } },
      { id: "dave cancels carol's run", ...on, as: "dave", method: "cancelOperation", request: { name: "<<carol run>>" } },
    ]);
  }, HOOK);
  after(async () => {
    await t?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("gRPC, API key and JWT: createTransferJob, getTransferJob, runTransferJob → promise() resolves, the files are copied", () => {
    const [created] = succeeded(outcomes, "create").value as [{ name: string; projectId: string; status: string }];
    assert.deepEqual([created.name, created.projectId, created.status], [JOB, PROJECT, "ENABLED"]);
    const [got] = succeeded(outcomes, "get job").value as [{ name: string }];
    assert.equal(got.name, JOB);
    for (const id of ["run", "run again"]) {
      const run = succeeded(outcomes, id);
      assert.match(run.name ?? "", OPERATION(JOB));
      const [, metadata, raw] = resolved(run) as [unknown, { status: string | number; transferJobName: string }, { done: boolean }];
      assert.equal(raw.done, true);
      assert.equal(metadata.transferJobName, JOB);
      assert.ok(metadata.status === "SUCCESS" || metadata.status === 3, `SUCCESS, got ${metadata.status}`);
    }
    assert.deepEqual(sinkFiles("grpc"), ["a.txt", "b.txt"]);
    assert.equal(readFileSync(join(folders("grpc").sink, "sub", "b.txt"), "utf8"), "beta");
  });

  it("gRPC: checkRunTransferJobProgress, getOperation, and listOperations with Storage Transfer's JSON filter (newest first)", () => {
    const run = succeeded(outcomes, "run").name!;
    const again = succeeded(outcomes, "run again").name!;
    const checked = succeeded(outcomes, "check").value as { name: string; done: boolean };
    assert.deepEqual([checked.name, checked.done], [run, true]);
    const [got] = succeeded(outcomes, "get operation").value as [{ name: string; done: boolean; metadata: { type_url: string } }];
    assert.deepEqual([got.name, got.done, got.metadata.type_url], [run, true, "type.googleapis.com/google.storagetransfer.v1.TransferOperation"]);
    assert.deepEqual(listedNames(succeeded(outcomes, "list"), false), [again, run]);
    assert.deepEqual(listedNames(succeeded(outcomes, "viewer list"), false), [again, run], "a viewer lists");
    succeeded(outcomes, "viewer get job");
  });

  it("REST (https fallback), API key: createTransferJob, runTransferJob → promise(), getOperation; another project is PERMISSION_DENIED, an expired JWT UNAUTHENTICATED (gax 4 decodes REST errors itself)", () => {
    succeeded(outcomes, "rest create");
    const run = succeeded(outcomes, "rest run");
    assert.match(run.name ?? "", OPERATION(REST_JOB));
    resolved(run);
    assert.deepEqual(sinkFiles("rest"), ["a.txt", "b.txt"]);
    const [got] = succeeded(outcomes, "rest get operation").value as [{ name: string; done: boolean }];
    assert.deepEqual([got.name, got.done], [run.name, true]);
    assertDenied(outcomes, "rest create in other project", "rest", "storagetransfer.jobs.create", `projects/${OTHER}`, "gax");
    assertUnauthenticated(outcomes, "rest expired run", "rest", "ACCESS_TOKEN_EXPIRED", "gax");
  });

  it("gRPC denials: a viewer running a job; a job in a project without a binding (create, get) — PERMISSION_DENIED (7)", () => {
    assertDenied(outcomes, "viewer run", "grpc", "storagetransfer.jobs.run", `projects/${PROJECT}`);
    assertDenied(outcomes, "create in other project", "grpc", "storagetransfer.jobs.create", `projects/${OTHER}`);
    assertDenied(outcomes, "get job in other project", "grpc", "storagetransfer.jobs.get", `projects/${OTHER}`);
  });

  it("gRPC: an unknown key, no credentials and an expired JWT are UNAUTHENTICATED (16)", () => {
    assertUnauthenticated(outcomes, "badKey get job", "grpc", "API_KEY_INVALID");
    assertUnauthenticated(outcomes, "none run", "grpc", "CREDENTIALS_MISSING");
    assertUnauthenticated(outcomes, "expired list", "grpc", "ACCESS_TOKEN_EXPIRED");
  });

  it("the audit log: job creations and runs checked on their project, each with its principal", () => {
    const entry = (principal: string, method: string, permission: string, resource: string, outcome: string, operation?: string) => ({
      principal,
      method: `${SERVICE}.${method}`,
      permission,
      resource,
      outcome,
      ...(operation ? { operation } : {}),
    });
    const create = (principal: string, project: string, outcome: string) => entry(principal, "CreateTransferJob", "storagetransfer.jobs.create", `projects/${project}`, outcome);
    /** A run as it went: started (with its operation) or denied. */
    const run = (principal: string, id: string, project = PROJECT) => {
      const outcome = outcomes.get(id);
      return entry(principal, "RunTransferJob", "storagetransfer.jobs.run", `projects/${project}`, outcome?.ok ? "OK" : "PERMISSION_DENIED", outcome?.ok ? outcome.name : undefined);
    };
    assert.deepEqual(
      auditRows(audit),
      auditRows([
        create(CI, PROJECT, "OK"),
        run(ALICE, "run"),
        run(CI, "run again"),
        run(VIEWER, "viewer run"),
        create(CI, OTHER, "PERMISSION_DENIED"),
        create(CI, PROJECT, "OK"), // over REST
        run(CI, "rest run"),
        create(CI, OTHER, "PERMISSION_DENIED"), // over REST
        create(CAROL, PROJECT, "OK"),
        run(CAROL, "carol run"),
        create(DAVE, OTHER, "OK"),
        run(CI, "ci runs dave's job", OTHER),
        // Denied on the name it sent, never on the project the operation belongs to.
        {
          principal: DAVE,
          method: "google.longrunning.Operations.CancelOperation",
          permission: "storagetransfer.operations.cancel",
          resource: succeeded(outcomes, "carol run").name!,
          outcome: "PERMISSION_DENIED",
        },
      ]),
    );
  });

  it("RunTransferJob and the transfer operations are authorized on the job's project, as Google's IAM checks storagetransfer.jobs.run and storagetransfer.operations.*", () => {
    // An editor of the project alone runs its jobs, follows the run to the end, and lists the project's.
    succeeded(outcomes, "carol create");
    const carolRun = succeeded(outcomes, "carol run");
    assert.match(carolRun.name ?? "", OPERATION(CAROL_JOB));
    const [, metadata, raw] = resolved(carolRun) as [unknown, { status: string | number }, { done: boolean }];
    assert.equal(raw.done, true);
    assert.ok(metadata.status === "SUCCESS" || metadata.status === 3, `SUCCESS, got ${metadata.status}`);
    assert.deepEqual(sinkFiles("carol"), ["a.txt", "b.txt"]);
    const projectRuns = ["carol run", "rest run", "run again", "run"].map((id) => succeeded(outcomes, id).name);
    assert.deepEqual(listedNames(succeeded(outcomes, "carol lists"), false), projectRuns, "the project's runs, newest first");
    // No role on other-project: ci neither runs its job nor lists its operations.
    succeeded(outcomes, "dave create");
    assertDenied(outcomes, "ci runs dave's job", "grpc", "storagetransfer.jobs.run", `projects/${OTHER}`);
    assert.deepEqual(sinkFiles("dave"), [], "nothing of other-project's was copied");
    assertDenied(outcomes, "ci lists other project", "grpc", "storagetransfer.operations.list", "transferOperations");
    // Bound on the collection, the viewer lists any project's (none of other-project's ran).
    assert.deepEqual(listedNames(succeeded(outcomes, "viewer lists other project"), false), []);
    // dave, editor of other-project only, is denied carol's operation on its name: nothing says whose it is.
    assertDenied(outcomes, "dave gets carol's run", "grpc", "storagetransfer.operations.get", carolRun.name!);
    assertDenied(outcomes, "dave cancels carol's run", "grpc", "storagetransfer.operations.cancel", carolRun.name!);
  });
});
