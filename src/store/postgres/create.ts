import type { CreateResult, NewOperation } from "../store.js";
import type { Db } from "./db.js";
import { PackedBytes, sliceOf } from "./bytes.js";
import { notifiedCte, NOTIFIED_JOIN } from "./notify.js";
import { columns, toRecord, type OperationRow } from "./rows.js";
import { jsonArrayElement, jsonArrayParameter } from "./text.js";

type CreateRow = OperationRow & { created: boolean };

/**
 * Inserts a batch in one statement. A row whose (method, request_id) exists already, or came earlier in
 * the same batch, is skipped by ON CONFLICT; the statement returns the inserted rows and the pre-existing
 * ones their inputs collided with. Any other failure (a duplicate id) fails the statement, so nothing of
 * the batch is inserted. Results in input order.
 */
export async function create(db: Db, operations: readonly NewOperation[], now: number): Promise<CreateResult[]> {
  const o = db.options;
  // Fair-queued operations take their places in their keys' queues in the same statement (docs/scheduling.md).
  const fair = operations.some((op) => op.fair !== undefined);
  // The key of a concurrency limit per key, in the same statement (docs/scheduling.md): a parameter only when some has one.
  const keyed = operations.some((op) => op.groupKey !== undefined);
  const text = `
    WITH input AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $12::integer[],
                           $15::text[], $16::text[], $17::text[], $7::text[], $8::integer[], $13::integer[], $9::bigint[], $18::bigint[], $19::text[], $20::integer[]${keyed ? `, $${fair ? 24 : 21}::text[]` : ""}
                           ${fair ? ", $21::text[], $22::bigint[], $23::boolean[]" : ""})
        WITH ORDINALITY AS i(id, name, parent, method, request_id, request_offset, request_length,
                             principal, resource, trace_context, metadata_type, metadata_offset, metadata_length, run_after, deadline, retry_of, priority,
                             ${keyed ? "group_key," : ""} ${fair ? "fair_key, fair_quantum, limits_rate," : ""} ord)
    ),
    ${fair ? fairPlacesCtes(o.quotedSchema) : ""}
    inserted AS (
      INSERT INTO ${o.table}
        (id, name, parent, method, request_id, request, principal, resource, trace_context, metadata_type, metadata, metadata_json, state, run_after, deadline, retry_of, priority, fair_time, group_key, create_time, update_time)
      -- In input order, so the first of several inputs sharing a request_id is the one inserted.
      SELECT id, name, parent, method, request_id, ${sliceOf("$14", "request_offset", "request_length")}, principal, resource, trace_context,
             metadata_type, ${sliceOf("$14", "metadata_offset", "metadata_length")}, ${jsonArrayElement("$11", "ord")}, 'queued',
             ${fair ? "CASE WHEN input.limits_rate THEN input.fair_time ELSE input.run_after END, deadline, retry_of, priority, input.fair_time" : "run_after, deadline, retry_of, priority, NULL"}, ${keyed ? "input.group_key" : "NULL"}, $10, $10
      FROM ${fair ? "placed AS input" : "input"} ORDER BY ord
      ON CONFLICT (method, request_id) WHERE request_id IS NOT NULL DO NOTHING
      RETURNING ${columns()}
    ),
    ${notifiedCte(o, "created", "inserted")}
    SELECT true AS created, inserted.* FROM inserted ${NOTIFIED_JOIN}
    UNION ALL
    -- The statement's snapshot: rows that existed before it, not the ones it inserts.
    SELECT false, ${columns("existing")} FROM ${o.table} existing
    WHERE (existing.method, existing.request_id) IN (SELECT method, request_id FROM input WHERE request_id IS NOT NULL)`;
  const bytes = new PackedBytes();
  const request = bytes.column(operations.map((op) => op.request));
  const metadata = bytes.column(operations.map((op) => op.metadata?.value));
  const { rows } = await db.query<CreateRow>(`create${fair ? "_fair" : ""}${keyed ? "_keyed" : ""}`, text, [
    operations.map((op) => op.id),
    operations.map((op) => op.name),
    operations.map((op) => op.parent),
    operations.map((op) => op.method),
    operations.map((op) => op.requestId ?? null),
    request.offsets,
    operations.map((op) => op.metadata?.typeUrl ?? null),
    metadata.offsets,
    operations.map((op) => op.runAfter),
    now,
    jsonArrayParameter(operations.map((op) => op.metadata?.json)),
    request.lengths,
    metadata.lengths,
    bytes.blob(),
    operations.map((op) => op.principal ?? null),
    operations.map((op) => op.resource ?? null),
    operations.map((op) => op.traceContext ?? null),
    operations.map((op) => op.deadline ?? null),
    operations.map((op) => op.retryOf ?? null),
    operations.map((op) => op.priority ?? 0),
    ...(fair
      ? [operations.map((op) => op.fair?.key ?? null), operations.map((op) => op.fair?.quantumMs ?? null), operations.map((op) => op.fair?.limitsRate ?? false)]
      : []),
    ...(keyed ? [operations.map((op) => op.groupKey ?? null)] : []),
  ]);

  const inserted = new Map<string, OperationRow>();
  const byRequestId = new Map<string, OperationRow>();
  for (const row of rows) {
    if (row.created) inserted.set(row.id, row);
    if (row.request_id !== null) byRequestId.set(requestKey(row.method, row.request_id), row);
  }
  const firstInput = new Map<string, number>();
  operations.forEach((op, i) => firstInput.has(op.id) || firstInput.set(op.id, i));

  const results: (CreateResult | undefined)[] = operations.map((op, i) => {
    const row = inserted.get(op.id);
    if (row !== undefined && firstInput.get(op.id) === i) return { record: toRecord(row), created: true };
    const existing = op.requestId === undefined ? undefined : byRequestId.get(requestKey(op.method, op.requestId));
    return existing === undefined ? undefined : { record: toRecord(existing), created: false };
  });
  if (results.some((r) => r === undefined)) await resolveConcurrent(db, operations, results);
  return results as CreateResult[];
}

