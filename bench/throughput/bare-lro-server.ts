/**
 * The physical limit of the end-to-end mode: a bare @grpc/grpc-js server, in a process of its own, answering
 * `longrun.demo.v1.Demo/Sleep` with a constant running Operation and `google.longrunning.Operations/WaitOperation`
 * with a constant done one — the shapes longrun answers a Sleep(0) with (a 22-character id, SleepMetadata
 * with its times, an empty SleepResponse). Each call still does what any server must: decode the request
 * and encode the response with @bufbuild/protobuf. No store, no runtime, no validation: what is left is
 * grpc-js and the machine, so longrun ÷ this is how close longrun comes to serving gRPC at all.
 *
 *   node --import tsx bench/throughput/bare-lro-server.ts   → prints "gRPC listening on HOST:PORT"
 */
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { anyPack, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { OperationSchema, WaitOperationRequestSchema, type Operation } from "../../src/gen/google/longrunning/operations_pb.js";
import { SleepMetadataSchema, SleepRequestSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";

const host = "127.0.0.1";
const name = "operations/AAAAAAAAAAAAAAAAAAAAAA";
const createTime = timestampFromMs(Date.now());
const running = create(OperationSchema, { name, metadata: anyPack(SleepMetadataSchema, create(SleepMetadataSchema, { createTime })) });
const done = create(OperationSchema, {
  name,
  done: true,
  metadata: anyPack(SleepMetadataSchema, create(SleepMetadataSchema, { createTime, endTime: timestampFromMs(Date.now()), progressPercent: 100 })),
  result: { case: "response", value: anyPack(SleepResponseSchema, create(SleepResponseSchema)) },
});

/** A unary method answering `reply` to every call, its request decoded and its reply encoded each time. */
function constant<I extends DescMessage>(path: string, input: I, reply: Operation): [grpc.MethodDefinition<MessageShape<I>, Operation>, grpc.handleUnaryCall<MessageShape<I>, Operation>] {
  return [
    {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: (m: MessageShape<I>) => Buffer.from(toBinary(input, m)),
      requestDeserialize: (b: Buffer) => fromBinary(input, b),
      responseSerialize: (m: Operation) => Buffer.from(toBinary(OperationSchema, m)),
      responseDeserialize: (b: Buffer) => fromBinary(OperationSchema, b),
    },
    (_call, callback) => callback(null, reply),
  ];
}

const [sleepDefinition, sleep] = constant("/longrun.demo.v1.Demo/Sleep", SleepRequestSchema, running);
const [waitDefinition, wait] = constant("/google.longrunning.Operations/WaitOperation", WaitOperationRequestSchema, done);
// As longrun's own server (src/transport/grpc/server.ts): channelz's per-call bookkeeping off.
const server = new grpc.Server({ "grpc.enable_channelz": 0 });
server.addService({ Sleep: sleepDefinition }, { Sleep: sleep });
server.addService({ WaitOperation: waitDefinition }, { WaitOperation: wait });
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
);
console.log(`gRPC listening on ${host}:${port}`);
process.once("SIGTERM", () => server.forceShutdown());
