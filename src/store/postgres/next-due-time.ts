import type { Db } from "./db.js";

/**
 * The earliest time after `now` at which an operation of `methods` becomes claimable: a queued one at
 * its runAfter, a running one when both its backoff and its lease have run out.
 */
export async function nextDueTime(db: Db, methods: readonly string[], now: number): Promise<number | undefined> {
  const { rows } = await db.query<{ time: number | null }>(
    "next_due_time",
    `SELECT min(due) AS time FROM (
       SELECT CASE WHEN state = 'queued' THEN run_after ELSE GREATEST(run_after, lease_expire_time) END AS due
       FROM ${db.options.table}
       WHERE state <> 'done' AND method = ANY($1::text[])
     ) d
     WHERE due > $2`,
    [methods, now],
  );
  return rows[0]?.time ?? undefined;
}
