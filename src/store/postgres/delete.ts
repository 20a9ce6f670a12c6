import type { Db } from "./db.js";
import { notifiedCte, NOTIFIED_JOIN } from "./notify.js";
import { inInputOrder } from "./results.js";

/** Deletes the operations, whatever their state; returns the ids that existed, in input order (repeats as in `ids`). */
export async function deleteOperations(db: Db, ids: readonly string[]): Promise<string[]> {
  const o = db.options;
  const { rows } = await db.query<{ id: string }>(
    "delete",
    `WITH deleted AS (
       DELETE FROM ${o.table} WHERE id = ANY($1::text[]) RETURNING id
     ),
     ${notifiedCte(o, "deleted", "deleted")}
     SELECT deleted.id FROM deleted ${NOTIFIED_JOIN}`,
    [ids],
  );
  return inInputOrder(ids, new Set(rows.map((r) => r.id)));
}
