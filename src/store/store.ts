/**
 * The Store contract: where operations live. Every store (SQLite embedded, PostgreSQL shared) implements
 * this interface (both through the shared core, shared/store-core.ts) and passes the one contract suite,
 * exported as `longrun/testing` (src/testing/) so that a store written elsewhere can run it too.
 *
 * Shape rules, because throughput depends on them:
 * - writes take arrays and run as one statement / one transaction per call, whatever the array's length;
 * - every write that changes what a reader could see emits one change event per call on `changes`
 *   (after commit), so waiters, workers and cancellation wake without polling;
 * - a store knows nothing of protobuf messages beyond opaque bytes, nor of gRPC or HTTP.
 *
 * Times are milliseconds since the Unix epoch, passed in by the caller (`now`) so the runtime owns the
 * clock and tests can reason about it.
 */

import type { FilterExpr } from "../filter/expr.js";

export { storedBytes } from "./records.js";
export type { ListedOperation, NewOperation, OperationRecord, OperationState, OperationView, StoredAny, StoredError } from "./records.js";
export type { EventClaim, EventQuery, EventRecord, EventSettlement, EventSnapshot, NewEvent, OperationEvent } from "./outbox.js";
import type { ListedOperation, NewOperation, OperationRecord, OperationView, StoredAny, StoredError } from "./records.js";
import type { EventClaim, EventQuery, EventRecord, EventSettlement, NewEvent, OperationEvent } from "./outbox.js";

export interface CreateResult {
  record: OperationRecord;
  /** false when an operation with the same (method, requestId) already existed and was returned instead. */
  created: boolean;
}

export interface ListQuery {
  parent: string;
  /**
   * Only operations whose recorded resource (OperationRecord.resource) equals this one; undefined for
   * all. A condition of the same keyset statement, as `filter` is.
   */
  resource?: string | undefined;
  /**
   * Only operations the filter matches (true, not false or unknown: see src/filter/expr.ts); undefined
   * for all. Stores compile it into their list statement, so a page still takes one keyset query.
   */
  filter?: FilterExpr | undefined;
  /** Keyset cursor: return only operations older than this position (exclusive). */
  after?: ListCursor | undefined;
  /** At most this many records (callers ask one more than a page to learn whether another page exists). */
  limit: number;
  /**
   * A byte budget: the records returned stop at the first whose storedBytes, added to those of the records
   * before it, pass `maxBytes` (that record included), and there are always two when two match. A caller
   * filling a page to `maxBytes` by the records' encoded size (never less than storedBytes) thus gets
   * every record the page can hold, and one more to learn that another page exists, without the store
   * reading hundreds of large records that would be dropped. Undefined: no budget.
   */
  maxBytes?: number | undefined;
  now: number;
}

/** Operations started and finished over time (the dashboard's throughput chart). */
export interface ActivityQuery {
  parent: string;
  /** Only operations recorded with this resource (as ListQuery.resource); all when undefined. */
  resource?: string | undefined;
  /** The window: [since, until), cut into buckets of bucketMs from `since`. */
  since: number;
  until: number;
  bucketMs: number;
}

/** One bucket of an activity window: operations created, and operations finished, in it. */
export interface ActivityBucket {
  /** The bucket's start (since + n × bucketMs). */
  start: number;
  started: number;
  finished: number;
}

/** Which operations to count by state: one parent's (and one resource's), those not expired at `now`. */
export interface StateCountQuery {
  parent: string;
  /** Only operations recorded with this resource (as ListQuery.resource); all when undefined. */
  resource?: string | undefined;
  now: number;
}

/**
 * An operation's state as the dashboard names it: queued and running as stored ("paused" when its last
 * control command is `pause`), and a done operation by its outcome: done (a response), cancelled (error
 * code 1, CANCELLED) or failed (any other error).
 */
export type DashboardState = "queued" | "running" | "paused" | "done" | "failed" | "cancelled";

/** How many operations of one method are in one state; groups with none are left out. */
export interface StateCount {
  method: string;
  state: DashboardState;
  count: number;
}

/** A position in the newest-first order: (create_time desc, id desc). */
export interface ListCursor {
  createTime: number;
  id: string;
}

