/**
 * The end-to-end load, whatever serves it (longrun serve, or the bare grpc-js server): each operation started
 * by a Demo/Sleep(0) call and awaited with WaitOperation, `inflight` lanes at once spread over the servers'
 * clients, each lane starting its next operation once its last is done.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations, OperationSchema, WaitOperationRequestSchema } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo, SleepRequestSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { methodPath } from "../support/grpc-raw.js";
import type { LoadClient } from "../support/load-client.js";
import { procCpuSeconds } from "../support/server-process.js";

const SLEEP_PATH = methodPath(Demo.method.sleep);
const WAIT_PATH = methodPath(Operations.method.waitOperation);
const SLEEP_REQUEST = Buffer.from(toBinary(SleepRequestSchema, create(SleepRequestSchema, { duration: durationFromMs(0) })));
const WAIT_TIMEOUT = durationFromMs(30_000);

/**
 * CPU used from now on, per job once `count` jobs are done, µs: by the servers' processes (every thread:
 * the fsyncs and the thread pool too) and by this one (the load generator's client). Where both share the
 * machine's cores, what each side takes of them is what the end-to-end rate can be divided among.
 */
export function cpuMeter(serverPids: readonly number[]): (count: number) => { server: number; client: number } {
  const serverSeconds = (): number => serverPids.reduce((sum, pid) => sum + procCpuSeconds(pid), 0);
  const server = serverSeconds();
  const client = process.cpuUsage();
  return (count) => {
    const used = process.cpuUsage(client);
    return { server: ((serverSeconds() - server) * 1e6) / count, client: (used.user + used.system) / count };
  };
}

/** `count` operations started and awaited, `inflight` at once; with `startRpc`, each start call's time (ms) pushed onto it. */
export async function startAndWait(loaders: readonly LoadClient[], inflight: number, count: number, startRpc?: number[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inflight }, async (_, lane) => {
      const loader = loaders[lane % loaders.length]!;
      while (next++ < count) {
        const s = performance.now();
        const op = fromBinary(OperationSchema, await loader.call(SLEEP_PATH, SLEEP_REQUEST));
        startRpc?.push(performance.now() - s);
        const waitRequest = Buffer.from(toBinary(WaitOperationRequestSchema, create(WaitOperationRequestSchema, { name: op.name, timeout: WAIT_TIMEOUT })));
        const done = fromBinary(OperationSchema, await loader.call(WAIT_PATH, waitRequest));
        if (!done.done) throw new Error(`${op.name} not done after 30 s`);
      }
    }),
  );
}
