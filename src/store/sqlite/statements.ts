import type { Database, Statement } from "better-sqlite3";
import { columns, listColumns, viewColumns, type RawRow, type ViewValues } from "./rows.js";
import { WITHIN_LIMITS_CTE, WITHIN_LIMITS_IDS } from "../shared/claim-limits.js";
import { prepareByPosition, type ByPosition } from "./by-position.js";

/** Every column but metadata_json, which is written for filtering and never read back. */
const COLUMNS = columns();

/**
 * Every statement the store runs, prepared once at open. Grouped by the Store method that uses them;
 * parameters are named so each SQL text reads on its own. Those run once per operation are bound by
 * position all the same (by-position.ts says why).
 */
export interface Statements {
  /**
   * Run, not read: `changes` is 1 when inserted (the record is made from what was inserted: row.ts,
   * insertedRecord), 0 on a request-id conflict. `RETURNING id` told the same at a third of the insert's
   * cost (SQLite buffers a RETURNING statement's rows: 15.5 against 10 µs a row).
   */
  insert: ByPosition<InsertParams>;
  fairTail: Statement<[method: string, key: string], { tail: number }>;
  fairPlace: Statement<[method: string, key: string, tail: number]>;
  byRequestId: Statement<[method: string, requestId: string], RawRow>;
  get: Statement<[id: string, now: number], RawRow>;
  /** Read raw and made into the view directly (viewOfValues): GetOperation's read, on every poll. */
  getView: Statement<[id: string, now: number], ViewValues>;
  list: ListStatements;
  delete: Statement<[id: string], { id: string }>;
  requestCancel: Statement<{ id: string; name: string; now: number }, RawRow>;
  /** The due rows a claim takes, whole, in claim order (claim: the driver writes what taking them changes). */
  claimPick: Statement<ClaimParams, RawRow>;
  claimPickLimited: Statement<ClaimParams & { limits: string }, RawRow>;
  claimTake: ByPosition<ClaimTakeParams>;
  requestControl: Statement<{ id: string; name: string; command: string; now: number }, RawRow>;
  heartbeat: ByPosition<HeartbeatParams, Requests>;
  requests: Statement<[id: string], Requests>;
  progress: ByPosition<ProgressParams>;
  finishAttempt: ByPosition<FinishParams>;
  release: ByPosition<ReleaseParams>;
  retryLater: ByPosition<RetryLaterParams>;
  nextDueTime: Statement<{ methods: string; now: number }, { time: number | null }>;
  purgeExpired: Statement<[now: number]>;
  countOperations: Statement<[now: number], { method: string; state: "queued" | "running" | "done"; count: number }>;
  countUnfinished: Statement<[], { method: string; state: "queued" | "running"; count: number }>;
}

export interface InsertParams {
  id: string;
  name: string;
  parent: string;
  method: string;
  requestId: string | null;
  request: Uint8Array;
  principal: string | null;
  resource: string | null;
  traceContext: string | null;
  deadline: number | null;
  retryOf: string | null;
  priority: number;
  fairTime: number | null;
  groupKey: string | null;
  metadataType: string | null;
  metadata: Uint8Array | null;
  metadataJson: string | null;
  runAfter: number;
  now: number;
}

/**
 * The unfiltered list, with and without a cursor, each keeping a plan that walks the list index from the
 * cursor. Filtered lists are prepared per filter shape (listStatementText) and cached by the store.
 */
export interface ListStatements {
  /** Parameters `parent`, `now`, `limit` (and `afterTime`, `afterId`), as for filtered lists. */
  all: Statement<Record<string, unknown>, RawRow>;
  allAfter: Statement<Record<string, unknown>, RawRow>;
  /** The same restricted to one recorded resource: one more parameter, `resource`. */
  ofResource: Statement<Record<string, unknown>, RawRow>;
  ofResourceAfter: Statement<Record<string, unknown>, RawRow>;
}

export interface ClaimParams {
  /** JSON array of method names, expanded with json_each: one statement whatever the number of methods. */
  methods: string;
  limit: number;
  now: number;
}

