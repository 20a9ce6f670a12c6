import type { Database } from "better-sqlite3";
import { MIGRATION_1_INDEXES } from "../shared/indexes.js";

/**
 * The schema, as an ordered list of migrations: migration N (1-based) is `MIGRATIONS[N - 1]`. Applied
 * migrations are recorded in `schema_migrations`, so a database is brought forward by running only the
 * ones it lacks. Never edit a migration once released; append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the operations table.
  `
  CREATE TABLE operations (
    id                TEXT    NOT NULL PRIMARY KEY,
    name              TEXT    NOT NULL,
    parent            TEXT    NOT NULL,
    method            TEXT    NOT NULL,
    request_id        TEXT,
    request           BLOB    NOT NULL,
    metadata_type     TEXT,
    metadata          BLOB,
    state             TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done')),
    error_code        INTEGER,
    error             BLOB,
    response_type     TEXT,
    response          BLOB,
    cancel_requested  INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
    attempt           INTEGER NOT NULL DEFAULT 0,
    lease_owner       TEXT,
    lease_expire_time INTEGER,
    run_after         INTEGER NOT NULL,
    create_time       INTEGER NOT NULL,
    update_time       INTEGER NOT NULL,
    end_time          INTEGER,
    expire_time       INTEGER,
    -- done <=> exactly one of error / response: the store never holds a half-finished result.
    CHECK (CASE WHEN state = 'done'
                THEN (error IS NULL) <> (response IS NULL)
                ELSE error IS NULL AND response IS NULL END),
    CHECK ((error IS NULL) = (error_code IS NULL)),
    CHECK ((response IS NULL) = (response_type IS NULL)),
    CHECK ((metadata IS NULL) = (metadata_type IS NULL)),
    -- Only a running operation has a lease holder.
    CHECK ((state = 'running') = (lease_owner IS NOT NULL))
  ) STRICT;
  ${MIGRATION_1_INDEXES}`,
  // 2: filterable copies of what the serialized columns hold (AIP-160 filters on error.message and on
  // metadata fields). Rows written before this migration keep NULL in both: filters on error.message and
  // metadata.* fields do not match them (no backfill: it would mean decoding protobuf in SQL).
  `
  ALTER TABLE operations ADD COLUMN error_message TEXT
    CHECK (error_message IS NULL OR error IS NOT NULL);
  -- The metadata as proto3 JSON by proto field names, defaults included (MetadataCodec.encode).
  ALTER TABLE operations ADD COLUMN metadata_json TEXT
    CHECK (metadata_json IS NULL OR (metadata IS NOT NULL AND json_valid(metadata_json)));
  `,
  // 3: the last control command (a custom method on operations such as pause/resume) requested.
  `
  ALTER TABLE operations ADD COLUMN control TEXT;
  `,
  // 4: who started the operation (the authenticated caller), NULL when the server does not authenticate.
  // Rows written before keep NULL: who started them was never known.
  `
  ALTER TABLE operations ADD COLUMN principal TEXT;
  `,
  // 5: the resource the operation belongs to for authorization when its name does not say so (the one
  // its start was authorized on), NULL when the start named none; rows written before keep NULL. Lists
  // restricted to one resource walk their own index, in the list order, from the cursor.
  `
  ALTER TABLE operations ADD COLUMN resource TEXT;
  CREATE INDEX operations_resource_list ON operations (parent, resource, create_time DESC, id DESC) WHERE resource IS NOT NULL;
  `,
  // 6: the outbox of completion notifications (src/store/outbox.ts): one row per event and destination,
  // written in the finish's transaction, with a snapshot of the operation. seq is AUTOINCREMENT so it only
  // grows (delivered rows are deleted; a reused seq would put a new event before older ones). Claims walk
  // outbox_due; the "earlier pending event of the same operation" test walks outbox_order.
  `
  CREATE TABLE outbox (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    id                TEXT    NOT NULL UNIQUE,
    operation_id      TEXT    NOT NULL,
    operation_name    TEXT    NOT NULL,
    method            TEXT    NOT NULL,
    destination       TEXT    NOT NULL,
    event_type        TEXT    NOT NULL,
    attributes        TEXT    NOT NULL,
    with_payload      INTEGER NOT NULL,
    op_state          TEXT    NOT NULL,
    metadata_type     TEXT,
    metadata          BLOB,
    error_code        INTEGER,
    error_message     TEXT,
    error             BLOB,
    response_type     TEXT,
    response          BLOB,
    state             TEXT    NOT NULL CHECK (state IN ('pending', 'failed')),
    attempt           INTEGER NOT NULL DEFAULT 0,
    run_after         INTEGER NOT NULL,
    create_time       INTEGER NOT NULL,
    window_start      INTEGER NOT NULL,
    update_time       INTEGER NOT NULL,
    lease_owner       TEXT,
    lease_expire_time INTEGER,
    last_error        TEXT
  );
  CREATE INDEX outbox_due ON outbox (destination, run_after, seq) WHERE state = 'pending';
  CREATE INDEX outbox_order ON outbox (operation_id, destination, seq) WHERE state = 'pending';
  `,
  // 7: operations finished in a window, per parent (Store.activity: the dashboard's throughput chart).
  `
  CREATE INDEX operations_end ON operations (parent, end_time) WHERE end_time IS NOT NULL;
  `,
  // 8: the W3C trace context of the start (OperationRecord.traceContext), NULL when tracing was off.
  `
  ALTER TABLE operations ADD COLUMN trace_context TEXT;
  `,
  // 9: when the operation first ran and when its current attempt started (OperationRecord.startTime,
  // attemptTime), set by the claim statement itself; NULL for rows not claimed since.
  `
  ALTER TABLE operations ADD COLUMN start_time INTEGER;
  ALTER TABLE operations ADD COLUMN attempt_time INTEGER;
  `,
  // 10: the last failed attempt's error while waiting to retry, and the deadline (docs/scheduling.md).
  `
  ALTER TABLE operations ADD COLUMN last_error_attempt INTEGER;
  ALTER TABLE operations ADD COLUMN last_error_code INTEGER;
  ALTER TABLE operations ADD COLUMN last_error_message TEXT;
  ALTER TABLE operations ADD COLUMN last_error BLOB;
  ALTER TABLE operations ADD COLUMN deadline INTEGER;
  `,
  // 11: the operation a retry runs again (OperationRecord.retryOf, `longrun retry`), NULL for any other.
  `
  ALTER TABLE operations ADD COLUMN retry_of TEXT;
  `,
  // 12: nothing. PostgreSQL's migration 12 registers instances so a dead one's leases end early; one process
  // owns a SQLite file and expires every lease when it opens it (open.ts). Kept so both stores count alike.
  `
  SELECT 1;
  `,
  // 13: priorities and fair queues: claims in claim_order, the due time (or the fair-queue place, if later)
  // moved one second earlier per point of priority (docs/scheduling.md); a generated column (VIRTUAL: SQLite
  // adds only those to a table), indexed in place of operations_due. fair_queues: each key's last place.
  `
  ALTER TABLE operations ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE operations ADD COLUMN fair_time INTEGER;
  ALTER TABLE operations ADD COLUMN interruptions INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE operations ADD COLUMN claim_order INTEGER
    GENERATED ALWAYS AS (max(run_after, coalesce(fair_time, run_after)) - priority * 1000) VIRTUAL;
  CREATE TABLE fair_queues (
    method    TEXT    NOT NULL,
    group_key TEXT    NOT NULL,
    tail      INTEGER NOT NULL,
    PRIMARY KEY (method, group_key)
  ) STRICT;
  CREATE INDEX operations_claim ON operations (claim_order, create_time, id) WHERE state <> 'done';
  DROP INDEX operations_due;
  `,
  // 14: concurrency limits per method and key (docs/scheduling.md): the key an operation counts under,
  // written at start for methods with a limit per key (NULL for others: nothing rewritten), and the
  // running rows by (method, key), so that a limited claim counts a key's running operations from the index.
  `
  ALTER TABLE operations ADD COLUMN group_key TEXT;
  CREATE INDEX operations_running ON operations (method, group_key) WHERE state = 'running';
  `,
];

/**
 * Brings the schema up to date in one transaction. Refuses a database written by a newer version, whose
 * schema this code could only misread.
 */
export function migrate(db: Database, now: number, migrations: readonly string[] = MIGRATIONS): void {
  db.transaction(() => {
    db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT",
    );
    const row = db.prepare<[], { version: number | null }>("SELECT MAX(version) AS version FROM schema_migrations").get();
    const current = row?.version ?? 0;
    if (current > migrations.length) {
      throw new Error(
        `the database schema is at version ${current}, newer than this version of longrun supports ` +
          `(${migrations.length}); upgrade longrun to open it`,
      );
    }
    const record = db.prepare<[number, number]>("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
    for (let version = current + 1; version <= migrations.length; version++) {
      db.exec(migrations[version - 1]!);
      record.run(version, now);
    }
  }).immediate();
}