export interface ClaimRequest {
  /** Identifies the claiming worker (instance) in leases. */
  owner: string;
  /** Only operations of these methods (the ones this worker has handlers for). */
  methods: readonly string[];
  limit: number;
  leaseMs: number;
  now: number;
  /**
   * Each claimed operation's runAfter becomes `now + min(maxMs, initialMs × 2^(attempt − 1))`, `attempt`
   * being the new one: should this attempt be lost, the next claim waits for that as well as for the
   * lease to expire. A worker that crashes at once backs off exponentially; a long run lost midway is
   * retried when its lease expires. @default no backoff (runAfter = now)
   */
  retryBackoff?: { initialMs: number; maxMs: number };
  /**
   * Concurrency limits of some of `methods` (docs/scheduling.md): the claim takes no operation of a method
   * beyond its free slots (`limit` less its running operations), nor of a key beyond the key's (`perKey`
   * less the key's running operations, NewOperation.groupKey). Running: claimed with a lease not yet
   * expired — an expired lease's operation is the claim's to take again, and counting it as well would
   * count it twice. Across instances on PostgreSQL the limits hold strictly (claims of a limited method
   * take turns). Absent or empty: no limits, and the claim costs what it always did.
   */
  limits?: readonly ClaimLimit[] | undefined;
}

/** The concurrency limits of one method (positive integers; at least one of the two). */
export interface ClaimLimit {
  method: string;
  /** At most this many of the method's operations running at once. */
  limit?: number | undefined;
  /** At most this many of one key's (NewOperation.groupKey) running at once. */
  perKey?: number | undefined;
}

export interface HeartbeatResult {
  id: string;
  /** The lease is still this owner's, for this attempt, and the operation is not done. */
  held: boolean;
  cancelRequested: boolean;
  /** The operation's last control command (read from the row either way). */
  control: string | undefined;
}

/**
 * An operation as a caller names it: its id (the primary key) and the full name the caller gave. A
 * request on it (cancel, control) applies only if the stored operation has both, so a caller allowed on
 * one parent cannot act on another parent's operation by sending its id under the wrong name.
 */
export interface OperationRef {
  readonly id: string;
  readonly name: string;
}

/** A write guarded by the fencing token. */
export interface Fenced {
  id: string;
  attempt: number;
}

/** A failed attempt to be run again later (a method's retry policy, docs/scheduling.md). */
export interface RetryLater extends Fenced {
  /** When the next attempt may be claimed. */
  runAfter: number;
  /** What this attempt failed with: the operation's lastFailure (with the attempt) until another attempt fails so. */
  error: StoredError;
}

export interface ProgressUpdate extends Fenced {
  metadata: StoredAny;
}

export interface FinishRequest {
  id: string;
  /**
   * The attempt this result belongs to; the write is refused unless the operation is not done and still
   * at this attempt. A queued operation is finished with the attempt it was read at (0 if never claimed):
   * a claim in between raises the attempt, so the finish is refused rather than overtaking the worker.
   */
  attempt: number;
  metadata?: StoredAny | undefined;
  /** Exactly one of error / response. */
  error?: StoredError | undefined;
  response?: StoredAny | undefined;
  /**
   * Notifications of this finish, written to the outbox in the same transaction when (and only when) the
   * finish applies: an applied finish is never without its events, a refused one never has any.
   */
  events?: readonly NewEvent[] | undefined;
}

export type ChangeKind =
  | "created" // new operations to run
  | "progress" // metadata changed (local only: PostgreSQL does not announce it to other instances, see progress.ts)
  | "cancel-requested" // CancelOperation on an operation not done (again on every repeated cancel)
  | "control-requested" // a control command (pause, resume…) on an operation not done
  | "done" // finished (response, error, or cancelled)
  | "deleted"
  | "released" // leases given back: claimable again now
  | "events" // outbox events due now, written outside a finish (appendEvents) or retried (retryEvents); ids are event ids
  | "resync"; // the feed may have missed events (a dropped connection): re-check everything waited on

export interface ChangeEvent {
  kind: ChangeKind;
  ids: readonly string[];
}

export type ChangeListener = (event: ChangeEvent) => void;

/**
 * How many operations there are by method and state (expired ones left out), and outbox events by state:
 * what a metrics scrape reads (src/observability/), in one statement per table, never per operation.
 */
export interface StoreCounts {
  operations: { method: string; state: "queued" | "running" | "done"; count: number }[];
  events: { state: "pending" | "failed"; count: number }[];
}

