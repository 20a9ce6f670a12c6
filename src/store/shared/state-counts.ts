import type { StateCount, StateCountQuery, DashboardState } from "../store.js";

/**
 * The state-count statement of both stores, its parameters named by `param` (SQLite `@parent`, PostgreSQL
 * `$1`): the parent's operations (and, with `ofResource`, one resource's) that have not expired, grouped by
 * method and by the state the dashboard names (a done operation's outcome from its error code; "paused"
 * from the last control command), in one statement walking the list index. Cost grows with the parent's
 * operations: callers cache it (src/service/counts.ts).
 */
export function stateCountsText(table: string, param: (name: "parent" | "resource" | "now") => string, ofResource: boolean): string {
  return `SELECT method, CASE
        WHEN state = 'done' THEN CASE WHEN error_code IS NULL THEN 'done' WHEN error_code = 1 THEN 'cancelled' ELSE 'failed' END
        WHEN control = 'pause' THEN 'paused'
        ELSE state END AS state,
      COUNT(*) AS count
    FROM ${table}
    WHERE parent = ${param("parent")}${ofResource ? ` AND resource = ${param("resource")}` : ""}
      AND (expire_time IS NULL OR expire_time > ${param("now")})
    GROUP BY 1, 2 ORDER BY 1, 2`;
}

/** The statement's rows as counts (PostgreSQL's bigint count is parsed by the store; SQLite's is a number). */
export function toStateCounts(rows: readonly { method: string; state: string; count: number | string }[]): StateCount[] {
  return rows.map((r) => ({ method: r.method, state: r.state as DashboardState, count: Number(r.count) }));
}
