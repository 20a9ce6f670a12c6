import type { OperationRow as SharedRow } from "../row.js";

export { columns, toRecord, toView, viewColumns, type ViewRow } from "../row.js";

/** A row of `operations` as better-sqlite3 returns it (the columns of `columns()`). */
export interface OperationRow extends SharedRow {
  cancel_requested: 0 | 1;
}
