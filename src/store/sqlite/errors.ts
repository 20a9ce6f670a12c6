import Database from "better-sqlite3";
import { storeFull } from "../shared/errors.js";
import type { StoreDriver } from "../shared/driver.js";

/**
 * Whether a better-sqlite3 error means the disk has no space left: SQLite answers SQLITE_FULL when a write
 * of the database or its WAL fails with ENOSPC. The transaction is rolled back (better-sqlite3's
 * `transaction()`), nothing it wrote is visible, and the file stays sound: the same call succeeds once
 * there is space again (test/integration/full-disk.test.ts).
 */
export function isFull(error: unknown): boolean {
  return error instanceof Database.SqliteError && error.code === "SQLITE_FULL";
}

/** Rethrow helper: a full disk becomes UNAVAILABLE STORE_FULL; any other error stays as it is. */
export function toStoreError(error: unknown): unknown {
  return isFull(error) ? storeFull(error) : error;
}

/** Runs one (synchronous) driver call, its error through toStoreError. */
function mapped<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw toStoreError(error);
  }
}

/** The driver with every call's error passed through toStoreError, so StoreCore and its callers see RpcErrors. */
export function mappingErrors(d: StoreDriver): StoreDriver {
  return {
    create: (operations, now) => mapped(() => d.create(operations, now)),
    get: (id, now) => mapped(() => d.get(id, now)),
    getViews: (ids, now) => mapped(() => d.getViews(ids, now)),
    list: (query) => mapped(() => d.list(query)),
    delete: (ids) => mapped(() => d.delete(ids)),
    requestCancel: (operations, now) => mapped(() => d.requestCancel(operations, now)),
    requestControl: (operations, command, now) => mapped(() => d.requestControl(operations, command, now)),
    claim: (request) => mapped(() => d.claim(request)),
    heartbeat: (owner, leases, leaseMs, now) => mapped(() => d.heartbeat(owner, leases, leaseMs, now)),
    progress: (updates, now) => mapped(() => d.progress(updates, now)),
    finish: (results, retentionMs, now) => mapped(() => d.finish(results, retentionMs, now)),
    release: (owner, leases, runAfter, now) => mapped(() => d.release(owner, leases, runAfter, now)),
    retryLater: (owner, retries, now) => mapped(() => d.retryLater(owner, retries, now)),
    nextDueTime: (methods, now) => mapped(() => d.nextDueTime(methods, now)),
    purgeExpired: (now) => mapped(() => d.purgeExpired(now)),
    expireDeadLeases: (now) => mapped(() => d.expireDeadLeases(now)),
    activity: (query) => mapped(() => d.activity(query)),
    claimEvents: (claim) => mapped(() => d.claimEvents(claim)),
    settleEvents: (settlements, now) => mapped(() => d.settleEvents(settlements, now)),
    listEvents: (query) => mapped(() => d.listEvents(query)),
    appendEvents: (events, now) => mapped(() => d.appendEvents(events, now)),
    retryEvents: (ids, now) => mapped(() => d.retryEvents(ids, now)),
    deleteEvents: (ids) => mapped(() => d.deleteEvents(ids)),
    nextEventDueTime: (destinations, now) => mapped(() => d.nextEventDueTime(destinations, now)),
    counts: (now, done) => mapped(() => d.counts(now, done)),
    stateCounts: (query) => mapped(() => d.stateCounts(query)),
    close: () => mapped(() => d.close()),
  };
}
