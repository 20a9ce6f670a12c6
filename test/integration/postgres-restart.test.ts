import { describe, it, before, after, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import pg from "pg";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Code } from "../../src/core/code.js";
import { Reason } from "../../src/core/errors.js";
import { migrate } from "../../src/store/postgres/migrate.js";
import { TestGrpcClient, type CallError } from "../support/grpc-client.js";
import { spawnServer, type ServerProcess } from "../support/process.js";
import { watchFinishes } from "../support/postgres.js";
import { privatePostgresUnsupported, startPrivatePostgres, type PrivatePostgres } from "../support/private-postgres.js";

/**
 * PostgreSQL itself goes down under load — `pg_ctl restart -m fast`, `-m immediate` (a crash: WAL recovery
 * at start), a stop longer than the lease — on a private cluster of this file's own (the machine's shared
 * server is left alone: other test files use it meanwhile). Two `longrun serve` instances run a few hundred
 * operations through it while clients start, get, list and wait. Nothing may be lost or finished twice,
 * every client error must be a proper UNAVAILABLE, and both instances must serve again by themselves.
 */

const ops = Operations.method;
/** Operations per scenario: most started before the outage, the rest during it (retried with their request_id). */
const BEFORE = 200;
const DURING = 100;
const OPERATIONS = BEFORE + DURING;
const SCHEMA = "lr_restart";
const LEASE = "2s";
/** No call should take this long even while PostgreSQL is down: it would be a hang, not an answer. */
const CALL_DEADLINE_MS = 15_000;

/** What clients saw around one outage. */
interface Seen {
  /** Answers by call kind and gRPC code name, e.g. { get: { OK: 812, UNAVAILABLE: 40 } }. */
  codes: Record<string, Record<string, number>>;
  /** Messages of errors other than UNAVAILABLE, for the failure message. */
  odd: string[];
  firstErrorAt: number | undefined;
  lastErrorAt: number | undefined;
  /** OK answers after the outage ended (the service recovered by itself). */
  okAfter: number;
}

