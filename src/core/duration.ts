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
