import Database from "better-sqlite3";
import { isFull } from "./errors.js";
import { migrate } from "./migrations.js";

export interface OpenOptions {
  /**
   * FULL (default): a write is answered only once its commit is on disk, so an RPC that returned an
   * Operation never loses its row, even to a power cut (the store fsyncs the WAL off the event loop,
   * wal-sync.ts). NORMAL: no fsync at commit, and still never corrupt, but the last commits can be lost on
   * power failure (not on a process crash).
   */
  synchronous?: "FULL" | "NORMAL" | undefined;
  /** How long open waits for another connection to let go of the file before failing. Default 5000. */
  busyTimeoutMs?: number | undefined;
}

/**
 * Opens the database for the sole use of this connection: pragmas, the exclusive file lock, migrations,
 * and the recovery of leases left by a previous process.
 */
export function openDatabase(path: string, options: OpenOptions = {}): Database.Database {
  const synchronous = options.synchronous ?? "FULL";
  if (synchronous !== "FULL" && synchronous !== "NORMAL") {
    throw new TypeError(`synchronous must be "FULL" or "NORMAL", not ${JSON.stringify(synchronous)}`);
  }
  const db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
  try {
    // Before WAL, so the WAL index lives in heap memory (no -shm file) and the lock, once taken, is held
    // until close: workers of two processes sharing one file would each think they own every lease.
    db.pragma("locking_mode = EXCLUSIVE");
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma("foreign_keys = ON");
    const now = Date.now();
    // The migration transaction is a write, so it takes the exclusive lock, here at open.
    migrate(db, now);
    try {
      expireLeases(db, now);
    } catch (error) {
      // A full disk: open anyway, to serve reads; the leases then expire in their own time.
      if (!isFull(error)) throw error;
    }
  } catch (error) {
    db.close();
    if (isLockedError(error)) {
      throw new Error(
        `the operations database ${path} is in use by another process (the embedded SQLite store ` +
          `belongs to one process; use a shared store to run several)`,
        { cause: error },
      );
    }
    throw error;
  }
  return db;
}

/**
 * No other process can hold a lease on this file, so any lease still in it was left by a process that
 * died: make it expire now so the operation is claimable at once. The attempt is kept; the runtime
 * decides between retrying and failing by counting attempts.
 */
function expireLeases(db: Database.Database, now: number): void {
  db.prepare("UPDATE operations SET lease_expire_time = MIN(lease_expire_time, ?) WHERE state = 'running'").run(now);
  // Outbox events being delivered (claimed, or handed over by a finish) when that process stopped.
  db.prepare("UPDATE outbox SET lease_expire_time = MIN(lease_expire_time, ?) WHERE lease_expire_time IS NOT NULL").run(now);
}

function isLockedError(error: unknown): boolean {
  return (
    error instanceof Database.SqliteError &&
    (error.code === "SQLITE_BUSY" || error.code === "SQLITE_LOCKED" || error.code.startsWith("SQLITE_BUSY_"))
  );
}
