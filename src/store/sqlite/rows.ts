import type { OperationRow as SharedRow } from "../row.js";

export { toRecord } from "../row.js";

/** A row of `operations` as better-sqlite3 returns it (`SELECT *`, so `metadata_json` too). */
export interface OperationRow extends SharedRow {
  metadata_json: string | null;
  cancel_requested: 0 | 1;
}
