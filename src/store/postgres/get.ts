import type { OperationRecord, OperationView } from "../store.js";
import type { Db } from "./db.js";
import { columns, toRecord, toView, viewColumns, type OperationRow, type ViewRow } from "./rows.js";

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

/**
 * Many operations by id in one statement, in input order (undefined where missing or expired), only the
 * served fields (OperationView).
 */
export async function getViews(db: Db, ids: readonly string[], now: number): Promise<(OperationView | undefined)[]> {
  const { rows } = await db.query<ViewRow>(
    "get_views",
    `SELECT ${viewColumns()} FROM ${db.options.table}
     WHERE id = ANY($1::text[]) AND (expire_time IS NULL OR expire_time > $2)`,
    [ids, now],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => {
    const row = byId.get(id);
    return row === undefined ? undefined : toView(row);
  });
}
