/**
 * longrun.demo.v1.Demo/Sleep with a handler that does nothing — no progress write, unlike the demo's
 * Sleep(0) — so longrun runs the same no-op job its peers run: `longrun serve --methods
 * bench/noop-methods.ts`, or the drain worker with BENCH_HANDLER=noop.
 */
import { defineMethod } from "../src/runtime/methods.js";
import { Demo, SleepMetadataSchema, SleepResponseSchema } from "../src/gen/longrun/demo/v1/demo_pb.js";

export const methods = [
  defineMethod({
    method: Demo.method.sleep,
    response: SleepResponseSchema,
    metadata: SleepMetadataSchema,
    async handler() {
      return {};
    },
  }),
];
