import pg from "pg";
import type { CustomTypesConfig } from "pg";
import type { OperationRow as SharedRow } from "../shared/row.js";

export { columns, listColumns, toListed, toRecord, toView, viewColumns, type ListedRow, type ViewRow } from "../shared/row.js";

/** A row of `operations` as node-postgres returns it, with the type parsers below. */
export interface OperationRow extends SharedRow {
  cancel_requested: boolean;
}

const INT8 = 20;

/**
 * Times are `bigint` milliseconds; node-postgres returns int8 as a string (it may exceed 2^53), but the
 * Store speaks numbers, and milliseconds since 1970 stay far below 2^53. Only this store's connections
 * parse so: the global parsers of `pg.types` are left alone.
 */
export const TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8 && format !== "binary" ? parseInt8 : pg.types.getTypeParser(oid, format)) as CustomTypesConfig["getTypeParser"],
};

function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${value} does not fit in a JavaScript number`);
  return n;
}
