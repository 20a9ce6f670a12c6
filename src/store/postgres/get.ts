import type { OperationRecord, OperationView } from "../store.js";
import type { QueryResultRow } from "pg";
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

/** Many operations by id in one statement, in input order (undefined where missing or expired). */
export function getMany(db: Db, ids: readonly string[], now: number): Promise<(OperationRecord | undefined)[]> {
  return byIds<OperationRow, OperationRecord>(db, "get_many", columns(), ids, now, toRecord);
}

/** As getMany, only the served fields (OperationView). */
export function getViews(db: Db, ids: readonly string[], now: number): Promise<(OperationView | undefined)[]> {
  return byIds<ViewRow, OperationView>(db, "get_views", viewColumns(), ids, now, toView);
}

async function byIds<R extends QueryResultRow & { id: string }, T>(
  db: Db,
  statement: string,
  selectList: string,
  ids: readonly string[],
  now: number,
  map: (row: R) => T,
): Promise<(T | undefined)[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<R>(
    statement,
    `SELECT ${selectList} FROM ${db.options.table}
     WHERE id = ANY($1::text[]) AND (expire_time IS NULL OR expire_time > $2)`,
    [ids, now],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => {
    const row = byId.get(id);
    return row === undefined ? undefined : map(row);
  });
}
