import type { ClaimRequest, OperationRecord } from "../store.js";
import { toRecord, wholeRow, type RawRow } from "./rows.js";
import type { Statements } from "./statements.js";

/**
 * A claim in SQLite, in two steps run in one transaction (SQLite has one writer: no other claimer can come
 * between them): the due rows picked whole, in claim order, then each taken, written by id with what
 * taking it changes. One UPDATE … WHERE id IN (pick) RETURNING every column did both in one statement at
 * four times the cost (98 µs a claim of one row, against 22 for a pick and an update by id).
 */

/** The due rows of a claim, whole, in claim order; with limits, only those within them. */
export function pickRows(sql: Statements, request: ClaimRequest): RawRow[] {
  const params = { methods: JSON.stringify(request.methods), limit: request.limit, now: request.now };
  const { limits } = request;
  return limits === undefined ? sql.claimPick.all(params) : sql.claimPickLimited.all({ ...params, limits: JSON.stringify(limits) });
}

/**
 * Takes the picked rows: each becomes running under the claimer's lease, an attempt started. PostgreSQL's
 * claim writes the same in SQL (postgres/claim.ts, claimUpdate); the store contract tests hold the two alike.
 */
export function takeRows(sql: Statements, rows: readonly RawRow[], request: ClaimRequest): OperationRecord[] {
  const { now, owner } = request;
  const leaseExpireTime = now + request.leaseMs;
  const initialMs = request.retryBackoff?.initialMs ?? 0;
  const maxMs = request.retryBackoff?.maxMs ?? 0;
  return rows.map((values) => {
    const row = wholeRow(values);
    const previous = row.attempt;
    row.state = "running";
    row.attempt = previous + 1;
    // Taken up again, not after a failure put back to be retried (retryLater): an interruption.
    if (previous > 0 && row.last_error_attempt !== previous) row.interruptions = (row.interruptions ?? 0) + 1;
    row.lease_owner = owner;
    row.lease_expire_time = leaseExpireTime;
    row.update_time = now;
    // The first claim starts the operation; every claim starts an attempt.
    row.start_time ??= now;
    row.attempt_time = now;
    // Due again, should the lease run out, only after this attempt's backoff: initial * 2^(attempts before it).
    row.run_after = now + Math.min(maxMs, initialMs * 2 ** Math.min(previous, 30));
    sql.claimTake.run({
      id: row.id,
      attempt: row.attempt,
      interruptions: row.interruptions ?? 0,
      owner,
      leaseExpireTime,
      startTime: row.start_time,
      runAfter: row.run_after,
      now,
    });
    return toRecord(row);
  });
}
