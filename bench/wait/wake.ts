/**
 * Cross-instance wake-up on PostgreSQL: instance A runs Demo/Sleep(50 ms) handlers; instance B (no worker)
 * is blocked in WaitOperation. Measures B's answer time minus the operation's end_time (both on this
 * machine's clock): the LISTEN/NOTIFY path from A's commit to B's reply.
 *
 *   npm run bench -- wake [--n 200]
 */
import { anyUnpack, durationFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepMetadataSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { TestGrpcClient } from "../../test/support/grpc-client.js";
import { spawnServer } from "../../test/support/process.js";
import { freshSchema } from "../../test/support/postgres.js";

/** What `npm run bench -- wake` was asked (bench/wait/index.ts declares the flags). */
export interface WakeArgs {
  n: number;
}

export async function run(args: WakeArgs): Promise<void> {
  const { n } = args;
  const delays = await measureWake(n);
  const at = (p: number) => delays[Math.min(delays.length - 1, Math.floor(delays.length * p))];
  console.table([{ samples: n, "p50 ms": at(0.5), "p99 ms": at(0.99), "max ms": delays[delays.length - 1] }]);
}

/** Each operation's wake delay, ms (answer time − end_time), sorted. */
export async function measureWake(n: number): Promise<number[]> {
  const db = await freshSchema("lr_wake");
  const env = { LONGRUN_STORE: db.url, LONGRUN_SCHEMA: db.schema };
  const a = await spawnServer(["--demo"], env);
  const b = await spawnServer(["--demo", "--no-worker"], env);
  const clientA = new TestGrpcClient(a.grpcAddress);
  const clientB = new TestGrpcClient(b.grpcAddress);
  try {
    const delays: number[] = [];
    for (let i = 0; i < n; i++) {
      const op = await clientA.call(Demo.method.sleep, { duration: durationFromMs(50) });
      const done = await clientB.call(Operations.method.waitOperation, { name: op.name, timeout: durationFromMs(10_000) });
      const answered = Date.now();
      if (!done.done) throw new Error(`${op.name} not done`);
      delays.push(answered - timestampMs(anyUnpack(done.metadata!, SleepMetadataSchema)!.endTime!));
    }
    return delays.sort((x, y) => x - y);
  } finally {
    clientA.close();
    clientB.close();
    a.child.kill("SIGTERM");
    b.child.kill("SIGTERM");
    await Promise.all([a.exited, b.exited]);
    await db.drop();
  }
}
