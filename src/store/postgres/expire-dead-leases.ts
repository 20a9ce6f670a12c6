import type { Db } from "./db.js";
import { notifiedCte, NOTIFIED_JOIN } from "./notify.js";
import { INSTANCE_LOCK_CLASS } from "./register-instance.js";

/**
 * Ends, in one statement, the leases of registered instances whose advisory lock nobody holds any more
 * (their LISTEN session is gone: the process died, or its connection dropped and has not come back yet):
 * lease_expire_time = now, so the ordinary claim takes them (its crash backoff applies), announced as
 * "released" so claimers everywhere wake. The dead instances are forgotten (one that was only cut off
 * registers again when it reconnects). Returns the ids whose lease it ended.
 *
 * Cheap when nobody died: `pg_locks` of one database, the small instances table, and nothing to update
 * (`state <> 'done'` lets it walk the unfinished rows' index when someone did).
 */
export async function expireDeadLeases(db: Db, now: number): Promise<string[]> {
  const o = db.options;
  const { rows } = await db.query<{ id: string }>(
    "expire-dead-leases",
    `WITH dead AS (
       SELECT i.owner FROM ${o.quotedSchema}.instances i
       WHERE NOT EXISTS (
         SELECT FROM pg_locks l
         WHERE l.locktype = 'advisory' AND l.granted
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND l.classid = ${INSTANCE_LOCK_CLASS}::oid AND l.objid = i.lock_key::oid AND l.objsubid = 2
       )
     ),
     ended AS (
       UPDATE ${o.table} op SET lease_expire_time = $1, update_time = $1
       FROM dead
       WHERE op.lease_owner = dead.owner AND op.state <> 'done' AND op.state = 'running' AND op.lease_expire_time > $1
       RETURNING op.id
     ),
     forgotten AS (
       DELETE FROM ${o.quotedSchema}.instances i USING dead WHERE i.owner = dead.owner
     ),
     ${notifiedCte(o, "released", "ended")}
     SELECT ended.id FROM ended ${NOTIFIED_JOIN}`,
    [now],
  );
  return rows.map((r) => r.id);
}
