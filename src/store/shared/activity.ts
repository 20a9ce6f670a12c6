import type { ActivityBucket, ActivityQuery } from "../store.js";

/**
 * The activity statement of both stores, its parameters named by `param` (SQLite `@since`, PostgreSQL `$2`):
 * operations created in the window, walking the list index (parent, create_time), and operations finished
 * in it, walking the end-time index (parent, end_time), counted per bucket in one statement. The CAST
 * makes the division an integer one in SQLite too, whose driver binds numbers as reals.
 */
export function activityText(table: string, param: (name: "parent" | "resource" | "since" | "until" | "bucket") => string, ofResource: boolean): string {
  const where = `parent = ${param("parent")}${ofResource ? ` AND resource = ${param("resource")}` : ""}`;
  return `SELECT bucket, SUM(started) AS started, SUM(finished) AS finished FROM (
      SELECT CAST((create_time - ${param("since")}) / ${param("bucket")} AS INTEGER) AS bucket, 1 AS started, 0 AS finished FROM ${table}
      WHERE ${where} AND create_time >= ${param("since")} AND create_time < ${param("until")}
      UNION ALL
      SELECT CAST((end_time - ${param("since")}) / ${param("bucket")} AS INTEGER) AS bucket, 0 AS started, 1 AS finished FROM ${table}
      WHERE ${where} AND end_time >= ${param("since")} AND end_time < ${param("until")}
    ) AS events GROUP BY bucket ORDER BY bucket`;
}

/** The statement's rows as buckets (both drivers give numbers: PostgreSQL's bigint sums are parsed by the store). */
export function toBuckets(query: ActivityQuery, rows: readonly { bucket: number | string; started: number | string; finished: number | string }[]): ActivityBucket[] {
  return rows.map((r) => ({ start: query.since + Number(r.bucket) * query.bucketMs, started: Number(r.started), finished: Number(r.finished) }));
}
