/**
 * The Cloud Search example server: `indexing.datasources.updateSchema` / `deleteSchema` plus
 * google.longrunning.Operations, configured as cloudsearch.googleapis.com is:
 * - operation names `operations/{id}`;
 * - REST and gRPC: GetOperation (`GET /v1/{name=operations/**}`); ListOperations only over REST and only at
 *   Cloud Search's `operations.lro.list` binding `GET /v1/{name=operations/**}/lro`; Cancel, Delete and
 *   Wait answer UNIMPLEMENTED on both transports, ListOperations over gRPC too;
 * - ErrorInfo domain `cloudsearch.googleapis.com`.
 *
 *   node --import tsx examples/cloud-search/server.ts [--host H] [--grpc-port N] [--http-port N] [--store URL] [--data DIR]
 *
 * Flags fall back to the same environment variables as `longrun serve` (LONGRUN_HOST, LONGRUN_GRPC_PORT,
 * LONGRUN_HTTP_PORT, LONGRUN_STORE) and CLOUD_SEARCH_DATA; defaults 127.0.0.1, 50051, 8080,
 * sqlite:./cloud-search.db, ./cloud-search-data.
 */
import { create } from "@bufbuild/protobuf";
import type { Endpoint, OperationsService, ServerOptions } from "../../src/index.js";
import { runExampleIfMain } from "../shared/run-example.js";
import { HttpRuleSchema } from "../../src/gen/google/api/http_pb.js";
import { Operations, type ListOperationsRequest } from "../../src/gen/google/longrunning/operations_pb.js";
import { schemaMethods } from "./methods.js";

/** Cloud Search's `operations.lro.list`: literals after `**`, beyond http.proto's grammar, as Google serves it. */
export const LRO_LIST_PATH = "/v1/{name=operations/**}/lro";

/**
 * ListOperations at `GET /v1/{name=operations/**}/lro`, REST only. The client's `name` is "the name of the
 * operation's parent resource"; operations here have no parent, so `operations`
 * (`operations.lro.list({ name: "operations" })`, i.e. `GET /v1/operations/lro`) lists them all, and
 * anything else (`operations/x` → `/v1/operations/x/lro`) is refused by ListOperations (INVALID_ARGUMENT:
 * must be "operations"). `name: "operations/"` sends `/v1/operations//lro`, which matches no binding (404).
 */
export function lroListEndpoint(service: OperationsService): Endpoint {
  return {
    method: Operations.method.listOperations,
    httpRules: [create(HttpRuleSchema, { pattern: { case: "get", value: LRO_LIST_PATH } })],
    grpc: false,
    invoke: (request) => service.listOperations(request as ListOperationsRequest),
  };
}

/** The server options that make longrun look like the real service; tests use the same. */
export function cloudSearchOptions(dataDir: string) {
  return {
    methods: schemaMethods(dataDir),
    disabled: {
      grpc: ["ListOperations", "CancelOperation", "DeleteOperation", "WaitOperation"],
      rest: ["ListOperations", "CancelOperation", "DeleteOperation", "WaitOperation"],
    },
    extraEndpoints: (service) => [lroListEndpoint(service)],
    errorDomain: "cloudsearch.googleapis.com",
  } satisfies Partial<ServerOptions>;
}

await runExampleIfMain(import.meta.url, {
  name: "cloud-search",
  defaultStore: "sqlite:./cloud-search.db",
  extraFlags: { data: { default: "./cloud-search-data", env: "CLOUD_SEARCH_DATA", describe: "where schemas are stored" } },
  options: (flags) => cloudSearchOptions(flags.data),
});
