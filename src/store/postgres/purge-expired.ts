import type { Db } from "./db.js";

/** Deletes done operations whose expireTime has passed; returns how many. Announced to no one. */
export async function purgeExpired(db: Db, now: number): Promise<number> {
  const result = await db.query("purge_expired", `DELETE FROM ${db.options.table} WHERE state = 'done' AND expire_time <= $1`, [now]);
  return result.rowCount ?? 0;
}
