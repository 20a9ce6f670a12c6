import type { EventRecord, NewEvent } from "../outbox.js";
import { toView } from "./row.js";

/**
 * A row of the `outbox` table, as both stores' drivers return it (SQLite gives `with_payload` as 0/1,
 * PostgreSQL as a boolean, and `seq` as a number from both: PostgreSQL's bigint is parsed by the store).
 */
export interface EventRow {
  seq: number;
  id: string;
  operation_id: string;
  operation_name: string;
  method: string;
  destination: string;
  event_type: string;
  /** JSON object of strings. */
  attributes: string;
  with_payload: boolean | 0 | 1;
  op_state: "queued" | "running" | "done";
  metadata_type: string | null;
  metadata: Uint8Array | null;
  error_code: number | null;
  error_message: string | null;
  error: Uint8Array | null;
  response_type: string | null;
  response: Uint8Array | null;
  state: "pending" | "failed";
  attempt: number;
  run_after: number;
  create_time: number;
  window_start: number;
  lease_owner: string | null;
  lease_expire_time: number | null;
  last_error: string | null;
}

const EVENT_COLUMN_NAMES = [
  "seq", "id", "operation_id", "operation_name", "method", "destination", "event_type", "attributes", "with_payload",
  "op_state", "metadata_type", "metadata", "error_code", "error_message", "error", "response_type", "response",
  "state", "attempt", "run_after", "create_time", "window_start", "lease_owner", "lease_expire_time", "last_error",
] as const satisfies readonly (keyof EventRow)[];

/** The select list of an outbox row, optionally qualified by a table alias. */
export function eventColumns(alias?: string): string {
  return alias === undefined ? EVENT_COLUMN_NAMES.join(", ") : EVENT_COLUMN_NAMES.map((c) => `${alias}.${c}`).join(", ");
}

export function toEventRecord(row: EventRow): EventRecord {
  const { id, name, ...operation } = toView({
    id: row.operation_id,
    name: row.operation_name,
    metadata_type: row.metadata_type,
    metadata: row.metadata,
    state: row.op_state,
    error_code: row.error_code,
    error_message: row.error_message,
    error: row.error,
    response_type: row.response_type,
    response: row.response,
    principal: null,
    resource: null,
    end_time: null,
  });
  return {
    id: row.id,
    seq: row.seq,
    operationId: id,
    method: row.method,
    destination: row.destination,
    type: row.event_type,
    attributes: JSON.parse(row.attributes) as Record<string, string>,
    withPayload: row.with_payload === true || row.with_payload === 1,
    operation: { name, state: operation.state, metadata: operation.metadata, error: operation.error, response: operation.response },
    state: row.state,
    attempt: row.attempt,
    runAfter: row.run_after,
    createTime: row.create_time,
    windowStart: row.window_start,
    leaseOwner: row.lease_owner ?? undefined,
    leaseExpireTime: row.lease_expire_time ?? undefined,
    lastError: row.last_error ?? undefined,
  };
}

/** An event's attributes as stored: a JSON object of strings, keys in the order given. */
export function attributesText(event: NewEvent): string {
  return JSON.stringify(event.attributes);
}
