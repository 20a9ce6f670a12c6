import type { RetryLater } from "../store.js";
import type { Db } from "./db.js";
import { PackedBytes, sliceOf } from "./bytes.js";
import { lockedInIdOrder } from "./lock-order.js";
import { notifiedCte, NOTIFIED_JOIN } from "./notify.js";
import { appliedFlags } from "./results.js";
import { pgText } from "./text.js";

/**
 * Puts failed attempts back in the queue in one statement (Store.retryLater): queued, claimable at each
 * one's runAfter (at once when cancellation was requested), lastFailure set, lease released, attempt kept.
 * Fenced by owner and attempt; of several for one operation only the first applies, as if in order. Rows
 * are locked in id order, as the other writes to running operations lock them (lock-order.ts).
 */
export async function retryLater(db: Db, owner: string, retries: readonly RetryLater[], now: number): Promise<boolean[]> {
  const o = db.options;
  const bytes = new PackedBytes();
  const error = bytes.column(retries.map((r) => r.error.status));
  const { rows } = await db.query<{ ord: number }>(
    "retry_later",
    `WITH input AS (
       SELECT id, attempt, run_after, error_code, error_message, ${sliceOf("$9", "error_offset", "error_length")} AS error, ord
       FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::integer[], $5::text[], $6::integer[], $7::integer[])
         WITH ORDINALITY AS i(id, attempt, run_after, error_code, error_message, error_offset, error_length, ord)
     ),
     earliest AS (
       SELECT DISTINCT ON (input.id) input.* FROM input ORDER BY input.id, input.ord
     ),
     ${lockedInIdOrder(o.table, "earliest")},
     retried AS (
       UPDATE ${o.table} op SET
         state = 'queued', lease_owner = NULL, lease_expire_time = NULL,
         run_after = CASE WHEN op.cancel_requested THEN $10 ELSE locked.run_after END,
         last_error_attempt = locked.attempt, last_error_code = locked.error_code, last_error_message = locked.error_message, last_error = locked.error,
         update_time = $10
       FROM locked
       WHERE op.id = locked.id AND op.attempt = locked.attempt AND op.state = 'running' AND op.lease_owner = $8
       RETURNING op.id, locked.ord
     ),
     ${notifiedCte(o, "released", "retried")}
     SELECT retried.ord FROM retried ${NOTIFIED_JOIN}`,
    [
      retries.map((r) => r.id),
      retries.map((r) => r.attempt),
      retries.map((r) => r.runAfter),
      retries.map((r) => r.error.code),
      retries.map((r) => pgText(r.error.message)),
      error.offsets,
      error.lengths,
      owner,
      bytes.blob(),
      now,
    ],
  );
  return appliedFlags(retries.length, rows);
}
