// What the credential tests of both transports share: endpoints that record what reached them (the request
// and the credentials the transport found), and a one-shot HTTP(S) GET.
import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import { create, createFileRegistry, fromJson, getOption, type JsonObject, type Message, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { notFound, Reason, unauthenticated } from "../../src/core/errors.js";
import { buildRegistry } from "../../src/core/registry.js";
import type { Credentials } from "../../src/auth/credentials.js";
import type { CallContext, Endpoint } from "../../src/service/endpoint.js";
import { http as httpOption } from "../../src/gen/google/api/annotations_pb.js";
import { HttpRuleSchema } from "../../src/gen/google/api/http_pb.js";
import { OperationSchema, Operations, type GetOperationRequest } from "../../src/gen/google/longrunning/operations_pb.js";

export interface Seen {
  request: Message;
  credentials: Credentials;
}

/** Every call that reached an endpoint, oldest first. */
export const seen: Seen[] = [];

export function lastSeen(): Seen {
  const s = seen.at(-1);
  assert.ok(s, "no call reached an endpoint");
  return s;
}

/** GetOperation (gRPC and REST): `operations/unauthenticated` and `operations/missing` fail, any other name is done. */
const getOperation: Endpoint = {
  method: Operations.method.getOperation,
  httpRules: [getOption(Operations.method.getOperation, httpOption)],
  grpc: true,
  async invoke(request: Message, ctx: CallContext) {
    seen.push({ request, credentials: ctx.credentials });
    const { name } = request as GetOperationRequest;
    if (name === "operations/unauthenticated") throw unauthenticated(Reason.API_KEY_INVALID);
    if (name === "operations/missing") throw notFound(name);
    return create(OperationSchema, { name, done: true });
  },
};

function fd(name: string, number: number): JsonObject {
  const jsonName = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return { name, number, label: "LABEL_OPTIONAL", type: "TYPE_STRING", jsonName };
}
const keyedFile = createFileRegistry(
  fromJson(FileDescriptorProtoSchema, {
    name: "test/transport/keyed.proto",
    package: "test.transport.v1",
    syntax: "proto3",
    messageType: [{ name: "KeyedRequest", field: [fd("name", 1), fd("key", 2), fd("access_token", 3), fd("fields", 4)] }],
    service: [
      { name: "Keyed", method: [{ name: "Echo", inputType: ".test.transport.v1.KeyedRequest", outputType: ".test.transport.v1.KeyedRequest" }] },
    ],
  }),
  () => undefined,
);

/**
 * REST only, `GET /v1/{name=keyed/*}`, answers its request: a request with fields named like the credential
 * query parameters (`key`, `access_token`) and like a system parameter (`fields`).
 */
const keyed: Endpoint = {
  method: keyedFile.getService("test.transport.v1.Keyed")!.methods[0]!,
  httpRules: [create(HttpRuleSchema, { pattern: { case: "get", value: "/v1/{name=keyed/*}" } })],
  grpc: false,
  async invoke(request, ctx) {
    seen.push({ request, credentials: ctx.credentials });
    return request;
  },
};

export const endpoints: readonly Endpoint[] = [getOperation, keyed];
export const registry: Registry = buildRegistry([keyedFile.getFile("test/transport/keyed.proto")!]);
export const DOMAIN = "test.example.com";

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface GetOptions {
  /** For https: the CA to trust, and the client certificate and key to present. */
  ca?: string;
  cert?: string;
  key?: string;
  headers?: http.OutgoingHttpHeaders;
}

/** A GET over a new connection (`agent: false`: no TLS session or socket is reused between requests). */
export function get(url: string, options: GetOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const { ca, cert, key, headers = {} } = options;
    const onResponse = (res: http.IncomingMessage): void => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString() }));
      res.on("error", reject);
    };
    const req = url.startsWith("https:")
      ? https.request(url, { agent: false, headers, ca, cert, key }, onResponse)
      : http.request(url, { agent: false, headers }, onResponse);
    req.on("error", reject);
    req.end();
  });
}
