// The client's credentials (API key, bearer token) reach longrun's transports on every call, over gRPC and
// REST; its TLS options (a CA of its own, a client certificate) make working TLS and mutual-TLS connections.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { CallFailedError, Code, LongrunClient, ServerReflection } from "longrun/client";
import { GrpcTransport } from "../../src/client/grpc.js";
import type { Credentials } from "../../src/auth/credentials.js";
import { buildRegistry } from "../../src/core/registry.js";
import { MISSING, startMutualTlsServers, startRecordingServers, type RecordingServers } from "./recording-servers.js";
import { haveOpenssl, makeTestPki, type TestPki } from "./tls-certs.js";

const KEY = "lr_test-key_0123456789";
const registry = buildRegistry([]);

describe("LongrunClient credentials: apiKey and token on every call", () => {
  let servers: RecordingServers;
  let seen: Credentials[];
  before(async () => {
    servers = await startRecordingServers();
    seen = servers.seen;
  });
  after(() => servers.close());
  const serverOf = (transport: "grpc" | "rest"): string => (transport === "grpc" ? servers.grpcAddress : servers.restUrl);

  for (const transport of ["grpc", "rest"] as const) {
    it(`${transport}: x-goog-api-key and authorization: Bearer, on each call`, async () => {
      const client = new LongrunClient({ server: serverOf(transport), transport, apiKey: KEY, token: "eyJ.static.token" });
      try {
        seen.length = 0;
        await client.get("operations/a");
        await client.get("operations/b");
        assert.equal(seen.length, 2);
        for (const credentials of seen) {
          assert.equal(credentials.apiKey, KEY);
          assert.equal(credentials.authorization, "Bearer eyJ.static.token");
        }
      } finally {
        client.close();
      }
    });

    it(`${transport}: a token function is asked before every call`, async () => {
      let asked = 0;
      const client = new LongrunClient({ server: serverOf(transport), transport, token: async () => `token-${++asked}` });
      try {
        seen.length = 0;
        for (let i = 0; i < 3; i++) await client.get(`operations/${i}`);
        assert.equal(asked, 3);
        assert.deepEqual(seen.map((c) => c.authorization), ["Bearer token-1", "Bearer token-2", "Bearer token-3"]);
        assert.deepEqual(seen.map((c) => c.apiKey), [undefined, undefined, undefined]);
      } finally {
        client.close();
      }
    });

    it(`${transport}: without credentials, none are sent`, async () => {
      const client = new LongrunClient({ server: serverOf(transport), transport });
      try {
        seen.length = 0;
        await client.get("operations/x");
        assert.deepEqual({ ...seen[0] }, { apiKey: undefined, authorization: undefined, certificate: undefined });
      } finally {
        client.close();
      }
    });

    it(`${transport}: a failing token function fails the call with its own error, unretried`, async () => {
      let asked = 0;
      const failure = new Error("no token today");
      const client = new LongrunClient({
        server: serverOf(transport),
        transport,
        token: () => {
          asked++;
          throw failure;
        },
      });
      try {
        seen.length = 0;
        await assert.rejects(client.get("operations/x"), (err) => err === failure);
        assert.equal(asked, 1);
        assert.equal(seen.length, 0);
      } finally {
        client.close();
      }
    });

    it(`${transport}: a value that cannot be a header is refused without being shown`, async () => {
      const secret = "s3cret\nvalue";
      assert.throws(
        () => new LongrunClient({ server: serverOf(transport), transport, apiKey: secret }),
        (err: Error) => err instanceof TypeError && /apiKey/.test(err.message) && !err.message.includes("s3cret"),
      );
      const client = new LongrunClient({ server: serverOf(transport), transport, token: () => secret });
      try {
        await assert.rejects(client.get("operations/x"), (err: Error) => err instanceof TypeError && /token/.test(err.message) && !err.message.includes("s3cret"));
      } finally {
        client.close();
      }
    });
  }

  it("server reflection over a client's transport sends its credentials too", async () => {
    const metadata: grpc.Metadata[] = [];
    const server = new grpc.Server();
    server.addService(
      {
        ServerReflectionInfo: {
          path: "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
          requestStream: true,
          responseStream: true,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      {
        ServerReflectionInfo: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
          metadata.push(call.metadata);
          call.emit("error", { code: grpc.status.PERMISSION_DENIED, details: "no" });
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const transport = new GrpcTransport({ address: `127.0.0.1:${port}`, registry, apiKey: KEY, token: () => "reflected" });
    try {
      await assert.rejects(new ServerReflection(transport).listServices(), (err: CallFailedError) => err.code === Code.PERMISSION_DENIED);
      assert.deepEqual(metadata[0]?.get("x-goog-api-key"), [KEY]);
      assert.deepEqual(metadata[0]?.get("authorization"), ["Bearer reflected"]);
    } finally {
      transport.close();
      server.forceShutdown();
    }
  });
});

describe("LongrunClient TLS options", { skip: haveOpenssl() ? false : "no openssl CLI to make certificates with" }, () => {
  let pki: TestPki;
  before(async () => {
    pki = await makeTestPki();
  });
  after(() => pki?.remove());
  let servers: RecordingServers;
  before(async () => {
    servers = await startMutualTlsServers(pki);
  });
  after(() => servers?.close());

  it("refuses contradictions: tls with an http:// address, cert without key", () => {
    assert.throws(() => new LongrunClient({ server: "http://127.0.0.1:1", tls: { ca: "x" } }), /plaintext/);
    assert.throws(() => new LongrunClient({ server: "http://127.0.0.1:1", transport: "rest", tls: { ca: "x" } }), /plain HTTP/);
    assert.throws(() => new LongrunClient({ server: "127.0.0.1:1", tls: { cert: "x" } }), /go together/);
    assert.throws(() => new LongrunClient({ server: "127.0.0.1:1", tls: {}, grpc: { credentials: grpc.credentials.createInsecure() } }), /either/);
  });

  describe("gRPC", () => {
    for (const form of ["host:port", "https://", "grpcs://"] as const) {
      it(`mutual TLS with a CA of its own (${form}), credentials in the metadata`, async () => {
        const server = form === "host:port" ? servers.grpcAddress : `${form}${servers.grpcAddress}`;
        const client = new LongrunClient({ server, apiKey: KEY, tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } });
        try {
          servers.seen.length = 0;
          assert.equal((await client.get("operations/tls")).name, "operations/tls");
          assert.equal(servers.seen[0]?.apiKey, KEY);
        } finally {
          client.close();
        }
      });
    }

    for (const [what, tls] of [
      ["without a client certificate", () => ({ ca: pki.ca })],
      ["trusting another CA", () => ({ ca: pki.otherCa, cert: pki.clientCert, key: pki.clientKey })],
      ["trusting the system's CAs", () => ({ cert: pki.clientCert, key: pki.clientKey })],
    ] as const) {
      it(`fails UNAVAILABLE ${what}, the API key in no message`, async () => {
        const client = new LongrunClient({ server: servers.grpcAddress, apiKey: KEY, tls: tls(), retry: false, timeoutMs: 5000 });
        try {
          await assert.rejects(client.get("operations/tls"), (err: CallFailedError) => {
            assert.equal(err.code, Code.UNAVAILABLE, err.message);
            assert.ok(!err.message.includes(KEY));
            return true;
          });
        } finally {
          client.close();
        }
      });
    }
  });

  describe("REST", () => {
    it("mutual TLS with a CA of its own; host:port means https; headers on every request", async () => {
      const hostPort = servers.restUrl.slice("https://".length);
      const client = new LongrunClient({ server: hostPort, transport: "rest", apiKey: KEY, token: "tok", tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } });
      try {
        servers.seen.length = 0;
        assert.equal((await client.get("operations/one")).name, "operations/one");
        assert.equal((await client.get("operations/two")).name, "operations/two");
        assert.deepEqual(servers.seen.map((c) => [c.apiKey, c.authorization]), [[KEY, "Bearer tok"], [KEY, "Bearer tok"]]);
        // An error answer comes through the same fetch: Google's envelope, read back as the status.
        await assert.rejects(client.get(MISSING), (err: CallFailedError) => err.code === Code.NOT_FOUND);
      } finally {
        client.close();
      }
    });

    for (const [what, tls] of [
      ["without a client certificate", () => ({ ca: pki.ca })],
      ["trusting another CA", () => ({ ca: pki.otherCa, cert: pki.clientCert, key: pki.clientKey })],
      ["with no tls option (global fetch, the system's CAs)", () => undefined],
    ] as const) {
      it(`fails UNAVAILABLE ${what}, the API key in no message`, async () => {
        const client = new LongrunClient({ server: servers.restUrl, transport: "rest", apiKey: KEY, tls: tls(), retry: false, timeoutMs: 5000 });
        try {
          await assert.rejects(client.get("operations/x"), (err: CallFailedError) => {
            assert.equal(err.code, Code.UNAVAILABLE, err.message);
            assert.ok(!err.message.includes(KEY) && !String(err.cause).includes(KEY));
            return true;
          });
        } finally {
          client.close();
        }
      });
    }
  });
});
