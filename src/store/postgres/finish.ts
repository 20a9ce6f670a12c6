import type { FinishRequest } from "../store.js";
import type { Db } from "./db.js";
import { lockedInIdOrder } from "./lock-order.js";
import { PackedBytes, sliceOf } from "./bytes.js";
import { notifiedCte, NOTIFIED_JOIN } from "./notify.js";
import { appliedFlags } from "./results.js";
import { jsonArrayElement, jsonArrayParameter, pgText } from "./text.js";
import { attributesText } from "../shared/event-row.js";

/**
 * Ends operations, fenced by attempt, in one statement: done, error or response, metadata if given,
 * lease cleared, endTime = now, expireTime = now + retentionMs. Returns, per result, whether it was
 * applied. A done operation never changes again, so of several results for one operation only the first
 * that matches its attempt applies, as if applied in order.
 */
export async function finish(db: Db, results: readonly FinishRequest[], retentionMs: number, now: number): Promise<boolean[]> {
  const o = db.options;
  // Events (completion notifications) go in by the same statement, so they commit with the finish. Without
  // any, the statement neither returns the operation's columns nor carries the outbox CTE.
  const events = results.flatMap((r, i) =>
    (r.events ?? []).map((e) => ({
      ord: i + 1, id: e.id, destination: e.destination, type: e.type, attributes: attributesText(e), with_payload: e.withPayload,
      lease_owner: e.lease?.owner ?? null, lease_expire_time: e.lease?.expireTime ?? null,
    })),
  );
  const outboxed =
    events.length === 0
      ? ""
      : `outboxed AS (
       INSERT INTO ${o.outbox} (id, operation_id, operation_name, method, destination, event_type, attributes, with_payload,
                                op_state, metadata_type, metadata, error_code, error_message, error, response_type, response,
                                state, attempt, lease_owner, lease_expire_time, run_after, create_time, window_start, update_time)
       SELECT e.id, f.id, f.name, f.method, e.destination, e.type, e.attributes, e.with_payload,
              'done', f.metadata_type, f.metadata, f.error_code, f.error_message, f.error, f.response_type, f.response,
              'pending', CASE WHEN e.lease_owner IS NULL THEN 0 ELSE 1 END, e.lease_owner, e.lease_expire_time, $9, $9, $9, $9
       FROM finished f
       JOIN jsonb_to_recordset($17::jsonb) AS e(ord integer, id text, destination text, type text, attributes text, with_payload boolean,
                                                lease_owner text, lease_expire_time bigint)
         ON e.ord = f.ord
     ),`;
  const returning = events.length === 0 ? "op.id, locked.ord" : "op.id, locked.ord, op.name, op.method, op.metadata_type, op.metadata, op.error_code, op.error_message, op.error, op.response_type, op.response";
  const bytes = new PackedBytes();
  const metadata = bytes.column(results.map((r) => r.metadata?.value));
  const error = bytes.column(results.map((r) => r.error?.status));
  const response = bytes.column(results.map((r) => r.response?.value));
  const { rows } = await db.query<{ ord: number }>(
    events.length === 0 ? "finish" : "finish_events",
    `WITH input AS (
       SELECT id, attempt, metadata_type, error_code, response_type, ${jsonArrayElement("$11", "ord")} AS metadata_json, error_message, ord,
              ${sliceOf("$16", "metadata_offset", "metadata_length")} AS metadata,
              ${sliceOf("$16", "error_offset", "error_length")} AS error,
              ${sliceOf("$16", "response_offset", "response_length")} AS response
       FROM unnest($1::text[], $2::integer[], $3::text[], $4::integer[], $13::integer[], $5::integer[], $6::integer[], $14::integer[],
                   $7::text[], $8::integer[], $15::integer[], $12::text[])
         WITH ORDINALITY AS i(id, attempt, metadata_type, metadata_offset, metadata_length, error_code, error_offset, error_length,
                              response_type, response_offset, response_length, error_message, ord)
     ),
     earliest AS (
       SELECT DISTINCT ON (input.id) input.*
       FROM input JOIN ${o.table} op ON op.id = input.id AND op.attempt = input.attempt AND op.state <> 'done'
       ORDER BY input.id, input.ord
     ),
     ${lockedInIdOrder(o.table, "earliest")},
     finished AS (
       UPDATE ${o.table} op SET
         state = 'done',
         error_code = locked.error_code, error_message = locked.error_message, error = locked.error,
         response_type = locked.response_type, response = locked.response,
         -- No metadata given: keep what progress last wrote.
         metadata_type = CASE WHEN locked.metadata IS NULL THEN op.metadata_type ELSE locked.metadata_type END,
         metadata = CASE WHEN locked.metadata IS NULL THEN op.metadata ELSE locked.metadata END,
         metadata_json = CASE WHEN locked.metadata IS NULL THEN op.metadata_json ELSE locked.metadata_json END,
         lease_owner = NULL, lease_expire_time = NULL,
         end_time = $9, update_time = $9, expire_time = $10
       FROM locked
       WHERE op.id = locked.id AND op.attempt = locked.attempt AND op.state <> 'done'
       RETURNING ${returning}
     ),
     ${outboxed}
     ${notifiedCte(o, "done", "finished")}
     SELECT finished.ord FROM finished ${NOTIFIED_JOIN}`,
    [
      results.map((r) => r.id),
      results.map((r) => r.attempt),
      results.map((r) => r.metadata?.typeUrl ?? null),
      metadata.offsets,
      results.map((r) => r.error?.code ?? null),
      error.offsets,
      results.map((r) => r.response?.typeUrl ?? null),
      response.offsets,
      now,
      now + retentionMs,
      jsonArrayParameter(results.map((r) => r.metadata?.json)),
      results.map((r) => (r.error === undefined ? null : pgText(r.error.message))),
      metadata.lengths,
      error.lengths,
      response.lengths,
      bytes.blob(),
      ...(events.length === 0 ? [] : [JSON.stringify(events)]),
    ],
  );
  return appliedFlags(results.length, rows);
}
