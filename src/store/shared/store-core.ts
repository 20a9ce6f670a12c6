import type {
  ActivityBucket,
  ActivityQuery,
  EventClaim,
  EventQuery,
  EventRecord,
  EventSettlement,
  OperationEvent,
  ListedOperation,
  ChangeListener,
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
  Store,
  StoreCounts,
  StateCount,
  StateCountQuery,
} from "../store.js";
import { appliedIds, inClaimOrder, uniqueIds } from "./applied.js";
import type { ChangeFeed } from "./change-feed.js";
import type { StoreDriver } from "./driver.js";
import { checkClaimLimits, checkFinishRequests, checkNewOperations, claimsNothing } from "./validate.js";

/**
 * The Store contract over one store's driver: what every store does the same way, written once. It checks
 * input, answers empty batches without a statement, orders claims oldest first, and after each write
 * tells this instance's listeners which operations changed (each id once). A store extends it with its
 * driver and adds only what is its own (opening, EXPLAIN, its instance id).
 *
 * The driver does the rest in one statement or transaction per call, as the Store contract requires;
 * nothing here adds a round trip.
 */
export class StoreCore implements Store {
  readonly #driver: StoreDriver;
  readonly #feed: ChangeFeed;
  #closing: Promise<void> | undefined;

  protected constructor(
    driver: StoreDriver,
    feed: ChangeFeed,
    /** Store.shared: whether other processes write to it too. */
    readonly shared: boolean,
  ) {
    this.#driver = driver;
    this.#feed = feed;
  }

