/**
 * google.maps.routeoptimization.v1.RouteOptimization/BatchOptimizeTours, served by longrun from the official
 * proto (vendored in this folder's proto/google/maps/routeoptimization/v1). `longrun serve --methods
 * examples/route-optimization/methods.ts --parent-pattern 'projects/*\/locations/*'` loads this module; `server.ts` starts it configured as the real
 * service is (names, REST surface, error domain).
 */
import { defineMethod } from "../../src/index.js";
import {
  BatchOptimizeToursMetadataSchema,
  BatchOptimizeToursResponseSchema,
  RouteOptimization,
} from "./gen/google/maps/routeoptimization/v1/route_optimization_service_pb.js";
import { greedyAssign } from "./greedy.js";
import { inputUri, outputUri, readModel, validateBatchRequest, writeResult } from "./io.js";

/**
 * Where an operation is named. The API accepts `projects/{p}/locations/{l}` and `projects/{p}` ("If no
 * location is specified, a region will be chosen automatically"); this example's choice of region is
 * `global`, so `projects/{p}` names its operations `projects/{p}/locations/global/operations/{id}` and
 * every operation can be read with the one REST binding the real service has,
 * `GET /v1/{name=projects/{p}/locations/{l}/operations/{id}}`. Anything else is passed through unchanged and
 * refused by longrun (INVALID_ARGUMENT) for not matching the parent pattern `projects/{p}/locations/{l}`.
 */
export function operationParent(parent: string): string {
  return /^projects\/[^/]+$/.test(parent) ? `${parent}/locations/global` : parent;
}

/**
 * Reads each model's input, assigns its shipments greedily (see greedy.ts: not a solver), writes its
 * output; models run one after another. The first model that fails ends the operation with that model's
 * error (its index and URI in the message); outputs already written stay, as with the real service.
 *
 * Per-model progress: `BatchOptimizeToursMetadata` and `BatchOptimizeToursResponse` are empty messages in
 * the official proto, so per-model progress is not representable; nothing is recorded (no invented
 * fields). The metadata stays `{}`; results are in the output files.
 *
 * Cancellation: the signal is checked before each model, inside the assignment loop, and passed to file
 * reads and writes; a cancelled operation ends with CANCELLED.
 */
export const batchOptimizeTours = defineMethod({
  method: RouteOptimization.method.batchOptimizeTours,
  response: BatchOptimizeToursResponseSchema,
  metadata: BatchOptimizeToursMetadataSchema,
  validate: validateBatchRequest,
  parent: (request) => operationParent(request.parent),
  async handler(request, ctx) {
    for (const [index, config] of request.modelConfigs.entries()) {
      ctx.signal.throwIfAborted();
      const model = await readModel(index, inputUri(config), ctx.signal);
      const result = await greedyAssign(model, ctx.signal);
      await writeResult(index, outputUri(config), result, ctx.signal);
    }
    return {};
  },
});

export const methods = [batchOptimizeTours];