/** What taking a picked row writes on it, computed by claim.ts (takeRows). */
export interface ClaimTakeParams {
  id: string;
  attempt: number;
  interruptions: number;
  owner: string;
  leaseExpireTime: number;
  startTime: number;
  runAfter: number;
  now: number;
}

/** What was requested of an operation while it runs: cancellation, and the last control command. */
export interface Requests {
  cancel_requested: 0 | 1;
  control: string | null;
}

export interface HeartbeatParams {
  id: string;
  owner: string;
  attempt: number;
  leaseExpireTime: number;
}

export interface ProgressParams {
  id: string;
  attempt: number;
  metadataType: string;
  metadata: Uint8Array;
  metadataJson: string | null;
  now: number;
}

export interface FinishParams {
  id: string;
  /** The attempt the result is of: a result of an earlier attempt applies to nothing. */
  attempt: number;
  /** 1 to replace the metadata with the given one, 0 to keep what progress last wrote. */
  setMetadata: 0 | 1;
  metadataType: string | null;
  metadata: Uint8Array | null;
  metadataJson: string | null;
  errorCode: number | null;
  errorMessage: string | null;
  error: Uint8Array | null;
  responseType: string | null;
  response: Uint8Array | null;
  expireTime: number;
  now: number;
}

export interface ReleaseParams {
  id: string;
  owner: string;
  attempt: number;
  runAfter: number;
  now: number;
}

export interface RetryLaterParams extends ReleaseParams {
  errorCode: number;
  errorMessage: string;
  error: Uint8Array;
}

/**
 * A LIMIT given as a parameter, written as an expression. Bare (`LIMIT @limit`), SQLite's planner reads
 * the bound value (this build has STAT4) and marks the statement to be compiled again whenever that
 * parameter is bound anew, which is every run; as an expression it is only evaluated. A claim picking one
 * row: 44 against 8 µs; a bare table of 25 columns, one row in index order: 16 against 3.4 µs.
 */
export const LIMIT_PARAMETER = "+@limit";

/** Due: what claim may take, and what nextDueTime looks ahead to. */
const DUE_METHODS = "state <> 'done' AND method IN (SELECT value FROM json_each(@methods))";

const FINISH_SET = `
  UPDATE operations SET
    state = 'done',
    error_code = @errorCode, error_message = @errorMessage, error = @error,
    response_type = @responseType, response = @response,
    metadata_type = CASE WHEN @setMetadata THEN @metadataType ELSE metadata_type END,
    metadata = CASE WHEN @setMetadata THEN @metadata ELSE metadata END,
    metadata_json = CASE WHEN @setMetadata THEN @metadataJson ELSE metadata_json END,
    lease_owner = NULL, lease_expire_time = NULL,
    end_time = @now, update_time = @now, expire_time = @expireTime`;

/** Read raw: rows as arrays of values, made into objects by rows.ts's readers (`rowReader` says why). */
function raw<Params extends unknown[] | {}>(statement: Statement<Params, unknown>): Statement<Params, RawRow> {
  return statement.raw(true) as Statement<Params, unknown> as Statement<Params, RawRow>;
}

