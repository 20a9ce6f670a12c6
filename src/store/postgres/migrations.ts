import { MIGRATION_1_INDEXES } from "../shared/indexes.js";

/**
 * The schema, as numbered migrations: migration N (1-based) is `MIGRATIONS[N - 1]`, plain SQL run with
 * `search_path` set to the store's schema (so it names no schema itself). Applied migrations are recorded
 * in `<schema>.migrations`. Never edit a migration once released; append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the operations table. The columns are SqliteStore's; times are bigint milliseconds since the
  // epoch, as the Store interface speaks them. Ids and the columns compared for order or equality use
  // the "C" collation: byte order, as in SQLite, so a page cursor means the same in both stores (and
  // comparisons are cheaper than under a linguistic collation).
  `
  CREATE TABLE operations (
    id                text COLLATE "C" NOT NULL PRIMARY KEY,
    name              text    NOT NULL,
    parent            text COLLATE "C" NOT NULL,
    method            text COLLATE "C" NOT NULL,
    request_id        text COLLATE "C",
    request           bytea   NOT NULL,
    metadata_type     text,
    metadata          bytea,
    state             text    NOT NULL CHECK (state IN ('queued', 'running', 'done')),
    error_code        integer,
    error             bytea,
    response_type     text,
    response          bytea,
    cancel_requested  boolean NOT NULL DEFAULT false,
    attempt           integer NOT NULL DEFAULT 0,
    lease_owner       text,
    lease_expire_time bigint,
    run_after         bigint  NOT NULL,
    create_time       bigint  NOT NULL,
    update_time       bigint  NOT NULL,
    end_time          bigint,
    expire_time       bigint,
    -- done <=> exactly one of error / response: the store never holds a half-finished result.
    CONSTRAINT operations_result CHECK (CASE WHEN state = 'done'
                                             THEN (error IS NULL) <> (response IS NULL)
                                             ELSE error IS NULL AND response IS NULL END),
    CONSTRAINT operations_error_code CHECK ((error IS NULL) = (error_code IS NULL)),
    CONSTRAINT operations_response_type CHECK ((response IS NULL) = (response_type IS NULL)),
    CONSTRAINT operations_metadata_type CHECK ((metadata IS NULL) = (metadata_type IS NULL)),
    -- Only a running operation has a lease holder.
    CONSTRAINT operations_lease CHECK ((state = 'running') = (lease_owner IS NOT NULL))
  )
  -- Heartbeats and progress change no indexed column: room on the page lets them be HOT updates.
  WITH (fillfactor = 90);
  ${MIGRATION_1_INDEXES}`,
  // 2: filterable copies of what the serialized columns hold (AIP-160 filters on error.message and on
  // metadata fields). Adding nullable columns without a default rewrites nothing; the constraints are
  // NOT VALID so that upgrading a large table does not scan it under an exclusive lock (rows written
  // before hold NULL in both columns, which satisfies them anyway). No backfill: filters on
  // error.message and metadata.* fields do not match rows written before this migration.
  `
  ALTER TABLE operations
    ADD COLUMN error_message text COLLATE "C",
    -- The metadata as proto3 JSON by proto field names, defaults included (MetadataCodec.encode).
    ADD COLUMN metadata_json jsonb;
  ALTER TABLE operations
    ADD CONSTRAINT operations_error_message CHECK (error_message IS NULL OR error IS NOT NULL) NOT VALID,
    ADD CONSTRAINT operations_metadata_json CHECK (metadata_json IS NULL OR metadata IS NOT NULL) NOT VALID;
  `,
  // 3: the last control command (a custom method on operations such as pause/resume) requested. Nullable
  // without a default: nothing is rewritten.
  `
  ALTER TABLE operations ADD COLUMN control text COLLATE "C";
  `,
  // 4: who started the operation (the authenticated caller), NULL when the server does not authenticate;
  // rows written before keep NULL. Nullable without a default: nothing is rewritten. "C" collation, as
  // for the other identifiers: byte order and equality, the same as in SQLite.
  `
  ALTER TABLE operations ADD COLUMN principal text COLLATE "C";
  `,
  // 5: the resource the operation belongs to for authorization when its name does not say so (the one
  // its start was authorized on), NULL when the start named none; rows written before keep NULL. The
  // column rewrites nothing; its index (only rows that have one) is built in one scan of the table, which
  // holds writes back while it runs. Lists restricted to one resource walk it, in the list order, from
  // the cursor, rather than every operation of the parent.
  `
  ALTER TABLE operations ADD COLUMN resource text COLLATE "C";
  CREATE INDEX operations_resource_list ON operations (parent, resource, create_time DESC, id DESC) WHERE resource IS NOT NULL;
  `,
  // 6: the outbox of completion notifications (src/store/outbox.ts): one row per event and destination,
  // written by the finish statement itself, with a snapshot of the operation; SqliteStore's columns.
  // Claims walk outbox_due; the "earlier pending event of the same operation" test walks outbox_order.
  // A small table of short-lived rows, each inserted, claimed (updated) and deleted: room on every page
  // (fillfactor) lets a claim or a retry update in place without touching the indexes (HOT), and vacuum
  // comes after 500 dead rows rather than after a fraction of a table that is almost always nearly empty
  // (the benchmark saw 27,000 dead rows and 16 MB for 150 live ones).
  `
  CREATE TABLE outbox (
    seq               bigserial PRIMARY KEY,
    id                text COLLATE "C" NOT NULL UNIQUE,
    operation_id      text COLLATE "C" NOT NULL,
    operation_name    text    NOT NULL,
    method            text COLLATE "C" NOT NULL,
    destination       text COLLATE "C" NOT NULL,
    event_type        text    NOT NULL,
    attributes        text    NOT NULL,
    with_payload      boolean NOT NULL,
    op_state          text    NOT NULL,
    metadata_type     text,
    metadata          bytea,
    error_code        integer,
    error_message     text,
    error             bytea,
    response_type     text,
    response          bytea,
    state             text    NOT NULL CHECK (state IN ('pending', 'failed')),
    attempt           integer NOT NULL DEFAULT 0,
    run_after         bigint  NOT NULL,
    create_time       bigint  NOT NULL,
    window_start      bigint  NOT NULL,
    update_time       bigint  NOT NULL,
    lease_owner       text,
    lease_expire_time bigint,
    last_error        text
  ) WITH (fillfactor = 70, autovacuum_vacuum_threshold = 500, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_insert_threshold = 500);
  CREATE INDEX outbox_due ON outbox (destination, run_after, seq) WHERE state = 'pending';
  CREATE INDEX outbox_order ON outbox (operation_id, destination, seq) WHERE state = 'pending';
  `,
  // 7: operations finished in a window, per parent (Store.activity: the dashboard's throughput chart). Built
  // in one scan of the table, which holds writes back while it runs (as migration 5's index).
  `
  CREATE INDEX operations_end ON operations (parent, end_time) WHERE end_time IS NOT NULL;
  `,
  // 8: the W3C trace context of the start (OperationRecord.traceContext), NULL when tracing was off; rows
  // written before keep NULL. Nullable without a default: nothing is rewritten.
  `
  ALTER TABLE operations ADD COLUMN trace_context text;
  `,
  // 9: when the operation first ran and when its current attempt started (OperationRecord.startTime,
  // attemptTime), both set by the claim statement itself; NULL for rows not claimed since. Nullable
  // without a default: nothing is rewritten.
  `
  ALTER TABLE operations ADD COLUMN start_time bigint;
  ALTER TABLE operations ADD COLUMN attempt_time bigint;
  `,
  // 10: scheduling (docs/scheduling.md): the last attempt that failed and was put back to be retried, with
  // its error (OperationRecord.lastFailure), and the time by which it must be done (OperationRecord.deadline).
  // Nullable without defaults: nothing is rewritten.
  `
  ALTER TABLE operations ADD COLUMN last_error_attempt integer;
  ALTER TABLE operations ADD COLUMN last_error_code integer;
  ALTER TABLE operations ADD COLUMN last_error_message text;
  ALTER TABLE operations ADD COLUMN last_error bytea;
  ALTER TABLE operations ADD COLUMN deadline bigint;
  `,
  // 11: the operation a retry runs again (OperationRecord.retryOf, `longrun retry`), NULL for any other.
  // Nullable without a default: nothing is rewritten.
  `
  ALTER TABLE operations ADD COLUMN retry_of text;
  `,
  // 12: the instances whose leases can be ended as soon as they die (Store.expireDeadLeases,
  // docs/reliability.md). Each registers the owner its leases name with the key of a session-level advisory
  // lock it holds on its LISTEN connection; PostgreSQL drops the lock with the connection. Instances that
  // never register (older versions) keep the plain lease expiry.
  `
  CREATE TABLE instances (
    owner         text    NOT NULL PRIMARY KEY,
    lock_key      integer NOT NULL CHECK (lock_key >= 0),
    registered_at bigint  NOT NULL
  );
  `,
  // 13: priorities and fair queues (docs/scheduling.md). Claims take operations in claim_order: the time an
  // operation became due — or, for a fair-queued one, its place in its key's queue (fair_time) if later —
  // moved earlier by one second per point of priority. Higher first, none starved, and one key's backlog
  // spread over the future of the order while other keys' arrivals are placed at now. Generated, so every
  // write of run_after keeps it right; indexed in place of operations_due, whose partial predicate
  // (unfinished rows) it keeps for nextDueTime's scan. fair_queues: each key's last place given.
  `
  ALTER TABLE operations ADD COLUMN priority integer NOT NULL DEFAULT 0;
  ALTER TABLE operations ADD COLUMN fair_time bigint;
  -- Claims that took the operation up again after an attempt was interrupted (not after a failure retried).
  ALTER TABLE operations ADD COLUMN interruptions integer NOT NULL DEFAULT 0;
  ALTER TABLE operations ADD COLUMN claim_order bigint
    GENERATED ALWAYS AS (greatest(run_after, coalesce(fair_time, run_after)) - priority::bigint * 1000) STORED;
  CREATE TABLE fair_queues (
    method    text   NOT NULL,
    group_key text   NOT NULL,
    tail      bigint NOT NULL,
    PRIMARY KEY (method, group_key)
  );
  CREATE INDEX operations_claim ON operations (claim_order, create_time, id) WHERE state <> 'done';
  DROP INDEX operations_due;
  `,
  // 14: concurrency limits per method and key (docs/scheduling.md): the key an operation counts under,
  // written at start for methods with a limit per key (nullable without a default: nothing is
  // rewritten), and the running rows by (method, key), so that a limited claim counts a key's running
  // operations from a small index (only running rows are in it). Not lease_expire_time: a heartbeat writes
  // only it, and indexed it would make every heartbeat a non-HOT update of every index.
  `
  ALTER TABLE operations ADD COLUMN group_key text COLLATE "C";
  CREATE INDEX operations_running ON operations (method, group_key) WHERE state = 'running';
  `,
];
