import type { ClaimRequest, OperationRecord } from "../store.js";
import type { Db } from "./db.js";
import { columns, toRecord, type OperationRow } from "./rows.js";

/**
 * Claims up to `limit` due operations in one statement. The CTE picks and row-locks them, skipping rows
 * another claimer has locked (SKIP LOCKED), so concurrent claimers take disjoint sets without waiting;
 * a row claimed and committed by another since this statement's snapshot is re-checked against the
 * conditions on its new version (READ COMMITTED) and dropped. Oldest due first; returned in no
 * particular order (the store core sorts them).
 */
export async function claim(db: Db, request: ClaimRequest): Promise<OperationRecord[]> {
  const o = db.options;
  const { rows } = await db.query<OperationRow>(
    "claim",
    `WITH picked AS (
       SELECT id FROM ${o.table}
       WHERE state <> 'done' AND method = ANY($1::text[]) AND run_after <= $2
         AND (state = 'queued' OR lease_expire_time <= $2)
       ORDER BY claim_order, create_time, id
       LIMIT $3
       FOR UPDATE SKIP LOCKED
     )
     UPDATE ${o.table} op SET
       state = 'running', attempt = op.attempt + 1,
       -- Taken up again, not after a failure put back to be retried (retryLater): an interruption.
       interruptions = op.interruptions + CASE WHEN op.attempt > 0 AND op.last_error_attempt IS DISTINCT FROM op.attempt THEN 1 ELSE 0 END,
       lease_owner = $4, lease_expire_time = $5, update_time = $2,
       -- The first claim starts the operation; every claim starts an attempt (same row, same write).
       start_time = COALESCE(op.start_time, $2), attempt_time = $2,
       -- SET reads the old attempt: the new one is attempt + 1, its backoff initial * 2^attempt.
       run_after = $2 + LEAST($7::bigint, $6::bigint * (1::bigint << LEAST(op.attempt, 30)))
     FROM picked WHERE op.id = picked.id
     RETURNING ${columns("op")}`,
    [
      request.methods,
      request.now,
      request.limit,
      request.owner,
      request.now + request.leaseMs,
      request.retryBackoff?.initialMs ?? 0,
      request.retryBackoff?.maxMs ?? 0,
    ],
  );
  return rows.map(toRecord);
}
