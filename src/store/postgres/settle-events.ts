import type { EventSettlement } from "../outbox.js";
import type { Db } from "./db.js";
import { appliedFlags } from "./results.js";
import { pgText } from "./text.js";

/**
 * Records delivery outcomes in one statement, each fenced by attempt: delivered events are deleted, a
 * retry waits until its runAfter, a failure is kept as failed; the lease is cleared either way.
 */
export async function settleEvents(db: Db, settlements: readonly EventSettlement[], now: number): Promise<boolean[]> {
  const o = db.options;
  const { rows } = await db.query<{ ord: number }>(
    "settle_events",
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::bigint[], $5::text[])
         WITH ORDINALITY AS i(id, attempt, outcome, run_after, error, ord)
     ),
     delivered AS (
       DELETE FROM ${o.outbox} e USING input
       WHERE input.outcome = 'delivered' AND e.id = input.id AND e.attempt = input.attempt AND e.state = 'pending'
       RETURNING input.ord
     ),
     undelivered AS (
       UPDATE ${o.outbox} e SET
         state = CASE WHEN input.outcome = 'failed' THEN 'failed' ELSE 'pending' END,
         run_after = CASE WHEN input.outcome = 'retry' THEN input.run_after ELSE e.run_after END,
         last_error = input.error, lease_owner = NULL, lease_expire_time = NULL, update_time = $6
       FROM input
       WHERE input.outcome <> 'delivered' AND e.id = input.id AND e.attempt = input.attempt AND e.state = 'pending'
       RETURNING input.ord
     )
     SELECT ord FROM delivered UNION ALL SELECT ord FROM undelivered`,
    [
      settlements.map((s) => s.id),
      settlements.map((s) => s.attempt),
      settlements.map((s) => s.outcome),
      settlements.map((s) => (s.outcome === "retry" ? s.runAfter : null)),
      settlements.map((s) => (s.outcome === "delivered" ? null : pgText(s.error))),
      now,
    ],
  );
  return appliedFlags(settlements.length, rows);
}
