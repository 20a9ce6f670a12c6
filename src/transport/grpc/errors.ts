import * as grpc from "@grpc/grpc-js";
import { toBinary } from "@bufbuild/protobuf";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { Code } from "../../core/code.js";
import { Reason, RpcError } from "../../core/errors.js";

/**
 * The one place a gRPC error is built: code, message, and the full google.rpc.Status (with its ErrorInfo)
 * in `grpc-status-details-bin`, as Google's client libraries read it. Anything that is not an RpcError
 * is a bug: INTERNAL with a generic message, logged, never its text or stack on the wire.
 */
export function toGrpcError(err: unknown, domain: string, log: (message: string, err: unknown) => void): Partial<grpc.StatusObject> {
  const rpcError = err instanceof RpcError ? err : internal(err, log);
  const status = rpcError.toStatus(domain);
  const metadata = new grpc.Metadata();
  metadata.set("grpc-status-details-bin", Buffer.from(toBinary(StatusSchema, status)));
  return { code: rpcError.code as number as grpc.status, details: rpcError.message, metadata };
}

function internal(err: unknown, log: (message: string, err: unknown) => void): RpcError {
  log("internal error answering a gRPC call", err);
  return new RpcError(Code.INTERNAL, "Internal error.", { reason: Reason.INTERNAL });
}
