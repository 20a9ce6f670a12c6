/**
 * A CTE named `locked` that locks, in id order, the operations whose ids `source` (a CTE with an `id`
 * column) names. The batch writes that touch running operations — heartbeat, progress, finish — join it,
 * so each takes its row locks in one global order: two of them over overlapping batches (an instance's
 * heartbeat and its progress writes, released together after an outage) wait for each other instead of
 * deadlocking, which PostgreSQL would break only after deadlock_timeout (1 s), failing one of them.
 */
export function lockedInIdOrder(table: string, source: string): string {
  return `locked AS (
       SELECT op.id FROM ${table} op WHERE op.id IN (SELECT id FROM ${source}) ORDER BY op.id FOR UPDATE
     )`;
}
