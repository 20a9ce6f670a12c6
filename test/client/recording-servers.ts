import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Credentials } from "../../src/auth/credentials.js";
import { notFound } from "../../src/core/errors.js";
import { buildRegistry } from "../../src/core/registry.js";
import { HttpRuleSchema } from "../../src/gen/google/api/http_pb.js";
import { GetOperationRequestSchema, Operations, OperationSchema, type GetOperationRequest } from "../../src/gen/google/longrunning/operations_pb.js";
import type { Endpoint } from "../../src/service/endpoint.js";
import { startGrpcServer } from "../../src/transport/grpc/server.js";
import { createRestHandler, startRestServer } from "../../src/transport/rest/index.js";
import type { TestPki } from "./tls-certs.js";

/** Servers answering GetOperation (the name asked for) that note the credentials of every call. */
export interface RecordingServers {
  /** host:port */
  grpcAddress: string;
  /** http://… or, with TLS, https://… */
  restUrl: string;
  /** The credentials of each call, oldest first, from either transport. */
  seen: Credentials[];
  close(): Promise<void>;
}

const registry = buildRegistry([]);

/** The name GetOperation answers NOT_FOUND for; any other, an operation of that name. */
export const MISSING = "operations/missing";

/** GetOperation answering the name it was asked for, after noting the credentials the transport found. */
export function recordingEndpoint(seen: Credentials[]): Endpoint {
  return {
    method: Operations.method.getOperation,
    httpRules: [create(HttpRuleSchema, { pattern: { case: "get", value: "/v1/{name=operations/**}" } })],
    grpc: true,
    invoke: async (request, ctx) => {
      seen.push(ctx.credentials);
      const { name } = request as GetOperationRequest;
      if (name === MISSING) throw notFound(name);
      return create(OperationSchema, { name });
    },
  };
}

/** longrun's own gRPC and REST transports on loopback, plaintext. */
export async function startRecordingServers(): Promise<RecordingServers> {
  const seen: Credentials[] = [];
  const endpoints = [recordingEndpoint(seen)];
  const grpcServer = await startGrpcServer({ endpoints, errorDomain: "test", host: "127.0.0.1", port: 0, log: () => {} });
  const restServer = await startRestServer({ endpoints, registry, errorDomain: "test", host: "127.0.0.1", port: 0, log: () => {} });
  return {
    grpcAddress: grpcServer.address,
    restUrl: restServer.url,
    seen,
    close: async () => {
      await grpcServer.close();
      await restServer.close();
    },
  };
}

/**
 * The same over mutual TLS (a connection without a client certificate of the PKI's CA fails its handshake):
 * grpc-js and node:https servers of their own, since the transports' TLS is not here yet; REST through
 * longrun's REST handler, gRPC a bare GetOperation that reads the metadata as the gRPC transport does.
 */
export async function startMutualTlsServers(pki: TestPki): Promise<RecordingServers> {
  const seen: Credentials[] = [];
  const server = new grpc.Server();
  server.addService(
    {
      GetOperation: {
        path: "/google.longrunning.Operations/GetOperation",
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    {
      GetOperation: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const first = (key: string): string | undefined => {
          const value = call.metadata.get(key)[0];
          return typeof value === "string" ? value : undefined;
        };
        seen.push({ apiKey: first("x-goog-api-key"), authorization: first("authorization"), certificate: undefined });
        const { name } = fromBinary(GetOperationRequestSchema, call.request);
        callback(null, Buffer.from(toBinary(OperationSchema, create(OperationSchema, { name }))));
      },
    },
  );
  const credentials = grpc.ServerCredentials.createSsl(pki.ca, [{ private_key: pki.serverKey, cert_chain: pki.serverCert }], true);
  const grpcPort = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", credentials, (err, p) => (err ? reject(err) : resolve(p))));

  const handler = createRestHandler({ endpoints: [recordingEndpoint(seen)], registry, errorDomain: "test", log: () => {} });
  const https = createHttpsServer({ cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestCert: true, rejectUnauthorized: true }, handler);
  await new Promise<void>((resolve) => https.listen(0, "127.0.0.1", resolve));
  return {
    grpcAddress: `127.0.0.1:${grpcPort}`,
    restUrl: `https://127.0.0.1:${(https.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      server.forceShutdown();
      https.closeAllConnections();
      await new Promise<void>((resolve) => https.close(() => resolve()));
    },
  };
}
