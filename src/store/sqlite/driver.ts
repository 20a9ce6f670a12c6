import type { Database, Statement, Transaction } from "better-sqlite3";
import { toSqlite } from "../../filter/sqlite.js";
import type {
  ActivityBucket,
  ActivityQuery,
  ClaimRequest,
  CreateResult,
  Fenced,
  FinishRequest,
  HeartbeatResult,
  EventClaim,
  EventQuery,
  EventRecord,
  EventSettlement,
  OperationEvent,
  ListedOperation,
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
import { storedBytes } from "../store.js";
import type { MarkResult, StoreDriver } from "../shared/driver.js";
import { insertedRecord, listedRow, toListed, toRecord, viewOfValues, wholeRow, type RawRow } from "./rows.js";
import { listStatementText, prepareStatements, type FinishParams, type Statements } from "./statements.js";
import { OutboxStatements } from "./outbox.js";
import { pickRows, takeRows } from "./claim.js";
import { keepBounded } from "../../core/kept.js";
import { activityText, toBuckets } from "../shared/activity.js";
import { stateCountsText, toStateCounts } from "../shared/state-counts.js";

/** Filtered-list statements kept prepared (least recently used evicted first). */
const FILTERED_LIST_CACHE_SIZE = 64;

/**
 * The embedded store's statements (statements.ts) over one better-sqlite3 connection. better-sqlite3 is
 * synchronous, so every call answers at once; each write call is one transaction whatever the number of
 * operations it names.
 */
export class SqliteDriver implements StoreDriver {
  readonly #db: Database;
  readonly #sql: Statements;
  readonly #outbox: OutboxStatements;
  /** The activity statements, without and with a resource, prepared when first used. */
  readonly #activity: (Statement<Record<string, unknown>, { bucket: number; started: number; finished: number }> | undefined)[] = [];
  /** The state-count statements, without and with a resource, prepared when first used. */
  readonly #stateCounts: (Statement<Record<string, unknown>, { method: string; state: string; count: number }> | undefined)[] = [];
  readonly #filteredLists = new Map<string, Statement<Record<string, unknown>, RawRow>>();
  /** Made once: better-sqlite3's transaction() wrapper costs as much to make as a read does. */
  readonly #viewMany: (ids: readonly string[], now: number) => (OperationView | undefined)[];
  /** A claim's pick and take, in one transaction (made once, as #viewMany). */
  readonly #claim: Transaction<(request: ClaimRequest) => OperationRecord[]>;

  constructor(db: Database) {
    this.#db = db;
    this.#sql = prepareStatements(db);
    this.#outbox = new OutboxStatements(db);
    this.#viewMany = db.transaction((ids: readonly string[], now: number) => ids.map((id) => this.#view(id, now)));
    this.#claim = db.transaction((request: ClaimRequest) => takeRows(this.#sql, pickRows(this.#sql, request), request));
  }

  create(operations: readonly NewOperation[], now: number): CreateResult[] {
    return this.#db.transaction(() =>
      operations.map((op): CreateResult => {
        // Its place in its key's fair queue: a quantum after the key's last, or when it is due if later.
        const tail = op.fair === undefined ? undefined : this.#sql.fairTail.get(op.method, op.fair.key)?.tail;
        const fairTime = op.fair === undefined ? null : Math.max(op.runAfter, tail === undefined ? op.runAfter : tail + op.fair.quantumMs);
        const runAfter = op.fair?.limitsRate === true && fairTime !== null ? fairTime : op.runAfter;
        const { changes } = this.#sql.insert.run({
          id: op.id,
          name: op.name,
          parent: op.parent,
          method: op.method,
          requestId: op.requestId ?? null,
          request: op.request,
          principal: op.principal ?? null,
          resource: op.resource ?? null,
          traceContext: op.traceContext ?? null,
          deadline: op.deadline ?? null,
          retryOf: op.retryOf ?? null,
          priority: op.priority ?? 0,
          metadataType: op.metadata?.typeUrl ?? null,
          metadata: op.metadata?.value ?? null,
          metadataJson: op.metadata?.json ?? null,
          runAfter,
          fairTime,
          groupKey: op.groupKey ?? null,
          now,
        });
        if (changes === 1) {
          if (op.fair !== undefined && fairTime !== null) this.#sql.fairPlace.run(op.method, op.fair.key, fairTime);
          return { record: insertedRecord(op, now, runAfter, fairTime), created: true };
        }
        // Only the (method, request_id) conflict is ignored, so requestId is set and the row exists.
        const existing = this.#sql.byRequestId.get(op.method, op.requestId ?? "");
        if (existing === undefined) throw new Error(`operation ${op.id} was neither inserted nor found`);
        return { record: toRecord(wholeRow(existing)), created: false };
      }),
    )();
  }

  get(id: string, now: number): OperationRecord | undefined {
    const row = this.#sql.get.get(id, now);
    return row === undefined ? undefined : toRecord(wholeRow(row));
  }

  getViews(ids: readonly string[], now: number): (OperationView | undefined)[] {
    // One read needs no transaction (its BEGIN/COMMIT cost as much as the read: bench rpc); several
    // share one so they see one state.
    return ids.length === 1 ? [this.#view(ids[0]!, now)] : this.#viewMany(ids, now);
  }

  #view(id: string, now: number): OperationView | undefined {
    const values = this.#sql.getView.get(id, now);
    return values === undefined ? undefined : viewOfValues(values);
  }

  /**
   * Rows are stepped through one at a time, so that the walk stops at the byte budget
   * (ListQuery.maxBytes): the rows past it are never read.
   */
  list(query: ListQuery): ListedOperation[] {
    const { statement, params } = this.#listStatement(query);
    if (query.maxBytes === undefined) return statement.all(params).map((row) => toListed(listedRow(row)));
    const listed: ListedOperation[] = [];
    let bytes = 0;
    for (const row of statement.iterate(params)) {
      const op = toListed(listedRow(row));
      listed.push(op);
      bytes += storedBytes(op);
      if (bytes > query.maxBytes && listed.length >= 2) break; // iterate's return() resets the statement
    }
    return listed;
  }

  /** The plan SQLite picks for `list(query)`, as EXPLAIN QUERY PLAN prints it (one step a line). */
  explainList(query: ListQuery): string {
    const { statement, params } = this.#listStatement(query);
    return this.#db
      .prepare<Record<string, unknown>, { detail: string }>(`EXPLAIN QUERY PLAN ${statement.source}`)
      .all(params)
      .map((row) => row.detail)
      .join("\n");
  }

  #listStatement(query: ListQuery): { statement: Statement<Record<string, unknown>, RawRow>; params: Record<string, unknown> } {
    const params: Record<string, unknown> = { parent: query.parent, now: query.now, limit: query.limit };
    if (query.after !== undefined) Object.assign(params, { afterTime: query.after.createTime, afterId: query.after.id });
    const ofResource = query.resource !== undefined;
    if (ofResource) params["resource"] = query.resource;
    if (query.filter === undefined) {
      const { list } = this.#sql;
      const statement = ofResource ? (query.after === undefined ? list.ofResource : list.ofResourceAfter) : query.after === undefined ? list.all : list.allAfter;
      return { statement, params };
    }
    const filter = toSqlite(query.filter);
    const text = listStatementText(query.after !== undefined, filter.sql, ofResource);
    return { statement: this.#filteredList(text), params: { ...params, ...filter.params } };
  }

  /**
   * The prepared statement of a filtered list, from a cache bounded in size: the text depends only on
   * the filter's shape (its values are parameters), so the few shapes a deployment's clients use are
   * prepared once, and a client sending ever new shapes cannot grow the cache.
   */
  #filteredList(text: string): Statement<Record<string, unknown>, RawRow> {
    let statement = this.#filteredLists.get(text);
    // A statement used again moves to the end of the insertion order: the first entry, dropped when the
    // cache is full, is the least recently used.
    if (statement !== undefined) this.#filteredLists.delete(text);
    else statement = this.#db.prepare<Record<string, unknown>, RawRow>(text).raw(true);
    keepBounded(this.#filteredLists, text, statement, FILTERED_LIST_CACHE_SIZE);
    return statement;
  }

  delete(ids: readonly string[]): string[] {
    return this.#db.transaction(() => ids.flatMap((id) => this.#sql.delete.all(id).map((row) => row.id)))();
  }

  requestCancel(operations: readonly OperationRef[], now: number): MarkResult {
    return this.#mark(operations, now, ({ id, name }) => this.#sql.requestCancel.get({ id, name, now }));
  }

  requestControl(operations: readonly OperationRef[], command: string, now: number): MarkResult {
    return this.#mark(operations, now, ({ id, name }) => this.#sql.requestControl.get({ id, name, command, now }));
  }

  /**
   * Runs `update` on each ref in one transaction; returns each record after it (read if not updated),
   * undefined where the operation of that id has another name.
   */
  #mark(operations: readonly OperationRef[], now: number, update: (ref: OperationRef) => RawRow | undefined): MarkResult {
    const marked: string[] = [];
    const records = this.#db.transaction(() =>
      operations.map((ref) => {
        const updated = update(ref);
        if (updated !== undefined) {
          marked.push(ref.id);
          return toRecord(wholeRow(updated));
        }
        const record = this.get(ref.id, now);
        return record?.name === ref.name ? record : undefined;
      }),
    )();
    return { records, marked };
  }

  claim(request: ClaimRequest): OperationRecord[] {
    return this.#claim.immediate(request);
  }

  heartbeat(owner: string, leases: readonly Fenced[], leaseMs: number, now: number): HeartbeatResult[] {
    return this.#db.transaction(() =>
      leases.map(({ id, attempt }): HeartbeatResult => {
        const held = this.#sql.heartbeat.get({ id, owner, attempt, leaseExpireTime: now + leaseMs });
        const requests = held ?? this.#sql.requests.get(id);
        return { id, held: held !== undefined, cancelRequested: requests?.cancel_requested === 1, control: requests?.control ?? undefined };
      }),
    )();
  }

  progress(updates: readonly ProgressUpdate[], now: number): boolean[] {
    return this.#db.transaction(() =>
      updates.map(
        (u) =>
          this.#sql.progress.run({
            id: u.id,
            attempt: u.attempt,
            metadataType: u.metadata.typeUrl,
            metadata: u.metadata.value,
            metadataJson: u.metadata.json ?? null,
            now,
          }).changes === 1,
      ),
    )();
  }

  finish(results: readonly FinishRequest[], retentionMs: number, now: number): boolean[] {
    return this.#db.transaction(() =>
      results.map((r) => {
        const params: FinishParams = {
          id: r.id,
          attempt: r.attempt,
          setMetadata: r.metadata === undefined ? 0 : 1,
          metadataType: r.metadata?.typeUrl ?? null,
          metadata: r.metadata?.value ?? null,
          metadataJson: r.metadata?.json ?? null,
          errorCode: r.error?.code ?? null,
          errorMessage: r.error?.message ?? null,
          error: r.error?.status ?? null,
          responseType: r.response?.typeUrl ?? null,
          response: r.response?.value ?? null,
          expireTime: now + retentionMs,
          now,
        };
        const applied = this.#sql.finishAttempt.run(params).changes === 1;
        if (applied && r.events !== undefined) this.#outbox.insert(r.id, r.events, now);
        return applied;
      }),
    )();
  }

  claimEvents(claim: EventClaim): EventRecord[] {
    return this.#outbox.claim(claim);
  }

  settleEvents(settlements: readonly EventSettlement[], now: number): boolean[] {
    return this.#outbox.settle(settlements, now);
  }

  listEvents(query: EventQuery): EventRecord[] {
    return this.#outbox.list(query);
  }

  appendEvents(events: readonly OperationEvent[], now: number): string[] {
    return this.#outbox.append(events, now);
  }

  retryEvents(ids: readonly string[], now: number): string[] {
    return this.#outbox.retry(ids, now);
  }

  deleteEvents(ids: readonly string[]): string[] {
    return this.#outbox.delete(ids);
  }

  nextEventDueTime(destinations: readonly string[], now: number): number | undefined {
    return this.#outbox.nextDueTime(destinations, now);
  }

  release(owner: string, leases: readonly Fenced[], runAfter: number, now: number): string[] {
    return this.#db.transaction(() =>
      leases.filter(({ id, attempt }) => this.#sql.release.run({ id, owner, attempt, runAfter, now }).changes === 1).map((l) => l.id),
    )();
  }

  retryLater(owner: string, retries: readonly RetryLater[], now: number): boolean[] {
    return this.#db.transaction(() =>
      retries.map(({ id, attempt, runAfter, error }) =>
        this.#sql.retryLater.run({ id, owner, attempt, runAfter, now, errorCode: error.code, errorMessage: error.message, error: error.status }).changes === 1,
      ),
    )();
  }

  nextDueTime(methods: readonly string[], now: number): number | undefined {
    const row = this.#sql.nextDueTime.get({ methods: JSON.stringify(methods), now });
    return row?.time ?? undefined;
  }

  activity(query: ActivityQuery): ActivityBucket[] {
    const ofResource = query.resource !== undefined;
    let statement = this.#activity[ofResource ? 1 : 0];
    if (statement === undefined) {
      statement = this.#db.prepare(activityText("operations", (name) => `@${name}`, ofResource));
      this.#activity[ofResource ? 1 : 0] = statement;
    }
    const params: Record<string, unknown> = { parent: query.parent, since: query.since, until: query.until, bucket: Math.floor(query.bucketMs) };
    if (ofResource) params["resource"] = query.resource;
    return toBuckets(query, statement.all(params));
  }

  purgeExpired(now: number): number {
    return this.#sql.purgeExpired.run(now).changes;
  }

  /** One process owns the file and expired every lease when it opened it (open.ts): no one else's to end. */
  expireDeadLeases(): string[] {
    return [];
  }

  counts(now: number, done: boolean): StoreCounts {
    return this.#db.transaction(() => ({
      operations: done ? this.#sql.countOperations.all(now) : this.#sql.countUnfinished.all(),
      events: this.#outbox.counts(),
    }))();
  }

  stateCounts(query: StateCountQuery): StateCount[] {
    const ofResource = query.resource !== undefined;
    let statement = this.#stateCounts[ofResource ? 1 : 0];
    if (statement === undefined) {
      statement = this.#db.prepare(stateCountsText("operations", (name) => `@${name}`, ofResource));
      this.#stateCounts[ofResource ? 1 : 0] = statement;
    }
    const params: Record<string, unknown> = { parent: query.parent, now: query.now };
    if (ofResource) params.resource = query.resource;
    return toStateCounts(statement.all(params));
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
