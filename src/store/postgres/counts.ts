import type { StoreCounts } from "../store.js";
import type { Db } from "./db.js";

type CountRow = { kind: "operation" | "event"; method: string | null; state: string; count: number };

/** Operations by (method, state), expired ones left out, and outbox events by state: one statement. */
export async function counts(db: Db, now: number): Promise<StoreCounts> {
  const o = db.options;
  const { rows } = await db.query<CountRow>(
    "counts",
    `SELECT 'operation' AS kind, method, state, count(*)::int AS count FROM ${o.table}
       WHERE expire_time IS NULL OR expire_time > $1 GROUP BY method, state
     UNION ALL
     SELECT 'event' AS kind, NULL AS method, state, count(*)::int AS count FROM ${o.outbox} GROUP BY state`,
    [now],
  );
  const result: StoreCounts = { operations: [], events: [] };
  for (const row of rows) {
    if (row.kind === "event") result.events.push({ state: row.state as "pending" | "failed", count: row.count });
    else result.operations.push({ method: row.method ?? "", state: row.state as "queued" | "running" | "done", count: row.count });
  }
  return result;
}
