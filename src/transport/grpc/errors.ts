import * as grpc from "@grpc/grpc-js";
import { toBinary } from "@bufbuild/protobuf";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import type { Logger } from "../../core/logger.js";
import { failureStatus } from "../status.js";

/**
 * A failure as grpc-js sends it: code, message, and the full google.rpc.Status (with its ErrorInfo) in
 * `grpc-status-details-bin`, as Google's client libraries read it. The status itself comes from
 * failureStatus, as REST's does.
 */
export function toGrpcError(err: unknown, domain: string, log: Logger): Partial<grpc.StatusObject> {
  const status = failureStatus(err, domain, log, "internal error answering a gRPC call");
  const metadata = new grpc.Metadata();
  metadata.set("grpc-status-details-bin", Buffer.from(toBinary(StatusSchema, status)));
  return { code: status.code as number as grpc.status, details: status.message, metadata };
}
