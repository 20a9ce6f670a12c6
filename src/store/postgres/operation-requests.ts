import type { MarkResult } from "../shared/driver.js";
import type { Db } from "./db.js";
import { notifiedCte, NOTIFIED_JOIN, type NotifiedKind } from "./notify.js";
import { columns, toRecord, type OperationRow } from "./rows.js";

/** Marks cancellation requested on the operations not done (see `mark`). */
export function requestCancel(db: Db, ids: readonly string[], now: number): Promise<MarkResult> {
  return mark(db, ids, now, { statement: "request_cancel", set: "cancel_requested = true", kind: "cancel-requested" });
}

/** Records `command` as the last control command of the operations not done (see `mark`). */
export function requestControl(db: Db, ids: readonly string[], command: string, now: number): Promise<MarkResult> {
  return mark(db, ids, now, { statement: "request_control", set: "control = $3", kind: "control-requested" }, [command]);
}

/**
 * Sets a request flag on the operations not done, notifying `kind` for them in the same statement, and
 * returns every named operation as it is after the call: the marked rows from the UPDATE, the others
 * (done, or finished concurrently) as read.
 */
async function mark(
  db: Db,
  ids: readonly string[],
  now: number,
  how: { statement: string; set: string; kind: NotifiedKind },
  extraParams: readonly unknown[] = [],
): Promise<MarkResult> {
  const o = db.options;
  const { rows } = await db.query<OperationRow & { marked: boolean }>(
    how.statement,
    `WITH marked AS (
       UPDATE ${o.table} SET ${how.set}, update_time = $2
       WHERE id = ANY($1::text[]) AND state <> 'done'
       RETURNING ${columns()}
     ),
     ${notifiedCte(o, how.kind, "marked")}
     SELECT true AS marked, marked.* FROM marked ${NOTIFIED_JOIN}
     UNION ALL
     SELECT false, ${columns("other")} FROM ${o.table} other
     WHERE other.id = ANY($1::text[]) AND other.id NOT IN (SELECT id FROM marked)
       AND (other.expire_time IS NULL OR other.expire_time > $2)`,
    [ids, now, ...extraParams],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  const markedIds = new Set(rows.filter((row) => row.marked).map((row) => row.id));
  return {
    records: ids.map((id) => {
      const row = byId.get(id);
      return row === undefined ? undefined : toRecord(row);
    }),
    marked: ids.filter((id) => markedIds.has(id)),
  };
}
