// `longrun serve` with every kind of secret it is given (an API key, JWTs, the page-token secret, a
// webhook URL's password and query token, the webhook signing secret), driven with valid and invalid
// credentials and a notification that cannot be delivered: none of them appears in anything the process
// writes. Its log lines (standard error) are JSON with level, time and msg, and the RPC lines carry a
// request id (the caller's x-request-id, else one of the server's), echoed on REST.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { hashApiKey, type AuthConfig } from "../../src/index.js";
import { testIssuerWithJwksFile } from "../support/jwt.js";
import { spawnServer, type ServerProcess } from "../support/process.js";

const API_KEY = "lr_logsecret_apikey_7f3a9c";
const WRONG_KEY = "lr_logsecret_wrongkey_1b2c";
const PAGE_SECRET = "pagesecret_S_5d8e2f";
const NOTIFY_SECRET = "notifysecret_N_9a7b6c";
const URL_PASSWORD = "urlpass_P_3e4f5a";
const URL_TOKEN = "urltoken_T_8c7d6e";

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function until(what: string, check: () => boolean, output: () => string, ms = 15_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) assert.fail(`${what} did not happen in time:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function grpcGet(address: string, name: string, metadata: Record<string, string>): Promise<number> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  // GetOperationRequest { name } by hand: field 1, length-delimited.
  const body = Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(name)]), Buffer.from(name)]);
  return new Promise((resolve) =>
    client.makeUnaryRequest("/google.longrunning.Operations/GetOperation", (b: Buffer) => b, (b: Buffer) => b, body, md, {}, (err) => {
      client.close();
      resolve(err ? err.code : 0);
    }),
  );
}

describe("longrun serve logs no secrets", () => {
  let dir: string;
  let server: ServerProcess;
  let stderr = "";
  const secrets: Record<string, string> = {
    "API key": API_KEY,
    "wrong API key": WRONG_KEY,
    "page-token secret": PAGE_SECRET,
    "notify secret": NOTIFY_SECRET,
    "webhook URL password": URL_PASSWORD,
    "webhook URL token": URL_TOKEN,
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "longrun-log-secrets-"));
    const issuer = await testIssuerWithJwksFile();
    const auth: AuthConfig = {
      apiKeys: [{ sha256: hashApiKey(API_KEY), principal: "serviceAccount:ci@example" }],
      jwt: { jwks: issuer.jwksPath, issuer: issuer.issuer, audience: issuer.audience },
      bindings: [{ role: "roles/longrun.editor", members: ["serviceAccount:ci@example", "user:alice"], resource: "*" }],
    };
    writeFileSync(join(dir, "auth.json"), JSON.stringify(auth));
    secrets["JWT"] = await issuer.token();
    secrets["forged JWT"] = await issuer.forged();
    secrets["expired JWT"] = await issuer.token({}, { expiresInSeconds: -3600 });
    const port = await closedPort();
    server = await spawnServer(
      [
        "--demo",
        "--auth", join(dir, "auth.json"),
        "--page-token-secret", PAGE_SECRET,
        "--notify", `http://hookuser:${URL_PASSWORD}@127.0.0.1:${port}/hook?token=${URL_TOKEN}`,
        "--notify-secret", NOTIFY_SECRET,
        "--notify-retry-for", "2s",
        "--log-level", "debug",
        "--log-format", "json",
      ],
      { LONGRUN_STORE: `sqlite:${join(dir, "l.db")}` },
    );
    server.child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  });

  after(async () => {
    if (server) {
      server.child.kill("SIGTERM");
      await server.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("valid and invalid credentials, a page token, an undeliverable notification: no secret written", async () => {
    const rest = server.httpUrl.replace(/\/$/, "");
    const call = async (path: string, headers: Record<string, string>, body?: unknown) => {
      const res = await fetch(`${rest}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, requestId: res.headers.get("x-request-id"), json: (await res.json()) as Record<string, unknown> };
    };
    // Valid: an API key and a JWT start operations (whose notifications then fail), list with a page token.
    const started = await call("/v1/demo:sleep", { "x-goog-api-key": API_KEY, "x-request-id": "req-start-1" }, { duration: "0s" });
    assert.equal(started.status, 200, JSON.stringify(started.json));
    assert.equal(started.requestId, "req-start-1", "the caller's request id echoed");
    const byJwt = await call("/v1/demo:sleep", { authorization: `Bearer ${secrets["JWT"]}` }, { duration: "0s" });
    assert.equal(byJwt.status, 200, JSON.stringify(byJwt.json));
    assert.match(byJwt.requestId ?? "", /^[0-9a-f-]{36}$/, "a generated request id");
    const page = await call("/v1/operations?pageSize=1", { "x-goog-api-key": API_KEY });
    assert.equal(page.status, 200);
    const token = page.json["nextPageToken"];
    assert.equal(typeof token, "string");
    assert.equal((await call(`/v1/operations?pageSize=1&pageToken=${encodeURIComponent(String(token))}`, { "x-goog-api-key": API_KEY })).status, 200);
    // Invalid: a wrong key (header and ?key=), forged, expired and garbage tokens, a tampered page token.
    assert.equal((await call("/v1/operations", { "x-goog-api-key": WRONG_KEY, "x-request-id": "req-bad-key" })).status, 401);
    assert.equal((await call(`/v1/operations?key=${WRONG_KEY}`, {})).status, 401);
    assert.equal((await call("/v1/operations", { authorization: `Bearer ${secrets["forged JWT"]}` })).status, 401);
    assert.equal((await call("/v1/operations", { authorization: `Bearer ${secrets["expired JWT"]}` })).status, 401);
    assert.equal((await call("/v1/demo:sleep", { authorization: `Bearer ${secrets["forged JWT"]}` }, { duration: "0s" })).status, 401);
    assert.equal((await call(`/v1/operations?pageToken=${encodeURIComponent(`${String(token)}x`)}`, { "x-goog-api-key": API_KEY })).status, 400);
    // gRPC: a wrong key and a forged token, with a request id in the metadata.
    assert.equal(await grpcGet(server.grpcAddress, "operations/nope", { "x-goog-api-key": WRONG_KEY, "x-request-id": "req-grpc-1" }), grpc.status.UNAUTHENTICATED);
    assert.equal(await grpcGet(server.grpcAddress, "operations/nope", { authorization: `Bearer ${secrets["forged JWT"]}` }), grpc.status.UNAUTHENTICATED);
    assert.equal(await grpcGet(server.grpcAddress, "operations/nope", { "x-goog-api-key": API_KEY }), grpc.status.NOT_FOUND);

    // The webhook is refused its connection: retried (debug lines), then given up (a warning).
    await until("a notification given up", () => /notifications: .*gave up/.test(stderr), server.output);

    const output = server.output();
    if (process.env["SHOW_LOGS"]) console.log(output);
    for (const [what, secret] of Object.entries(secrets)) {
      assert.ok(!output.includes(secret), `the ${what} appears in the server's output:\n${output}`);
    }
    assert.ok(!output.includes("hookuser"), "the webhook URL's user appears");

    // Every line on standard error is a pino record (level, time, msg), the audit records among them.
    const lines = stderr.split("\n").filter((l) => l !== "");
    const records = lines.map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return assert.fail(`not a JSON line on standard error: ${l}`);
      }
    });
    for (const r of records) {
      assert.equal(typeof r["level"], "number", JSON.stringify(r));
      assert.equal(typeof r["time"], "number", JSON.stringify(r));
      assert.equal(typeof r["msg"], "string", JSON.stringify(r));
    }
    const logs = records.filter((r) => r["type"] !== "longrun.audit");
    const audits = records.filter((r) => r["type"] === "longrun.audit");
    for (const r of audits) {
      assert.deepEqual([r["level"], r["msg"], r["name"], typeof r["pid"], typeof r["hostname"]], [30, "audit", "longrun", "number", "string"], JSON.stringify(r));
      assert.equal(typeof r["permission"], "string", JSON.stringify(r));
    }
    const start = audits.find((r) => r["requestId"] === "req-start-1");
    assert.ok(start, "the starts are audited, with their request ids");
    assert.deepEqual(
      [start["principal"], start["method"], start["outcome"], typeof start["operation"]],
      ["serviceAccount:ci@example", "longrun.demo.v1.Demo.Sleep", "OK", "string"],
    );
    assert.ok(audits.some((r) => r["principal"] === "user:alice"), "the start by JWT is audited under its principal");
    const rpcs = logs.filter((r) => r["msg"] === "rpc");
    assert.ok(rpcs.length >= 13, `a line per RPC:\n${stderr}`);
    for (const r of rpcs) assert.equal(typeof r["requestId"], "string", JSON.stringify(r));
    const rpc = (id: string) => rpcs.find((r) => r["requestId"] === id);
    assert.deepEqual(
      [rpc("req-start-1")?.["code"], rpc("req-bad-key")?.["code"], rpc("req-grpc-1")?.["code"], rpc("req-grpc-1")?.["transport"]],
      ["OK", "UNAUTHENTICATED", "UNAUTHENTICATED", "grpc"],
    );
    const notifications = logs.filter((r) => String(r["msg"]).startsWith("notifications:"));
    assert.ok(notifications.some((r) => typeof r["operation"] === "string" && String(r["operation"]).startsWith("operations/")), stderr);
  });
});
