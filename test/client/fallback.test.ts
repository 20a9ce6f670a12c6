import { describe, it, after, before } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { CallFailedError, Code, LongrunClient, UnknownTypeError } from "longrun/client";
import { file_longrun_demo_v1_demo, SleepMetadataSchema, SleepResponseSchema } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { OperationSchema } from "../../src/gen/google/longrunning/operations_pb.js";
import { startPlainGrpcServer, startPlainRestServer, type PlainServer } from "./plain-servers.js";

/** Fast polling so the tests take little time; the schedule itself is unit-tested. */
const polling = { initialDelayMs: 5, maxDelayMs: 20 };

for (const transport of ["grpc", "rest"] as const) {
  describe(`a ${transport} server that implements only GetOperation`, () => {
    let server: PlainServer;
    let client: LongrunClient;
    before(async () => {
      server = transport === "grpc" ? await startPlainGrpcServer() : await startPlainRestServer();
      client = new LongrunClient({ server: server.address, transport, files: [file_longrun_demo_v1_demo], polling });
    });
    after(async () => {
      client.close();
      await server.close();
    });

    it("result() falls back to polling GetOperation when Wait answers UNIMPLEMENTED, and remembers it", async () => {
      const op = client.operation("operations/first", { response: SleepResponseSchema, metadata: SleepMetadataSchema });
      const response = await op.result();
      assert.deepEqual(response.slept, { $typeName: "google.protobuf.Duration", seconds: 1n, nanos: 500_000_000 });
      assert.equal(client.pollsForWait, true);
      assert.equal(server.calls.get("WaitOperation"), 1, "Wait asked once");
      assert.equal(server.calls.get("GetOperation"), 4, "three running answers, then done");

      // The next wait polls straight away.
      await client.wait("operations/second");
      assert.equal(server.calls.get("WaitOperation"), 1, "Wait not asked again");
    });

    it("updates() polls too, yielding each change", async () => {
      const snapshots = [];
      for await (const s of client.operation("operations/third").updates({ intervalMs: 20 })) snapshots.push(s);
      assert.equal(snapshots[0]!.operation.name, "operations/third");
      assert.deepEqual(
        snapshots.slice(1).map((s) => s.progressPercent),
        [0, 30, 60, 90],
      );
      assert.equal(snapshots.at(-1)!.done, true);
    });

    it("list() surfaces UNIMPLEMENTED as an error", async () => {
      await assert.rejects(
        (async () => {
          for await (const _ of client.list()) void _;
        })(),
        (e: unknown) => e instanceof CallFailedError && e.code === Code.UNIMPLEMENTED,
      );
    });

    it("an AbortSignal stops polling", async () => {
      const never = create(OperationSchema, { name: "operations/forever" });
      const controller = new AbortController();
      const waiting = client.operation(never).result({ signal: controller.signal, polling: { initialDelayMs: 1000, maxDelayMs: 1000 } });
      setTimeout(() => controller.abort(new Error("enough")), 30);
      await assert.rejects(waiting, /enough/);
    });
  });
}

describe("a server answering types the client does not know", () => {
  it("names the type (gRPC: when decoding; REST: when reading the JSON)", async () => {
    for (const transport of ["grpc", "rest"] as const) {
      const server = transport === "grpc" ? await startPlainGrpcServer() : await startPlainRestServer();
      const client = new LongrunClient({ server: server.address, transport, polling });
      try {
        const failure = transport === "grpc" ? client.operation("operations/x").result() : client.get("operations/x");
        await assert.rejects(failure, (e: unknown) => e instanceof UnknownTypeError && /^longrun\.demo\.v1\.Sleep(Metadata|Response)$/.test(e.typeName));
      } finally {
        client.close();
        await server.close();
      }
    }
  });
});