export function prepareStatements(db: Database): Statements {
  return {
    insert: prepareByPosition(db, `
      INSERT INTO operations
        (id, name, parent, method, request_id, request, principal, resource, trace_context, metadata_type, metadata, metadata_json, state, run_after, deadline, retry_of, priority, fair_time, group_key, create_time, update_time)
      VALUES
        (@id, @name, @parent, @method, @requestId, @request, @principal, @resource, @traceContext, @metadataType, @metadata, @metadataJson, 'queued', @runAfter, @deadline, @retryOf, @priority, @fairTime, @groupKey, @now, @now)
      ON CONFLICT (method, request_id) WHERE request_id IS NOT NULL DO NOTHING`),
    fairTail: db.prepare("SELECT tail FROM fair_queues WHERE method = ? AND group_key = ?"),
    fairPlace: db.prepare("INSERT INTO fair_queues (method, group_key, tail) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET tail = max(tail, excluded.tail)"),
    byRequestId: raw(db.prepare(`SELECT ${COLUMNS} FROM operations WHERE method = ? AND request_id = ?`)),
    get: raw(db.prepare(`SELECT ${COLUMNS} FROM operations WHERE id = ? AND (expire_time IS NULL OR expire_time > ?)`)),
    getView: db.prepare<[string, number], ViewValues>(`SELECT ${viewColumns()} FROM operations WHERE id = ? AND (expire_time IS NULL OR expire_time > ?)`).raw(true),
    list: prepareList(db),
    delete: db.prepare("DELETE FROM operations WHERE id = ? RETURNING id"),
    // Both on id and name: an id sent under another parent's name marks nothing.
    requestCancel: raw(db.prepare(`
      UPDATE operations SET cancel_requested = 1, update_time = @now
      WHERE id = @id AND name = @name AND state <> 'done'
      RETURNING ${COLUMNS}`)),
    requestControl: raw(db.prepare(`
      UPDATE operations SET control = @command, update_time = @now
      WHERE id = @id AND name = @name AND state <> 'done'
      RETURNING ${COLUMNS}`)),
    // A claim picks the due rows whole, then takes them one by one (claim.ts).
    claimPick: raw(db.prepare(`
      SELECT ${COLUMNS} FROM operations
      WHERE ${DUE_METHODS} AND run_after <= @now
        AND (state = 'queued' OR lease_expire_time <= @now)
      ORDER BY claim_order, create_time, id
      LIMIT ${LIMIT_PARAMETER}`)),
    // With concurrency limits (@limits: JSON [{method, limit, perKey}]), as PostgreSQL's claim_limited
    // (postgres/claim.ts): the running operations of the limited methods counted by key from the partial
    // index (an expired lease is not running), the due ones of a method or key at its limit left out, and
    // of those picked no more than each key's free slots, then each method's. One writer at a time
    // (SQLite's write lock), so the counts cannot go stale between counting and claiming.
    claimPickLimited: raw(db.prepare(`
      SELECT ${COLUMNS} FROM operations
      WHERE id IN (
        -- MATERIALIZED: computed once. Inlined, json_each would parse @limits again for every row walked.
        WITH limits AS MATERIALIZED (
          SELECT json_extract(value, '$.method') AS method, json_extract(value, '$.limit') AS method_limit,
                 json_extract(value, '$.perKey') AS per_key
          FROM json_each(@limits)
        ),
        live AS MATERIALIZED (
          SELECT method, group_key, count(*) AS n FROM operations
          WHERE state = 'running' AND method IN (SELECT method FROM limits) AND lease_expire_time > @now
          GROUP BY method, group_key
        ),
        method_live AS MATERIALIZED (SELECT method, sum(n) AS n FROM live GROUP BY method),
        full_methods AS MATERIALIZED (SELECT l.method FROM limits l JOIN method_live m USING (method) WHERE m.n >= l.method_limit),
        full_keys AS MATERIALIZED (SELECT r.method, r.group_key FROM live r JOIN limits l USING (method) WHERE r.n >= l.per_key),
        -- A join, not a correlated subquery: SQLite would run that (and build its automatic index) per row.
        candidates AS (
          SELECT c.id, c.method, c.group_key, c.claim_order, c.create_time FROM operations AS c
            LEFT JOIN full_keys f ON f.method = c.method AND f.group_key = c.group_key
          WHERE c.state <> 'done' AND c.method IN (SELECT value FROM json_each(@methods)) AND c.run_after <= @now
            AND (c.state = 'queued' OR c.lease_expire_time <= @now)
            AND c.method NOT IN (SELECT method FROM full_methods) AND f.method IS NULL
          ORDER BY c.claim_order, c.create_time, c.id
          -- Evaluated once, before the walk: when every method claimed is at its limit, nothing is walked.
          LIMIT CASE WHEN EXISTS (SELECT 1 FROM json_each(@methods) WHERE value NOT IN (SELECT method FROM full_methods)) THEN @limit ELSE 0 END
        ),
        ${WITHIN_LIMITS_CTE}
        ${WITHIN_LIMITS_IDS})`)),
    claimTake: prepareByPosition(db, `
      UPDATE operations SET
        state = 'running', attempt = @attempt, interruptions = @interruptions,
        lease_owner = @owner, lease_expire_time = @leaseExpireTime, update_time = @now,
        start_time = @startTime, attempt_time = @now, run_after = @runAfter
      WHERE id = @id`),
    heartbeat: prepareByPosition(db, `
      UPDATE operations SET lease_expire_time = @leaseExpireTime
      WHERE id = @id AND state = 'running' AND lease_owner = @owner AND attempt = @attempt
      RETURNING cancel_requested, control`),
    requests: db.prepare("SELECT cancel_requested, control FROM operations WHERE id = ?"),
    progress: prepareByPosition(db, `
      UPDATE operations SET metadata_type = @metadataType, metadata = @metadata, metadata_json = @metadataJson, update_time = @now
      WHERE id = @id AND state = 'running' AND attempt = @attempt`),
    finishAttempt: prepareByPosition(db, `${FINISH_SET} WHERE id = @id AND state <> 'done' AND attempt = @attempt`),
    release: prepareByPosition(db, `
      UPDATE operations SET state = 'queued', lease_owner = NULL, lease_expire_time = NULL, run_after = @runAfter, update_time = @now
      WHERE id = @id AND state = 'running' AND lease_owner = @owner AND attempt = @attempt`),
    // Cancellation requested: claimable at once, so that the next claim ends it CANCELLED.
    retryLater: prepareByPosition(db, `
      UPDATE operations SET
        state = 'queued', lease_owner = NULL, lease_expire_time = NULL,
        run_after = CASE WHEN cancel_requested THEN @now ELSE @runAfter END,
        last_error_attempt = @attempt, last_error_code = @errorCode, last_error_message = @errorMessage, last_error = @error, update_time = @now
      WHERE id = @id AND state = 'running' AND lease_owner = @owner AND attempt = @attempt`),
    // A running operation becomes claimable when both its backoff and its lease have run out.
    nextDueTime: db.prepare(`
      SELECT MIN(due) AS time FROM (
        SELECT CASE WHEN state = 'queued' THEN run_after ELSE MAX(run_after, lease_expire_time) END AS due
        FROM operations WHERE ${DUE_METHODS})
      WHERE due > @now`),
    purgeExpired: db.prepare("DELETE FROM operations WHERE state = 'done' AND expire_time <= ?"),
    countOperations: db.prepare(
      "SELECT method, state, COUNT(*) AS count FROM operations WHERE expire_time IS NULL OR expire_time > ? GROUP BY method, state",
    ),
    // The partial claim index holds exactly the unfinished rows (and an unfinished row has no expiry).
    countUnfinished: db.prepare("SELECT method, state, COUNT(*) AS count FROM operations WHERE state <> 'done' GROUP BY method, state"),
  };
}

