// TLS and mutual TLS on both transports, over real loopback connections: who gets through the handshake,
// and the verified client certificate each call then carries.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import type { PeerCertificate as NodePeerCertificate } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GetOperationRequestSchema, OperationSchema, Operations, type Operation } from "../../src/gen/google/longrunning/operations_pb.js";
import { startGrpcServer, type GrpcServer } from "../../src/transport/grpc/server.js";
import { startRestServer, type RestServer } from "../../src/transport/rest/index.js";
import { certificateOf, type TlsOptions } from "../../src/transport/tls.js";
import { makeCertificates, type Certificates } from "../support/certificates.js";
import { DOMAIN, endpoints, get, lastSeen, registry, seen } from "./recording.js";

// ---------------------------------------------------------------------------------------------------------
// Clients.

/** Channel credentials trusting `ca`, presenting the client certificate `as` if given. */
function trusting(ca: string, as?: { cert: string; key: string }): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(
    Buffer.from(ca),
    as === undefined ? null : Buffer.from(as.key),
    as === undefined ? null : Buffer.from(as.cert),
  );
}

/** One GetOperation over a fresh channel (its own subchannel pool, so no connection is shared between tests). */
async function grpcGet(
  address: string,
  name: string,
  credentials: grpc.ChannelCredentials,
  metadata: Record<string, string> = {},
): Promise<Operation> {
  const client = new grpc.Client(address, credentials, { "grpc.use_local_subchannel_pool": 1 });
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  const method = Operations.method.getOperation;
  try {
    const bytes = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(
        `/${method.parent.typeName}/${method.name}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(toBinary(GetOperationRequestSchema, create(GetOperationRequestSchema, { name }))),
        md,
        { deadline: Date.now() + 10_000 },
        (err, response) => (err ? reject(err) : resolve(response as Buffer)),
      ),
    );
    return fromBinary(OperationSchema, bytes);
  } finally {
    client.close();
  }
}

/** The error of a call or request expected to fail (a grpc.ServiceError, a node:tls or node:net error). */
async function refusal<E extends Error = grpc.ServiceError>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (err) {
    return err as E;
  }
  throw new Error("expected a refusal");
}

/**
 * A refused handshake as the client sees it. Under TLS 1.3 the client finishes its side before the server
 * checks its certificate, so the refusal may arrive as the server's alert or as the connection closing.
 */
const HANDSHAKE_REFUSED = /^ERR_SSL_|^ECONNRESET$|^EPIPE$/;

// =========================================================================================================

let certs: Certificates;
before(async () => {
  certs = await makeCertificates();
});
after(async () => {
  await certs?.remove();
});

/** The test CA's client certificate. */
function client(): { cert: string; key: string } {
  return { cert: certs.clientCertPem, key: certs.clientKeyPem };
}

/** A client certificate of a CA the servers do not trust. */
function foreignClient(): { cert: string; key: string } {
  return { cert: certs.otherCaClientCertPem, key: certs.otherCaClientKeyPem };
}

function serverTls(mutual: boolean): TlsOptions {
  return mutual
    ? { cert: certs.serverCertPem, key: certs.serverKeyPem, clientCa: certs.caPem }
    : { cert: certs.serverCertPem, key: certs.serverKeyPem };
}

describe("gRPC over TLS", () => {
  let server: GrpcServer;
  before(async () => {
    server = await startGrpcServer({ endpoints, errorDomain: DOMAIN, host: "127.0.0.1", port: 0, tls: serverTls(false), log: () => {} });
  });
  after(() => server.close());

  it("answers a client that trusts the server's CA, with the call's metadata credentials and no certificate", async () => {
    const op = await grpcGet(server.address, "operations/a", trusting(certs.caPem), {
      "x-goog-api-key": "k-1",
      authorization: "Bearer t-1",
    });
    assert.equal(op.name, "operations/a");
    assert.deepEqual(lastSeen().credentials, { apiKey: "k-1", authorization: "Bearer t-1", certificate: undefined });
  });

  it("does not ask for a client certificate: one offered is not a credential", async () => {
    await grpcGet(server.address, "operations/b", trusting(certs.caPem, client()));
    assert.equal(lastSeen().credentials.certificate, undefined);
  });

  it("is refused by a client that does not trust the server's CA, and by a plaintext client", async () => {
    const before = seen.length;
    const untrusting = await refusal(grpcGet(server.address, "operations/c", trusting(certs.otherCaPem)));
    assert.equal(untrusting.code, grpc.status.UNAVAILABLE, untrusting.message);
    const plaintext = await refusal(grpcGet(server.address, "operations/c", grpc.credentials.createInsecure()));
    assert.equal(plaintext.code, grpc.status.UNAVAILABLE, plaintext.message);
    assert.equal(seen.length, before);
  });
});

describe("gRPC over mutual TLS", () => {
  let server: GrpcServer;
  before(async () => {
    server = await startGrpcServer({ endpoints, errorDomain: DOMAIN, host: "127.0.0.1", port: 0, tls: serverTls(true), log: () => {} });
  });
  after(() => server.close());

  it("gives the endpoint the verified client certificate's common name and fingerprint", async () => {
    await grpcGet(server.address, "operations/m", trusting(certs.caPem, client()), { "x-goog-api-key": "k-2" });
    const { credentials } = lastSeen();
    assert.deepEqual(credentials.certificate, {
      commonName: certs.clientCommonName,
      fingerprint256: new X509Certificate(certs.clientCertPem).fingerprint256,
    });
    assert.equal(credentials.apiKey, "k-2");
    assert.equal(credentials.authorization, undefined);
  });

  it("tells certificates of the same CA apart", async () => {
    const alice = await certs.issueClient("alice@example.com");
    await grpcGet(server.address, "operations/alice", trusting(certs.caPem, { cert: alice.certPem, key: alice.keyPem }));
    assert.equal(lastSeen().credentials.certificate?.commonName, "alice@example.com");
    assert.equal(lastSeen().credentials.certificate?.fingerprint256, new X509Certificate(alice.certPem).fingerprint256);
  });

  it("refuses at the handshake a client without a certificate, or with one another CA signed", async () => {
    const before = seen.length;
    const without = await refusal(grpcGet(server.address, "operations/x", trusting(certs.caPem)));
    assert.equal(without.code, grpc.status.UNAVAILABLE, without.message);
    const foreign = await refusal(grpcGet(server.address, "operations/y", trusting(certs.caPem, foreignClient())));
    assert.equal(foreign.code, grpc.status.UNAVAILABLE, foreign.message);
    assert.equal(seen.length, before, "a refused client reached an endpoint");
  });
});

describe("REST over HTTPS", () => {
  let server: RestServer;
  before(async () => {
    server = await startRestServer({ endpoints, registry, errorDomain: DOMAIN, host: "127.0.0.1", port: 0, tls: serverTls(false), log: () => {} });
  });
  after(() => server.close());

  it("serves https:// to a client that trusts the server's CA", async () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const r = await get(`${server.url}/v1/operations/h?key=k-3`, { ca: certs.caPem });
    assert.equal(r.status, 200, r.text);
    assert.equal(JSON.parse(r.text).name, "operations/h");
    assert.deepEqual(lastSeen().credentials, { apiKey: "k-3", authorization: undefined, certificate: undefined });
  });

  it("does not ask for a client certificate: one offered is not a credential", async () => {
    const r = await get(`${server.url}/v1/operations/h2`, { ca: certs.caPem, ...client() });
    assert.equal(r.status, 200, r.text);
    assert.equal(lastSeen().credentials.certificate, undefined);
  });

  it("is refused by a client that does not trust the server's CA, and answers no plain HTTP", async () => {
    const before = seen.length;
    const untrusting = await refusal<NodeJS.ErrnoException>(get(`${server.url}/v1/operations/h3`, { ca: certs.otherCaPem }));
    assert.equal(untrusting.code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    await assert.rejects(get(`${server.url.replace("https:", "http:")}/v1/operations/h4`));
    assert.equal(seen.length, before);
  });
});

describe("REST over mutual TLS", () => {
  let server: RestServer;
  before(async () => {
    server = await startRestServer({ endpoints, registry, errorDomain: DOMAIN, host: "127.0.0.1", port: 0, tls: serverTls(true), log: () => {} });
  });
  after(() => server.close());

  it("gives the endpoint the verified client certificate's common name and fingerprint", async () => {
    const r = await get(`${server.url}/v1/operations/m`, { ca: certs.caPem, ...client(), headers: { authorization: "Bearer t-4" } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(lastSeen().credentials, {
      apiKey: undefined,
      authorization: "Bearer t-4",
      certificate: { commonName: certs.clientCommonName, fingerprint256: new X509Certificate(certs.clientCertPem).fingerprint256 },
    });
  });

  it("refuses at the handshake a client without a certificate, or with one another CA signed", async () => {
    const before = seen.length;
    const without = await refusal<NodeJS.ErrnoException>(get(`${server.url}/v1/operations/x`, { ca: certs.caPem }));
    assert.match(String(without.code), HANDSHAKE_REFUSED, without.message);
    const foreign = await refusal<NodeJS.ErrnoException>(get(`${server.url}/v1/operations/y`, { ca: certs.caPem, ...foreignClient() }));
    assert.match(String(foreign.code), HANDSHAKE_REFUSED, foreign.message);
    assert.equal(seen.length, before, "a refused client reached an endpoint");
  });
});

describe("certificateOf", () => {
  const peer = (fields: object): NodePeerCertificate => fields as NodePeerCertificate;

  it("names a certificate by its one common name", () => {
    assert.deepEqual(certificateOf(peer({ subject: { CN: "svc" }, fingerprint256: "AB:CD" })), { commonName: "svc", fingerprint256: "AB:CD" });
  });

  it("gives nothing for no certificate, or one without a single common name", () => {
    assert.equal(certificateOf(undefined), undefined);
    assert.equal(certificateOf(peer({})), undefined);
    assert.equal(certificateOf(peer({ subject: { O: "org" }, fingerprint256: "AB:CD" })), undefined);
    assert.equal(certificateOf(peer({ subject: { CN: "" }, fingerprint256: "AB:CD" })), undefined);
    assert.equal(certificateOf(peer({ subject: { CN: ["a", "b"] }, fingerprint256: "AB:CD" })), undefined);
  });
});
