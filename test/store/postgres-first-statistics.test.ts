// A never-analysed operations table gets its first planner statistics once an instance has started
// FIRST_STATISTICS_AFTER_ROWS operations (without them, every claim batch sorted the whole table), and
// claims then walk the claim index. Real PostgreSQL, a schema of its own.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import { FIRST_STATISTICS_AFTER_ROWS } from "../../src/store/postgres/first-statistics.js";
import type { NewOperation } from "../../src/store/store.js";
import { freshSchema, type TestSchema } from "../support/postgres.js";

const METHOD = "t.S.M";

function ops(prefix: string, count: number, now: number): NewOperation[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i}`, name: `operations/${prefix}${i}`, parent: "", method: METHOD, requestId: undefined,
    request: new Uint8Array(), metadata: undefined, runAfter: now,
  }));
}

describe("PostgresStore: a new operations table's first statistics", () => {
  let db: TestSchema;
  let store: PostgresStore;
  before(async () => {
    db = await freshSchema("lr_stats");
    store = await PostgresStore.open({ connectionString: db.url, schema: db.schema, log: () => {} });
  });
  after(async () => {
    await store.close();
    await db.drop();
  });

  // By an ANALYZE statement (last_analyze), not by autovacuum (last_autoanalyze), which may come any time.
  const analysed = async () => {
    const { rows } = await db.admin.query<{ analysed: boolean }>(
      `SELECT last_analyze IS NOT NULL AS analysed FROM pg_stat_user_tables WHERE relid = $1::regclass`,
      [`"${db.schema}".operations`],
    );
    return rows[0]?.analysed === true;
  };
  const claimPlan = async () => {
    const { rows } = await db.admin.query<{ "QUERY PLAN": string }>(
      `EXPLAIN SELECT id FROM "${db.schema}".operations
       WHERE state <> 'done' AND method = ANY($1::text[]) AND run_after <= $2 AND (state = 'queued' OR lease_expire_time <= $2)
       ORDER BY claim_order, create_time, id LIMIT 64`,
      [[METHOD], Date.now()],
    );
    return rows.map((r) => r["QUERY PLAN"]).join("\n");
  };

  it("is analysed after the threshold's worth of starts, not before, and claims then use the claim index", async () => {
    const now = Date.now();
    await store.create(ops("a", FIRST_STATISTICS_AFTER_ROWS - 1, now), now);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await analysed(), false, "analysed before the threshold");
    await store.create(ops("b", 20_000 - FIRST_STATISTICS_AFTER_ROWS, now), now);
    const deadline = Date.now() + 10_000;
    while (!(await analysed())) {
      assert.ok(Date.now() < deadline, "the table was not analysed within 10 s of crossing the threshold");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.match(await claimPlan(), /Index Scan using operations_claim/);
  });
});
