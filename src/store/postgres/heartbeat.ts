import type { Fenced, HeartbeatResult } from "../store.js";
import type { Db } from "./db.js";
import { lockedInIdOrder } from "./lock-order.js";
import { attemptKey } from "./results.js";

/**
 * Extends the leases `owner` holds at these attempts, in one statement; per lease, in input order,
 * whether it is still held, whether cancellation was requested and the last control command (read from
 * the row either way).
 */
export async function heartbeat(db: Db, owner: string, leases: readonly Fenced[], leaseMs: number, now: number): Promise<HeartbeatResult[]> {
  const o = db.options;
  const { rows } = await db.query<{ held: boolean; id: string; attempt: number; cancel_requested: boolean; control: string | null }>(
    "heartbeat",
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::integer[]) WITH ORDINALITY AS i(id, attempt, ord)
     ),
     ${lockedInIdOrder(o.table, "input")},
     held AS (
       UPDATE ${o.table} op SET lease_expire_time = $4
       FROM locked
       WHERE op.id = locked.id AND op.attempt = locked.attempt AND op.state = 'running' AND op.lease_owner = $3
       RETURNING op.id, op.attempt, op.cancel_requested, op.control
     )
     -- The leases held, as updated; then every lease's operation as this statement's snapshot saw it, for
     -- those not held. Matched to the input here, not by a join in SQL, which PostgreSQL nests (n², see
     -- lock-order.ts).
     SELECT true AS held, id, attempt, cancel_requested, control FROM held
     UNION ALL
     SELECT false, op.id, input.attempt, op.cancel_requested, op.control FROM input JOIN ${o.table} op ON op.id = input.id`,
    [leases.map((l) => l.id), leases.map((l) => l.attempt), owner, now + leaseMs],
  );
  const held = new Map<string, (typeof rows)[number]>();
  const read = new Map<string, (typeof rows)[number]>();
  for (const row of rows) (row.held ? held : read).set(attemptKey(row), row);
  return leases.map((lease) => {
    const key = attemptKey(lease);
    const row = held.get(key) ?? read.get(key);
    return {
      id: lease.id,
      held: held.has(key),
      cancelRequested: row?.cancel_requested === true,
      control: row?.control ?? undefined,
    };
  });
}
