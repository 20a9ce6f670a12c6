import type { OperationRow as SharedRow } from "../shared/row.js";

export { columns, insertedRecord, listColumns, toListed, toRecord, toView, viewColumns, viewOfValues, type ListedRow, type ViewRow, type ViewValues } from "../shared/row.js";

/** A row of `operations` as better-sqlite3 returns it (the columns of `columns()`). */
export interface OperationRow extends SharedRow {
  cancel_requested: 0 | 1;
}