export interface Store {
  /**
   * Inserts new operations. An operation whose (method, requestId) already exists is not inserted; the
   * existing record is returned with `created: false`. Results are in input order. All or nothing: a
   * failure (a duplicate id, say) inserts none of the batch.
   */
  create(operations: readonly NewOperation[], now: number): Promise<CreateResult[]>;

  /** The operation, or undefined if it does not exist or has expired (expireTime <= now). */
  get(id: string, now: number): Promise<OperationRecord | undefined>;

  /**
   * Many operations in one read, in input order (undefined where one does not exist or has expired), as
   * the Operations service serves them (OperationView): the request, lease and times stay in the store,
   * so a read costs about half what a whole record's does (SQLite: 11 µs against 19).
   */
  getViews(ids: readonly string[], now: number): Promise<(OperationView | undefined)[]>;

  /**
   * Operations of one parent (and of one resource, with `query.resource`), newest first by (createTime
   * desc, id desc), skipping expired ones; at most `query.limit`, and within `query.maxBytes` as it says.
   */
  list(query: ListQuery): Promise<ListedOperation[]>;

  /**
   * Deletes the operations (done or not; deleting does not cancel). Returns the ids that existed
   * (an expired operation not yet purged counts as existing).
   */
  delete(ids: readonly string[]): Promise<string[]>;

  /**
   * Marks cancellation requested on operations that are not done. Only an operation whose id and name
   * both match is marked: a ref with an existing id but another name is answered like an operation that
   * does not exist (undefined, nothing changed, no event). Returns, per ref in input order, the record as
   * it is after the call (undefined where none matches), so the caller can end queued ones at once.
   */
  requestCancel(operations: readonly OperationRef[], now: number): Promise<(OperationRecord | undefined)[]>;

  /**
   * Records `command` as the last control command of the operations that are not done (emitting
   * "control-requested" for them, even when the command is the one already recorded). Matches id and name
   * and returns the records as they are after the call (undefined where none matches), like requestCancel.
   */
  requestControl(operations: readonly OperationRef[], command: string, now: number): Promise<(OperationRecord | undefined)[]>;

  /**
   * Claims up to `limit` operations that are due: not done, `runAfter <= now`, of one of `methods`, and
   * either queued or running under an expired lease. Each claimed operation gets state "running",
   * `attempt + 1`, and a lease for `owner` until `now + leaseMs`. In claim order: by the time each became
   * due (runAfter) moved one second earlier per point of priority, then createTime and id — so higher
   * priorities first, and a lower one waits at most the difference. Concurrent claimers never get the same
   * operation at the same attempt.
   */
  claim(request: ClaimRequest): Promise<OperationRecord[]>;

  /**
   * Extends the leases `owner` holds on these attempts to `now + leaseMs`; reports which are still held.
   * A lease that expired but was not re-claimed by anyone is still held (fencing keeps that safe).
   */
  heartbeat(owner: string, leases: readonly Fenced[], leaseMs: number, now: number): Promise<HeartbeatResult[]>;

  /** Replaces metadata of running operations, fenced. Returns, per update, whether it was applied. */
  progress(updates: readonly ProgressUpdate[], now: number): Promise<boolean[]>;

  /**
   * Ends operations: state "done", error or response, metadata if given, endTime = now, expireTime =
   * now + retentionMs. Fenced (see FinishRequest.attempt). A done operation is never changed again.
   * Returns, per request, whether it was applied.
   */
  finish(results: readonly FinishRequest[], retentionMs: number, now: number): Promise<boolean[]>;

  /**
   * Gives leases back (graceful shutdown): the operations become queued, claimable at `runAfter`,
   * keeping their attempt count. Only leases `owner` holds on these attempts.
   */
  release(owner: string, leases: readonly Fenced[], runAfter: number, now: number): Promise<void>;

  /**
   * Puts operations back in the queue after a failed attempt, to be retried: each becomes queued,
   * claimable at its `runAfter` (at once if cancellation was requested, so that the next claim ends it
   * CANCELLED), with `lastFailure` = its attempt and error; lease released, attempt kept. Only leases `owner` holds at
   * these attempts on operations not done, as `release`. Returns, per request, whether it applied; the
   * applied are announced as "released".
   */
  retryLater(owner: string, retries: readonly RetryLater[], now: number): Promise<boolean[]>;

  /** The earliest time later than `now` at which some operation of `methods` becomes claimable, if any. */
  nextDueTime(methods: readonly string[], now: number): Promise<number | undefined>;

