import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { migrate } from "../../src/store/postgres/migrate.js";
import { TestGrpcClient } from "../support/grpc-client.js";
import { spawnServer, type ServerProcess } from "../support/process.js";
import { freshSchema, watchFinishes, type TestSchema } from "../support/postgres.js";

const OPERATIONS = 1000;

/**
 * Triggers that watch the operations table from inside PostgreSQL: every transition to done is recorded
 * (so a double finish would show), and any change to a row already done is recorded as a violation.
 */
async function instrument(db: TestSchema): Promise<void> {
  const s = `"${db.schema}"`;
  await db.admin.query(`
    CREATE TABLE ${s}.test_completions (name text NOT NULL, attempt int NOT NULL, at timestamptz NOT NULL DEFAULT now());
  `);
  await watchFinishes(db);
}

describe("crash recovery on PostgreSQL (kill -9 of one of two workers)", () => {
  let db: TestSchema;
  const servers: ServerProcess[] = [];
  before(async () => {
    db = await freshSchema("lr_crash");
    await migrate({ connectionString: db.url, schema: db.schema });
    await instrument(db);
  });
  after(async () => {
    for (const s of servers) s.child.kill("SIGKILL");
    await db.drop();
  });

  it(`all ${OPERATIONS} operations end done, each finished exactly once, none stuck`, { timeout: 120_000 }, async (ctx) => {
    const env = { LONGRUN_STORE: db.url, LONGRUN_SCHEMA: db.schema, LONGRUN_LEASE: "2s", LONGRUN_CONCURRENCY: "32" };
    const args = ["--methods", "test/fixtures/counting.ts"];
    const [a, b] = await Promise.all([spawnServer(args, env), spawnServer(args, env)]);
    servers.push(a!, b!);
    const clientA = new TestGrpcClient(a!.grpcAddress);
    const clientB = new TestGrpcClient(b!.grpcAddress);
    try {
      // Started through both instances; either instance's worker may run any of them.
      const names: string[] = [];
      for (let i = 0; i < OPERATIONS; i += 50) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(50, OPERATIONS - i) }, (_, j) =>
            ((i + j) % 2 ? clientA : clientB).call(Demo.method.sleep, { duration: durationFromMs(20 + ((i + j) % 10) * 20) }),
          ),
        );
        names.push(...batch.map((op) => op.name));
      }
      const count = async (sql: string) => Number((await db.admin.query(sql)).rows[0].n);
      const s = `"${db.schema}"`;
      while ((await count(`SELECT count(*) AS n FROM ${s}.test_completions`)) < OPERATIONS / 4) await sleep(20);
      const running = await count(`SELECT count(*) AS n FROM ${s}.operations WHERE state = 'running' AND lease_owner LIKE '%:${a!.child.pid}:%'`);
      a!.child.kill("SIGKILL");
      const killedAt = Date.now();
      assert.equal(await a!.exited, "SIGKILL");
      ctx.diagnostic(`killed instance A with ${running} operations running on it`);

      const deadline = Date.now() + 90_000;
      while ((await count(`SELECT count(*) AS n FROM ${s}.operations WHERE state <> 'done'`)) > 0) {
        if (Date.now() > deadline) assert.fail("operations still not done 90 s after the kill");
        await sleep(50);
      }
      ctx.diagnostic(`all done ${Date.now() - killedAt} ms after the kill (lease 2 s)`);

      assert.equal(await count(`SELECT count(*) AS n FROM ${s}.operations`), OPERATIONS);
      assert.equal(await count(`SELECT count(*) AS n FROM ${s}.test_finishes`), OPERATIONS, "one transition to done per operation");
      assert.equal(await count(`SELECT count(DISTINCT id) AS n FROM ${s}.test_finishes`), OPERATIONS);
      assert.equal(await count(`SELECT count(*) AS n FROM ${s}.test_finishes WHERE errored`), 0, "all succeeded (one crash is within 3 attempts)");
      assert.equal(await count(`SELECT count(*) AS n FROM ${s}.test_violations`), 0, "no done operation changed");
      const completions = await count(`SELECT count(*) AS n FROM ${s}.test_completions`);
      assert.ok(completions >= OPERATIONS, `every handler completed at least once (${completions})`);
      assert.equal(new Set(names).size, OPERATIONS, "every start made its own operation");
      const retried = await count(`SELECT count(*) AS n FROM ${s}.operations WHERE attempt > 1`);
      ctx.diagnostic(`${retried} operations ran again after the kill; ${completions - OPERATIONS} handler runs completed twice`);
      assert.ok(retried <= running + 32, "only what A held was retried");
      // The survivor still serves, and says so.
      const op = await clientB.call(Demo.method.sleep, { duration: durationFromMs(0) });
      assert.match(op.name, /^operations\//);
    } finally {
      clientA.close();
      clientB.close();
      b!.child.kill("SIGTERM");
      assert.equal(await b!.exited, 0);
    }
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
