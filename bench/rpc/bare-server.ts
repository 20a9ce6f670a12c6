/**
 * The baseline of the rpc benchmark: what serving GetOperation costs with nothing but the libraries longrun
 * itself builds on. A bare @grpc/grpc-js server answers `google.longrunning.Operations/GetOperation` and a
 * bare node:http server answers `GET /v1/operations/{id}`, both with one constant Operation (the one the
 * benchmark read from longrun, passed in BARE_OPERATION as base64 protobuf). Each call still does the work
 * any real server must: decode the request, encode the response with @bufbuild/protobuf (binary for gRPC;
 * proto3 JSON with the Any registry, each Any's "@type" first, pretty-printed as longrun's default, for REST). No store, routing,
 * validation or error model: so longrun/bare is what longrun's own layers cost.
 *
 *   BARE_OPERATION=<base64> node --import tsx bench/rpc/bare-server.ts
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { createRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import { operationJson } from "../../src/core/any-json.js";
import {
  GetOperationRequestSchema,
  OperationSchema,
  type GetOperationRequest,
  type Operation,
} from "../../src/gen/google/longrunning/operations_pb.js";
import { SleepMetadataSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";

const encoded = process.env.BARE_OPERATION;
if (!encoded) throw new Error("BARE_OPERATION (the Operation to serve, base64 protobuf) is required");
const operation = fromBinary(OperationSchema, Buffer.from(encoded, "base64"));
const registry = createRegistry(SleepMetadataSchema, SleepResponseSchema);
const host = "127.0.0.1";

const grpcServer = new grpc.Server();
grpcServer.addService(
  {
    GetOperation: {
      path: "/google.longrunning.Operations/GetOperation",
      requestStream: false,
      responseStream: false,
      requestSerialize: (m: GetOperationRequest) => Buffer.from(toBinary(GetOperationRequestSchema, m)),
      requestDeserialize: (b: Buffer) => fromBinary(GetOperationRequestSchema, b),
      responseSerialize: (m: Operation) => Buffer.from(toBinary(OperationSchema, m)),
      responseDeserialize: (b: Buffer) => fromBinary(OperationSchema, b),
    },
  },
  {
    GetOperation: (_call: grpc.ServerUnaryCall<GetOperationRequest, Operation>, callback: grpc.sendUnaryData<Operation>) =>
      callback(null, operation),
  },
);
const grpcPort = await new Promise<number>((resolve, reject) =>
  grpcServer.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
);

const restServer = http.createServer((req, res) => {
  if (req.method !== "GET" || !req.url?.startsWith("/v1/operations/")) {
    res.writeHead(404).end();
    return;
  }
  // Each Any's "@type" first, as Google's encoders (and longrun) write it.
  const body = JSON.stringify(operationJson(operation, registry), null, 2) + "\n";
  res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
});
await new Promise<void>((resolve) => restServer.listen(0, host, resolve));

// The same lines `longrun serve` prints, so bench/support/server-process.ts starts either the same way.
console.log(`gRPC listening on ${host}:${grpcPort}`);
console.log(`REST listening on http://${host}:${(restServer.address() as AddressInfo).port}`);

process.once("SIGTERM", () => {
  grpcServer.forceShutdown();
  restServer.close();
  restServer.closeAllConnections();
});
