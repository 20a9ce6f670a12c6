/**
 * A CTE named `locked`: the rows of `source` (a CTE with an `id` column) whose operation exists, each with
 * that operation's row locked, in id order. The batch writes that touch running operations — heartbeat,
 * progress, finish, retryLater — update `FROM locked`, so each takes its row locks in one global order:
 * two of them over overlapping batches (an instance's heartbeat and its progress writes, released together
 * after an outage) wait for each other instead of deadlocking, which PostgreSQL would break only after
 * deadlock_timeout (1 s), failing one of them.
 *
 * It carries the source's columns rather than only the ids, so that the update reads one CTE: joining
 * `source` to `locked` in the update made PostgreSQL, which estimates a CTE over an array parameter at a
 * row or so, nest a scan of one inside the other — a batch of n results compared n² pairs (a
 * 1,600-result finish: 2.6 million, 1.4 s of its 1.5 s).
 */
export function lockedInIdOrder(table: string, source: string): string {
  return `locked AS (
       SELECT ${source}.* FROM ${source} JOIN ${table} locked_op ON locked_op.id = ${source}.id
       ORDER BY locked_op.id FOR UPDATE OF locked_op
     )`;
}
