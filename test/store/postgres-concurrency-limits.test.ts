// Concurrency limits hold across instances: two stores (two pools, as two instances) claiming at the same
// time never run more than a method's limit, nor a key's, at once — the claims of a limited method take
// turns under an advisory lock, so each claim counts the other's committed claims (docs/scheduling.md).
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import type { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import type { ClaimLimit, NewOperation, OperationRecord } from "../../src/store/store.js";
import { twoInstances, type TestSchema, type TwoInstances } from "../support/postgres.js";

const T = 1_700_000_000_000;
const METHOD = "m.S.Limited";
const KEYS = ["k0", "k1", "k2", "k3"];
const LIMITS: ClaimLimit[] = [{ method: METHOD, limit: 6, perKey: 2 }];
let instances: TwoInstances;
let db: TestSchema;
let a: PostgresStore;
let b: PostgresStore;

before(async () => {
  instances = await twoInstances("lr_limits", { poolSize: 8 });
  ({ db, a, b } = instances);
});
after(async () => {
  await instances?.close();
});

function op(round: number, i: number): NewOperation {
  const id = `r${round}-${String(i).padStart(3, "0")}`;
  return { id, name: `operations/${id}`, parent: "", method: METHOD, requestId: undefined, request: new Uint8Array(), metadata: undefined, runAfter: T, groupKey: KEYS[i % KEYS.length] };
}

it("two instances claiming at once never pass a method's limit or a key's", { timeout: 120_000 }, async () => {
  const rounds = 30;
  for (let round = 0; round < rounds; round++) {
    const now = T + round;
    await a.create(Array.from({ length: 40 }, (_, i) => op(round, i)), now);
    // Eight claimers, four an instance, each asking for more than the limits allow.
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).claim({ owner: `w${i}`, methods: [METHOD], limit: 3 + (i % 3), leaseMs: 60_000, now, limits: LIMITS })),
    );
    const claimed: OperationRecord[] = claims.flat();
    const { rows } = await db.admin.query<{ group_key: string; n: number }>(
      `SELECT group_key, count(*)::int AS n FROM "${db.schema}".operations WHERE state = 'running' GROUP BY group_key`,
    );
    const total = rows.reduce((sum, r) => sum + r.n, 0);
    assert.equal(claimed.length, total, `round ${round}: what was claimed is what runs`);
    assert.ok(total <= 6, `round ${round}: ${total} running, the method's limit is 6`);
    for (const r of rows) assert.ok(r.n <= 2, `round ${round}: key ${r.group_key} has ${r.n} running, its limit is 2`);
    assert.ok(total >= 2, `round ${round}: claims took work (${total})`);
    // All of it finished: the next round starts with free slots, and this round's rest claimable.
    await b.finish(claimed.map((r) => ({ id: r.id, attempt: r.attempt, response: { typeUrl: "type.googleapis.com/google.protobuf.Empty", value: new Uint8Array() } })), 60_000, now);
    await db.admin.query(`DELETE FROM "${db.schema}".operations`);
  }
});
