import type { OperationRecord } from "../store.js";
import type { Db } from "./db.js";
import { columns, toRecord, type OperationRow } from "./rows.js";

/** One operation by id, unless it expired (a done operation past its expireTime, not yet purged). */
export async function get(db: Db, id: string, now: number): Promise<OperationRecord | undefined> {
  const { rows } = await db.query<OperationRow>(
    "get",
    `SELECT ${columns()} FROM ${db.options.table}
     WHERE id = $1 AND (expire_time IS NULL OR expire_time > $2)`,
    [id, now],
  );
  return rows[0] === undefined ? undefined : toRecord(rows[0]);
}
