import type { StoreCounts } from "../store.js";
import type { Db } from "./db.js";

type CountRow = { kind: "operation" | "event"; method: string | null; state: string; count: number };

/**
 * Operations by (method, state), expired ones left out, and outbox events by state: one statement. Without
 * the done ones, only the unfinished rows are read (the partial claim index holds exactly them, and an
 * unfinished row has no expiry).
 */
export async function counts(db: Db, now: number, done: boolean): Promise<StoreCounts> {
  const o = db.options;
  const operations = done ? "expire_time IS NULL OR expire_time > $1" : "state <> 'done'";
  const { rows } = await db.query<CountRow>(
    done ? "counts" : "counts_unfinished",
    `SELECT 'operation' AS kind, method, state, count(*)::int AS count FROM ${o.table}
       WHERE ${operations} GROUP BY method, state
     UNION ALL
     SELECT 'event' AS kind, NULL AS method, state, count(*)::int AS count FROM ${o.outbox} GROUP BY state`,
    done ? [now] : [],
  );
  const result: StoreCounts = { operations: [], events: [] };
  for (const row of rows) {
    if (row.kind === "event") result.events.push({ state: row.state as "pending" | "failed", count: row.count });
    else result.operations.push({ method: row.method ?? "", state: row.state as "queued" | "running" | "done", count: row.count });
  }
  return result;
}
