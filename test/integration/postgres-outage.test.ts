import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Code } from "../../src/core/code.js";
import { PostgresStore } from "../../src/store/postgres/postgres-store.js";
import type { CallError } from "../support/grpc-client.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { freshSchema, type TestSchema } from "../support/postgres.js";

const ops = Operations.method;
const OPERATIONS = 150;

describe("losing the database connection", () => {
  let db: TestSchema;
  let t: TestServer;
  before(async () => {
    db = await freshSchema("lr_outage");
    t = await startTestServer({ store: await PostgresStore.open({ connectionString: db.url, schema: db.schema }), leaseMs: 3000 });
    const s = `"${db.schema}"`;
    await db.admin.query(`
      CREATE TABLE ${s}.test_finishes (id text NOT NULL);
      CREATE FUNCTION ${s}.test_watch() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.state <> 'done' AND NEW.state = 'done' THEN INSERT INTO ${s}.test_finishes VALUES (NEW.id); END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_watch AFTER UPDATE ON ${s}.operations FOR EACH ROW EXECUTE FUNCTION ${s}.test_watch();
    `);
  });
  after(async () => {
    await t?.close();
    await db.drop();
  });

  it("RPCs answer UNAVAILABLE while it is gone and recover; no operation is lost or finished twice", { timeout: 90_000 }, async (ctx) => {
    const names: string[] = [];
    for (let i = 0; i < OPERATIONS; i++) {
      names.push((await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(100 + (i % 5) * 100) })).name);
    }
    // Readers keep calling while the backends are terminated again and again.
    const codes = new Map<number, number>();
    let reading = true;
    const readers = Array.from({ length: 4 }, async (_, r) => {
      for (let i = r; reading; i += 4) {
        try {
          await t.grpc.call(ops.getOperation, { name: names[i % names.length]! });
          codes.set(Code.OK, (codes.get(Code.OK) ?? 0) + 1);
        } catch (err) {
          const code = (err as CallError).code;
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
      }
    });
    for (let round = 0; round < 5; round++) {
      await new Promise((r) => setTimeout(r, 150));
      await db.terminateBackends();
    }
    await new Promise((r) => setTimeout(r, 500));
    reading = false;
    await Promise.all(readers);
    ctx.diagnostic(`Get answers while connections were being killed: ${JSON.stringify(Object.fromEntries(codes))}`);
    assert.deepEqual([...codes.keys()].filter((c) => c !== Code.OK && c !== Code.UNAVAILABLE), [], "only OK or UNAVAILABLE");
    assert.ok((codes.get(Code.OK) ?? 0) > 0);

    // Everything still ends, each exactly once, and the server serves as before.
    for (const name of names) {
      const done = await waitDone(t, name);
      assert.equal(done.result.case, "response", `${name} succeeded`);
    }
    const finishes = await db.admin.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM "${db.schema}".test_finishes`);
    assert.deepEqual(finishes.rows[0], { n: OPERATIONS, d: OPERATIONS });
    const op = await t.grpc.call(Demo.method.sleep, { duration: durationFromMs(0) });
    assert.equal((await waitDone(t, op.name)).done, true);
  });
});

/** Waits through UNAVAILABLE answers, as a client with retries would. */
async function waitDone(t: TestServer, name: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const op = await t.grpc.call(ops.waitOperation, { name, timeout: durationFromMs(5000) });
      if (op.done) return op;
    } catch (err) {
      if (Number((err as CallError).code) !== Code.UNAVAILABLE) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (Date.now() > deadline) throw new Error(`${name} not done in time`);
  }
}
