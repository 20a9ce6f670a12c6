/**
 * What both stores' limited claims write alike (their candidates and running counts differ by dialect):
 * of the operations walked (a CTE `candidates`, joined to `limits` (method, per_key, method_limit) and to
 * the running counts `live` (method, group_key, n) and `method_live` (method, n)), the ids that fit in each
 * key's free slots, then in each method's, in claim order.
 */
export const WITHIN_LIMITS_CTE = `within_keys AS (
  SELECT c.*, l.per_key - coalesce(r.n, 0) AS key_free, l.method_limit - coalesce(m.n, 0) AS method_free,
         row_number() OVER (PARTITION BY c.method, c.group_key ORDER BY c.claim_order, c.create_time, c.id) AS in_key
  FROM candidates c LEFT JOIN limits l ON l.method = c.method
    LEFT JOIN live r ON r.method = c.method AND r.group_key = c.group_key
    LEFT JOIN method_live m ON m.method = c.method
)`;

/** The ids `WITHIN_LIMITS_CTE` keeps: a SELECT that reads it. */
export const WITHIN_LIMITS_IDS = `SELECT id FROM (
  SELECT k.*, row_number() OVER (PARTITION BY k.method ORDER BY k.claim_order, k.create_time, k.id) AS in_method
  FROM within_keys k WHERE k.key_free IS NULL OR k.group_key IS NULL OR k.in_key <= k.key_free
) AS kept
WHERE kept.method_free IS NULL OR kept.in_method <= kept.method_free`;
