import type { EventQuery, EventRecord } from "../outbox.js";
import { eventColumns, toEventRecord, type EventRow } from "../shared/event-row.js";
import type { Db } from "./db.js";
import { notifiedCte, NOTIFIED_JOIN } from "./notify.js";
import { inInputOrder } from "./results.js";

/** Outbox events in the order they were written, from a seq cursor, optionally of one state. */
export async function listEvents(db: Db, query: EventQuery): Promise<EventRecord[]> {
  const { rows } = await db.query<EventRow>(
    "list_events",
    `SELECT ${eventColumns()} FROM ${db.options.outbox}
     WHERE ($1::text IS NULL OR state = $1) AND seq > $2 ORDER BY seq LIMIT $3`,
    [query.state ?? null, query.afterSeq ?? 0, query.limit],
  );
  return rows.map(toEventRecord);
}

/**
 * Makes events due now in a new retry window (failed ones pending again), announced as "events" so
 * every instance's dispatcher wakes. Returns the ids changed, in input order.
 */
export async function retryEvents(db: Db, ids: readonly string[], now: number): Promise<string[]> {
  const o = db.options;
  const { rows } = await db.query<{ id: string }>(
    "retry_events",
    `WITH retried AS (
       UPDATE ${o.outbox} SET state = 'pending', run_after = $2, window_start = $2, lease_owner = NULL, lease_expire_time = NULL, update_time = $2
       WHERE id = ANY($1::text[])
       RETURNING id
     ),
     ${notifiedCte(o, "events", "retried")}
     SELECT retried.id FROM retried ${NOTIFIED_JOIN}`,
    [ids, now],
  );
  return inInputOrder(ids, new Set(rows.map((r) => r.id)));
}

export async function deleteEvents(db: Db, ids: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>("delete_events", `DELETE FROM ${db.options.outbox} WHERE id = ANY($1::text[]) RETURNING id`, [ids]);
  return inInputOrder(ids, new Set(rows.map((r) => r.id)));
}

/** When the next pending event for these destinations becomes claimable: its backoff and any lease run out. */
export async function nextEventDueTime(db: Db, destinations: readonly string[], now: number): Promise<number | undefined> {
  const { rows } = await db.query<{ time: number | null }>(
    "next_event_due_time",
    `SELECT min(due) AS time FROM (
       SELECT greatest(run_after, coalesce(lease_expire_time, 0)) AS due FROM ${db.options.outbox}
       WHERE state = 'pending' AND destination = ANY($1::text[])
     ) d WHERE due > $2`,
    [destinations, now],
  );
  return rows[0]?.time ?? undefined;
}
