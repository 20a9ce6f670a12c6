/**
 * The indexes of migration 1, one text for both stores: they serve the queries both stores share — the
 * keyset list walk, claims in (run_after, create_time, id) order (applied.ts orders what they return),
 * purge — and SQLite and PostgreSQL write them alike. Part of a released migration: never edit; a change
 * of indexes is a new migration in each store.
 */
export const MIGRATION_1_INDEXES = `
  -- AIP-155 idempotency: one operation per (method, request_id).
  CREATE UNIQUE INDEX operations_request_id ON operations (method, request_id) WHERE request_id IS NOT NULL;

  -- ListOperations: keyset pages in newest-first order within a parent.
  CREATE INDEX operations_list ON operations (parent, create_time DESC, id DESC);

  -- claim / nextDueTime only look at unfinished rows, a small share of the table.
  CREATE INDEX operations_due ON operations (run_after, create_time, id) WHERE state <> 'done';

  -- purgeExpired.
  CREATE INDEX operations_expire ON operations (expire_time) WHERE expire_time IS NOT NULL;
  `;
