/**
 * End to end: each operation started by its own gRPC call and awaited with WaitOperation, `inflight` at
 * once, Demo/Sleep(0) as the handler, against real `longrun serve` processes: one on SQLite, or
 * `instances` sharing one PostgreSQL schema (calls spread over them). Then start → done one at a time on
 * the idle system. On PostgreSQL, also commits per operation (pg_stat_database.xact_commit).
 *
 *   npm run bench -- e2e [--store sqlite|postgres] [--instances 1] [--n 3000] [--inflight 64]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations } from "../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../src/gen/longrun/demo/v1/demo_pb.js";
import { TestGrpcClient } from "../test/support/grpc-client.js";
import { spawnServer, type ServerProcess } from "../test/support/process.js";
import { freshSchema, type TestSchema } from "../test/support/postgres.js";

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      store: { type: "string", default: "sqlite" },
      instances: { type: "string", default: "1" },
      n: { type: "string", default: "3000" },
      inflight: { type: "string", default: "64" },
    },
  });
  const n = Number(values.n);
  const inflight = Number(values.inflight);
  const instances = Number(values.instances);
  const postgres = values.store === "postgres";
  if (!postgres && instances !== 1) throw new Error("the embedded store serves one process: --instances 1");

  const dir = mkdtempSync(join(tmpdir(), "longrun-bench-"));
  let db: TestSchema | undefined;
  const servers: ServerProcess[] = [];
  const clients: TestGrpcClient[] = [];
  try {
    let env: Record<string, string>;
    if (postgres) {
      db = await freshSchema("lr_bench");
      env = { LONGRUN_STORE: db.url, LONGRUN_SCHEMA: db.schema };
    } else {
      env = { LONGRUN_STORE: `sqlite:${join(dir, "longrun.db")}` };
    }
    // One first, so it migrates alone; the others join it.
    servers.push(await spawnServer(["--demo"], env));
    servers.push(...(await Promise.all(Array.from({ length: instances - 1 }, () => spawnServer(["--demo"], env)))));
    clients.push(...servers.map((s) => new TestGrpcClient(s.grpcAddress)));
    const wait = (client: TestGrpcClient, name: string) =>
      client.call(Operations.method.waitOperation, { name, timeout: durationFromMs(30_000) });
    const commits = async () =>
      db ? Number((await db.admin.query("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")).rows[0].xact_commit) : 0;

    // Warm up connections and code paths.
    await Promise.all(clients.map(async (c) => wait(c, (await c.call(Demo.method.sleep, {})).name)));

    const commitsBefore = await commits();
    const startRpc: number[] = [];
    let next = 0;
    const began = performance.now();
    await Promise.all(
      Array.from({ length: inflight }, async (_, lane) => {
        const client = clients[lane % clients.length]!;
        while (next++ < n) {
          const s = performance.now();
          const op = await client.call(Demo.method.sleep, { duration: durationFromMs(0) });
          startRpc.push(performance.now() - s);
          if (!(await wait(client, op.name)).done) throw new Error(`${op.name} not done`);
        }
      }),
    );
    const seconds = (performance.now() - began) / 1000;
    const commitsPerOp = ((await commits()) - commitsBefore) / n;

    const idle: number[] = [];
    for (let i = 0; i < 200; i++) {
      const client = clients[i % clients.length]!;
      const s = performance.now();
      await wait(client, (await client.call(Demo.method.sleep, {})).name);
      idle.push(performance.now() - s);
    }
    const label = postgres ? `PostgreSQL, ${instances} instance(s)` : "SQLite";
    console.table([
      { measure: `${label}: throughput, ${inflight} in flight`, value: `${(n / seconds).toFixed(0)} ops/s` },
      { measure: "start RPC under load p50 / p99", value: `${pct(startRpc, 0.5)} / ${pct(startRpc, 0.99)} ms` },
      { measure: "idle start → done p50 / p99", value: `${pct(idle, 0.5)} / ${pct(idle, 0.99)} ms` },
      ...(postgres ? [{ measure: "commits per operation (whole database)", value: commitsPerOp.toFixed(2) }] : []),
    ]);
  } finally {
    for (const c of clients) c.close();
    for (const s of servers) s.child.kill("SIGTERM");
    await Promise.all(servers.map((s) => s.exited));
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function pct(values: number[], p: number): string {
  const sorted = [...values].sort((a, b) => a - b);
  return (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0).toFixed(1);
}
