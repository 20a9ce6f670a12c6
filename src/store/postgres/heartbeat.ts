import type { Fenced, HeartbeatResult } from "../store.js";
import type { Db } from "./db.js";
import { lockedInIdOrder } from "./lock-order.js";

/**
 * Extends the leases `owner` holds at these attempts, in one statement; per lease, in input order,
 * whether it is still held, whether cancellation was requested and the last control command (read from
 * the row either way).
 */
export async function heartbeat(db: Db, owner: string, leases: readonly Fenced[], leaseMs: number, now: number): Promise<HeartbeatResult[]> {
  const o = db.options;
  const { rows } = await db.query<{ held: boolean; cancel_requested: boolean; control: string | null }>(
    "heartbeat",
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::integer[]) WITH ORDINALITY AS i(id, attempt, ord)
     ),
     ${lockedInIdOrder(o.table, "input")},
     held AS (
       UPDATE ${o.table} op SET lease_expire_time = $4
       FROM input JOIN locked ON locked.id = input.id
       WHERE op.id = input.id AND op.attempt = input.attempt AND op.state = 'running' AND op.lease_owner = $3
       RETURNING op.id, op.attempt, op.cancel_requested, op.control
     )
     SELECT held.id IS NOT NULL AS held, COALESCE(held.cancel_requested, op.cancel_requested, false) AS cancel_requested,
            CASE WHEN held.id IS NOT NULL THEN held.control ELSE op.control END AS control
     FROM input
     LEFT JOIN held ON held.id = input.id AND held.attempt = input.attempt
     LEFT JOIN ${o.table} op ON op.id = input.id
     ORDER BY input.ord`,
    [leases.map((l) => l.id), leases.map((l) => l.attempt), owner, now + leaseMs],
  );
  return leases.map((lease, i) => ({
    id: lease.id,
    held: rows[i]?.held === true,
    cancelRequested: rows[i]?.cancel_requested === true,
    control: rows[i]?.control ?? undefined,
  }));
}
