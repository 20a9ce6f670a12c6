import type {
  ActivityBucket,
  ActivityQuery,
  EventClaim,
  EventQuery,
  EventRecord,
  EventSettlement,
  OperationEvent,
  ListedOperation,
  ClaimRequest,
  CreateResult,
  Fenced,
  FinishRequest,
  HeartbeatResult,
  ListQuery,
  NewOperation,
  OperationRecord,
  OperationRef,
  OperationView,
  ProgressUpdate,
  RetryLater,
  StoreCounts,
  StateCount,
  StateCountQuery,
} from "../store.js";

/** A value now (SQLite's synchronous driver) or later (PostgreSQL's). */
export type Eventually<T> = T | Promise<T>;

/** What requestCancel / requestControl statements give back. */
export interface MarkResult {
  /**
   * Per input ref, the record after the call (undefined if none has both its id and name, or it has
   * expired).
   */
  records: (OperationRecord | undefined)[];
  /** The ids the statement marked (not done), in input order; repeats allowed (the core drops them). */
  marked: string[];
}

/**
 * What one store supplies: its SQL, run through its driver, batch-shaped. Everything the stores share —
 * input checks, empty batches, claim order, which ids a change event names, the change feed — is done
 * once by StoreCore (store-core.ts) around these calls, which therefore only ever see checked input:
 * non-empty arrays, finish requests with exactly one of error and response, claims with methods and a
 * positive limit. Records are made with row.ts, the one row ↔ record mapping.
 */
export interface StoreDriver {
  /** Per input, in input order: the inserted record, or the existing one of the same (method, requestId). */
  create(operations: readonly NewOperation[], now: number): Eventually<CreateResult[]>;
  get(id: string, now: number): Eventually<OperationRecord | undefined>;
  /** In input order. */
  getViews(ids: readonly string[], now: number): Eventually<(OperationView | undefined)[]>;
  list(query: ListQuery): Eventually<ListedOperation[]>;
  /** The ids deleted, in input order (repeats allowed). */
  delete(ids: readonly string[]): Eventually<string[]>;
  /** Marks only rows matching a ref's id and name, in one statement (or transaction). */
  requestCancel(operations: readonly OperationRef[], now: number): Eventually<MarkResult>;
  requestControl(operations: readonly OperationRef[], command: string, now: number): Eventually<MarkResult>;
  /** The claimed records, in any order. `limits` is undefined or names only methods claimed (store-core). */
  claim(request: ClaimRequest): Eventually<OperationRecord[]>;
  /** In input order. */
  heartbeat(owner: string, leases: readonly Fenced[], leaseMs: number, now: number): Eventually<HeartbeatResult[]>;
  /** Per update, whether it applied. */
  progress(updates: readonly ProgressUpdate[], now: number): Eventually<boolean[]>;
  /** Per result, whether it applied; of several for one operation, only the first matching its attempt. */
  finish(results: readonly FinishRequest[], retentionMs: number, now: number): Eventually<boolean[]>;
  /** The ids released, in input order (repeats allowed). */
  release(owner: string, leases: readonly Fenced[], runAfter: number, now: number): Eventually<string[]>;
  /** Per retry, whether it applied. */
  retryLater(owner: string, retries: readonly RetryLater[], now: number): Eventually<boolean[]>;
  nextDueTime(methods: readonly string[], now: number): Eventually<number | undefined>;
  purgeExpired(now: number): Eventually<number>;
  /** The ids whose lease it ended. */
  expireDeadLeases(now: number): Eventually<string[]>;
  /** Buckets in time order, only those with something in them. */
  activity(query: ActivityQuery): Eventually<ActivityBucket[]>;
  /** The claimed events, in any order. */
  claimEvents(claim: EventClaim): Eventually<EventRecord[]>;
  /** Per settlement, whether it applied. */
  settleEvents(settlements: readonly EventSettlement[], now: number): Eventually<boolean[]>;
  listEvents(query: EventQuery): Eventually<EventRecord[]>;
  /** The ids written, in input order. */
  appendEvents(events: readonly OperationEvent[], now: number): Eventually<string[]>;
  /** The ids changed, in input order (repeats allowed). */
  retryEvents(ids: readonly string[], now: number): Eventually<string[]>;
  /** The ids deleted, in input order (repeats allowed). */
  deleteEvents(ids: readonly string[]): Eventually<string[]>;
  nextEventDueTime(destinations: readonly string[], now: number): Eventually<number | undefined>;
  counts(now: number, done: boolean): Eventually<StoreCounts>;
  stateCounts(query: StateCountQuery): Eventually<StateCount[]>;
  /** Releases the connection(s); called once. */
  close(): Eventually<void>;
}