function prepareList(db: Database): ListStatements {
  return {
    all: raw(db.prepare(listStatementText(false, undefined))),
    allAfter: raw(db.prepare(listStatementText(true, undefined))),
    ofResource: raw(db.prepare(listStatementText(false, undefined, true))),
    ofResourceAfter: raw(db.prepare(listStatementText(true, undefined, true))),
  };
}

/**
 * A page of one parent's operations, newest first. A row-value comparison lets SQLite start the index
 * walk at the cursor instead of skipping up to it (never an OFFSET); a filter (compiled by
 * src/filter/sqlite.ts, its parameters named @f1, @f2, …) is one more condition on the rows walked. With
 * `resource`, only the operations recorded with @resource, walking operations_resource_list instead.
 */
export function listStatementText(after: boolean, filter: string | undefined, resource = false): string {
  return `SELECT ${listColumns("op")} FROM operations AS op
     WHERE op.parent = @parent ${resource ? "AND op.resource = @resource" : ""} AND (op.expire_time IS NULL OR op.expire_time > @now)
       ${after ? "AND (op.create_time, op.id) < (@afterTime, @afterId)" : ""}
       ${filter === undefined ? "" : `AND ${filter}`}
     ORDER BY op.create_time DESC, op.id DESC
     LIMIT ${LIMIT_PARAMETER}`;
}
