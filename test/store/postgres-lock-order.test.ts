// Batch writes of running operations — heartbeat, progress, finish — take their row locks in id order, so
// two of them over the same operations in opposite orders wait for each other rather than deadlock (as an
// instance's queued heartbeats and progress writes did when released together after an outage).
import { after, before, it } from "node:test";
import assert from "node:assert/strict";
import type { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import type { OperationRecord } from "../../src/store/store.js";
import { twoInstances, type TestSchema, type TwoInstances } from "../support/postgres.js";

const T = 1_700_000_000_000;
const N = 200;
let instances: TwoInstances;
let db: TestSchema;
let a: PostgresStore;
let b: PostgresStore;

before(async () => {
  instances = await twoInstances("lr_lockorder", { poolSize: 8 });
  ({ db, a, b } = instances);
});
after(async () => {
  await instances?.close();
});

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

it("heartbeats and progress writes of overlapping batches in opposite orders never deadlock", { timeout: 60_000 }, async () => {
  const ops = Array.from({ length: N }, (_, i) => ({ id: `op-${String(i).padStart(4, "0")}`, name: `operations/op-${i}`, parent: "", method: "m.S.M", requestId: undefined, request: new Uint8Array(), metadata: undefined, runAfter: T }));
  await a.create(ops, T);
  const claimed: OperationRecord[] = await a.claim({ owner: "w", methods: ["m.S.M"], limit: N, leaseMs: 60_000, now: T });
  assert.equal(claimed.length, N);
  const leases = claimed.map((r) => ({ id: r.id, attempt: r.attempt }));
  const metadata = { typeUrl: "type.googleapis.com/google.protobuf.Empty", value: new Uint8Array([1]) };
  const failures: string[] = [];
  const rounds = 40;
  await Promise.all(
    Array.from({ length: rounds }, async (_, round) => {
      const forward = shuffled(leases, round + 1);
      const backward = [...forward].reverse();
      const results = await Promise.allSettled([
        a.heartbeat("w", forward, 60_000, T + round),
        b.progress(backward.map((l) => ({ ...l, metadata })), T + round),
        a.progress(shuffled(leases, 1000 + round).map((l) => ({ ...l, metadata })), T + round),
      ]);
      for (const r of results) if (r.status === "rejected") failures.push(String((r.reason as Error).message ?? r.reason));
    }),
  );
  assert.deepEqual(failures, [], "no write failed (a deadlock would surface as STORE_UNAVAILABLE)");
  // And the finishes of all of them, in another order, against a last heartbeat.
  const [hb, fin] = await Promise.allSettled([
    a.heartbeat("w", shuffled(leases, 7), 60_000, T + 100),
    b.finish(shuffled(leases, 8).map((l) => ({ ...l, response: metadata })), 60_000, T + 100),
  ]);
  assert.equal(hb.status, "fulfilled");
  assert.equal(fin.status, "fulfilled");
  assert.ok((fin as PromiseFulfilledResult<boolean[]>).value.every(Boolean));
});
