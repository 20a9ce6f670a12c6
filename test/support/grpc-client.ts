import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { StatusSchema, type Status } from "../../src/gen/google/rpc/status_pb.js";
import { ErrorInfoSchema, type ErrorInfo } from "../../src/gen/google/rpc/error_details_pb.js";

/** A gRPC error as a test sees it: code, message and the decoded google.rpc.Status from the trailer. */
export interface CallError extends grpc.ServiceError {
  status: Status | undefined;
  errorInfo: ErrorInfo | undefined;
}

/** A minimal typed unary client over bufbuild descriptors, for tests that talk raw gRPC. */
export class TestGrpcClient {
  readonly client: grpc.Client;

  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure());
  }

  call<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    options: { deadlineMs?: number } = {},
  ): Promise<MessageShape<O>> {
    const path = `/${method.parent.typeName}/${method.name}`;
    const message = create(method.input, request);
    return this.raw(path, Buffer.from(toBinary(method.input, message)), options).then((b) => fromBinary(method.output, b));
  }

  /** Sends bytes as they are, to test what the server does with malformed requests. */
  raw(path: string, body: Buffer, options: { deadlineMs?: number } = {}): Promise<Buffer> {
    const callOptions: grpc.CallOptions = options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {};
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        new grpc.Metadata(),
        callOptions,
        (err, response) => (err ? reject(withStatus(err)) : resolve(response as Buffer)),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

/** The error with its google.rpc.Status and ErrorInfo decoded from the `grpc-status-details-bin` trailer. */
export function withStatus(err: grpc.ServiceError): CallError {
  const bin = err.metadata?.get("grpc-status-details-bin")[0];
  const status = bin ? fromBinary(StatusSchema, bin as Buffer) : undefined;
  const info = status?.details.find((d) => d.typeUrl.endsWith("google.rpc.ErrorInfo"));
  return Object.assign(err, { status, errorInfo: info ? anyUnpack(info, ErrorInfoSchema) : undefined });
}

/** Resolves with the error of a call expected to fail; rejects if it succeeded. */
export async function callError(promise: Promise<unknown>): Promise<CallError> {
  try {
    await promise;
  } catch (err) {
    return err as CallError;
  }
  throw new Error("expected the call to fail");
}
