// Crash recovery in seconds (docs/reliability.md, "Dead instances"): of two `longrun serve` processes on one
// PostgreSQL schema, at the default 30 s lease, one is killed (SIGKILL) while running long operations; the
// survivor sees its session lock gone and runs them again within about a second plus the claim's backoff,
// not after the lease. None is finished twice, and the survivor's own runs are left alone.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { migrate } from "../../src/store/postgres/migrate.js";
import { TestGrpcClient } from "../support/grpc-client.js";
import { spawnServer, type ServerProcess } from "../support/process.js";
import { freshSchema, watchFinishes, type TestSchema } from "../support/postgres.js";

const EACH = 12;
const SLEEP_MS = 15_000;

describe("crash recovery on PostgreSQL in seconds (kill -9 of one of two instances, default lease)", () => {
  let db: TestSchema;
  const servers: ServerProcess[] = [];
  before(async () => {
    db = await freshSchema("lr_fastrec");
    await migrate({ connectionString: db.url, schema: db.schema });
    await db.admin.query(`CREATE TABLE "${db.schema}".test_completions (name text NOT NULL, attempt int NOT NULL, at timestamptz NOT NULL DEFAULT now())`);
    await watchFinishes(db);
  });
  after(async () => {
    for (const s of servers) s.child.kill("SIGKILL");
    await db.drop();
  });

  it("the killed instance's operations run again on the survivor within seconds, none finished twice", { timeout: 120_000 }, async (ctx) => {
    const s = `"${db.schema}"`;
    const count = async (sql: string) => Number((await db.admin.query(sql)).rows[0].n);
    const args = ["--methods", "test/fixtures/counting.ts"];
    const env = { LONGRUN_STORE: db.url, LONGRUN_SCHEMA: db.schema };
    // A first, with room for exactly its share; then B, with room for both shares, takes the rest.
    const a = await spawnServer(args, { ...env, LONGRUN_CONCURRENCY: String(EACH) });
    servers.push(a);
    const clientA = new TestGrpcClient(a.grpcAddress);
    let clientB: TestGrpcClient | undefined;
    try {
      const start = (client: TestGrpcClient) =>
        Promise.all(Array.from({ length: EACH }, () => client.call(Demo.method.sleep, { duration: durationFromMs(SLEEP_MS) })));
      const ofA = (await start(clientA)).map((op) => op.name);
      const runningOn = (pid: number) =>
        count(`SELECT count(*) AS n FROM ${s}.operations WHERE state = 'running' AND lease_owner LIKE '%:${pid}:%'`);
      await until(async () => (await runningOn(a.child.pid!)) === EACH, "A runs its share");
      const b = await spawnServer(args, { ...env, LONGRUN_CONCURRENCY: String(2 * EACH) });
      servers.push(b);
      clientB = new TestGrpcClient(b.grpcAddress);
      const ofB = (await start(clientB)).map((op) => op.name);
      await until(async () => (await runningOn(b.child.pid!)) === EACH, "B runs its share");
      // Past the claim's backoff of a first attempt (1 s), as a long run would be.
      await sleep(1200);

      a.child.kill("SIGKILL");
      const killedAt = Date.now();
      assert.equal(await a.exited, "SIGKILL");
      const names = ofA.map((n) => `'${n.replace(/^operations\//, "")}'`).join(",");
      await until(
        async () =>
          (await count(
            `SELECT count(*) AS n FROM ${s}.operations WHERE id IN (${names}) AND state = 'running' AND attempt = 2 AND lease_owner LIKE '%:${b.child.pid}:%'`,
          )) === EACH,
        "A's operations running again on B",
        60_000,
      );
      const recoveredMs = Date.now() - killedAt;
      ctx.diagnostic(`all ${EACH} operations of the killed instance running again on the survivor ${recoveredMs} ms after the kill (lease 30 s; goal < 3 s)`);
      assert.ok(recoveredMs < 10_000, `recovered in ${recoveredMs} ms, not waiting out the 30 s lease`);

      await until(async () => (await count(`SELECT count(*) AS n FROM ${s}.operations WHERE state <> 'done'`)) === 0, "all done", 60_000);
      assert.equal(await count(`SELECT count(*) AS n FROM ${s}.test_finishes`), 2 * EACH, "one transition to done per operation");
      assert.equal(await count(`SELECT count(DISTINCT id) AS n FROM ${s}.test_finishes`), 2 * EACH);
      assert.equal(await count(`SELECT count(*) AS n FROM ${s}.test_finishes WHERE errored`), 0);
      assert.equal(await count(`SELECT count(*) AS n FROM ${s}.test_violations`), 0, "no done operation changed");
      assert.equal(await count(`SELECT count(*) AS n FROM ${s}.test_completions`), 2 * EACH, "each handler completed once: A's runs died with it");
      const bNames = ofB.map((n) => `'${n.replace(/^operations\//, "")}'`).join(",");
      assert.equal(await count(`SELECT count(*) AS n FROM ${s}.operations WHERE id IN (${bNames}) AND attempt = 1`), EACH, "the survivor's own runs left alone");
    } finally {
      clientA.close();
      clientB?.close();
      const b = servers[1];
      if (b) {
        b.child.kill("SIGTERM");
        assert.equal(await b.exited, 0);
      }
    }
  });
});

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
