import type { EventClaim, EventRecord } from "../outbox.js";
import { eventColumns, toEventRecord, type EventRow } from "../shared/event-row.js";
import type { Db } from "./db.js";

/**
 * Claims due outbox events in one statement: SKIP LOCKED lets concurrent claimers pass each other's
 * rows, and the row lock re-checks the lease, so no two get one event at one attempt. An event waits
 * while an earlier one of its operation for its destination is pending (claimed or not): per operation
 * and destination, events go out in order.
 */
export async function claimEvents(db: Db, claim: EventClaim): Promise<EventRecord[]> {
  const o = db.options;
  const { rows } = await db.query<EventRow>(
    "claim_events",
    `WITH picked AS (
       SELECT e.seq FROM ${o.outbox} e
       WHERE e.state = 'pending' AND e.destination = ANY($2::text[]) AND e.run_after <= $5
         AND (e.lease_expire_time IS NULL OR e.lease_expire_time <= $5)
         AND NOT EXISTS (SELECT 1 FROM ${o.outbox} p
                         WHERE p.operation_id = e.operation_id AND p.destination = e.destination AND p.state = 'pending' AND p.seq < e.seq)
       ORDER BY e.run_after, e.seq
       LIMIT $3
       FOR UPDATE SKIP LOCKED
     )
     UPDATE ${o.outbox} e SET attempt = e.attempt + 1, lease_owner = $1, lease_expire_time = $4, update_time = $5
     -- By seq from an array, as claim.ts does by id: joined to the CTE, the plan may scan the whole outbox.
     WHERE e.seq = ANY(ARRAY(SELECT seq FROM picked))
     RETURNING ${eventColumns("e")}`,
    [claim.owner, claim.destinations, claim.limit, claim.now + claim.leaseMs, claim.now],
  );
  return rows.map(toEventRecord);
}
