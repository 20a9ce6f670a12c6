import type { ProgressUpdate } from "../store.js";
import type { Db } from "./db.js";
import { lockedInIdOrder } from "./lock-order.js";
import { PackedBytes, sliceOf } from "./bytes.js";
import { attemptKey } from "./results.js";
import { jsonArrayElement, jsonArrayParameter } from "./text.js";

/**
 * Replaces the metadata of running operations at the given attempts (fenced), in one statement. Returns,
 * per update, whether it was applied. Several updates of one operation at its attempt all apply, the last
 * one's metadata standing, as if applied in order.
 *
 * Unlike the other writes it sends no NOTIFY: no other instance acts on progress (waiters wake on done and
 * deleted, workers on created, cancel and control), and a NOTIFY makes the commit take PostgreSQL's
 * notification lock through its WAL flush, serialising it with every other notifying commit (bench
 * throughput: 7,403 commits/s with 8 clients without, 1,562 with). The local feed still has it.
 */
export async function progress(db: Db, updates: readonly ProgressUpdate[], now: number): Promise<boolean[]> {
  const o = db.options;
  const bytes = new PackedBytes();
  const metadata = bytes.column(updates.map((u) => u.metadata.value));
  const { rows } = await db.query<{ id: string; attempt: number }>(
    "progress",
    `WITH input AS (
       SELECT *, ${jsonArrayElement("$6", "ord")} AS metadata_json
       FROM unnest($1::text[], $2::integer[], $3::text[], $4::integer[], $7::integer[])
         WITH ORDINALITY AS i(id, attempt, metadata_type, metadata_offset, metadata_length, ord)
     ),
     latest AS (
       SELECT DISTINCT ON (id, attempt) * FROM input ORDER BY id, attempt, ord DESC
     ),
     ${lockedInIdOrder(o.table, "latest")},
     applied AS (
       UPDATE ${o.table} op SET
         metadata_type = locked.metadata_type, metadata = ${sliceOf("$8", "locked.metadata_offset", "locked.metadata_length")},
         metadata_json = locked.metadata_json, update_time = $5
       FROM locked
       WHERE op.id = locked.id AND op.attempt = locked.attempt AND op.state = 'running'
       RETURNING op.id, op.attempt
     )
     SELECT id, attempt FROM applied`,
    [
      updates.map((u) => u.id),
      updates.map((u) => u.attempt),
      updates.map((u) => u.metadata.typeUrl),
      metadata.offsets,
      now,
      jsonArrayParameter(updates.map((u) => u.metadata.json)),
      metadata.lengths,
      bytes.blob(),
    ],
  );
  // Matched here, not by joining the input to the updated rows in SQL: PostgreSQL nests a scan of one CTE
  // in the other (see lock-order.ts), n² for a batch of n.
  const applied = new Set(rows.map(attemptKey));
  return updates.map((u) => applied.has(attemptKey(u)));
}
