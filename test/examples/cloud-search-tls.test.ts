// The Cloud Search example over TLS with auth on, driven by the `googleapis` cloudsearch v1 client unchanged
// (REST through gaxios), with an API key (sent as `?key=`) and with a JWT; the client runs in a process of
// its own that trusts the throwaway CA through NODE_EXTRA_CA_CERTS.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cloudSearchOptions } from "../../examples/cloud-search/server.js";
import { hashApiKey, type AuditEntry } from "../../src/index.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { makeCertificates, type Certificates } from "../support/certificates.js";
import { testIssuerWithJwksFile } from "../support/jwt.js";

const CLIENT = fileURLToPath(new URL("./cloud-search-tls-client.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const KEY = "lr_cloud_search_indexer_key";

interface Step {
  label: string;
  status: number;
  data?: { name?: string; done?: boolean; operations?: { name: string }[] };
  error?: string;
  reason?: string;
}

describe("cloud search over TLS with credentials (googleapis cloudsearch v1)", () => {
  let certs: Certificates;
  let t: TestServer;
  let dir: string;
  const audit: AuditEntry[] = [];
  let steps: Map<string, Step>;

  before(async () => {
    certs = await makeCertificates();
    dir = mkdtempSync(join(tmpdir(), "cloud-search-tls-"));
    const issuer = await testIssuerWithJwksFile();
    t = await startTestServer({
      ...cloudSearchOptions(dir),
      tls: { cert: certs.serverCertPem, key: certs.serverKeyPem },
      auth: {
        apiKeys: [{ sha256: hashApiKey(KEY), principal: "serviceAccount:indexer@example" }],
        jwt: { jwks: issuer.jwksPath, issuer: issuer.issuer, audience: issuer.audience },
        bindings: [
          { role: "roles/longrun.editor", members: ["serviceAccount:indexer@example"], resource: "*" },
          { role: "roles/longrun.viewer", members: ["user:reader"], resource: "operations" },
        ],
      },
      audit: (e) => audit.push(e),
    });
    const port = t.url.slice(t.url.lastIndexOf(":") + 1);
    const input = JSON.stringify({ rootUrl: `https://localhost:${port}/`, apiKey: KEY, jwt: await issuer.token({ sub: "reader" }) });
    const child = spawn(process.execPath, ["--import", "tsx", CLIENT], {
      cwd: ROOT,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: certs.files.ca },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdin.end(input);
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(code, 0, err);
    steps = new Map(out.trim().split("\n").map((line) => JSON.parse(line) as Step).map((s) => [s.label, s]));
  });
  after(async () => {
    await t.close();
    certs.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it("an API key (as ?key=) starts updateSchema and follows it to done; a viewer's JWT reads and lists it", () => {
    const started = steps.get("key: updateSchema")!;
    assert.equal(started.status, 200, JSON.stringify(started));
    const name = started.data!.name!;
    assert.match(name, /^operations\//);
    assert.equal(steps.get("key: operations.get")!.data!.done, true);
    const read = steps.get("jwt: operations.get")!;
    assert.deepEqual([read.status, read.data!.name], [200, name]);
    const listed = steps.get("jwt: operations.lro.list")!;
    assert.equal(listed.status, 200);
    assert.ok(listed.data!.operations!.some((o) => o.name === name));
    assert.deepEqual(
      audit.map((e) => [e.principal, e.permission, e.outcome]),
      [
        ["serviceAccount:indexer@example", "cloudsearch.schemas.update", "OK"],
        ["user:reader", "cloudsearch.schemas.update", "PERMISSION_DENIED"],
      ],
    );
  });

  it("a viewer starting is 403; no credentials and a bad key are 401 with their reasons", () => {
    assert.deepEqual(pick(steps.get("jwt: updateSchema (viewer)")!), [403, "PERMISSION_DENIED", "IAM_PERMISSION_DENIED"]);
    assert.deepEqual(pick(steps.get("none: operations.get")!), [401, "UNAUTHENTICATED", "CREDENTIALS_MISSING"]);
    assert.deepEqual(pick(steps.get("bad key: operations.get")!), [401, "UNAUTHENTICATED", "API_KEY_INVALID"]);
  });
});

function pick(step: Step): [number, string | undefined, string | undefined] {
  return [step.status, step.error, step.reason];
}
