import type { ListedOperation, NewOperation, OperationRecord, OperationState, OperationView, StoredAny, StoredError } from "../store.js";

/**
 * A row of the `operations` table, as both stores' drivers return it: the same columns in SQLite and
 * PostgreSQL; only `cancel_requested` differs in type (SQLite integer 0/1, PostgreSQL boolean).
 * `metadata_json` is written for filtering and never read back (see StoredAny.json).
 */
export interface OperationRow {
  id: string;
  name: string;
  parent: string;
  method: string;
  request_id: string | null;
  request: Uint8Array;
  principal: string | null;
  resource: string | null;
  /** Only in whole rows (get, claim, create), not in listed ones. */
  trace_context?: string | null;
  /** Whole rows only, as trace_context. */
  last_error_attempt?: number | null;
  last_error_code?: number | null;
  last_error_message?: string | null;
  last_error?: Uint8Array | null;
  deadline?: number | null;
  retry_of?: string | null;
  priority?: number;
  fair_time?: number | null;
  interruptions?: number;
  metadata_type: string | null;
  metadata: Uint8Array | null;
  state: OperationState;
  error_code: number | null;
  error_message: string | null;
  error: Uint8Array | null;
  response_type: string | null;
  response: Uint8Array | null;
  cancel_requested: boolean | 0 | 1;
  control: string | null;
  attempt: number;
  lease_owner: string | null;
  lease_expire_time: number | null;
  run_after: number;
  create_time: number;
  start_time: number | null;
  attempt_time: number | null;
  update_time: number;
  end_time: number | null;
  expire_time: number | null;
}

/** The columns of an OperationView: what the Operations service serves. */
const VIEW_COLUMN_NAMES = [
  "id",
  "name",
  "metadata_type",
  "metadata",
  "state",
  "error_code",
  "error_message",
  "error",
  "response_type",
  "response",
  "principal",
  "resource",
  "end_time",
] as const satisfies readonly (keyof OperationRow)[];

export const COLUMN_NAMES = [
  ...VIEW_COLUMN_NAMES,
  "parent",
  "method",
  "request_id",
  "request",
  "cancel_requested",
  "control",
  "attempt",
  "lease_owner",
  "lease_expire_time",
  "run_after",
  "create_time",
  "start_time",
  "attempt_time",
  "update_time",
  "expire_time",
  "trace_context",
  "last_error_attempt",
  "last_error_code",
  "last_error_message",
  "last_error",
  "deadline",
  "retry_of",
  "priority",
  "fair_time",
  "interruptions",
] as const satisfies readonly (keyof OperationRow)[];

/** Read with a whole record only: what nothing that lists reads. */
const WHOLE_ONLY: ReadonlySet<string> = new Set(["request", "trace_context", "last_error_attempt", "last_error_code", "last_error_message", "last_error", "deadline", "retry_of", "priority", "fair_time", "interruptions"]);

/** The columns of a ListedOperation: a whole row's but the request, the trace context and the scheduling state. */
export const LIST_COLUMN_NAMES = COLUMN_NAMES.filter((c) => !WHOLE_ONLY.has(c));

export type ListedRow = Omit<OperationRow, "request">;

/** The select list of a listed row (ListedOperation), optionally qualified by a table alias. */
export function listColumns(alias?: string): string {
  return alias === undefined ? LIST_COLUMN_NAMES.join(", ") : LIST_COLUMN_NAMES.map((c) => `${alias}.${c}`).join(", ");
}

/**
 * The select list of a whole row (all but `metadata_json`, which is written for filtering and never read
 * back: reading it would only cost), optionally qualified by a table alias. Named, not `*`: a prepared
 * statement keeps its result shape even if a later migration adds columns.
 */
export function columns(alias?: string): string {
  return alias === undefined ? COLUMN_NAMES.join(", ") : COLUMN_NAMES.map((c) => `${alias}.${c}`).join(", ");
}

export type ViewRow = Pick<OperationRow, (typeof VIEW_COLUMN_NAMES)[number]>;

export function viewColumns(): string {
  return VIEW_COLUMN_NAMES.join(", ");
}

/** A view row as its column values in `viewColumns()` order (a driver's array mode: no object made per row). */
export type ViewValues = { -readonly [I in keyof typeof VIEW_COLUMN_NAMES]: ViewRow[(typeof VIEW_COLUMN_NAMES)[I] & keyof ViewRow] };

/** toView of a row read as ViewValues. */
export function viewOfValues(values: ViewValues): OperationView {
  return {
    id: values[0],
    name: values[1],
    metadata: storedAny(values[2], values[3]),
    state: values[4],
    error: storedError(values[5], values[6], values[7]),
    response: storedAny(values[8], values[9]),
    principal: orUndefined(values[10]),
    resource: orUndefined(values[11]),
    endTime: orUndefined(values[12]),
  };
}

