import { toPostgres } from "../../filter/postgres.js";
import type { ListQuery, OperationRecord } from "../store.js";
import type { Db } from "./db.js";
import { columns, toRecord, type OperationRow } from "./rows.js";

/**
 * A page of one parent's operations, newest first, in one statement that walks operations_list from the
 * cursor: the row-value comparison `(create_time, id) < (…)` is an index condition, never an OFFSET; a
 * filter is one more condition on the rows walked. A list of one recorded resource walks
 * operations_resource_list the same way. Unfiltered lists are named prepared statements (one text per
 * cursor and resource shape); filtered ones are unnamed, since their text follows the filter's shape.
 */
export async function list(db: Db, query: ListQuery): Promise<OperationRecord[]> {
  const { statement, text, values } = listStatement(db, query);
  const { rows } = await db.query<OperationRow>(statement, text, values);
  return rows.map(toRecord);
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

function listStatement(db: Db, query: ListQuery): { statement: string | undefined; text: string; values: unknown[] } {
  const values: unknown[] = [query.parent, query.now, query.limit];
  let after = "";
  if (query.after !== undefined) {
    after = "AND (op.create_time, op.id) < ($4, $5)";
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
    text: `SELECT ${columns("op")} FROM ${db.options.table} op
     WHERE op.parent = $1 ${resource} AND (op.expire_time IS NULL OR op.expire_time > $2) ${after} ${filter}
     ORDER BY op.create_time DESC, op.id DESC
     LIMIT $3`,
    values,
  };
}
