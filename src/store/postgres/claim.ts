import type pg from "pg";
import type { ClaimLimit, ClaimRequest, OperationRecord } from "../store.js";
import { clientDb, type Db } from "./db.js";
import { toStoreError } from "./errors.js";
import { columns, toRecord, type OperationRow } from "./rows.js";
import { WITHIN_LIMITS_CTE, WITHIN_LIMITS_IDS } from "../shared/claim-limits.js";

/**
 * The advisory-lock class of claims of concurrency-limited methods (the two-key form, as instance locks,
 * register-instance.ts): "LR" and 2.
 */
export const CLAIM_LOCK_CLASS = 0x4c520002;

/** What every claim writes on the rows it takes: one text for the unlimited and the limited claim. */
function claimUpdate(table: string, picked: string): string {
  return `UPDATE ${table} op SET
       state = 'running', attempt = op.attempt + 1,
       -- Taken up again, not after a failure put back to be retried (retryLater): an interruption.
       interruptions = op.interruptions + CASE WHEN op.attempt > 0 AND op.last_error_attempt IS DISTINCT FROM op.attempt THEN 1 ELSE 0 END,
       lease_owner = $4, lease_expire_time = $5, update_time = $2,
       -- The first claim starts the operation; every claim starts an attempt (same row, same write).
       start_time = COALESCE(op.start_time, $2), attempt_time = $2,
       -- SET reads the old attempt: the new one is attempt + 1, its backoff initial * 2^attempt.
       run_after = $2 + LEAST($7::bigint, $6::bigint * (1::bigint << LEAST(op.attempt, 30)))
     -- By id from an array, not joined to the CTE: joined, PostgreSQL hashed the CTE and scanned the whole
     -- table to probe it while the table was small enough for that to look cheap (10,000 rows: a seq scan
     -- of 2.2 ms in a claim of 64 taking 3.7 ms, against 2.3 with this; at 100,000 it chose the index
     -- itself). An array makes it look each id up in the primary key at every size.
     WHERE op.id = ANY(ARRAY(SELECT id FROM ${picked}))
     RETURNING ${columns("op")}`;
}

const DUE = `state <> 'done' AND method = ANY($1::text[]) AND run_after <= $2
         AND (state = 'queued' OR lease_expire_time <= $2)`;

/**
 * Claims up to `limit` due operations in one statement. The CTE picks and row-locks them, skipping rows
 * another claimer has locked (SKIP LOCKED), so concurrent claimers take disjoint sets without waiting;
 * a row claimed and committed by another since this statement's snapshot is re-checked against the
 * conditions on its new version (READ COMMITTED) and dropped. Oldest due first; returned in no
 * particular order (the store core sorts them). With concurrency limits, see claimLimited.
 */
export async function claim(db: Db, pool: pg.Pool, request: ClaimRequest): Promise<OperationRecord[]> {
  if (request.limits !== undefined) return claimLimited(db, pool, request, request.limits);
  const o = db.options;
  const { rows } = await db.query<OperationRow>(
    "claim",
    `WITH picked AS (
       SELECT id FROM ${o.table}
       WHERE ${DUE}
       ORDER BY claim_order, create_time, id
       LIMIT $3
       FOR UPDATE SKIP LOCKED
     )
     ${claimUpdate(o.table, "picked")}`,
    parameters(request),
  );
  return rows.map(toRecord);
}

function parameters(request: ClaimRequest): unknown[] {
  return [
    request.methods,
    request.now,
    request.limit,
    request.owner,
    request.now + request.leaseMs,
    request.retryBackoff?.initialMs ?? 0,
    request.retryBackoff?.maxMs ?? 0,
  ];
}

