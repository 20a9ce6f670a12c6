import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs, type Duration } from "@bufbuild/protobuf/wkt";
import { invalidArgument } from "../core/errors.js";
import { nonNegativeDurationMs } from "../core/duration.js";
import type { OperationNames } from "../core/names.js";
import {
  file_longrun_admin_v1_activity,
  OperationActivityReport_BucketSchema,
  OperationActivityReportSchema,
  type GetOperationActivityRequest,
  type OperationActivityReport,
} from "../gen/longrun/admin/v1/activity_pb.js";
import type { Store } from "../store/store.js";

/** The proto of the service, for the server's registry (REST transcoding of its messages). */
export const ACTIVITY_FILE = file_longrun_admin_v1_activity;

const MINUTE_MS = 60_000;
const DEFAULT_WINDOW_MS = 60 * MINUTE_MS;
const MAX_WINDOW_MS = 24 * 60 * MINUTE_MS;
const DEFAULT_BUCKET_MS = MINUTE_MS;
const MIN_BUCKET_MS = 1000;
const MAX_BUCKETS = 1440;

/**
 * `GetOperationActivity`: operations started and finished per bucket of a window ending now, for the
 * collection (and, for a list the guard allowed only on a resource, that resource) — one store statement.
 * Buckets are aligned on multiples of their width, so successive reports line up.
 */
export async function operationActivity(store: Store, names: OperationNames, now: number, request: GetOperationActivityRequest, resource?: string): Promise<OperationActivityReport> {
  const parent = names.parseListName(request.name);
  const bucketMs = positive("bucket", request.bucket, DEFAULT_BUCKET_MS);
  if (bucketMs < MIN_BUCKET_MS) throw invalidArgument("bucket", `must be at least ${MIN_BUCKET_MS / 1000}s`);
  const windowMs = positive("window", request.window, DEFAULT_WINDOW_MS);
  if (windowMs > MAX_WINDOW_MS) throw invalidArgument("window", "must be at most 24h");
  const count = Math.ceil(windowMs / bucketMs);
  if (count > MAX_BUCKETS) throw invalidArgument("bucket", `the window holds at most ${MAX_BUCKETS} buckets, not ${count}`);
  const until = (Math.floor(now / bucketMs) + 1) * bucketMs;
  const since = until - count * bucketMs;
  const found = new Map((await store.activity({ parent, resource, since, until, bucketMs })).map((b) => [b.start, b]));
  return create(OperationActivityReportSchema, {
    bucket: durationFromMs(bucketMs),
    buckets: Array.from({ length: count }, (_, i) => {
      const start = since + i * bucketMs;
      const b = found.get(start);
      return create(OperationActivityReport_BucketSchema, { startTime: timestampFromMs(start), started: BigInt(b?.started ?? 0), finished: BigInt(b?.finished ?? 0) });
    }),
  });
}

function positive(field: string, given: Duration | undefined, fallback: number): number {
  if (given === undefined) return fallback;
  const ms = nonNegativeDurationMs(field, given);
  if (ms === 0) throw invalidArgument(field, "must be positive");
  return ms;
}
