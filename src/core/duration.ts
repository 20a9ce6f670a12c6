import type { Duration } from "@bufbuild/protobuf/wkt";
import { invalidArgument } from "./errors.js";

/** The largest Duration google/protobuf/duration.proto allows, in seconds (about 10,000 years). */
const MAX_SECONDS = 315_576_000_000;

/**
 * Milliseconds of a Duration that is valid and not negative, or INVALID_ARGUMENT naming `field`.
 * Valid: seconds within ±315,576,000,000, nanos within ±999,999,999 and of the same sign.
 */
export function nonNegativeDurationMs(field: string, duration: Duration): number {
  const seconds = Number(duration.seconds);
  const { nanos } = duration;
  if (!Number.isInteger(nanos) || nanos < -999_999_999 || nanos > 999_999_999 || Math.abs(seconds) > MAX_SECONDS || (seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0)) {
    throw invalidArgument(field, "is not a valid google.protobuf.Duration");
  }
  if (seconds < 0 || nanos < 0) throw invalidArgument(field, "must not be negative");
  return seconds * 1000 + Math.floor(nanos / 1_000_000);
}

/**
 * Whether a valid Duration is longer than `seconds` whole seconds, compared exactly (its seconds and nanos as
 * integers: as float milliseconds, `86400.000000001s` would pass for `86400s`).
 */
export function durationExceeds(duration: Duration, seconds: number): boolean {
  const max = BigInt(seconds);
  return duration.seconds > max || (duration.seconds === max && duration.nanos > 0);
}
