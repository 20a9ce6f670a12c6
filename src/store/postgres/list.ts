import { toPostgres } from "../../filter/postgres.js";
import type { ListedOperation, ListQuery } from "../store.js";
import type { Db } from "./db.js";
import { listColumns, toListed, type ListedRow } from "./rows.js";

/**
 * A page of one parent's operations, newest first, in one statement that walks operations_list from the
 * cursor: the row-value comparison `(create_time, id) < (…)` is an index condition, never an OFFSET; a
 * filter is one more condition on the rows walked. A list of one recorded resource walks
 * operations_resource_list the same way. Unfiltered lists are named prepared statements (one text per
 * cursor and resource shape); filtered ones are unnamed, since their text follows the filter's shape.
 *
 * The byte budget (ListQuery.maxBytes) is a running sum over the rows walked, of octet_length()s: those
 * read a large value's size from its TOAST pointer without fetching it, and the rows past the budget are
 * dropped before anything is sent, so their large values are never read.
 */
export async function list(db: Db, query: ListQuery): Promise<ListedOperation[]> {
  const { statement, text, values } = listStatement(db, query);
  const { rows } = await db.query<ListedRow>(statement, text, values);
  return rows.map(toListed);
}

/**
 * The plan PostgreSQL picks for a list query, as EXPLAIN prints it (for benchmarks and tests); with
 * `analyze`, run for real, with timings and buffers: EXPLAIN (ANALYZE, BUFFERS).
 */
export async function explainList(db: Db, query: ListQuery, analyze = false): Promise<string> {
  const { text, values } = listStatement(db, query);
  const { rows } = await db.query<{ "QUERY PLAN": string }>(undefined, `EXPLAIN ${analyze ? "(ANALYZE, BUFFERS) " : ""}${text}`, values);
  return rows.map((row) => row["QUERY PLAN"]).join("\n");
}

/** storedBytes() in SQL: octet_length of a bytea is its size, read without detoasting it. */
const STORED_BYTES = "(octet_length(op.name) + coalesce(octet_length(op.metadata), 0) + coalesce(octet_length(op.response), 0) + coalesce(octet_length(op.error), 0))";

function listStatement(db: Db, query: ListQuery): { statement: string | undefined; text: string; values: unknown[] } {
  // No budget is a budget no page reaches: one statement text either way.
  const values: unknown[] = [query.parent, query.now, query.limit, query.maxBytes ?? Number.MAX_SAFE_INTEGER];
  let after = "";
  if (query.after !== undefined) {
    after = "AND (op.create_time, op.id) < ($5, $6)";
    values.push(query.after.createTime, query.after.id);
  }
  let resource = "";
  if (query.resource !== undefined) {
    values.push(query.resource);
    resource = `AND op.resource = $${values.length}`;
  }
  let filter = "";
  if (query.filter !== undefined) {
    const compiled = toPostgres(query.filter, values.length + 1);
    filter = `AND ${compiled.sql}`;
    values.push(...compiled.params);
  }
  const named = `list_${query.resource === undefined ? "all" : "resource"}${query.after === undefined ? "" : "_after"}`;
  return {
    statement: query.filter !== undefined ? undefined : named,
    // The outer filter keeps the walked rows' order (a subquery scan does not reorder), so it needs no sort.
    text: `SELECT ${listColumns("page")} FROM (
       SELECT ${listColumns("op")}, ${STORED_BYTES} AS bytes, sum(${STORED_BYTES}) OVER walk AS bytes_through, row_number() OVER walk AS position
       FROM ${db.options.table} op
       WHERE op.parent = $1 ${resource} AND (op.expire_time IS NULL OR op.expire_time > $2) ${after} ${filter}
       WINDOW walk AS (ORDER BY op.create_time DESC, op.id DESC ROWS UNBOUNDED PRECEDING)
       ORDER BY op.create_time DESC, op.id DESC
       LIMIT $3
     ) page
     WHERE page.position <= 2 OR page.bytes_through - page.bytes <= $4`,
    values,
  };
}