export function toView(row: ViewRow): OperationView {
  return {
    id: row.id,
    name: row.name,
    metadata: storedAny(row.metadata_type, row.metadata),
    state: row.state,
    error: storedError(row.error_code, row.error_message, row.error),
    response: storedAny(row.response_type, row.response),
    principal: orUndefined(row.principal),
    resource: orUndefined(row.resource),
    endTime: orUndefined(row.end_time),
  };
}

export function toRecord(row: OperationRow): OperationRecord {
  const record: OperationRecord = listed(row, bytes(row.request));
  // Set only when stored, so records of operations started without tracing are as they were.
  if (row.trace_context != null) record.traceContext = row.trace_context;
  if (row.last_error != null && row.last_error_code != null && row.last_error_attempt != null) {
    record.lastFailure = { attempt: row.last_error_attempt, error: { code: row.last_error_code, message: row.last_error_message ?? "", status: bytes(row.last_error) } };
  }
  if (row.deadline != null) record.deadline = row.deadline;
  if (row.retry_of != null) record.retryOf = row.retry_of;
  if (row.priority !== undefined && row.priority !== 0) record.priority = row.priority;
  if (row.fair_time != null) record.fairTime = row.fair_time;
  if (row.interruptions !== undefined && row.interruptions !== 0) record.interruptions = row.interruptions;
  return record;
}

/**
 * The record of an operation just inserted, from what was inserted: the row the insert writes, through
 * `toRecord` as a read makes it, without reading it back (RETURNING every column doubled the cost of a
 * SQLite insert: 23.5 against 12 µs). `runAfter` and `fairTime` as the store computed them.
 */
export function insertedRecord(op: NewOperation, now: number, runAfter: number, fairTime: number | null): OperationRecord {
  return toRecord({
    id: op.id,
    name: op.name,
    parent: op.parent,
    method: op.method,
    request_id: op.requestId ?? null,
    request: op.request,
    principal: op.principal ?? null,
    resource: op.resource ?? null,
    trace_context: op.traceContext ?? null,
    last_error_attempt: null,
    last_error_code: null,
    last_error_message: null,
    last_error: null,
    deadline: op.deadline ?? null,
    retry_of: op.retryOf ?? null,
    priority: op.priority ?? 0,
    fair_time: fairTime,
    interruptions: 0,
    metadata_type: op.metadata?.typeUrl ?? null,
    metadata: op.metadata?.value ?? null,
    state: "queued",
    error_code: null,
    error_message: null,
    error: null,
    response_type: null,
    response: null,
    cancel_requested: false,
    control: null,
    attempt: 0,
    lease_owner: null,
    lease_expire_time: null,
    run_after: runAfter,
    create_time: now,
    start_time: null,
    attempt_time: null,
    update_time: now,
    end_time: null,
    expire_time: null,
  });
}

export function toListed(row: ListedRow): ListedOperation {
  return listed(row, undefined);
}

/**
 * The view's object with the listing's fields added in one fixed order (then `request`, when given): the
 * spreads this replaced (a view spread into a listing, a listing into a record) built each object three
 * times over and left it in dictionary mode (a drain's claims spent ~12 µs a record there; this: ~0.2).
 */
function listed(row: ListedRow, request: Uint8Array): OperationRecord;
function listed(row: ListedRow, request: undefined): ListedOperation;
function listed(row: ListedRow, request: Uint8Array | undefined): ListedOperation | OperationRecord {
  const operation = toView(row) as ListedOperation & { request?: Uint8Array };
  operation.parent = row.parent;
  operation.method = row.method;
  operation.requestId = orUndefined(row.request_id);
  operation.cancelRequested = row.cancel_requested === true || row.cancel_requested === 1;
  operation.control = orUndefined(row.control);
  operation.attempt = row.attempt;
  operation.leaseOwner = orUndefined(row.lease_owner);
  operation.leaseExpireTime = orUndefined(row.lease_expire_time);
  operation.runAfter = row.run_after;
  operation.createTime = row.create_time;
  operation.startTime = orUndefined(row.start_time);
  operation.attemptTime = orUndefined(row.attempt_time);
  operation.updateTime = row.update_time;
  operation.expireTime = orUndefined(row.expire_time);
  if (request !== undefined) operation.request = request;
  return operation;
}

function storedError(code: number | null, message: string | null, status: Uint8Array | null): StoredError | undefined {
  return status === null || code === null ? undefined : { code, message: message ?? "", status: bytes(status) };
}

function storedAny(typeUrl: string | null, value: Uint8Array | null): StoredAny | undefined {
  return typeUrl === null || value === null ? undefined : { typeUrl, value: bytes(value) };
}

/**
 * Both drivers return BLOB/bytea as Buffers; callers get plain Uint8Arrays (a view, no copy), so records
 * compare equal to what was stored whichever store produced them.
 */
function bytes(blob: Uint8Array): Uint8Array {
  return new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength);
}

function orUndefined<T>(value: T | null): T | undefined {
  return value === null ? undefined : value;
}
