// `longrun serve --auth/--tls-*/--insecure`: the flags become the server's auth and TLS options, a
// half-given TLS setting is a usage error before anything starts, and the addresses printed say https.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliError } from "../../src/cli/exit.js";
import { Command } from "commander";
import { securityOptions, serveSecurity, shownAddresses, type SecurityFlags } from "../../src/cli/serve-security.js";
import { Code } from "../../src/core/code.js";
import { haveOpenssl, makeTestPki, type TestPki } from "../client/tls-certs.js";
import { spawnServer } from "../support/process.js";
import { runCli } from "./run.js";

const usageError = (pattern: RegExp) => (err: unknown) => err instanceof CliError && err.code === Code.INVALID_ARGUMENT && pattern.test(err.message);

describe("serve: auth and TLS options", () => {
  it("no flags: no auth, no TLS", () => {
    assert.deepEqual(serveSecurity({ insecure: false }), {});
  });

  it("--allowed-host and --cors-origin: repeatable, comma-separated, or from the environment", () => {
    const parse = (args: string[]): SecurityFlags => {
      const command = new Command().exitOverride();
      for (const option of securityOptions()) command.addOption(option);
      return command.parse(args, { from: "user" }).opts<SecurityFlags>();
    };
    const flags = parse(["--allowed-host", "a.example", "--allowed-host", "b.example, c.example:8080", "--cors-origin", "https://app.example"]);
    assert.deepEqual(serveSecurity(flags), { allowedHosts: ["a.example", "b.example", "c.example:8080"], corsOrigins: ["https://app.example"] });
    assert.deepEqual(serveSecurity(parse([])), {});
    process.env["LONGRUN_ALLOWED_HOSTS"] = "*";
    process.env["LONGRUN_CORS_ORIGINS"] = "https://a.example,https://b.example";
    try {
      assert.deepEqual(serveSecurity(parse([])), { allowedHosts: ["*"], corsOrigins: ["https://a.example", "https://b.example"] });
    } finally {
      delete process.env["LONGRUN_ALLOWED_HOSTS"];
      delete process.env["LONGRUN_CORS_ORIGINS"];
    }
  });

  it("the addresses shown say https with TLS", () => {
    assert.deepEqual(shownAddresses("127.0.0.1:50051", "http://127.0.0.1:8080", false), { grpc: "127.0.0.1:50051", rest: "http://127.0.0.1:8080" });
    assert.deepEqual(shownAddresses("127.0.0.1:50051", "http://127.0.0.1:8080", true), { grpc: "https://127.0.0.1:50051", rest: "https://127.0.0.1:8080" });
    assert.deepEqual(shownAddresses("https://127.0.0.1:50051", "https://127.0.0.1:8080", true), { grpc: "https://127.0.0.1:50051", rest: "https://127.0.0.1:8080" });
  });
});

describe("serve: auth and TLS flags with certificates", { skip: haveOpenssl() ? false : "no openssl CLI to make certificates with" }, () => {
  let pki: TestPki;
  let dir: string;
  before(async () => {
    pki = await makeTestPki();
    dir = mkdtempSync(join(tmpdir(), "longrun-serve-security-"));
  });
  after(async () => {
    await pki?.remove();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string): string => join(pki.dir, name);

  it("the auth file's path, the PEM files read, --insecure", () => {
    const security = serveSecurity({ auth: "auth.yaml", tlsCert: file("server.pem"), tlsKey: file("server.key"), tlsClientCa: file("ca.pem"), insecure: true });
    assert.deepEqual(security, { auth: "auth.yaml", tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca }, insecure: true });
    assert.deepEqual(serveSecurity({ tlsCert: file("server.pem"), tlsKey: file("server.key"), insecure: false }), { tls: { cert: pki.serverCert, key: pki.serverKey } });
  });

  it("usage errors: a certificate without its key or the reverse, a client CA without TLS, an unreadable file", () => {
    assert.throws(() => serveSecurity({ tlsCert: file("server.pem"), insecure: false }), usageError(/--tls-cert and --tls-key go together/));
    assert.throws(() => serveSecurity({ tlsKey: file("server.key"), insecure: false }), usageError(/--tls-cert and --tls-key go together/));
    assert.throws(() => serveSecurity({ tlsClientCa: file("ca.pem"), insecure: false }), usageError(/--tls-client-ca needs --tls-cert/));
    assert.throws(() => serveSecurity({ tlsCert: file("nope.pem"), tlsKey: file("server.key"), insecure: false }), usageError(/--tls-cert .*nope\.pem: cannot read it/));
  });

  it("the CLI: --tls-cert without --tls-key exits 3 before opening the store", async () => {
    const store = join(dir, "never.db");
    const r = await runCli(["serve", "--grpc-port", "0", "--http-port", "0", "--store", `sqlite:${store}`, "--tls-cert", file("server.pem")]);
    assert.equal(r.code, Code.INVALID_ARGUMENT, r.stderr);
    assert.match(r.stderr, /--tls-cert and --tls-key go together/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it("the CLI: with --tls-cert and --tls-key, the addresses printed are https", async () => {
    const server = await spawnServer(["--tls-cert", file("server.pem"), "--tls-key", file("server.key")], { LONGRUN_STORE: `sqlite:${join(dir, "tls.db")}` });
    try {
      assert.match(server.grpcAddress, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.match(server.httpUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.match(server.output(), /longrun: TLS\n/);
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
  });
});
