import { create } from "@bufbuild/protobuf";
import type { Credentials } from "../../src/auth/credentials.js";
import { notFound } from "../../src/core/errors.js";
import { buildRegistry } from "../../src/core/registry.js";
import { HttpRuleSchema } from "../../src/gen/google/api/http_pb.js";
import { Operations, OperationSchema, type GetOperationRequest } from "../../src/gen/google/longrunning/operations_pb.js";
import type { Endpoint } from "../../src/service/endpoint.js";
import { startGrpcServer } from "../../src/transport/grpc/server.js";
import { startRestServer } from "../../src/transport/rest/index.js";
import type { TlsOptions } from "../../src/transport/tls.js";
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

/** longrun's own gRPC and REST transports on loopback, plaintext unless given TLS. */
export async function startRecordingServers(tls?: TlsOptions): Promise<RecordingServers> {
  const seen: Credentials[] = [];
  const endpoints = [recordingEndpoint(seen)];
  const grpcServer = await startGrpcServer({ endpoints, errorDomain: "test", host: "127.0.0.1", port: 0, tls, log: () => {} });
  const restServer = await startRestServer({ endpoints, registry, errorDomain: "test", host: "127.0.0.1", port: 0, tls, log: () => {} });
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

/** The same over mutual TLS: a connection without a client certificate of the PKI's CA fails its handshake. */
export function startMutualTlsServers(pki: TestPki): Promise<RecordingServers> {
  return startRecordingServers({ cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca });
}
