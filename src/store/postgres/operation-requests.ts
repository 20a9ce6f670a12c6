import type { MarkResult } from "../shared/driver.js";
import type { OperationRef } from "../store.js";
import type { Db } from "./db.js";
import { notifiedCte, NOTIFIED_JOIN, type NotifiedKind } from "./notify.js";
import { columns, toRecord, type OperationRow } from "./rows.js";

/** Marks cancellation requested on the operations not done (see `mark`). */
export function requestCancel(db: Db, operations: readonly OperationRef[], now: number): Promise<MarkResult> {
  return mark(db, operations, now, { statement: "request_cancel", set: "cancel_requested = true", kind: "cancel-requested" });
}

/** Records `command` as the last control command of the operations not done (see `mark`). */
export function requestControl(db: Db, operations: readonly OperationRef[], command: string, now: number): Promise<MarkResult> {
  return mark(db, operations, now, { statement: "request_control", set: "control = $4", kind: "control-requested" }, [command]);
}

/**
 * Sets a request flag on the operations not done whose id and name both match a ref, notifying `kind`
 * for them in the same statement, and returns every matching operation as it is after the call: the
 * marked rows from the UPDATE, the others (done, or finished concurrently) as read. Matching the (id,
 * name) pairs, not each column against its own list, keeps it exact whatever pairs a caller sends.
 */
async function mark(
  db: Db,
  operations: readonly OperationRef[],
  now: number,
  how: { statement: string; set: string; kind: NotifiedKind },
  extraParams: readonly unknown[] = [],
): Promise<MarkResult> {
  const o = db.options;
  const { rows } = await db.query<OperationRow & { marked: boolean }>(
    how.statement,
    `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[]) AS i(id, name)
     ),
     marked AS (
       UPDATE ${o.table} op SET ${how.set}, update_time = $3
       FROM input
       WHERE op.id = input.id AND op.name = input.name AND op.state <> 'done'
       RETURNING ${columns("op")}
     ),
     ${notifiedCte(o, how.kind, "marked")}
     SELECT true AS marked, marked.* FROM marked ${NOTIFIED_JOIN}
     UNION ALL
     SELECT false, ${columns("other")} FROM ${o.table} other
     WHERE (other.id, other.name) IN (SELECT id, name FROM input) AND other.id NOT IN (SELECT id FROM marked)
       AND (other.expire_time IS NULL OR other.expire_time > $3)`,
    [operations.map((r) => r.id), operations.map((r) => r.name), now, ...extraParams],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  const markedIds = new Set(rows.filter((row) => row.marked).map((row) => row.id));
  return {
    records: operations.map(({ id, name }) => {
      const row = byId.get(id);
      // One row per id; a ref naming that id under another name gets nothing.
      return row === undefined || row.name !== name ? undefined : toRecord(row);
    }),
    marked: operations.filter(({ id, name }) => markedIds.has(id) && byId.get(id)?.name === name).map((r) => r.id),
  };
}
