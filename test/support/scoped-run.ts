import { defineMethod } from "../../src/index.js";
import { RunMetadataSchema, RunResponseSchema, Scoped } from "../../src/gen/longrun/test/v1/scoped_pb.js";

/**
 * Scoped/Run answering at once: operations named under the request's parent with parent-scoped names
 * (`projects/*\/locations/*\/operations/{id}`), for tests about parents and tenants.
 */
export const instantScopedRun = defineMethod({
  method: Scoped.method.run,
  response: RunResponseSchema,
  metadata: RunMetadataSchema,
  async handler(request) {
    return { parent: request.parent };
  },
});