  async create(operations: readonly NewOperation[], now: number): Promise<CreateResult[]> {
    checkNewOperations(operations);
    if (operations.length === 0) return [];
    const results = await this.#driver.create(operations, now);
    this.#feed.emit(
      "created",
      results.filter((r) => r.created).map((r) => r.record.id),
    );
    return results;
  }

  async get(id: string, now: number): Promise<OperationRecord | undefined> {
    return this.#driver.get(id, now);
  }

  async getViews(ids: readonly string[], now: number): Promise<(OperationView | undefined)[]> {
    return ids.length === 0 ? [] : this.#driver.getViews(ids, now);
  }

  async list(query: ListQuery): Promise<ListedOperation[]> {
    return this.#driver.list(query);
  }

  async delete(ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const deleted = uniqueIds(await this.#driver.delete(ids));
    this.#feed.emit("deleted", deleted);
    return deleted;
  }

  async requestCancel(operations: readonly OperationRef[], now: number): Promise<(OperationRecord | undefined)[]> {
    if (operations.length === 0) return [];
    const { records, marked } = await this.#driver.requestCancel(operations, now);
    this.#feed.emit("cancel-requested", uniqueIds(marked));
    return records;
  }

  async requestControl(operations: readonly OperationRef[], command: string, now: number): Promise<(OperationRecord | undefined)[]> {
    if (operations.length === 0) return [];
    const { records, marked } = await this.#driver.requestControl(operations, command, now);
    this.#feed.emit("control-requested", uniqueIds(marked));
    return records;
  }

  async claim(request: ClaimRequest): Promise<OperationRecord[]> {
    if (claimsNothing(request)) return [];
    checkClaimLimits(request);
    // Only the limits of methods claimed; none left, and the driver runs its unlimited statement.
    const limits = request.limits?.filter((l) => request.methods.includes(l.method));
    request = { ...request, limits: limits === undefined || limits.length === 0 ? undefined : limits };
    // RETURNING gives rows in no defined order; callers expect oldest first.
    return inClaimOrder(await this.#driver.claim(request));
  }

  async heartbeat(owner: string, leases: readonly Fenced[], leaseMs: number, now: number): Promise<HeartbeatResult[]> {
    return leases.length === 0 ? [] : this.#driver.heartbeat(owner, leases, leaseMs, now);
  }

  async progress(updates: readonly ProgressUpdate[], now: number): Promise<boolean[]> {
    if (updates.length === 0) return [];
    const applied = await this.#driver.progress(updates, now);
    this.#feed.emit("progress", appliedIds(updates, applied));
    return applied;
  }

  async finish(results: readonly FinishRequest[], retentionMs: number, now: number): Promise<boolean[]> {
    checkFinishRequests(results);
    if (results.length === 0) return [];
    const applied = await this.#driver.finish(results, retentionMs, now);
    this.#feed.emit("done", appliedIds(results, applied));
    // Events written unclaimed are for a dispatcher to claim; leased ones went to their owner's already.
    const unleased = results.flatMap((r, i) => (applied[i] === true ? (r.events ?? []).filter((e) => e.lease === undefined).map((e) => e.id) : []));
    if (unleased.length > 0) this.#feed.emit("events", unleased);
    return applied;
  }

  async release(owner: string, leases: readonly Fenced[], runAfter: number, now: number): Promise<void> {
    if (leases.length === 0) return;
    this.#feed.emit("released", uniqueIds(await this.#driver.release(owner, leases, runAfter, now)));
  }

  async retryLater(owner: string, retries: readonly RetryLater[], now: number): Promise<boolean[]> {
    if (retries.length === 0) return [];
    const applied = await this.#driver.retryLater(owner, retries, now);
    this.#feed.emit("released", appliedIds(retries, applied));
    return applied;
  }

  async nextDueTime(methods: readonly string[], now: number): Promise<number | undefined> {
    return methods.length === 0 ? undefined : this.#driver.nextDueTime(methods, now);
  }

  async activity(query: ActivityQuery): Promise<ActivityBucket[]> {
    if (!(query.bucketMs >= 1) || !(query.until > query.since)) return [];
    return this.#driver.activity(query);
  }

  async purgeExpired(now: number): Promise<number> {
    // Not announced: expired operations are already invisible to every reader.
    return this.#driver.purgeExpired(now);
  }

  async expireDeadLeases(now: number): Promise<number> {
    const ended = uniqueIds(await this.#driver.expireDeadLeases(now));
    this.#feed.emit("released", ended);
    return ended.length;
  }

  async claimEvents(claim: EventClaim): Promise<EventRecord[]> {
    if (claim.destinations.length === 0 || claim.limit <= 0) return [];
    // RETURNING gives rows in no defined order; a dispatcher sends oldest first.
    return (await this.#driver.claimEvents(claim)).sort((a, b) => a.runAfter - b.runAfter || a.seq - b.seq);
  }

  async settleEvents(settlements: readonly EventSettlement[], now: number): Promise<boolean[]> {
    return settlements.length === 0 ? [] : this.#driver.settleEvents(settlements, now);
  }

  async listEvents(query: EventQuery): Promise<EventRecord[]> {
    return query.limit <= 0 ? [] : this.#driver.listEvents(query);
  }

  async appendEvents(events: readonly OperationEvent[], now: number): Promise<string[]> {
    if (events.length === 0) return [];
    const written = uniqueIds(await this.#driver.appendEvents(events, now));
    this.#feed.emit("events", written);
    return written;
  }

  async retryEvents(ids: readonly string[], now: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const retried = uniqueIds(await this.#driver.retryEvents(ids, now));
    // Due now: dispatchers waiting for a later event wake.
    this.#feed.emit("events", retried);
    return retried;
  }

  async deleteEvents(ids: readonly string[]): Promise<string[]> {
    return ids.length === 0 ? [] : uniqueIds(await this.#driver.deleteEvents(ids));
  }

  async nextEventDueTime(destinations: readonly string[], now: number): Promise<number | undefined> {
    return destinations.length === 0 ? undefined : this.#driver.nextEventDueTime(destinations, now);
  }

  async counts(now: number, options: { done?: boolean } = {}): Promise<StoreCounts> {
    return this.#driver.counts(now, options.done ?? true);
  }

  async stateCounts(query: StateCountQuery): Promise<StateCount[]> {
    return this.#driver.stateCounts(query);
  }

  subscribe(listener: ChangeListener): () => void {
    return this.#feed.subscribe(listener);
  }

  /** Stops the feed and closes the driver (waiting for work in flight). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#feed.clear();
      await this.#driver.close();
    })();
    return this.#closing;
  }
}