/**
 * A claim with concurrency limits (docs/scheduling.md), in one statement: it counts the limited methods'
 * running operations by key (`live`, from the partial index of running rows; a lease run out is not
 * running, its operation is this claim's to take), walks the due operations in claim order leaving out
 * those of a method or key at its limit, and of what it picked keeps no more than each key's free slots,
 * then each method's (row_number over the picked, in claim order). Rows picked and not kept stay queued.
 *
 * Strict across instances: two claimers under READ COMMITTED would each count the running operations
 * before the other's claim commits, and together pass a limit. So a limited claim runs in a transaction
 * that first takes a transaction-level advisory lock per limited method (in name order: no deadlock), in a
 * statement of its own, so that the claim's snapshot, taken after the lock, sees the claims committed by
 * whoever held it. Claims of a limited method thus take turns across instances (a round trip of BEGIN and
 * the lock more each, and one claim at a time); unlimited methods keep the single statement above.
 */
async function claimLimited(db: Db, pool: pg.Pool, request: ClaimRequest, limits: readonly ClaimLimit[]): Promise<OperationRecord[]> {
  const o = db.options;
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw toStoreError(error);
  }
  const tx = clientDb(o, client);
  let failed: unknown;
  try {
    await tx.query(undefined, "BEGIN", []);
    // And, for this transaction only, no sequential scan: the claim must walk the claim index in order and
    // stop at its LIMIT, but the planner, unable to estimate the filters against the counts, sorted the
    // whole table instead (280 ms against 1 ms at 50,000 queued operations, PostgreSQL 15, 2026-12-07).
    await tx.query(
      "claim_lock",
      `SELECT set_config('enable_seqscan', 'off', true), count(pg_advisory_xact_lock(${CLAIM_LOCK_CLASS}, hashtext($1 || m)))
       FROM (SELECT m FROM unnest($2::text[]) m ORDER BY m) s`,
      [`${o.table}/`, limits.map((l) => l.method)],
    );
    const { rows } = await tx.query<OperationRow>(
      "claim_limited",
      `WITH limits AS (
         SELECT * FROM unnest($8::text[], $9::integer[], $10::integer[]) AS l(method, method_limit, per_key)
       ),
       live AS (
         SELECT method, group_key, count(*) AS n FROM ${o.table}
         WHERE state = 'running' AND method = ANY($8::text[]) AND lease_expire_time > $2
         GROUP BY method, group_key
       ),
       method_live AS (SELECT method, sum(n) AS n FROM live GROUP BY method),
       full_methods AS (SELECT l.method FROM limits l JOIN method_live m USING (method) WHERE m.n >= l.method_limit),
       full_keys AS (SELECT r.method, r.group_key FROM live r JOIN limits l USING (method) WHERE r.n >= l.per_key),
       candidates AS (
         SELECT id, method, group_key, claim_order, create_time FROM ${o.table} c
         WHERE ${DUE}
           -- Filters of the walk against arrays computed once (not anti-joins), so the walk stays one index
           -- scan. A method's name has no space, so "method key" names one (method, key).
           AND method <> ALL (ARRAY(SELECT method FROM full_methods))
           AND (group_key IS NULL OR method || ' ' || group_key <> ALL (ARRAY(SELECT method || ' ' || group_key FROM full_keys)))
           -- No column of c: a one-time filter, evaluated before the walk (when every method claimed is at its
           -- limit, nothing is walked). Not in LIMIT: a LIMIT the planner cannot read makes it sort the table.
           AND EXISTS (SELECT 1 FROM unnest($1::text[]) AS claimed(method) WHERE claimed.method <> ALL (ARRAY(SELECT method FROM full_methods)))
         ORDER BY claim_order, create_time, id
         LIMIT $3
         FOR UPDATE OF c SKIP LOCKED
       ),
       ${WITHIN_LIMITS_CTE},
       picked AS (${WITHIN_LIMITS_IDS})
       ${claimUpdate(o.table, "picked")}`,
      [...parameters(request), limits.map((l) => l.method), limits.map((l) => l.limit ?? null), limits.map((l) => l.perKey ?? null)],
    );
    await tx.query(undefined, "COMMIT", []);
    return rows.map(toRecord);
  } catch (error) {
    failed = error;
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    // A connection that failed mid-transaction is not handed back to the pool.
    client.release(failed instanceof Error ? failed : undefined);
  }
}
