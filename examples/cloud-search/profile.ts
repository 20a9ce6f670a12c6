/**
 * The Cloud Search profile (cloudsearch.googleapis.com; set beside the real service in docs/profiles.md):
 * `operations/{id}`; GetOperation on both transports, and ListOperations only at its `operations.lro.list`
 * route over REST; everything else UNIMPLEMENTED. A profile module: `longrun serve --profile cloud-search`
 * loads it, and server.ts serves it with the example's handlers.
 */
import type { DeploymentProfile } from "../../src/index.js";

export const profile: DeploymentProfile = {
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
  permissions: {
    prefix: "cloudsearch",
    methods: {
      "longrun.examples.cloudsearch.v1.Datasources.UpdateSchema": "cloudsearch.schemas.update",
      "longrun.examples.cloudsearch.v1.Datasources.DeleteSchema": "cloudsearch.schemas.delete",
    },
  },
};
