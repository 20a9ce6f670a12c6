/**
 * Crash recovery on PostgreSQL (issue 20, goal 4): two `longrun serve --demo` processes at the default lease;
 * the first runs `each` long Demo/Sleep operations, the second is started and the first is killed (SIGKILL).
 * Measured: from the kill until every one of them runs again on the survivor (attempt 2), polled every 10 ms.
 * test/integration/postgres-fast-recovery.test.ts checks the same with the finishes counted.
 */
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { TestGrpcClient } from "../../test/support/grpc-client.js";
import { freshSchema } from "../../test/support/postgres.js";
import { spawnServer, type ServerProcess } from "../../test/support/process.js";
import { pollUntil, sleep } from "../support/measure.js";

/** Milliseconds from the kill until the killed instance's `each` operations all run again on the survivor. */
export async function measureRecovery(each = 8): Promise<number> {
  const db = await freshSchema("lr_recovery");
  const env = { LONGRUN_STORE: db.url, LONGRUN_SCHEMA: db.schema };
  const servers: ServerProcess[] = [];
  const clients: TestGrpcClient[] = [];
  try {
    const a = await spawnServer(["--demo"], { ...env, LONGRUN_CONCURRENCY: String(each) });
    servers.push(a);
    const clientA = new TestGrpcClient(a.grpcAddress);
    clients.push(clientA);
    const ops = await Promise.all(Array.from({ length: each }, () => clientA.call(Demo.method.sleep, { duration: durationFromMs(60_000) })));
    const ids = ops.map((op) => op.name.slice("operations/".length));
    const count = async (owner: number, attempt: number) =>
      Number(
        (
          await db.admin.query<{ n: string }>(
            `SELECT count(*) AS n FROM "${db.schema}".operations WHERE id = ANY($1) AND state = 'running' AND attempt = $2 AND lease_owner LIKE $3`,
            [ids, attempt, `%:${owner}:%`],
          )
        ).rows[0]!.n,
      );
    await pollUntil(async () => (await count(a.child.pid!, 1)) === each, 10, 30_000);
    const b = await spawnServer(["--demo"], { ...env, LONGRUN_CONCURRENCY: String(2 * each) });
    servers.push(b);
    // Past the claim's backoff of a first attempt (1 s), as a long run would be.
    await sleep(1200);
    a.child.kill("SIGKILL");
    const killed = performance.now();
    await pollUntil(async () => (await count(b.child.pid!, 2)) === each, 10, 60_000);
    return performance.now() - killed;
  } finally {
    for (const c of clients) c.close();
    for (const s of servers) s.child.kill("SIGKILL");
    await Promise.all(servers.map((s) => s.exited));
    await db.drop();
  }
}
