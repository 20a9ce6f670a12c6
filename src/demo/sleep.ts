import { setTimeout as sleepFor } from "node:timers/promises";
import { durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { defineMethod } from "../runtime/methods.js";
import { invalidArgument, RpcError } from "../core/errors.js";
import { isErrorCode } from "../core/code.js";
import { durationExceeds, nonNegativeDurationMs } from "../core/duration.js";
import { Demo, SleepMetadataSchema, SleepResponseSchema } from "../gen/longrun/demo/v1/demo_pb.js";

/** The longest sleep, 24 h, compared exactly: `86400.000000001s` is refused. */
const MAX_SLEEP_SECONDS = 24 * 60 * 60;
/** Progress is reported about 20 times per sleep, at most once per second and at least every 10 ms. */
const STEPS = 20;

/**
 * longrun.demo.v1.Demo/Sleep: sleeps `duration` in steps, reporting `progress_percent`; stops at once when
 * cancelled; ends with `fail_with` if given. Resumed after a restart, it sleeps only what is left, taking
 * the progress it had durably reported.
 */
export const sleep = defineMethod({
  method: Demo.method.sleep,
  response: SleepResponseSchema,
  metadata: SleepMetadataSchema,
  validate(request) {
    if (request.duration) {
      nonNegativeDurationMs("duration", request.duration);
      if (durationExceeds(request.duration, MAX_SLEEP_SECONDS)) throw invalidArgument("duration", "must be at most 24h");
    }
    if (request.failWith && !isErrorCode(request.failWith.code)) {
      throw invalidArgument("fail_with.code", `must be a google.rpc.Code from 1 to 16, got ${request.failWith.code}`);
    }
  },
  async handler(request, ctx) {
    const totalMs = request.duration ? durationMs(request.duration) : 0;
    const step = Math.min(1000, Math.max(10, totalMs / STEPS));
    let sleptMs = (totalMs * ctx.metadata.progressPercent) / 100;
    while (sleptMs < totalMs) {
      const chunk = Math.min(step, totalMs - sleptMs);
      await sleepFor(chunk, undefined, { signal: ctx.signal });
      sleptMs += chunk;
      await ctx.progress({ progressPercent: Math.floor((sleptMs * 100) / totalMs) });
    }
    if (totalMs === 0) await ctx.progress({ progressPercent: 100 });
    if (request.failWith) throw RpcError.fromStatus(request.failWith);
    return { slept: durationFromMs(Math.round(sleptMs)) };
  },
});
