import type { ListQuery } from "../store.js";
import { ChangeFeed, type ListenerErrorHandler } from "../shared/change-feed.js";
import { StoreCore } from "../shared/store-core.js";
import { SqliteDriver } from "./driver.js";
import { mappingErrors, toStoreError } from "./errors.js";
import { SharedCommits, sharingCommits } from "./shared-commits.js";
import { openDatabase, type OpenOptions } from "./open.js";
import { WalSync } from "./wal-sync.js";

export interface SqliteStoreOptions extends OpenOptions {
  /** Told what a change listener threw (the write itself has committed). Default: console.error. */
  onListenerError?: ListenerErrorHandler | undefined;
}

/**
 * The embedded store: one SQLite file, owned by one process (an exclusive lock, taken at open, keeps
 * others out). better-sqlite3 is synchronous; the methods are async only to honour the Store contract.
 * Each write call is one transaction whatever the number of operations it names (driver.ts), and the writes
 * asked for in one turn of the event loop share one commit (shared-commits.ts). A full disk
 * surfaces as UNAVAILABLE STORE_FULL (errors.ts); the writes succeed again once there is space.
 */
export class SqliteStore extends StoreCore {
  readonly #driver: SqliteDriver;

  private constructor(driver: SqliteDriver, commits: SharedCommits, options: SqliteStoreOptions) {
    super(
      sharingCommits(mappingErrors(driver), commits),
      new ChangeFeed(
        options.onListenerError ??
          ((error, event) => console.error(`longrun: a store change listener threw on "${event.kind}":`, error)),
      ),
      false,
    );
    this.#driver = driver;
  }

  /** Opens (creating if needed) and migrates the database file; fails if another process has it open. */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    let db;
    try {
      db = openDatabase(path, options);
    } catch (error) {
      throw toStoreError(error);
    }
    try {
      return new SqliteStore(new SqliteDriver(db), new SharedCommits(db, WalSync.instead(db, options.synchronous ?? "FULL")), options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** The plan SQLite picks for `list(query)`, as EXPLAIN QUERY PLAN prints it (one step a line). */
  async explainList(query: ListQuery): Promise<string> {
    return this.#driver.explainList(query);
  }
}
