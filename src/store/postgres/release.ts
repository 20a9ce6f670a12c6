import type { Fenced } from "../store.js";
import type { Db } from "./db.js";
import { notifiedCte, NOTIFIED_JOIN } from "./notify.js";
import { inInputOrder } from "./results.js";

/**
 * Gives back the leases `owner` holds at these attempts, in one statement: queued again, claimable at
 * `runAfter`, the attempt kept. Returns the ids released, in input order (repeats as in
 * `leases`).
 */
export async function release(db: Db, owner: string, leases: readonly Fenced[], runAfter: number, now: number): Promise<string[]> {
  const o = db.options;
  const { rows } = await db.query<{ id: string }>(
    "release",
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::integer[]) AS i(id, attempt)
     ),
     released AS (
       UPDATE ${o.table} op SET
         state = 'queued', lease_owner = NULL, lease_expire_time = NULL, run_after = $4, update_time = $5
       FROM input
       WHERE op.id = input.id AND op.attempt = input.attempt AND op.state = 'running' AND op.lease_owner = $3
       RETURNING op.id
     ),
     ${notifiedCte(o, "released", "released")}
     SELECT released.id FROM released ${NOTIFIED_JOIN}`,
    [leases.map((l) => l.id), leases.map((l) => l.attempt), owner, runAfter, now],
  );
  return inInputOrder(
    leases.map((l) => l.id),
    new Set(rows.map((r) => r.id)),
  );
}
