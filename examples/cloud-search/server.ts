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
import type { ServerOptions } from "../../src/index.js";
import { runExampleIfMain } from "../shared/run-example.js";
import { schemaMethods } from "./methods.js";
import { profile } from "./profile.js";

/** The server options that make longrun look like the real service (its profile, and the handlers); tests use the same. */
export function cloudSearchOptions(dataDir: string) {
  return { methods: schemaMethods(dataDir), profile } satisfies Partial<ServerOptions>;
}

await runExampleIfMain(import.meta.url, {
  name: "cloud-search",
  defaultStore: "sqlite:./cloud-search.db",
  extraFlags: { data: { default: "./cloud-search-data", env: "CLOUD_SEARCH_DATA", describe: "where schemas are stored" } },
  options: (flags) => cloudSearchOptions(flags.data),
});
