/**
 * longrun.demo.v1.Demo/Sleep with a quiet handler: it sleeps its duration in one timer (stopping when
 * cancelled) and reports no progress, unlike the demo's Sleep, which writes progress about 20 times per
 * sleep (once for Sleep(0)). With duration 0 it only returns: the same no-op job longrun's peers run in
 * bench throughput. bench wait uses it so that 10,000 pending operations are 10,000 timers, not 10,000
 * progress writes a second. `longrun serve --methods bench/support/noop-methods.ts`, or the drain worker with
 * BENCH_HANDLER=noop.
 */
import { setTimeout as sleepFor } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { defineMethod } from "../../src/index.js";
import { Demo, SleepMetadataSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";

/** `longrun serve` arguments serving Demo/Sleep with this quiet handler, or (quiet false) the demo's. */
export function sleepMethodArgs(quiet: boolean): string[] {
  return quiet ? ["--methods", fileURLToPath(import.meta.url)] : ["--demo"];
}

export const methods = [
  defineMethod({
    method: Demo.method.sleep,
    response: SleepResponseSchema,
    metadata: SleepMetadataSchema,
    async handler(request, ctx) {
      const ms = request.duration ? durationMs(request.duration) : 0;
      if (ms > 0) await sleepFor(ms, undefined, { signal: ctx.signal });
      return {};
    },
  }),
];
