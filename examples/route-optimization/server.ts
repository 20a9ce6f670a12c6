/**
 * The Route Optimization example server: BatchOptimizeTours plus google.longrunning.Operations, configured
 * as routeoptimization.googleapis.com is:
 * - operation names `projects/{project}/locations/{location}/operations/{id}`;
 * - REST: only `GET /v1/{name=projects/*\/locations/*\/operations/*}` of the Operations service (List,
 *   Cancel, Delete and Wait answer UNIMPLEMENTED over REST); gRPC: all five Operations methods;
 * - ErrorInfo domain `routeoptimization.googleapis.com`.
 *
 *   node --import tsx examples/route-optimization/server.ts [--host H] [--grpc-port N] [--http-port N] [--store URL]
 *
 * Flags fall back to the same environment variables as `longrun serve` (LONGRUN_HOST, LONGRUN_GRPC_PORT,
 * LONGRUN_HTTP_PORT, LONGRUN_STORE); defaults 127.0.0.1, 50051, 8080, sqlite:./route-optimization.db.
 */
import type { ServerOptions } from "../../src/index.js";
import { runExampleIfMain } from "../shared/run-example.js";
import { methods } from "./methods.js";
import { profile } from "./profile.js";

/**
 * The server options that make longrun look like the real service (its deployment profile, see
 * docs/profiles.md, and the handler); tests use the same.
 */
export const routeOptimizationOptions = {
  methods,
  profile,
} satisfies Partial<ServerOptions>;

await runExampleIfMain(import.meta.url, {
  name: "route-optimization",
  defaultStore: "sqlite:./route-optimization.db",
  options: () => routeOptimizationOptions,
});
