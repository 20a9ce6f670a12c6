import type { Database, Statement } from "better-sqlite3";
import type { Eventually, StoreDriver } from "../shared/driver.js";
import { toStoreError } from "./errors.js";

/** What makes the commits durable when the database does not at each commit (wal-sync.ts). */
export interface Durability {
  /** Makes every commit made so far durable. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** A write waiting for its turn's commit. */
interface Job {
  run: () => unknown;
  /** A claim: run after the turn's other writes, so it sees the slots their finishes freed and the operations their creates added. */
  last: boolean;
  /** Answered at its commit, not after the fsync (see `write`). */
  atCommit: boolean;
  resolve: (value: never) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit across kinds of writes. better-sqlite3 commits synchronously, each commit an fsync
 * (`synchronous = FULL`: 1.7 ms here) with the event loop stopped: a turn of the runtime that starts
 * operations, claims others and finishes a third lot paid three of them. Here every write asked for in one
 * turn of the event loop runs in one transaction, committed once, on the next turn (setImmediate): the
 * starts, claims and finishes of a busy server share one commit, and an idle one waits for no timer.
 *
 * With `durable` (the store's default, open.ts): the database commits without an fsync (`synchronous =
 * NORMAL`) and `durable` — an fsync of the WAL on libuv's thread pool — makes the commits durable, while
 * the event loop goes on serving: a write is answered once an fsync that began after its commit is done,
 * and the commits made during one fsync share the next (an end-to-end run spent 45% of the event loop's
 * time blocked in commits' fsyncs, its p99 commit 12 ms on a busy disk). So a write is answered only once
 * it is on disk, as with `synchronous = FULL`; what differs is that a read can see a commit before its
 * fsync is done (for the millisecond or two of the fsync; lost only if the machine loses power then).
 *
 * Each write runs inside a savepoint of its own, so one that fails (a constraint, a value the store
 * refuses) is undone alone and fails alone; the others commit. If the commit itself fails (a full disk), or
 * SQLite abandons the whole transaction on an error (SQLITE_FULL, SQLITE_IOERR and others may), every write
 * of the turn fails with that error and none is visible: a write is answered only once its commit is done,
 * so the change feed, which the store core feeds after the answer, never announces an uncommitted write.
 * If the fsync fails, the writes it was for fail with its error (committed, but not known to be on disk).
 *
 * Reads are not delayed: they see what is committed, which is all a caller that awaited its write needs.
 */
export class SharedCommits {
  #queue: Job[] = [];
  #scheduled = false;
  /** Answers of committed writes, waiting for an fsync that begins after their commit. */
  #unsynced: ((error?: unknown) => void)[] = [];
  #syncing: Promise<void> | undefined;
  readonly #begin: Statement;
  readonly #commit: Statement;
  readonly #rollback: Statement;
  readonly #savepoint: Statement;
  readonly #release: Statement;
  readonly #rollbackTo: Statement;

  constructor(
    private readonly db: Database,
    /** Makes every commit made so far durable; absent, a commit is as durable as `synchronous` makes it when it returns. */
    private readonly durable?: Durability,
  ) {
    this.#begin = db.prepare("BEGIN");
    this.#commit = db.prepare("COMMIT");
    this.#rollback = db.prepare("ROLLBACK");
    this.#savepoint = db.prepare("SAVEPOINT shared_commit_write");
    this.#release = db.prepare("RELEASE shared_commit_write");
    this.#rollbackTo = db.prepare("ROLLBACK TO shared_commit_write");
  }

  /**
   * Runs `write` in the next turn's transaction; resolves with what it returned once that commits (and,
   * with a Durability, once an fsync after the commit is done). The SQLite driver's calls are synchronous
   * (Eventually only by the driver interface's type).
   *
   * `atCommit`: answered once committed, before the fsync — for a write whose loss to a power cut loses
   * nothing, because the cut stops what it was for too: a claim (the run it starts dies with the machine;
   * the operation, queued again, runs once more, as after any crash) or a lease renewal. A later write's
   * fsync covers it (the WAL is one file, written in order), so a finish never outlives its claim.
   */
  write<T>(write: () => Eventually<T>, options: { last?: boolean; atCommit?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run: write, last: options.last === true, atCommit: options.atCommit === true, resolve: resolve as (value: never) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits what is queued now (also what close does first, so that no write is left unanswered). */
  flush(): void {
    this.#scheduled = false;
    const queued = this.#queue;
    if (queued.length === 0) return;
    this.#queue = [];
    // Claims last: the writes asked for in one turn were asked for concurrently, so no caller depends on
    // their order, and a claim that follows the turn's finishes and starts takes what they made claimable
    // (a concurrency limit's freed slots, a start's new operation) in this commit instead of the next.
    const jobs = queued.some((job) => job.last) ? [...queued.filter((job) => !job.last), ...queued.filter((job) => job.last)] : queued;
    if (!this.db.open) {
      for (const job of jobs) job.reject(new Error("the SQLite store is closed"));
      return;
    }
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.#begin.run();
      for (const job of jobs) outcomes.push(this.#runOne(job));
      this.#commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.#rollback.run();
      const failure = toStoreError(error);
      for (const job of jobs) job.reject(failure);
      return;
    }
    // A refused write, or one answered at its commit, is answered now; the others after the fsync.
    const afterSync: { job: Job; value: unknown }[] = [];
    jobs.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (!outcome.ok) job.reject(outcome.error);
      else if (this.durable === undefined || job.atCommit) job.resolve(outcome.value as never);
      else afterSync.push({ job, value: outcome.value });
    });
    if (afterSync.length === 0) return;
    this.#unsynced.push((syncFailure) => {
      for (const { job, value } of afterSync) {
        if (syncFailure === undefined) job.resolve(value as never);
        else job.reject(syncFailure);
      }
    });
    this.#sync();
  }

  /** Commits what is queued, waits until every write is answered, and lets go of the file the fsyncs use. */
  async close(): Promise<void> {
    this.flush();
    while (this.#syncing !== undefined) await this.#syncing;
    await this.durable?.close();
  }

  /** Starts an fsync for the commits waiting, unless one is running (they wait for the next: it began before them). */
  #sync(): void {
    if (this.#syncing !== undefined || this.#unsynced.length === 0) return;
    const answers = this.#unsynced;
    this.#unsynced = [];
    this.#syncing = this.durable!.sync().then(
      () => answers.forEach((answer) => answer()),
      (error: unknown) => {
        const failure = toStoreError(error);
        answers.forEach((answer) => answer(failure));
      },
    ).finally(() => {
      this.#syncing = undefined;
      this.#sync();
    });
  }

  #runOne(job: Job): { ok: true; value: unknown } | { ok: false; error: unknown } {
    this.#savepoint.run();
    try {
      const value = job.run();
      if (value instanceof Promise) throw new TypeError("a write sharing a SQLite commit must be synchronous");
      this.#release.run();
      return { ok: true, value };
    } catch (error) {
      // SQLite rolled the whole transaction back: the writes before this one are gone too. Fail them all.
      if (!this.db.inTransaction) throw error;
      this.#rollbackTo.run();
      this.#release.run();
      return { ok: false, error: toStoreError(error) };
    }
  }
}

/** The driver with its writes sharing commits (`SharedCommits`); reads, and the periodic writes, as they were. */
export function sharingCommits(d: StoreDriver, commits: SharedCommits): StoreDriver {
  return {
    ...d,
    create: (operations, now) => commits.write(() => d.create(operations, now)),
    delete: (ids) => commits.write(() => d.delete(ids)),
    requestCancel: (operations, now) => commits.write(() => d.requestCancel(operations, now)),
    requestControl: (operations, command, now) => commits.write(() => d.requestControl(operations, command, now)),
    claim: (request) => commits.write(() => d.claim(request), { last: true, atCommit: true }),
    heartbeat: (owner, leases, leaseMs, now) => commits.write(() => d.heartbeat(owner, leases, leaseMs, now), { atCommit: true }),
    progress: (updates, now) => commits.write(() => d.progress(updates, now)),
    finish: (results, retentionMs, now) => commits.write(() => d.finish(results, retentionMs, now)),
    release: (owner, leases, runAfter, now) => commits.write(() => d.release(owner, leases, runAfter, now)),
    retryLater: (owner, retries, now) => commits.write(() => d.retryLater(owner, retries, now)),
    claimEvents: (claim) => commits.write(() => d.claimEvents(claim), { atCommit: true }),
    settleEvents: (settlements, now) => commits.write(() => d.settleEvents(settlements, now)),
    appendEvents: (events, now) => commits.write(() => d.appendEvents(events, now)),
    retryEvents: (ids, now) => commits.write(() => d.retryEvents(ids, now)),
    deleteEvents: (ids) => commits.write(() => d.deleteEvents(ids)),
    close: async () => {
      await commits.close();
      return d.close();
    },
  };
}