/**
 * An input skipped for a row that another transaction committed while this statement ran: the statement's
 * snapshot could not see that row, a new statement can.
 */
async function resolveConcurrent(db: Db, operations: readonly NewOperation[], results: (CreateResult | undefined)[]): Promise<void> {
  const missing = operations.filter((_, i) => results[i] === undefined);
  const { rows } = await db.query<OperationRow>(
    "create_existing",
    `SELECT ${columns()} FROM ${db.options.table}
     WHERE (method, request_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [missing.map((op) => op.method), missing.map((op) => op.requestId ?? null)],
  );
  const byRequestId = new Map(rows.map((row) => [requestKey(row.method, row.request_id ?? ""), row]));
  operations.forEach((op, i) => {
    if (results[i] !== undefined) return;
    const row = op.requestId === undefined ? undefined : byRequestId.get(requestKey(op.method, op.requestId));
    if (row === undefined) throw new Error(`operation ${op.id} was neither inserted nor found`);
    results[i] = { record: toRecord(row), created: false };
  });
}

function requestKey(method: string, requestId: string): string {
  return `${method}\u0000${requestId}`;
}

/**
 * The CTEs placing a batch's fair-queued inputs (`placed`: every input with its fair_time, NULL for those
 * without a key; the insert reads it rather than joining it to `input`, a CTE-to-CTE join PostgreSQL nests,
 * n² for n starts, see lock-order.ts) and moving their keys' tails:
 * the k-th input of a key goes a quantum after the key's last place, k − 1 quanta on, or when it is due if
 * later. The keys' rows are locked, so instances starting operations of one key queue them one after the
 * other; two first starts of a new key may share places (harmless: the order is only a fairness hint).
 */
function fairPlacesCtes(schema: string): string {
  return `tails AS (
      SELECT q.method, q.group_key, q.tail FROM ${schema}.fair_queues q
      WHERE (q.method, q.group_key) IN (SELECT method, fair_key FROM input WHERE fair_key IS NOT NULL)
      FOR UPDATE
    ),
    placed AS (
      SELECT i.*,
             CASE WHEN i.fair_key IS NOT NULL THEN
               greatest(i.run_after, coalesce(t.tail + i.fair_quantum, i.run_after)
                                     + (row_number() OVER (PARTITION BY i.method, i.fair_key ORDER BY i.ord) - 1) * i.fair_quantum)
             END AS fair_time
      FROM input i LEFT JOIN tails t ON t.method = i.method AND t.group_key = i.fair_key
    ),
    moved AS (
      INSERT INTO ${schema}.fair_queues (method, group_key, tail)
      SELECT method, fair_key, max(fair_time) FROM placed WHERE fair_key IS NOT NULL GROUP BY method, fair_key
      ON CONFLICT (method, group_key) DO UPDATE SET tail = greatest(fair_queues.tail, excluded.tail)
    ),`;
}
