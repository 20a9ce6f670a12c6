/**
 * The Route Optimization profile (routeoptimization.googleapis.com; set beside the real service in
 * docs/profiles.md): parent-scoped names; over REST only GetOperation, over gRPC all five. A profile module:
 * `longrun serve --profile route-optimization` loads it, and server.ts serves it with the example's handler.
 */
import type { DeploymentProfile } from "../../src/index.js";

export const profile: DeploymentProfile = {
  name: "route-optimization",
  names: { parent: "projects/*/locations/*" },
  rest: { methods: ["GetOperation"] },
  errorDomain: "routeoptimization.googleapis.com",
  // IAM as Google documents it: routeoptimization.operations.get (viewer), .create for BatchOptimizeTours (editor).
  permissions: {
    prefix: "routeoptimization",
    methods: { "google.maps.routeoptimization.v1.RouteOptimization.BatchOptimizeTours": "routeoptimization.operations.create" },
  },
};
