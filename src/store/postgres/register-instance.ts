import type { Db } from "./db.js";

/**
 * The advisory-lock class of instance locks (the two-key form, so `pg_locks` shows it as `classid`, with
 * `objsubid` 2): "LR" and 1. Migrations lock with the one-key form (objsubid 1), so the two never meet.
 */
export const INSTANCE_LOCK_CLASS = 0x4c520001;

/**
 * Registers `owner` (the name its leases carry) as alive while this session lives, in one statement: takes
 * the session-level advisory lock (class, `lockKey`) in shared mode — shared, so that two owners whose
 * keys collide both get it instead of one waiting forever — then records which key to look for.
 * Run on the LISTEN connection, the one session that lives as long as the instance: when the process
 * dies, PostgreSQL drops the session and its lock, and `expireDeadLeases` sees the owner dead.
 */
export async function registerInstance(db: Db, owner: string, lockKey: number, now: number): Promise<void> {
  const o = db.options;
  await db.query(
    "register-instance",
    `INSERT INTO ${o.quotedSchema}.instances (owner, lock_key, registered_at)
     SELECT $1, $2, $3 WHERE pg_try_advisory_lock_shared(${INSTANCE_LOCK_CLASS}, $2::integer)
     ON CONFLICT (owner) DO UPDATE SET lock_key = EXCLUDED.lock_key, registered_at = EXCLUDED.registered_at`,
    [owner, lockKey, now],
  );
}
