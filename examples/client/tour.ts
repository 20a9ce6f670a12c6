/**
 * The longrun client in a few lines: start a Sleep on the demo (`npm start`), follow its progress, read its
 * typed result, see a failure and a cancellation, list what ran.
 *
 *     node --import tsx examples/client/tour.ts [server]     # default 127.0.0.1:50051 (gRPC)
 */
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { LongrunClient, OperationFailedError } from "longrun/client";
import { Demo, SleepMetadataSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";

const client = new LongrunClient({ server: process.argv[2] ?? "127.0.0.1:50051" });

// Typed by the types given (or, without them, by the method's operation_info).
const op = await client.start(Demo.method.sleep, { duration: durationFromMs(2000) }, { response: SleepResponseSchema, metadata: SleepMetadataSchema });
console.log(`started ${op.name}`);
for await (const snapshot of op.updates()) console.log(`  ${snapshot.metadata?.progressPercent ?? 0}%${snapshot.done ? " done" : ""}`);
const response = await op.result(); // SleepResponse
console.log(`slept ${response.slept?.seconds}s`);

// A failed operation rejects with its google.rpc.Status.
const failing = await client.start(Demo.method.sleep, { failWith: { code: 9, message: "not now" } });
try {
  await failing.result();
} catch (err) {
  if (!(err instanceof OperationFailedError)) throw err;
  console.log(`${failing.name} failed: ${err.codeName} (${err.code}): ${err.status.message}`);
}

// Cancel one; it ends with CANCELLED.
const long = await client.start(Demo.method.sleep, { duration: durationFromMs(60_000) });
await long.cancel();
await long.result().catch((err: OperationFailedError) => console.log(`${long.name}: ${err.codeName}`));

// Every operation, page after page.
let count = 0;
for await (const _ of client.list({ filter: "done = true" })) count++;
console.log(`${count} done operations`);
client.close();