  /**
   * How many operations of the parent were created, and how many finished, in each bucket of the window (one
   * statement walking the list index and the end-time index); buckets with neither are left out. Expired
   * operations not yet purged count; purged ones do not.
   */
  activity(query: ActivityQuery): Promise<ActivityBucket[]>;

  /** Deletes done operations whose expireTime has passed. Returns how many. Emits nothing: readers already skip them. */
  purgeExpired(now: number): Promise<number>;

  /**
   * Ends the leases of instances known to be dead rather than waiting for the leases to expire: their
   * lease expiry becomes `now`, so they are claimable as any expired lease (the claim's retry backoff
   * applies), and they are announced as "released". Returns how many. PostgreSQL: instances whose session
   * lock is gone (docs/reliability.md, "Dead instances"), in one statement; a store no other process
   * writes to (SQLite, which expires every lease when it opens) has nothing to do and returns 0.
   */
  expireDeadLeases(now: number): Promise<number>;

  /**
   * Claims up to `limit` outbox events that are due: pending, `runAfter <= now`, for one of
   * `destinations`, not under another live lease, and with no earlier pending event of the same operation
   * for the same destination (per operation and destination, events go out in order). Each claimed event
   * gets `attempt + 1` and a lease for `owner` until `now + leaseMs`. Oldest due first. Concurrent
   * claimers never get the same event at the same attempt.
   */
  claimEvents(claim: EventClaim): Promise<EventRecord[]>;

  /**
   * Records what became of claimed events: delivered ones leave the outbox, a retry waits until its
   * `runAfter`, failed ones stay (state "failed") until retried. Each applies only if the event is still
   * pending at that attempt. Returns, per settlement, whether it applied.
   */
  settleEvents(settlements: readonly EventSettlement[], now: number): Promise<boolean[]>;

  /** Outbox events in the order they were written (seq), for operators (`longrun notifications list`). */
  listEvents(query: EventQuery): Promise<EventRecord[]>;

  /**
   * Writes events about operations that are not finishing (one started running), each with a snapshot of
   * its operation as it stands, in one statement; announced as "events". An event whose id is already in
   * the outbox, or whose operation does not exist, is not written. Returns the ids written.
   */
  appendEvents(events: readonly OperationEvent[], now: number): Promise<string[]>;

  /**
   * Makes events due again now (failed ones pending again), in a new retry window (windowStart = now);
   * announced as "events". Returns the ids that were changed.
   */
  retryEvents(ids: readonly string[], now: number): Promise<string[]>;

  /** Deletes outbox events (of any state). Returns the ids deleted. */
  deleteEvents(ids: readonly string[]): Promise<string[]>;

  /** The earliest time later than `now` at which a pending event for one of `destinations` becomes claimable. */
  nextEventDueTime(destinations: readonly string[], now: number): Promise<number | undefined>;

  /**
   * Counts operations by (method, state), skipping expired ones, and outbox events by state; groups with
   * none are left out. With `done: false`, only the queued and running operations: read from the index of
   * unfinished operations, so it costs what the queue holds, not what the store retains. With done ones
   * (the default), a whole-table aggregate: callers cache it (src/observability/metrics.ts reads it once a
   * minute, and the unfinished counts every few seconds).
   */
  counts(now: number, options?: { done?: boolean }): Promise<StoreCounts>;

  /**
   * Counts one parent's operations (one resource's, with `query.resource`) by method and DashboardState,
   * skipping expired ones; in any order. One statement walking the parent's operations: callers cache it
   * (the dashboard's counters, src/service/counts.ts).
   */
  stateCounts(query: StateCountQuery): Promise<StateCount[]>;

  /**
   * Whether other processes may write to this store (PostgreSQL: instances sharing a database), and so run
   * operations whose progress this one's feed does not carry. False for SQLite, whose file one process owns.
   */
  readonly shared: boolean;

  /**
   * Subscribes to changes made through any instance sharing this store (but "progress", which is only
   * heard by the instance that wrote it). Returns the unsubscribe function.
   * Events are hints for waking up; the store stays the truth. A store whose feed can break (PostgreSQL's
   * LISTEN connection) emits "resync" (with no ids) once it is whole again.
   */
  subscribe(listener: ChangeListener): () => void;

  close(): Promise<void>;
}
