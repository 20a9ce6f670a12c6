import type { Store } from "../store/store.js";
import type { Metrics } from "./metrics.js";

/** Store methods that are calls (all but subscribe and close; `shared` is a property): each failure is counted under its name. */
type StoreCall = Exclude<keyof Store, "subscribe" | "close" | "shared">;

const CALLS = {
  create: true, get: true, getViews: true, list: true, delete: true, requestCancel: true, requestControl: true, claim: true,
  heartbeat: true, progress: true, finish: true, release: true, retryLater: true, nextDueTime: true, purgeExpired: true, expireDeadLeases: true, claimEvents: true,
  settleEvents: true, listEvents: true, appendEvents: true, retryEvents: true, deleteEvents: true, nextEventDueTime: true, counts: true, activity: true,
  stateCounts: true,
} satisfies Record<StoreCall, true>;

/**
 * The store, counted: failures of every call (`longrun_store_errors_total{op}`), operations created
 * (`longrun_operations_started_total`), items per write statement (`longrun_store_write_batch_size`) and
 * writes the fence refused (`longrun_fenced_writes_total`). Each call costs one more promise reaction.
 */
export function instrumentStore(store: Store, metrics: Metrics): Store {
  const wrapped: Record<string, unknown> = {
    shared: store.shared,
    subscribe: store.subscribe.bind(store),
    close: store.close.bind(store),
  };
  for (const op of Object.keys(CALLS) as StoreCall[]) {
    const call = (store[op] as (...args: unknown[]) => Promise<unknown>).bind(store);
    const failed = metrics.storeErrors.labels({ op });
    wrapped[op] = (...args: unknown[]) =>
      call(...args).catch((err: unknown) => {
        failed.inc();
        throw err;
      });
  }
  const counted = wrapped as unknown as Store;
  const batch = (kind: string) => metrics.writeBatchSeries.series({ kind });
  const createBatch = batch("create");
  const progressBatch = batch("progress");
  const finishBatch = batch("finish");
  const heartbeatBatch = batch("heartbeat");
  const fencedProgress = metrics.fencedWrites.labels({ kind: "progress" });
  const fencedFinish = metrics.fencedWrites.labels({ kind: "finish" });
  const create = counted.create;
  const progress = counted.progress;
  const finish = counted.finish;
  const heartbeat = counted.heartbeat;
  counted.create = async (operations, now) => {
    const results = await create(operations, now);
    if (results.length > 0) createBatch.observe(results.length);
    for (const result of results) if (result.created) metrics.started(result.record.method);
    return results;
  };
  counted.progress = async (updates, now) => {
    const applied = await progress(updates, now);
    if (applied.length > 0) progressBatch.observe(applied.length);
    const refused = applied.filter((a) => !a).length;
    if (refused > 0) fencedProgress.inc(refused);
    return applied;
  };
  counted.finish = async (results, retentionMs, now) => {
    const applied = await finish(results, retentionMs, now);
    if (applied.length > 0) finishBatch.observe(applied.length);
    const refused = applied.filter((a) => !a).length;
    if (refused > 0) fencedFinish.inc(refused);
    return applied;
  };
  counted.heartbeat = async (owner, leases, leaseMs, now) => {
    const results = await heartbeat(owner, leases, leaseMs, now);
    if (results.length > 0) heartbeatBatch.observe(results.length);
    return results;
  };
  return counted;
}