describe("PostgreSQL restarted under load (a private cluster)", { skip: privatePostgresUnsupported() }, () => {
  let cluster: PrivatePostgres | undefined;
  let admin: pg.Pool;
  const servers: ServerProcess[] = [];
  const clients: TestGrpcClient[] = [];
  /** Every operation the test made, to check the table holds these and no more. */
  let created = 0;

  before(async () => {
    cluster = await startPrivatePostgres();
    // A pool, not a client: its connections die with every restart, and a pool replaces them.
    admin = new pg.Pool({ connectionString: cluster.url, max: 2 });
    admin.on("error", () => undefined);
    await migrate({ connectionString: cluster.url, schema: SCHEMA });
    await watchFinishes({ schema: SCHEMA, admin });
    const env = { LONGRUN_STORE: cluster.url, LONGRUN_SCHEMA: SCHEMA, LONGRUN_LEASE: LEASE, LONGRUN_CONCURRENCY: "128" };
    servers.push(...(await Promise.all([spawnServer(["--demo"], env), spawnServer(["--demo"], env)])));
    clients.push(...servers.map((s) => new TestGrpcClient(s.grpcAddress)));
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const s of servers) s.child.kill("SIGKILL");
    await admin?.end().catch(() => undefined);
    await cluster?.destroy();
  });

  it("pg_ctl restart -m fast: nothing lost or finished twice, only UNAVAILABLE, both instances recover", { timeout: 60_000 }, async (ctx) => {
    await underLoad(ctx, "fast", () => cluster!.restart("fast"));
  });

  it("pg_ctl restart -m immediate (crash, WAL recovery): nothing lost or finished twice, only UNAVAILABLE, both recover", { timeout: 60_000 }, async (ctx) => {
    await underLoad(ctx, "immediate", () => cluster!.restart("immediate"));
  });

  it(`stopped for 5 s (longer than the ${LEASE} lease), then started: UNAVAILABLE meanwhile, then served again; none finished twice`, { timeout: 60_000 }, async (ctx) => {
    const seen = await underLoad(ctx, "stopped", async () => {
      await cluster!.stop("fast");
      await sleep(5000);
      await cluster!.start();
    });
    const unavailable = Object.values(seen.codes).reduce((n, byCode) => n + (byCode.UNAVAILABLE ?? 0), 0);
    assert.ok(unavailable > 0, "calls made while PostgreSQL was stopped were answered UNAVAILABLE");
  });

  /**
   * One scenario: BEFORE operations started, the outage once a few of them have finished, DURING more
   * started while it lasts, readers calling Get/List/Wait on both instances throughout; then every
   * operation must end done, each finished exactly once, no done row changed, and every error UNAVAILABLE.
   */
  async function underLoad(ctx: TestContext, label: string, outage: () => Promise<void>): Promise<Seen> {
    const seen: Seen = { codes: {}, odd: [], firstErrorAt: undefined, lastErrorAt: undefined, okAfter: 0 };
    let outageOver = false;
    const record = (kind: string, err: unknown) => {
      const code = err === undefined ? Code.OK : Number((err as CallError).code);
      const codeName = Code[code] ?? String(code);
      const byCode = (seen.codes[kind] ??= {});
      byCode[codeName] = (byCode[codeName] ?? 0) + 1;
      if (code === Code.OK) {
        if (outageOver) seen.okAfter++;
        return;
      }
      seen.firstErrorAt ??= Date.now();
      seen.lastErrorAt = Date.now();
      // UNAVAILABLE from the service, with its google.rpc.Status; one without (the channel to the instance
      // failing) would mean the instance itself went away.
      const reason = (err as CallError).errorInfo?.reason;
      if (code !== Code.UNAVAILABLE || reason !== Reason.STORE_UNAVAILABLE) seen.odd.push(`${kind}: ${codeName} (${reason ?? "no ErrorInfo"}): ${(err as Error).message}`);
    };
    const names: string[] = [];
    /** Starts operation i of this scenario, re-sending the same request_id through UNAVAILABLE answers (as a client with retries would). */
    const start = async (i: number): Promise<void> => {
      const request = { duration: durationFromMs(300 + (i % 20) * 150), requestId: `${label}-${i}` };
      for (let tries = 0; ; tries++) {
        try {
          const op = await clients[i % 2]!.call(Demo.method.sleep, request, { deadlineMs: CALL_DEADLINE_MS });
          record("start", undefined);
          names.push(op.name);
          return;
        } catch (err) {
          record("start", err);
          if (Number((err as CallError).code) !== Code.UNAVAILABLE || tries > 200) throw err;
          await sleep(100);
        }
      }
    };

    for (let i = 0; i < BEFORE; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => start(i + j)));
    const finished = () => countOf(`SELECT count(*) AS n FROM "${SCHEMA}".test_finishes f JOIN "${SCHEMA}".operations o USING (id) WHERE o.request_id LIKE $1`, [`${label}-%`]);
    while ((await finished()) < 20) await sleep(20);
    const running = await countOf(`SELECT count(*) AS n FROM "${SCHEMA}".operations WHERE state = 'running'`);

    // Readers on both instances, and the rest of the starts, while PostgreSQL goes down and comes back.
    let reading = true;
    const readers = Array.from({ length: 6 }, async (_, r) => {
      const client = clients[r % 2]!;
      for (let i = r; reading; i++) {
        const name = names[(i * 7) % names.length]!;
        const kind = ["get", "list", "wait"][i % 3]!;
        try {
          if (kind === "get") await client.call(ops.getOperation, { name }, { deadlineMs: CALL_DEADLINE_MS });
          else if (kind === "list") await client.call(ops.listOperations, { name: "operations", pageSize: 50 }, { deadlineMs: CALL_DEADLINE_MS });
          else await client.call(ops.waitOperation, { name, timeout: durationFromMs(500) }, { deadlineMs: CALL_DEADLINE_MS });
          record(kind, undefined);
        } catch (err) {
          record(kind, err);
          await sleep(50); // as a client backing off; and no busy loop on a 2-core machine
        }
      }
    });
    const starters = (async () => {
      for (let i = BEFORE; i < OPERATIONS; i += 5) {
        await Promise.all(Array.from({ length: 5 }, (_, j) => start(i + j)));
        await sleep(50);
      }
    })();
    await sleep(200);
    const down = Date.now();
    await outage();
    const outageMs = Date.now() - down;
    outageOver = true;
    await starters;
    // Readers go on until both instances have answered a while after the outage.
    const readUntil = Date.now() + 1500;
    const recoverBy = Date.now() + 30_000;
    while ((Date.now() < readUntil || seen.okAfter < 50) && Date.now() < recoverBy) await sleep(50);
    reading = false;
    await Promise.all(readers);
    assert.ok(seen.okAfter >= 50, `clients are answered again after the outage (${seen.okAfter} OK answers in 30 s)`);
    const errorWindow = seen.firstErrorAt === undefined ? 0 : seen.lastErrorAt! - seen.firstErrorAt;
    ctx.diagnostic(
      `${label}: ${running} operations running when PostgreSQL went down; the outage command took ${outageMs} ms; ` +
        `clients saw errors for ${errorWindow} ms; answers: ${JSON.stringify(seen.codes)}`,
    );
    assert.deepEqual(seen.odd, [], "every error a client saw was UNAVAILABLE (STORE_UNAVAILABLE)");

    // Every operation ends done, by itself.
    const deadline = Date.now() + 40_000;
    for (;;) {
      const left = await countOf(`SELECT count(*) AS n FROM "${SCHEMA}".operations WHERE request_id LIKE $1 AND state <> 'done'`, [`${label}-%`]);
      if (left === 0) break;
      if (Date.now() > deadline) assert.fail(`${left} operations of "${label}" still not done 40 s after the outage`);
      await sleep(100);
    }
    created += OPERATIONS;
    const s = `"${SCHEMA}"`;
    assert.equal(new Set(names).size, OPERATIONS, "every start made its own operation (a re-sent request_id returned the same one)");
    assert.equal(await countOf(`SELECT count(*) AS n FROM ${s}.operations`), created, "no operation lost, none created twice");
    const finishes = await admin.query(
      `SELECT count(*)::int AS n, count(DISTINCT id)::int AS d, count(*) FILTER (WHERE errored)::int AS errored, max(f.attempt)::int AS max_attempt
       FROM ${s}.test_finishes f JOIN ${s}.operations o USING (id) WHERE o.request_id LIKE $1`,
      [`${label}-%`],
    );
    const { n, d, errored, max_attempt } = finishes.rows[0] as { n: number; d: number; errored: number; max_attempt: number };
    assert.equal(n, OPERATIONS, "one transition to done per operation");
    assert.equal(d, OPERATIONS);
    if (errored > 0) {
      const why = await admin.query(
        `SELECT error_code, error_message, attempt, count(*)::int AS n FROM ${s}.operations
         WHERE request_id LIKE $1 AND error_code IS NOT NULL GROUP BY 1, 2, 3`,
        [`${label}-%`],
      );
      assert.fail(`${errored} operations ended in error: ${JSON.stringify(why.rows)}`);
    }
    assert.equal(await countOf(`SELECT count(*) AS n FROM ${s}.test_violations`), 0, "no done operation changed");
    const retried = await countOf(`SELECT count(*) AS n FROM ${s}.operations WHERE request_id LIKE $1 AND attempt > 1`, [`${label}-%`]);
    ctx.diagnostic(`${label}: all ${OPERATIONS} done, each finished once; ${retried} ran more than once (highest attempt ${max_attempt})`);

    // Clients see them done, and both instances, never restarted, start and finish new work.
    for (const [i, name] of names.entries()) {
      const op = await clients[i % 2]!.call(ops.getOperation, { name });
      assert.equal(op.done, true, `${name} done`);
      assert.equal(op.result.case, "response", `${name} succeeded`);
    }
    for (const [i, client] of clients.entries()) {
      assert.equal(servers[i]!.child.exitCode, null, `instance ${i} still running`);
      const op = await client.call(Demo.method.sleep, { duration: durationFromMs(0) });
      const done = await client.call(ops.waitOperation, { name: op.name, timeout: durationFromMs(10_000) });
      assert.equal(done.done, true, `instance ${i} runs new operations`);
      created++;
    }
    return seen;
  }

  /** One count from the admin pool, retried while the pool still holds a connection from before a restart. */
  async function countOf(sql: string, values: unknown[] = []): Promise<number> {
    for (let tries = 0; ; tries++) {
      try {
        return Number((await admin.query(sql, values)).rows[0].n);
      } catch (err) {
        if (tries >= 50) throw err;
        await sleep(100);
      }
    }
  }
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
