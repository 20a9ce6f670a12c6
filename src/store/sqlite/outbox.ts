import type { Database, Statement } from "better-sqlite3";
import type { EventClaim, EventQuery, EventRecord, EventSettlement, NewEvent, OperationEvent } from "../outbox.js";
import { attributesText, eventColumns, toEventRecord, type EventRow } from "../shared/event-row.js";
import { LIMIT_PARAMETER } from "./statements.js";

const COLUMNS = eventColumns();

interface EventParams {
  id: string;
  operationId: string;
  destination: string;
  type: string;
  attributes: string;
  withPayload: number;
  now: number;
  attempt: number;
  leaseOwner: string | null;
  leaseExpireTime: number | null;
}

/** Outbox events whose destination is one of the JSON array @destinations. */
const OF_DESTINATIONS = "destination IN (SELECT value FROM json_each(@destinations))";

/**
 * The outbox's statements (src/store/outbox.ts), prepared once at open. The caller runs each write call
 * in one transaction; events of a finish are inserted by `insert` inside the finish's own.
 */
export class OutboxStatements {
  readonly #db: Database;
  readonly #insert: Statement<EventParams>;
  readonly #append: Statement<EventParams>;
  readonly #claim: Statement<{ owner: string; destinations: string; limit: number; leaseExpireTime: number; now: number }, EventRow>;
  readonly #delivered: Statement<{ id: string; attempt: number }>;
  readonly #retry: Statement<{ id: string; attempt: number; runAfter: number; error: string; now: number }>;
  readonly #failed: Statement<{ id: string; attempt: number; error: string; now: number }>;
  readonly #list: Statement<{ state: string | null; afterSeq: number; limit: number }, EventRow>;
  readonly #retryNow: Statement<{ id: string; now: number }, { id: string }>;
  readonly #delete: Statement<[id: string], { id: string }>;
  readonly #nextDue: Statement<{ destinations: string; now: number }, { time: number | null }>;
  readonly #counts: Statement<[], { state: "pending" | "failed"; count: number }>;

