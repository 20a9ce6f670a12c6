import type { OperationEvent } from "../outbox.js";
import { attributesText } from "../shared/event-row.js";
import type { Db } from "./db.js";
import { notifiedCte, NOTIFIED_JOIN } from "./notify.js";
import { inInputOrder } from "./results.js";

/**
 * Writes events about operations that are not finishing, in one statement, each with a snapshot of its
 * operation's row as it stands; an id already in the outbox (or an operation that is gone) writes nothing.
 * Announced as "events", so every instance's dispatcher wakes.
 */
export async function appendEvents(db: Db, events: readonly OperationEvent[], now: number): Promise<string[]> {
  const o = db.options;
  const input = events.map((e) => ({ id: e.id, operation_id: e.operationId, destination: e.destination, type: e.type, attributes: attributesText(e), with_payload: e.withPayload }));
  const { rows } = await db.query<{ id: string }>(
    "append_events",
    `WITH appended AS (
       INSERT INTO ${o.outbox} (id, operation_id, operation_name, method, destination, event_type, attributes, with_payload,
                                op_state, metadata_type, metadata, error_code, error_message, error, response_type, response,
                                state, attempt, run_after, create_time, window_start, update_time)
       SELECT e.id, op.id, op.name, op.method, e.destination, e.type, e.attributes, e.with_payload,
              op.state, op.metadata_type, op.metadata, op.error_code, op.error_message, op.error, op.response_type, op.response,
              'pending', 0, $2, $2, $2, $2
       FROM jsonb_to_recordset($1::jsonb) AS e(id text, operation_id text, destination text, type text, attributes text, with_payload boolean)
       JOIN ${o.table} op ON op.id = e.operation_id
       ON CONFLICT (id) DO NOTHING
       RETURNING id
     ),
     ${notifiedCte(o, "events", "appended")}
     SELECT appended.id FROM appended ${NOTIFIED_JOIN}`,
    [JSON.stringify(input), now],
  );
  return inInputOrder(
    events.map((e) => e.id),
    new Set(rows.map((r) => r.id)),
  );
}
