import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, toJson, type Message } from "@bufbuild/protobuf";
import { anyPack, durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "../../src/core/code.js";
import { buildRegistry } from "../../src/core/registry.js";
import { GetOperationRequestSchema, OperationSchema, type Operation } from "../../src/gen/google/longrunning/operations_pb.js";
import { SleepMetadataSchema, SleepResponseSchema, file_longrun_demo_v1_demo } from "../../src/gen/longrun/demo/v1/demo_pb.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";

/**
 * What a plain server answers: the state of an operation after `polls` GetOperations of it, or a
 * status to fail the call with. The default: running (progress 10 × polls) for 3 polls, then done.
 */
export type Behaviour = (name: string, polls: number) => Operation | { fail: Code; message: string };

export const sleepsThreePolls: Behaviour = (name, polls) => {
  const metadata = anyPack(SleepMetadataSchema, create(SleepMetadataSchema, { progressPercent: Math.min(100, polls * 30) }));
  if (polls < 3) return create(OperationSchema, { name, metadata });
  return create(OperationSchema, {
    name,
    metadata,
    done: true,
    result: { case: "response", value: anyPack(SleepResponseSchema, create(SleepResponseSchema, { slept: durationFromMs(1500) })) },
  });
};

export interface PlainServer {
  /** host:port (gRPC) or http://host:port (REST). */
  address: string;
  /** Calls received, by method name (`GetOperation`, `WaitOperation`, …). */
  calls: Map<string, number>;
  close(): Promise<void>;
}

function count(calls: Map<string, number>, method: string): number {
  const n = (calls.get(method) ?? 0) + 1;
  calls.set(method, n);
  return n;
}

/**
 * A gRPC server that implements google.longrunning.Operations/GetOperation only: WaitOperation answers
 * UNIMPLEMENTED (counted), and grpc-js answers the methods not registered at all (List, Cancel, Delete)
 * with UNIMPLEMENTED, as a server that offers only Get does.
 */
export async function startPlainGrpcServer(behaviour: Behaviour = sleepsThreePolls): Promise<PlainServer> {
  const calls = new Map<string, number>();
  const polls = new Map<string, number>();
  const server = new grpc.Server();
  server.addService(
    {
      GetOperation: {
        path: "/google.longrunning.Operations/GetOperation",
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (m: Message) => Buffer.from(toBinary(OperationSchema, m as Operation)),
        responseDeserialize: (b: Buffer) => fromBinary(OperationSchema, b),
      },
      WaitOperation: {
        path: "/google.longrunning.Operations/WaitOperation",
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    {
      WaitOperation: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        count(calls, "WaitOperation");
        callback({ code: grpc.status.UNIMPLEMENTED, details: "WaitOperation is not implemented." });
      },
      GetOperation: (call: grpc.ServerUnaryCall<Buffer, Message>, callback: grpc.sendUnaryData<Message>) => {
        count(calls, "GetOperation");
        const { name } = fromBinary(GetOperationRequestSchema, call.request);
        const n = polls.get(name) ?? 0;
        polls.set(name, n + 1);
        const answer = behaviour(name, n);
        if ("fail" in answer) {
          const status = create(StatusSchema, { code: answer.fail, message: answer.message });
          const metadata = new grpc.Metadata();
          metadata.set("grpc-status-details-bin", Buffer.from(toBinary(StatusSchema, status)));
          callback({ code: answer.fail as number as grpc.status, details: answer.message, metadata });
        } else {
          callback(null, answer);
        }
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    calls,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

const registry = buildRegistry([file_longrun_demo_v1_demo]);

/**
 * A node:http server with only `GET /v1/operations/**`: `:wait` answers 501 in Google's envelope, and any
 * other path a bare 404 page (no envelope), as a front end without the route does.
 */
export async function startPlainRestServer(behaviour: Behaviour = sleepsThreePolls): Promise<PlainServer> {
  const calls = new Map<string, number>();
  const polls = new Map<string, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const path = (req.url ?? "").split("?")[0]!;
    const send = (status: number, body: unknown, type = "application/json"): void => {
      res.writeHead(status, { "content-type": type });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    if (req.method === "POST" && path.endsWith(":wait")) {
      count(calls, "WaitOperation");
      send(501, { error: { code: 501, status: "UNIMPLEMENTED", message: "Wait is not supported." } });
      return;
    }
    if (req.method === "GET" && path.startsWith("/v1/operations/")) {
      count(calls, "GetOperation");
      const name = decodeURIComponent(path.slice("/v1/".length));
      const n = polls.get(name) ?? 0;
      polls.set(name, n + 1);
      const answer = behaviour(name, n);
      if ("fail" in answer) {
        const http = answer.fail === Code.UNAVAILABLE ? 503 : answer.fail === Code.NOT_FOUND ? 404 : 500;
        send(http, { error: { code: http, status: Code[answer.fail], message: answer.message } });
      } else {
        send(200, toJson(OperationSchema, answer, { registry }));
      }
      return;
    }
    count(calls, "other");
    send(404, "<html><body>Not Found</body></html>", "text/html");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
