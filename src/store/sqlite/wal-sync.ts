import { open, type FileHandle } from "node:fs/promises";
import { resolve } from "node:path";
import type { Database } from "better-sqlite3";
import type { Durability } from "./shared-commits.js";

/**
 * `synchronous = FULL` without the event loop waiting for the disk: the database commits without an fsync
 * (`synchronous = NORMAL`, which in WAL mode never corrupts it) and this fsyncs the WAL file (fdatasync, on
 * libuv's thread pool) before shared-commits.ts answers the writes. A commit is in the WAL once COMMIT
 * returns (written, its frames checksummed, its commit frame last); the fsync puts those frames on disk,
 * which is what FULL's own fsync at COMMIT does. Checkpoints are SQLite's, and sync as they always do.
 *
 * The file is opened on the first sync, after a commit: SQLite creates it at the first write. An fsync
 * through another descriptor of the same file flushes what SQLite wrote through its own (the page cache is
 * the file's). With `locking_mode = EXCLUSIVE` SQLite keeps the WAL file (rewinding it after a checkpoint,
 * never deleting it) until it closes.
 */
export class WalSync implements Durability {
  #handle: FileHandle | undefined;

  private constructor(private readonly walPath: string) {}

  /** For a database on a file, with `synchronous` FULL asked for: switches the database to NORMAL and returns the fsync that stands in for FULL's; undefined otherwise (the database keeps its setting). */
  static instead(db: Database, synchronous: "FULL" | "NORMAL"): WalSync | undefined {
    if (synchronous !== "FULL" || db.memory || db.name === "") return undefined;
    db.pragma("synchronous = NORMAL");
    // Resolved now: the process may change its working directory later.
    return new WalSync(resolve(`${db.name}-wal`));
  }

  async sync(): Promise<void> {
    this.#handle ??= await open(this.walPath, "r+");
    await this.#handle.datasync();
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }
}