  constructor(db: Database) {
    this.#db = db;
    // The snapshot is the operation row as the finish just left it (same transaction).
    const insertText = `
      INSERT INTO outbox (id, operation_id, operation_name, method, destination, event_type, attributes, with_payload,
                          op_state, metadata_type, metadata, error_code, error_message, error, response_type, response,
                          state, attempt, lease_owner, lease_expire_time, run_after, create_time, window_start, update_time)
      SELECT @id, op.id, op.name, op.method, @destination, @type, @attributes, @withPayload,
             op.state, op.metadata_type, op.metadata, op.error_code, op.error_message, op.error, op.response_type, op.response,
             'pending', @attempt, @leaseOwner, @leaseExpireTime, @now, @now, @now, @now
      FROM operations op WHERE op.id = @operationId`;
    this.#insert = db.prepare(insertText);
    this.#append = db.prepare(`${insertText} ON CONFLICT (id) DO NOTHING`);
    this.#claim = db.prepare(`
      UPDATE outbox SET attempt = attempt + 1, lease_owner = @owner, lease_expire_time = @leaseExpireTime, update_time = @now
      WHERE seq IN (
        SELECT e.seq FROM outbox e
        WHERE e.state = 'pending' AND e.${OF_DESTINATIONS} AND e.run_after <= @now
          AND (e.lease_expire_time IS NULL OR e.lease_expire_time <= @now)
          AND NOT EXISTS (SELECT 1 FROM outbox p
                          WHERE p.operation_id = e.operation_id AND p.destination = e.destination AND p.state = 'pending' AND p.seq < e.seq)
        ORDER BY e.run_after, e.seq
        LIMIT ${LIMIT_PARAMETER})
      RETURNING ${COLUMNS}`);
    const settled = "WHERE id = @id AND state = 'pending' AND attempt = @attempt";
    this.#delivered = db.prepare(`DELETE FROM outbox ${settled}`);
    this.#retry = db.prepare(`
      UPDATE outbox SET run_after = @runAfter, last_error = @error, lease_owner = NULL, lease_expire_time = NULL, update_time = @now ${settled}`);
    this.#failed = db.prepare(`
      UPDATE outbox SET state = 'failed', last_error = @error, lease_owner = NULL, lease_expire_time = NULL, update_time = @now ${settled}`);
    this.#list = db.prepare(`
      SELECT ${COLUMNS} FROM outbox WHERE (@state IS NULL OR state = @state) AND seq > @afterSeq ORDER BY seq LIMIT ${LIMIT_PARAMETER}`);
    this.#retryNow = db.prepare(`
      UPDATE outbox SET state = 'pending', run_after = @now, window_start = @now, lease_owner = NULL, lease_expire_time = NULL, update_time = @now
      WHERE id = @id RETURNING id`);
    this.#delete = db.prepare("DELETE FROM outbox WHERE id = ? RETURNING id");
    // A leased event becomes claimable again when its lease runs out (its dispatcher died).
    this.#nextDue = db.prepare(`
      SELECT MIN(due) AS time FROM (
        SELECT MAX(run_after, COALESCE(lease_expire_time, 0)) AS due FROM outbox WHERE state = 'pending' AND ${OF_DESTINATIONS})
      WHERE due > @now`);
    this.#counts = db.prepare("SELECT state, COUNT(*) AS count FROM outbox GROUP BY state");
  }

  counts(): { state: "pending" | "failed"; count: number }[] {
    return this.#counts.all();
  }

  /** Inserts a finished operation's events; to be run in the transaction of its finish, after it applied. */
  insert(operationId: string, events: readonly NewEvent[], now: number): void {
    for (const e of events) this.#insert.run(this.#params(operationId, e, now));
  }

  /** Events about existing operations, in one transaction; an id already in the outbox is skipped. */
  append(events: readonly OperationEvent[], now: number): string[] {
    return this.#db.transaction(() => events.filter((e) => this.#append.run(this.#params(e.operationId, e, now)).changes === 1).map((e) => e.id))();
  }

  #params(operationId: string, e: NewEvent, now: number): EventParams {
    const leased = e.lease !== undefined;
    return {
      id: e.id, operationId, destination: e.destination, type: e.type, attributes: attributesText(e), withPayload: e.withPayload ? 1 : 0, now,
      attempt: leased ? 1 : 0, leaseOwner: e.lease?.owner ?? null, leaseExpireTime: e.lease?.expireTime ?? null,
    };
  }

  claim(claim: EventClaim): EventRecord[] {
    const { owner, destinations, limit, leaseMs, now } = claim;
    return this.#claim.all({ owner, destinations: JSON.stringify(destinations), limit, leaseExpireTime: now + leaseMs, now }).map(toEventRecord);
  }

  settle(settlements: readonly EventSettlement[], now: number): boolean[] {
    return this.#db.transaction(() =>
      settlements.map((s) => {
        const { id, attempt } = s;
        if (s.outcome === "delivered") return this.#delivered.run({ id, attempt }).changes === 1;
        if (s.outcome === "retry") return this.#retry.run({ id, attempt, runAfter: s.runAfter, error: s.error, now }).changes === 1;
        return this.#failed.run({ id, attempt, error: s.error, now }).changes === 1;
      }),
    )();
  }

  list(query: EventQuery): EventRecord[] {
    return this.#list.all({ state: query.state ?? null, afterSeq: query.afterSeq ?? 0, limit: query.limit }).map(toEventRecord);
  }

  retry(ids: readonly string[], now: number): string[] {
    return this.#db.transaction(() => ids.filter((id) => this.#retryNow.get({ id, now }) !== undefined))();
  }

  delete(ids: readonly string[]): string[] {
    return this.#db.transaction(() => ids.filter((id) => this.#delete.get(id) !== undefined))();
  }

  nextDueTime(destinations: readonly string[], now: number): number | undefined {
    return this.#nextDue.get({ destinations: JSON.stringify(destinations), now })?.time ?? undefined;
  }
}
