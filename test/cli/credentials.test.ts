// The client commands' credentials and TLS flags (and their environment variables) reach the server.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Code } from "../../src/core/code.js";
import { startMutualTlsServers, startRecordingServers, type RecordingServers } from "../client/recording-servers.js";
import { haveOpenssl, makeTestPki, type TestPki } from "../client/tls-certs.js";
import { runCli } from "./run.js";

const KEY = "lr_cli-key_0123456789";

describe("client commands: --api-key, --token and their environment variables", () => {
  let servers: RecordingServers;
  before(async () => {
    servers = await startRecordingServers();
  });
  after(() => servers.close());

  it("gRPC: --api-key and --token", async () => {
    servers.seen.length = 0;
    const r = await runCli(["get", "operations/a", "--json", "--server", servers.grpcAddress, "--api-key", KEY, "--token", "tok-flag"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { name: "operations/a" });
    assert.ok(servers.seen.length >= 1);
    for (const c of servers.seen) assert.deepEqual([c.apiKey, c.authorization], [KEY, "Bearer tok-flag"]);
  });

  it("REST: LONGRUN_API_KEY and LONGRUN_TOKEN", async () => {
    servers.seen.length = 0;
    const r = await runCli(["get", "operations/b", "--json", "--rest", "--server", servers.restUrl], { env: { LONGRUN_API_KEY: KEY, LONGRUN_TOKEN: "tok-env" } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(servers.seen.map((c) => [c.apiKey, c.authorization]), [[KEY, "Bearer tok-env"]]);
  });

  it("a flag wins over its variable; an empty variable sends nothing", async () => {
    servers.seen.length = 0;
    const r = await runCli(["get", "operations/c", "--json", "--rest", "--server", servers.restUrl, "--token", "tok-flag"], {
      env: { LONGRUN_API_KEY: "", LONGRUN_TOKEN: "tok-env" },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(servers.seen.map((c) => [c.apiKey, c.authorization]), [[undefined, "Bearer tok-flag"]]);
  });

  it("an unreachable server's error names no credential", async () => {
    const r = await runCli(["get", "operations/d", "--rest", "--server", "http://127.0.0.1:1", "--api-key", KEY, "--token", "tok-secret"]);
    assert.equal(r.code, Code.UNAVAILABLE, r.stderr);
    assert.ok(!r.stderr.includes(KEY) && !r.stderr.includes("tok-secret"), r.stderr);
  });

  it("a key that cannot be a header is a usage error (exit 3) that does not show it", async () => {
    const r = await runCli(["get", "operations/e", "--server", servers.grpcAddress], { env: { LONGRUN_API_KEY: "bad key" } });
    assert.equal(r.code, Code.INVALID_ARGUMENT, r.stderr);
    assert.match(r.stderr, /apiKey/);
    assert.ok(!r.stderr.includes("bad key"));
  });
});

describe("client commands: --tls-ca, --tls-cert, --tls-key", { skip: haveOpenssl() ? false : "no openssl CLI to make certificates with" }, () => {
  let pki: TestPki;
  let servers: RecordingServers;
  before(async () => {
    pki = await makeTestPki();
    servers = await startMutualTlsServers(pki);
  });
  after(async () => {
    await servers?.close();
    await pki?.remove();
  });
  const tlsFlags = (): string[] => ["--tls-ca", join(pki.dir, "ca.pem"), "--tls-cert", join(pki.dir, "client.pem"), "--tls-key", join(pki.dir, "client.key")];

  it("gRPC: host:port with the TLS flags is mutual TLS", async () => {
    servers.seen.length = 0;
    const r = await runCli(["get", "operations/t", "--json", "--server", servers.grpcAddress, "--api-key", KEY, ...tlsFlags()]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { name: "operations/t" });
    assert.equal(servers.seen[0]?.apiKey, KEY);
  });

  it("REST: host:port with the TLS flags is https", async () => {
    servers.seen.length = 0;
    const hostPort = servers.restUrl.slice("https://".length);
    const r = await runCli(["get", "operations/u", "--json", "--rest", "--server", hostPort, ...tlsFlags()], { env: { LONGRUN_TOKEN: "tok" } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(servers.seen.map((c) => c.authorization), ["Bearer tok"]);
  });

  it("without the client certificate the handshake fails: UNAVAILABLE (exit 14)", async () => {
    const r = await runCli(["get", "operations/v", "--server", servers.grpcAddress, "--tls-ca", join(pki.dir, "ca.pem")]);
    assert.equal(r.code, Code.UNAVAILABLE, r.stderr);
  });

  it("usage errors (exit 3): --tls-cert without --tls-key, an unreadable file, TLS to an http:// server", async () => {
    const half = await runCli(["get", "operations/w", "--server", servers.grpcAddress, "--tls-cert", join(pki.dir, "client.pem")]);
    assert.equal(half.code, Code.INVALID_ARGUMENT);
    assert.match(half.stderr, /--tls-cert and --tls-key go together/);
    const missing = await runCli(["get", "operations/w", "--server", servers.grpcAddress, "--tls-ca", join(pki.dir, "nope.pem")]);
    assert.equal(missing.code, Code.INVALID_ARGUMENT);
    assert.match(missing.stderr, /--tls-ca .*nope\.pem: cannot read it/);
    const plain = await runCli(["get", "operations/w", "--rest", "--server", "http://127.0.0.1:1", ...tlsFlags()]);
    assert.equal(plain.code, Code.INVALID_ARGUMENT);
    assert.match(plain.stderr, /https/);
  });
});
