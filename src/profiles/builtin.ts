/**
 * The profiles of the services the project started from (spec §6), set beside each real service's
 * documented behaviour in docs/profiles.md. `longrun serve --profile <name>` picks one.
 */
import type { DeploymentProfile } from "./profile.js";

/** longrun's own defaults: `operations/{id}`, every method on both transports, AIP-160 filters. */
export const longrunProfile: DeploymentProfile = { name: "longrun" };

/**
 * Route Optimization (routeoptimization.googleapis.com): parent-scoped names; over REST only GetOperation,
 * over gRPC all five.
 */
export const routeOptimizationProfile: DeploymentProfile = {
  name: "route-optimization",
  names: { parent: "projects/*/locations/*" },
  rest: { methods: ["GetOperation"] },
  errorDomain: "routeoptimization.googleapis.com",
};

/**
 * Cloud Search (cloudsearch.googleapis.com): `operations/{id}`; GetOperation on both transports, and
 * ListOperations only at its `operations.lro.list` route over REST; everything else UNIMPLEMENTED.
 */
export const cloudSearchProfile: DeploymentProfile = {
  name: "cloud-search",
  rest: {
    methods: ["GetOperation"],
    // `operations.lro.list`: its `name` is the operations' parent; here they have none, so `operations`
    // (GET /v1/operations/lro) lists them all and anything else is refused by ListOperations. Literals after
    // `**` go beyond http.proto's grammar; Google serves them, and so does longrun.
    additionalBindings: [{ method: "ListOperations", get: "/v1/{name=operations/**}/lro" }],
  },
  grpc: { methods: ["GetOperation"] },
  errorDomain: "cloudsearch.googleapis.com",
};

/**
 * Storage Transfer (storagetransfer.googleapis.com): `transferOperations/{id}`; List needs the JSON filter
 * (projectId required), at most 256 a page; no Delete or Wait over REST; pause and resume are custom
 * methods on operations.
 */
export const storageTransferProfile: DeploymentProfile = {
  name: "storage-transfer",
  names: { collection: "transferOperations" },
  rest: { methods: ["GetOperation", "ListOperations", "CancelOperation"] },
  controls: [
    { method: "google.storagetransfer.v1.StorageTransferService.PauseTransferOperation", command: "pause" },
    { method: "google.storagetransfer.v1.StorageTransferService.ResumeTransferOperation", command: "resume" },
  ],
  listing: { maxPageSize: 256, filterRequired: true, filterDialect: "storage-transfer-json" },
  errorDomain: "storagetransfer.googleapis.com",
};

export const BUILTIN_PROFILES: ReadonlyMap<string, DeploymentProfile> = new Map(
  [longrunProfile, routeOptimizationProfile, cloudSearchProfile, storageTransferProfile].map((p) => [p.name, p]),
);
