import { COLUMN_NAMES, LIST_COLUMN_NAMES, type ListedRow, type OperationRow as SharedRow } from "../shared/row.js";

export { columns, insertedRecord, listColumns, toListed, toRecord, viewColumns, viewOfValues, type ViewValues } from "../shared/row.js";

/** A row of `operations` as better-sqlite3 returns it (the columns of `columns()`). */
export interface OperationRow extends SharedRow {
  cancel_requested: 0 | 1;
}

/** A row as a raw statement (better-sqlite3's `.raw()`) returns it: the values in select-list order. */
export type RawRow = unknown[];

/**
 * Turns raw rows into objects with these column names, in the order of the select list. better-sqlite3
 * builds a row object in C++ one property at a time: 14.5 µs for a whole row of 38 columns (a drain's claim
 * spent two thirds of its time there), against 4.4 µs for the same row read raw and made into one object
 * literal. The literal is compiled from the names, as pg and ajv compile theirs, so that every row has one
 * shape that V8 creates in a single step; the names are the store's own constants, never input.
 */
function rowReader<Row>(names: readonly string[]): (values: RawRow) => Row {
  for (const name of names) if (!/^[a-z_]+$/.test(name)) throw new Error(`not a column name: ${name}`);
  return new Function("v", `return { ${names.map((name, i) => `${name}: v[${i}]`).join(", ")} };`) as (values: RawRow) => Row;
}

/** A whole row (`columns()`), read raw. */
export const wholeRow = rowReader<OperationRow>(COLUMN_NAMES);
/** A listed row (`listColumns()`), read raw. */
export const listedRow = rowReader<ListedRow>(LIST_COLUMN_NAMES);
