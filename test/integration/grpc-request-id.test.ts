/**
 * gRPC answers carry the call's request id back as `x-request-id` in their initial metadata (failures
 * in their trailers too), as REST answers do in a header: the caller's own when it sent a sane one, else
 * the UUID the server made — the one on the server's log line for that call.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import { create, toBinary, type DescMessage, type DescMethodUnary, type MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Operations } from "../../src/gen/google/longrunning/operations_pb.js";
import { Demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { Code } from "../../src/core/code.js";
import { createPino, pinoLogger } from "../../src/observability/logging.js";
import { startTestServer, type TestServer } from "../support/server.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Answer {
  /** The initial metadata's x-request-id. */
  headerId: string | undefined;
  /** The trailers' x-request-id (failures). */
  trailerId: string | undefined;
  code: number;
}

/** One unary call over a plain grpc-js client, with what came back in the headers and the trailers. */
function callRaw(client: grpc.Client, path: string, body: Buffer, sentId?: string): Promise<Answer> {
  const metadata = new grpc.Metadata();
  if (sentId !== undefined) metadata.set("x-request-id", sentId);
  return new Promise((resolve) => {
    let headerId: string | undefined;
    const call = client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, metadata, {}, (err) => {
      const trailerId = err?.metadata?.get("x-request-id")[0];
      resolve({ headerId, trailerId: typeof trailerId === "string" ? trailerId : undefined, code: err?.code ?? Code.OK });
    });
    call.on("metadata", (received: grpc.Metadata) => {
      const value = received.get("x-request-id")[0];
      headerId = typeof value === "string" ? value : undefined;
    });
  });
}

function call<I extends DescMessage, O extends DescMessage>(client: grpc.Client, method: DescMethodUnary<I, O>, request: MessageInitShape<I>, sentId?: string): Promise<Answer> {
  const body = Buffer.from(toBinary(method.input, create(method.input, request)));
  return callRaw(client, `/${method.parent.typeName}/${method.name}`, body, sentId);
}

describe("gRPC: x-request-id in the response metadata", () => {
  let t: TestServer;
  let client: grpc.Client;
  let logged = "";
  const lines = (): Record<string, unknown>[] => logged.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const rpcLines = (requestId: string) => lines().filter((l) => l["msg"] === "rpc" && l["requestId"] === requestId);

  before(async () => {
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    });
    // At debug, every RPC has its line (msg "rpc") with its request id.
    t = await startTestServer({ log: pinoLogger(createPino({ level: "debug", format: "json", stream })), shutdownGraceMs: 100 });
    client = new grpc.Client(t.server.grpcAddress!, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await t.close();
  });

  it("echoes a sane id the caller sent, on a success and on a failure", async () => {
    const started = await call(client, Demo.method.sleep, { duration: durationFromMs(0) }, "req-grpc-start-1");
    assert.deepEqual(started, { headerId: "req-grpc-start-1", trailerId: undefined, code: Code.OK });
    const missing = await call(client, Operations.method.getOperation, { name: "operations/nope" }, "req-grpc-missing-1");
    assert.deepEqual(missing, { headerId: "req-grpc-missing-1", trailerId: "req-grpc-missing-1", code: Code.NOT_FOUND });
    assert.equal(rpcLines("req-grpc-start-1").length, 1);
    assert.equal(rpcLines("req-grpc-missing-1")[0]?.["code"], "NOT_FOUND");
  });

  it("none sent (or one not sane): a UUID of the server's, the same as on its log line for the call", async () => {
    for (const sent of [undefined, "has space", "x".repeat(129)]) {
      const answer = await call(client, Operations.method.listOperations, { name: "operations" }, sent);
      assert.equal(answer.code, Code.OK);
      assert.match(answer.headerId ?? "", UUID, String(sent));
      assert.notEqual(answer.headerId, sent);
      const [line, ...others] = rpcLines(answer.headerId!);
      assert.equal(others.length, 0);
      assert.equal(line?.["method"], "google.longrunning.Operations.ListOperations");
      assert.equal(line?.["transport"], "grpc");
    }
    const failed = await call(client, Operations.method.getOperation, { name: "operations/nope" });
    assert.equal(failed.code, Code.NOT_FOUND);
    assert.match(failed.headerId ?? "", UUID);
    assert.equal(failed.trailerId, failed.headerId);
    assert.equal(rpcLines(failed.headerId!)[0]?.["code"], "NOT_FOUND");
  });

  it("a request that does not decode (refused before any endpoint) still gets its id back", async () => {
    const garbage = await callRaw(client, "/google.longrunning.Operations/GetOperation", Buffer.from([0xff, 0xff, 0xff]), "req-grpc-garbage");
    assert.deepEqual(garbage, { headerId: "req-grpc-garbage", trailerId: "req-grpc-garbage", code: Code.INVALID_ARGUMENT });
    const anonymous = await callRaw(client, "/google.longrunning.Operations/GetOperation", Buffer.from([0xff, 0xff, 0xff]));
    assert.match(anonymous.headerId ?? "", UUID);
    assert.equal(anonymous.trailerId, anonymous.headerId);
  });

  it("two calls without an id get two ids", async () => {
    const [a, b] = await Promise.all([1, 2].map(() => call(client, Operations.method.listOperations, { name: "operations" })));
    assert.notEqual(a!.headerId, b!.headerId);
  });
});
